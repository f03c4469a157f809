"""No event scan of a served node starts at block 0: each starts from the block the store records for the
anchoring it is about (or the node's own index), so its cost does not grow with the chain.

The node reads the session's Anvil through an honest proxy that records the filter of every
``eth_getLogs`` (:mod:`tests.support.lying_rpc`). The chain is first made long (empty blocks), the
node deploys its registry after them: its first index sync starts at the deployment, and so does
the first sync of a node that attaches to the registry by address (it finds the block by bisection).
The node settles a write two blocks deep, as on a network (so it looks for its anchorings after they
are mined), and a thread mines a block every tenth of a second meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app, node_config
from api.config import Settings
from registry.chain.nodes import NodeProcess
from registry.pipelines.anchoring import BatchPolicy
from registry.runtime import Node
from tests.support.consortium import example
from tests.support.http import anchored, auth
from tests.support.lying_rpc import LyingRpc

EARLIER_BLOCKS = 300
"""Empty blocks mined before the node deploys its registry."""


def _rpc(url: str, method: str, params: list[Any]) -> Any:
    answer = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, timeout=10)
    return answer.json()["result"]


@pytest.fixture(scope="module")
def blocks_go_on(node_anvil: NodeProcess) -> Iterator[None]:
    """A block every tenth of a second while the test runs (Anvil mines only when sent a transaction)."""
    stop = threading.Event()

    def mine() -> None:
        while not stop.wait(0.1):
            _rpc(node_anvil.url, "evm_mine", [])

    miner = threading.Thread(target=mine, daemon=True)
    miner.start()
    yield
    stop.set()
    miner.join()


FirstScans = dict[str, list[dict[str, Any]]]
"""The ``eth_getLogs`` filters of each node's start, by node: the deploying one, one attaching by address."""


@pytest.fixture(scope="module")
def recorded(node_anvil: NodeProcess, tmp_path_factory: pytest.TempPathFactory,
             blocks_go_on: None) -> Iterator[tuple[LyingRpc, Node, dict[str, Any], FirstScans]]:
    """A served node behind a recording proxy, on a chain with many blocks before its registry."""
    from api.serve import set_up_demo
    from registry.runtime import open_node

    _rpc(node_anvil.url, "anvil_mine", [hex(EARLIER_BLOCKS)])  # (and more go on: see blocks_go_on)
    first_scans: FirstScans = {}
    with LyingRpc(node_anvil.url) as proxy:
        settings = Settings(data_dir=tmp_path_factory.mktemp("scans-node"), rpc_url=proxy.url, batch_max_wait_ms=50)
        first = open_node(node_config(settings))  # the demo consortium, set up with writes settled when mined
        try:
            keys = json.loads(set_up_demo(first, "http://testserver").read_text())
            first.context.follower.poll()
            first_scans["deploying"] = list(proxy.log_queries)
            proxy.log_queries.clear()
            attaching = open_node(node_config(Settings(
                data_dir=tmp_path_factory.mktemp("scans-attached"), rpc_url=proxy.url,
                contract_address=first.context.chain.address)), start_worker=False)
            try:
                attaching.context.follower.poll()
                first_scans["attaching"] = list(proxy.log_queries)
            finally:
                attaching.close()
        finally:
            first.close()
        running = open_node(node_config(settings.model_copy(update={"confirmation_depth": 2})))
        try:
            yield proxy, running, keys, first_scans
        finally:
            running.close()


def _deployed_at(node: Node) -> int:
    return int(json.loads((Path(node.config.data_dir) / "deployment.json").read_text())["block_number"])


def _from_block(query: dict[str, Any]) -> int:
    start = query.get("fromBlock", 0)
    return int(start, 16) if isinstance(start, str) and start.startswith("0x") else int(start)


async def _settled(http: httpx.AsyncClient, headers: dict[str, str], answer: httpx.Response) -> None:
    """Follow a write answered 202 (not settled within the node's bound) until it settles."""
    assert answer.status_code in (200, 201, 202), answer.text
    if answer.status_code != 202:
        return
    deadline = asyncio.get_running_loop().time() + 30
    while (state := (await http.get(answer.json()["status_url"], headers=headers)).json())["state"] != "settled":
        assert state["state"] != "refused" and asyncio.get_running_loop().time() < deadline, state
        await asyncio.sleep(0.1)


def test_a_nodes_first_index_sync_starts_at_the_registry_whether_it_deployed_it_or_attached_to_it(
        recorded: tuple[LyingRpc, Node, dict[str, Any], FirstScans]) -> None:
    _, node, _, first_scans = recorded
    deployed = _deployed_at(node)
    for which, queries in first_scans.items():
        starts = [_from_block(q) for q in queries]
        assert starts, f"the {which} node made no event scan: the test exercised nothing"
        earliest = deployed - BatchPolicy().reorg_window  # a reorganisation may move the deployment that far back
        assert min(starts) >= earliest > 0, f"the {which} node scanned from {min(starts)}; registry at {deployed}"


async def test_issuing_verifying_revoking_and_utilising_scan_no_block_before_the_registry(
        recorded: tuple[LyingRpc, Node, dict[str, Any], FirstScans]) -> None:
    proxy, node, keys, _ = recorded
    deployed = _deployed_at(node)
    assert deployed > EARLIER_BLOCKS
    issuer, customs = auth(keys, "issuer"), auth(keys, "customs")
    app = create_app(Settings(data_dir=node.config.data_dir, public_url="http://testserver"), node)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        node.context.follower.poll()  # the index is current: what follows are the scans of each operation
        proxy.log_queries.clear()
        created = [(await http.post("/v1/certificates", json=example(), headers=issuer, params={"mode": mode})).json()
                   for mode in ("hash-only", "encrypted")]
        records = [await anchored(http, issuer, c["id"]) for c in created]

        revoked, used = records
        document = (await http.get(f"/v1/certificates/{used['id']}/document", headers=issuer)).json()
        assert (await http.post("/v1/verify", json=document)).json()["verdict"] == "VALID"
        await _settled(http, issuer, await http.post(f"/v1/certificates/{revoked['id']}/revoke",
                                                     json={"reason": "fraud"}, headers=issuer))
        await _settled(http, customs, await http.post(f"/v1/certificates/{used['id']}/utilisations", headers=customs,
                                                      json={"declaration_reference": "JP-IMP-SCANS",
                                                            "date": "2026-11-23",
                                                            "items": [{"item_number": 1, "quantity": "200"}]}))
        node.context.follower.poll()
        assert (await http.get(f"/v1/verify/{revoked['document_hash']}")).json()["verdict"] == "REVOKED"
        assert (await http.post("/v1/verify", json=document)).json()["verdict"] == "VALID"

    starts = [_from_block(q) for q in proxy.log_queries]
    assert starts, "no event scan was made: the test exercised nothing"
    assert min(starts) >= deployed, f"scans from blocks {sorted(set(starts))}, the registry is at {deployed}"
