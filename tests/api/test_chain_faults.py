"""Chain faults: an unreachable RPC node, a frozen one, a restart from the state file, and a reorg."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.config import Settings
from api.serve import set_up_demo
from registry.chain.client import ChainClient, DocumentState
from registry.chain.nodes import NodeProcess
from registry.domain.report import Verdict
from registry.pipelines.anchoring import BatchPolicy
from registry.pipelines.verify import Verifier
from registry.runtime import Node, NodeConfig, open_node
from tests.support.consortium import example
from tests.support.http import anchored, auth

RPC_TIMEOUT = 1.0
"""The node's bound on one JSON-RPC request in these tests (the default is 5 s)."""


@pytest.fixture
def chain_node(tmp_path: Path) -> Iterator[tuple[NodeProcess, Node, dict[str, Any]]]:
    anvil = NodeProcess(kind="anvil", state_file=tmp_path / "anvil.json").start()
    node = open_node(NodeConfig(data_dir=tmp_path / "node", rpc_url=anvil.url, rpc_timeout=RPC_TIMEOUT,
                                batch=BatchPolicy(max_size=64, max_wait=0.05)))
    keys = json.loads(set_up_demo(node, "http://testserver").read_text())
    try:
        yield anvil, node, keys
    finally:
        node.close()
        anvil.stop()


@pytest.fixture
async def http(chain_node: tuple[NodeProcess, Node, dict[str, Any]]) -> AsyncIterator[httpx.AsyncClient]:
    # The readiness bound well below the RPC bound, so "answered within its bound, not stalled for an RPC
    # timeout" holds with room to spare on a loaded machine (the default bound, 0.8 s, is 0.2 s from it).
    app = create_app(Settings(public_url="http://testserver", readiness_timeout_ms=250), chain_node[1])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield client


async def one_anchored(http: httpx.AsyncClient, keys: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    """The issuer's headers, and one certificate it registered, once anchored."""
    issuer = auth(keys, "issuer")
    first = (await http.post("/v1/certificates", json=example(), headers=issuer)).json()
    await anchored(http, issuer, first["id"])
    return issuer, first


async def test_an_unreachable_chain_still_accepts_fails_closed_and_catches_up(
    chain_node: tuple[NodeProcess, Node, dict[str, Any]], http: httpx.AsyncClient
) -> None:
    anvil, node, keys = chain_node
    issuer, first = await one_anchored(http, keys)

    anvil.stop()
    accepted = await http.post("/v1/certificates", json=example(), headers=issuer)
    assert accepted.status_code == 202 and accepted.json()["status"] == "pending"
    assert (await http.get("/readyz")).status_code == 503
    await asyncio.sleep(1.2)  # the follower's last good head check goes stale
    verdict = await http.get(f"/v1/verify/{first['document_hash']}")
    assert verdict.status_code == 503 and verdict.headers["retry-after"]
    assert verdict.json()["verdict"] == "UNAVAILABLE"

    restarted = NodeProcess(kind="anvil", state_file=anvil.state_file, port=anvil.port).start()  # same port, state
    try:
        record = await anchored(http, issuer, accepted.json()["id"], timeout=30)
        assert record["status"] == "anchored"
        assert (await http.get("/readyz")).status_code == 200
        assert (await http.get(f"/v1/verify/{first['document_hash']}")).json()["verdict"] == "VALID"
    finally:
        restarted.stop()


async def test_a_reorg_that_drops_an_anchor_is_noticed_and_anchored_again(
    chain_node: tuple[NodeProcess, Node, dict[str, Any]], http: httpx.AsyncClient
) -> None:
    anvil, node, keys = chain_node
    issuer = auth(keys, "issuer")
    outside = ChainClient.connect(anvil.url)
    node.context.anchorer.stop()  # drive the worker by hand, to see each step
    snapshot = outside.snapshot()
    created = (await http.post("/v1/certificates", json=example(), headers=issuer)).json()
    node.context.anchorer.flush()
    row = node.context.store.certificate(created["id"])
    root = node.context.store.batch(row.batch_id).root  # type: ignore[arg-type]
    assert row.status == "anchored" and node.context.chain.batch_of(root).issuer is not None

    outside.revert_to(snapshot)  # the block with the anchoring transaction is gone
    assert node.context.chain.batch_of(root).issuer is None
    assert node.context.anchorer.watch_reorgs(force=True) == 1
    assert node.context.store.certificate(created["id"]).status == "pending"

    node.context.anchorer.flush()
    again = node.context.store.certificate(created["id"])
    new_root = node.context.store.batch(again.batch_id).root  # type: ignore[arg-type]
    assert again.status == "anchored" and node.context.chain.batch_of(new_root).issuer is not None
    node.context.follower.poll()
    verdict = (await http.get(f"/v1/verify/{created['document_hash']}")).json()
    assert verdict["verdict"] == "VALID", verdict["summary"]


async def timed(request: Any) -> tuple[httpx.Response, float]:
    """The response to an awaited request, and the seconds it took."""
    started = time.monotonic()
    response = await request
    return response, time.monotonic() - started


async def test_a_frozen_chain_never_stalls_the_node_and_everything_catches_up_after(
    chain_node: tuple[NodeProcess, Node, dict[str, Any]], http: httpx.AsyncClient
) -> None:
    anvil, node, keys = chain_node
    issuer, first = await one_anchored(http, keys)
    assert anvil.pid is not None
    os.kill(anvil.pid, signal.SIGSTOP)  # the RPC endpoint accepts connections and never answers
    try:
        await asyncio.sleep(1.2)  # the follower's last good head check goes stale
        accepted, took = await timed(http.post("/v1/certificates", json=example(), headers=issuer))
        assert accepted.status_code == 202 and accepted.json()["status"] == "pending"
        assert took < 1.0, f"registration took {took:.2f} s with the chain frozen"
        ready, took = await timed(http.get("/readyz"))
        assert ready.status_code == 503 and ready.headers["retry-after"]
        assert took < 1.0, f"/readyz took {took:.2f} s with the chain frozen"
        verdict, took = await timed(http.get(f"/v1/verify/{first['document_hash']}"))
        assert verdict.status_code == 503 and verdict.json()["verdict"] == "UNAVAILABLE"
        assert took < 2 * RPC_TIMEOUT + 0.5, f"verification took {took:.2f} s, beyond the RPC bound"
        revoked, took = await timed(http.post(f"/v1/certificates/{first['id']}/revoke", json={"reason": "fraud"},
                                              headers=issuer))
        assert revoked.status_code == 202, revoked.text  # recorded, not done: never a 200 the chain has not seen
        assert took < 2 * RPC_TIMEOUT + 0.5, f"revocation took {took:.2f} s with the chain frozen"
        status_url = revoked.headers["location"]
        assert revoked.json()["status_url"] == status_url and revoked.json()["kind"] == "revoke"
        assert (await http.get(status_url, headers=issuer)).json()["state"] == "pending"
        assert (await http.get(status_url, headers=auth(keys, "customs"))).status_code == 404  # not its write
        metrics, took = await timed(http.get("/metrics"))
        pending = next(line for line in metrics.text.splitlines()
                       if line.startswith('coo_chain_writes{state="pending"}'))
        assert int(pending.split()[-1]) >= 1 and took < 1.0, (pending, took)
        again = await http.post(f"/v1/certificates/{first['id']}/revoke", json={"reason": "fraud"}, headers=issuer)
        assert again.status_code == 409 and "waiting for the chain" in again.json()["detail"]
    finally:
        os.kill(anvil.pid, signal.SIGCONT)
    record = await anchored(http, issuer, accepted.json()["id"], timeout=30)
    assert record["status"] == "anchored"
    deadline = time.monotonic() + 30
    while (await http.get(status_url, headers=issuer)).json()["state"] != "settled" and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert (await http.get(status_url, headers=issuer)).json()["state"] == "settled"
    deadline = time.monotonic() + 30

    def recovered(ready: httpx.Response) -> bool:
        return ready.status_code == 200 and all(w["running"] and w["failures"] == 0 for w in ready.json()["workers"])

    while not recovered(ready := await http.get("/readyz")) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)  # each worker's next round follows its back-off
    assert recovered(ready), ready.json()
    assert (await http.get(f"/v1/verify/{first['document_hash']}")).json()["verdict"] == "REVOKED"
    assert (await http.get(f"/v1/certificates/{first['id']}", headers=issuer)).json()["status"] == "revoked"


async def test_status_changes_the_chain_lost_are_sent_again_and_verify_as_made(
    chain_node: tuple[NodeProcess, Node, dict[str, Any]], http: httpx.AsyncClient
) -> None:
    anvil, node, keys = chain_node
    issuer = auth(keys, "issuer")
    ids = [(await http.post("/v1/certificates", json=example(), headers=issuer)).json()["id"] for _ in range(3)]
    records = [await anchored(http, issuer, i) for i in ids]
    outside = ChainClient.connect(anvil.url, node.context.chain.address)
    snapshot = outside.snapshot()  # the chain will roll back to here: anchored, nothing changed yet
    assert (await http.post(f"/v1/certificates/{ids[0]}/revoke", json={"reason": "fraud"}, headers=issuer)).is_success
    assert (await http.post(f"/v1/certificates/{ids[1]}/erase", headers=issuer)).is_success
    replaced = await http.post(f"/v1/certificates/{ids[2]}/replace", json=example(), headers=issuer)
    assert replaced.is_success
    expected = {ids[0]: DocumentState.REVOKED, ids[1]: DocumentState.ERASED, ids[2]: DocumentState.SUPERSEDED}
    rows = {i: node.context.store.certificate(i) for i in ids}

    def on_chain() -> dict[str, DocumentState]:
        return {i: outside.inspect(r.document_hash, [bytes.fromhex(p[2:]) for p in r.proof or []]).state
                for i, r in rows.items()}

    assert on_chain() == expected
    with node.paused():  # nothing re-sent yet: what does the issuing node say meanwhile?
        outside.revert_to(snapshot)  # as a chain restarted from an older state file: the three changes are gone
        assert set(on_chain().values()) == {DocumentState.ACTIVE}
        node.context.follower.checked_at = 0.0  # the index is behind the rolled-back chain: read the chain
        meanwhile = (await http.get(f"/v1/verify/{rows[ids[0]].document_hash.hex()}")).json()
    assert meanwhile["verdict"] != "VALID", "the issuing node showed a revoked certificate as VALID"
    status = next(c for c in meanwhile["checks"] if c["name"] == "status")
    assert status["status"] == "warn" and "revoked" in status["reason"]
    deadline = time.monotonic() + 30
    while on_chain() != expected and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert on_chain() == expected, "a status change the chain lost stayed lost"
    offline = Verifier(outside)  # what `coo verify --rpc-url` sees
    assert offline.verify_hash(rows[ids[0]].document_hash, [bytes.fromhex(p[2:]) for p in rows[ids[0]].proof or []]
                               ).verdict is Verdict.REVOKED
    assert all(r["status"] == "anchored" for r in records)
