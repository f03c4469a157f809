"""Background cost against store size: idle CPU of the background loops, RPC round trips and SQL statements per
round, with 0 and N anchored batches in the store (median of RUNS runs). Writes ``results/background.json``.

Usage: ``python scripts/bench_background.py [N]`` (default 20000).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from eth_account import Account

from registry.chain.client import ChainClient
from registry.chain.nodes import NodeProcess
from registry.pipelines.anchoring import Anchorer, BatchPolicy
from registry.pipelines.indexer import ChainIndexer, Follower
from registry.pipelines.retention import AuditPruner
from registry.storage.store import Store
from tests.support.lying_rpc import LyingRpc

RUNS = 3
IDLE_SECONDS = 5.0
ROUNDS = 20


def _fill(store: Store, count: int, head: int) -> None:
    """*count* anchored batches below the reorg window (old ones) and one certificate row each."""
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO batches (issuer, mode, root, state, tx_hash, block_number, anchored_at, size, created_at)"
            " VALUES ('0xabc', 'hash', ?, 'anchored', '0x', ?, 0, 1, 0)",
            [(os.urandom(32), max(1, head - 100 - i % 50)) for i in range(count)])


def _workers(store: Store, chain: ChainClient) -> list[Any]:
    anchorer = Anchorer(store, chain, vault=None, signer_for=lambda _: None,  # type: ignore[arg-type]
                        policy=BatchPolicy())
    return [anchorer, Follower(ChainIndexer(store, chain)), AuditPruner(store, 400)]


def _one_round(store: Store, chain: ChainClient, rpc: LyingRpc, workers: list[Any]) -> tuple[int, int]:
    statements: list[str] = []
    store.connection().set_trace_callback(statements.append)
    before = rpc.posts
    workers[0]._watched_at = 0.0  # noqa: SLF001 - one reorg look per measured round
    for worker in workers:
        worker.round()
    store.connection().set_trace_callback(None)
    return rpc.posts - before, len(statements)


def measure(size: int, anvil: NodeProcess) -> dict[str, Any]:
    admin = Account.create()
    direct = ChainClient.connect(anvil.url)
    direct.fund(admin.address)
    direct.deploy(admin)
    cpu, rpcs, sqls = [], [], []
    with LyingRpc(anvil.url) as rpc, tempfile.TemporaryDirectory() as tmp:
        chain = ChainClient.connect(rpc.url, direct.address)
        store = Store(Path(tmp) / "node.db", secure_delete=False)
        _fill(store, size, chain.block_number())
        for _ in range(RUNS):
            workers = _workers(store, chain)
            for worker in workers:
                worker.round()  # warm: the first rounds recover and index from the start
            counts = [_one_round(store, chain, rpc, workers) for _ in range(ROUNDS)]
            rpcs.append(statistics.median(c[0] for c in counts))
            sqls.append(statistics.median(c[1] for c in counts))
            for worker in workers:
                worker.start()
            started, wall = time.process_time(), time.monotonic()
            time.sleep(IDLE_SECONDS)
            cpu.append((time.process_time() - started) * 1000 / (time.monotonic() - wall))
            for worker in workers:
                worker.stop()
        store.close()
    return {"stored_batches": size, "idle_cpu_ms_per_s": {"median": statistics.median(cpu), "min": min(cpu),
                                                          "max": max(cpu), "runs": cpu},
            "rpc_round_trips_per_round": statistics.median(rpcs), "sql_statements_per_round": statistics.median(sqls)}


def main() -> None:
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    anvil = NodeProcess(kind="anvil").start()
    try:
        anvil_mine = ChainClient.connect(anvil.url, timeout=60).w3.provider.make_request
        anvil_mine("anvil_mine", [hex(500)])  # type: ignore[arg-type]
        found = [measure(n, anvil) for n in (0, size)]
    finally:
        anvil.stop()
    out = Path("results/background.json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"runs": RUNS, "idle_seconds": IDLE_SECONDS, "rounds": ROUNDS, "sizes": found},
                              indent=2) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
