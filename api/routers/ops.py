"""Operations: liveness, readiness, metrics, and the verification page."""

from __future__ import annotations

import os
from pathlib import Path

import anyio
from anyio import to_thread
from fastapi import APIRouter, Response
from fastapi.responses import FileResponse, JSONResponse

from api.deps import ContextDep, NodeDep, SettingsDep
from api.limits import GuardedRoute
from api.schemas import Health, WorkerStatus
from registry.pipelines import health
from registry.runtime import Node
from registry.services.context import ServiceContext

router = APIRouter(route_class=GuardedRoute, tags=["ops"])

STATIC = Path(__file__).resolve().parent.parent / "static"


@router.get("/", include_in_schema=False)
async def index() -> FileResponse:
    """The verification page for Customs officers."""
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/healthz", summary="Liveness")
async def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get("/readyz", summary="Readiness: chain reachable, contracts deployed, workers running",
            responses={503: {"model": Health}})
async def readyz(ctx: ContextDep, node: NodeDep, settings: SettingsDep) -> Response:
    """503 with Retry-After while the chain is unreachable or a worker has stopped;
    answers within the readiness bound."""
    workers = node.workers
    readiness = None
    with anyio.move_on_after(settings.readiness_timeout_ms / 1000):
        readiness = await to_thread.run_sync(health.probe, ctx.chain, ctx.follower, workers,
                                             abandon_on_cancel=True)
    if readiness is None:
        readiness = health.unavailable(workers, "the chain did not answer within the readiness bound")
    body = Health(status="ok" if readiness.ready else "unavailable", chain_head=readiness.chain_head,
                  contract=readiness.contract, detail=readiness.detail, index_lag=readiness.index_lag,
                  workers=[WorkerStatus.of(w) for w in readiness.workers])
    if not readiness.ready:
        return JSONResponse(body.model_dump(), status_code=503, headers={"Retry-After": "5"})
    return JSONResponse(body.model_dump())


# Complexity (radon C): one exposition of every node metric; the branches are the optional gauges and per-label lines
@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(ctx: ContextDep, node: NodeDep) -> Response:
    """Certificates by status, outbox backlog, anchoring state, chain writes by state, erasures by state and pruned
    audit entries."""
    counts = ctx.store.count_by_status()
    age = ctx.store.oldest_pending_age()
    erasures = ctx.store.count_erasures()
    lines = ["# HELP coo_certificates Certificates registered on this node, by status.",
             "# TYPE coo_certificates gauge"]
    lines += [f'coo_certificates{{status="{s}"}} {n}' for s, n in sorted(counts.items())]
    lines += ["# HELP coo_outbox_oldest_seconds Age of the oldest certificate waiting to be anchored.",
              "# TYPE coo_outbox_oldest_seconds gauge", f"coo_outbox_oldest_seconds {age or 0:.3f}",
              "# HELP coo_anchoring_healthy 1 when the last anchoring round succeeded.",
              "# TYPE coo_anchoring_healthy gauge",
              f"coo_anchoring_healthy {1 if ctx.anchorer.health.healthy else 0}"]
    workers = health.workers_health(node.workers)
    lines += ["# HELP coo_worker_up 1 while the worker's thread runs.", "# TYPE coo_worker_up gauge"]
    lines += [f'coo_worker_up{{worker="{w.name}"}} {int(w.running)}' for w in workers]
    lines += ["# HELP coo_worker_failures Rounds the worker failed in a row.", "# TYPE coo_worker_failures gauge"]
    lines += [f'coo_worker_failures{{worker="{w.name}"}} {w.failures}' for w in workers]
    lines += ["# HELP coo_worker_seconds_since_success Seconds since the worker's last good round.",
              "# TYPE coo_worker_seconds_since_success gauge"]
    lines += [f'coo_worker_seconds_since_success{{worker="{w.name}"}} {w.since_success:.3f}'
              for w in workers if w.since_success is not None]
    lag = ctx.follower.lag()
    if lag is not None:
        lines += ["# HELP coo_index_lag_blocks Blocks the event index is behind the last head seen.",
                  "# TYPE coo_index_lag_blocks gauge", f"coo_index_lag_blocks {lag}"]
    lines += ["# HELP coo_erasures Erasures on this node (own certificates and released keys), by state.",
              "# TYPE coo_erasures gauge"]
    lines += [f'coo_erasures{{state="{s}"}} {erasures.get(s, 0)}' for s in ("erasing", "erased")]
    writes = ctx.outbox.log.counts()
    oldest = ctx.outbox.log.oldest_open_age()
    lines += ["# HELP coo_chain_writes Chain writes in the outbox (revocations, draws, governance...), by state.",
              "# TYPE coo_chain_writes gauge"]
    lines += [f'coo_chain_writes{{state="{s.value}"}} {n}' for s, n in writes.items()]
    lines += ["# HELP coo_chain_write_oldest_open_seconds Age of the oldest chain write not yet settled.",
              "# TYPE coo_chain_write_oldest_open_seconds gauge",
              f"coo_chain_write_oldest_open_seconds {oldest or 0:.3f}"]
    if node.pruner is not None:
        lines += ["# HELP coo_audit_pruned_total Audit-log entries (receipts, key releases) deleted by the retention.",
                  "# TYPE coo_audit_pruned_total counter", f"coo_audit_pruned_total {node.pruner.pruned_total}",
                  "# HELP coo_wal_checkpoints_total Checkpoints that emptied the store's write-ahead log.",
                  "# TYPE coo_wal_checkpoints_total counter",
                  f"coo_wal_checkpoints_total {node.pruner.checkpoints_total}"]
    lines += _storage_lines(ctx) + _process_lines(node)
    return Response("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")


def _process_lines(node: Node) -> list[str]:
    """Which of the node's processes answered (the chain writer, an API worker, or the whole node in one), and its
    resident memory: with several processes, each scrape is answered by one of them."""
    lines = ["# HELP coo_process_info The process that answered this scrape: its role in the node and its pid.",
             "# TYPE coo_process_info gauge", f'coo_process_info{{role="{node.role.value}",pid="{os.getpid()}"}} 1']
    resident = _resident_bytes()
    if resident is not None:
        lines += ["# HELP coo_process_resident_bytes Resident memory of the process that answered.",
                  "# TYPE coo_process_resident_bytes gauge", f"coo_process_resident_bytes {resident}"]
    return lines


def _resident_bytes() -> int | None:
    """This process's resident memory, from /proc (None where there is none)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


def _storage_lines(ctx: ServiceContext) -> list[str]:
    """The audit log's rows and the store's bytes on disk (database file and write-ahead log)."""
    database, wal = ctx.store.file_sizes()
    return ["# HELP coo_audit_rows Entries in the audit log (verification receipts and key releases).",
            "# TYPE coo_audit_rows gauge", f"coo_audit_rows {ctx.store.audit_rows()}",
            "# HELP coo_store_bytes Bytes of the store's database file.", "# TYPE coo_store_bytes gauge",
            f"coo_store_bytes {database}",
            "# HELP coo_store_wal_bytes Bytes of the store's write-ahead log.", "# TYPE coo_store_wal_bytes gauge",
            f"coo_store_wal_bytes {wal}"]
