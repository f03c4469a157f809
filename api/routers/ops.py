"""Operations: liveness, readiness, metrics, and the verification page."""

from __future__ import annotations

from pathlib import Path

from anyio import to_thread
from fastapi import APIRouter, Response
from fastapi.responses import FileResponse, JSONResponse

from api.deps import RegistryDep
from api.schemas import Health
from registry.errors import ChainError

router = APIRouter(tags=["ops"])

STATIC = Path(__file__).resolve().parent.parent / "static"


@router.get("/", include_in_schema=False)
async def index() -> FileResponse:
    """The verification page for Customs officers."""
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/healthz", summary="Liveness")
async def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get("/readyz", summary="Readiness: chain reachable and contracts deployed",
            responses={503: {"model": Health}})
async def readyz(registry: RegistryDep) -> Response:
    """503 with Retry-After while the chain is unreachable."""
    def probe() -> Health:
        head = registry.chain.block_number()
        if not registry.chain.is_deployed():
            raise ChainError("registry contract not deployed")
        return Health(status="ok", chain_head=head, contract=registry.chain.address)

    try:
        health = await to_thread.run_sync(probe)
    except ChainError as error:
        body = Health(status="unavailable", detail=str(error))
        return JSONResponse(body.model_dump(), status_code=503, headers={"Retry-After": "5"})
    return JSONResponse(health.model_dump())


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(registry: RegistryDep) -> Response:
    """Certificates by status, outbox backlog, anchoring state and erasures by state."""
    counts = await to_thread.run_sync(registry.store.count_by_status)
    age = await to_thread.run_sync(registry.store.oldest_pending_age)
    erasures = await to_thread.run_sync(registry.store.count_erasures)
    lines = ["# HELP coo_certificates Certificates registered on this node, by status.",
             "# TYPE coo_certificates gauge"]
    lines += [f'coo_certificates{{status="{s}"}} {n}' for s, n in sorted(counts.items())]
    lines += ["# HELP coo_outbox_oldest_seconds Age of the oldest certificate waiting to be anchored.",
              "# TYPE coo_outbox_oldest_seconds gauge", f"coo_outbox_oldest_seconds {age or 0:.3f}",
              "# HELP coo_anchoring_healthy 1 when the last anchoring round succeeded.",
              "# TYPE coo_anchoring_healthy gauge",
              f"coo_anchoring_healthy {0 if registry.anchorer.last_error else 1}",
              "# HELP coo_erasures Erasures on this node (own certificates and released keys), by state.",
              "# TYPE coo_erasures gauge"]
    lines += [f'coo_erasures{{state="{s}"}} {erasures.get(s, 0)}' for s in ("erasing", "erased")]
    return Response("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")
