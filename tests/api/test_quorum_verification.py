"""A node, and ``coo verify``, reading the chain through several endpoints, one of them lying.

The node of this module writes through its first endpoint and verifies (and indexes events)
through all three, two of which must agree (``COO_RPC_URL`` + ``COO_RPC_URLS``,
``COO_RPC_QUORUM=2``). Each endpoint is a JSON-RPC proxy in front of the session's node Anvil
(:mod:`tests.support.lying_rpc`); the third one lies when a test says so. The rule is the one of
:mod:`registry.chain.quorum`: answers that contradict each other are ``UNAVAILABLE`` naming each
endpoint, an endpoint behind the others is left out, fewer than K left is ``UNAVAILABLE``.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from api.app import create_app, node_config
from api.cli import app as cli
from api.config import Settings, SettingsError, load_settings
from registry.chain.nodes import NodeProcess
from registry.chain.quorum import DEFAULT_MAX_LAG, QuorumReader
from registry.errors import QuorumError
from registry.runtime import Node
from registry.storage.projection import IndexedView
from registry.types import parse_hex32
from tests.support.consortium import example
from tests.support.http import anchored, auth
from tests.support.lying_rpc import LyingRpc, forged_status, hidden_events, stale_head, together

runner = CliRunner()


@dataclass(frozen=True)
class Network:
    honest: LyingRpc
    other: LyingRpc
    liar: LyingRpc
    node: Node
    keys: dict[str, dict[str, str]]


@pytest.fixture(scope="module")
def network(node_anvil: NodeProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    """A node whose verification needs two of its three endpoints to agree (the third may lie)."""
    from api.serve import set_up_demo
    from registry.runtime import open_node

    with LyingRpc(node_anvil.url) as honest, LyingRpc(node_anvil.url) as other, LyingRpc(node_anvil.url) as liar:
        settings = Settings(data_dir=tmp_path_factory.mktemp("quorum-node"), rpc_url=honest.url,
                            rpc_urls=f"{other.url},{liar.url}", rpc_quorum=2, batch_max_wait_ms=50)
        running = open_node(node_config(settings))
        try:
            keys = json.loads(set_up_demo(running, "http://testserver").read_text())
            yield Network(honest, other, liar, running, keys)
        finally:
            running.close()


@pytest.fixture
def net(network: Network) -> Iterator[Network]:
    """The network, its liar telling the truth again after each test."""
    yield network
    network.liar.lie = None


@pytest.fixture
async def client(net: Network) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(data_dir=net.node.config.data_dir, public_url="http://testserver"), net.node)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@dataclass(frozen=True)
class Issued:
    id: str
    document_hash: str
    document: dict[str, Any]


async def issued(client: httpx.AsyncClient, net: Network) -> Issued:
    issuer = auth(net.keys, "issuer")
    created = (await client.post("/v1/certificates", json=example(), headers=issuer)).json()
    await anchored(client, issuer, created["id"])
    document = (await client.get(f"/v1/certificates/{created['id']}/document", headers=issuer)).json()
    return Issued(created["id"], created["document_hash"], document)


async def revoke(client: httpx.AsyncClient, net: Network, certificate: Issued) -> None:
    answer = await client.post(f"/v1/certificates/{certificate.id}/revoke", json={"reason": "fraud"},
                               headers=auth(net.keys, "issuer"))
    assert answer.status_code == 200, answer.text


async def verdicts(client: httpx.AsyncClient, certificate: Issued) -> list[dict[str, Any]]:
    """The node's answer to ``POST /v1/verify``, ``GET /v1/verify/{hash}`` and the page's ``GET /v/{token}``."""
    posted = (await client.post("/v1/verify", json=certificate.document)).json()
    by_hash = (await client.get(f"/v1/verify/{certificate.document_hash}")).json()
    page = (await client.get(f"/v/{certificate.id}", headers={"Accept": "application/json"})).json()
    return [posted, by_hash, page]


def said(report: dict[str, Any]) -> dict[str, str]:
    """Endpoint label -> what it answered (or why it did not), from the anchored check's details."""
    check = next(c for c in report["checks"] if c["name"] == "anchored")
    return {e["endpoint"]: e.get("answer") or e.get("problem", "") for e in check["details"]["endpoints"]}


def chain_reads_only(net: Network) -> None:
    """Leave the event index out: as if the follower had lost the chain (the workers are paused)."""
    net.node.context.follower.checked_at = 0.0


# -- the node -----------------------------------------------------------------------------------------------


async def test_the_node_verifies_through_its_quorum_and_sees_a_revocation(
        client: httpx.AsyncClient, net: Network) -> None:
    reads = net.node.context.reads
    assert isinstance(reads, QuorumReader) and (len(reads.endpoints), reads.quorum) == (3, 2)
    certificate = await issued(client, net)
    assert [r["verdict"] for r in await verdicts(client, certificate)] == ["VALID"] * 3
    await revoke(client, net, certificate)
    assert [r["verdict"] for r in await verdicts(client, certificate)] == ["REVOKED"] * 3
    with net.node.paused():
        chain_reads_only(net)
        assert [r["verdict"] for r in await verdicts(client, certificate)] == ["REVOKED"] * 3


async def test_a_forged_status_makes_the_node_answer_unavailable_naming_the_endpoints(
        client: httpx.AsyncClient, net: Network) -> None:
    certificate = await issued(client, net)
    await revoke(client, net, certificate)
    with net.node.paused():
        net.liar.lie = forged_status()
        chain_reads_only(net)
        for report in await verdicts(client, certificate):
            assert report["verdict"] == "UNAVAILABLE" and "endpoints disagree" in report["summary"], report
            answers = said(report)
            assert answers[f"#1 {net.honest.url}"].startswith("REVOKED")
            assert answers[f"#3 {net.liar.url}"].startswith("ACTIVE")
        page = (await client.get(f"/v/{certificate.id}")).text  # what the officer's phone shows
        assert "UNAVAILABLE" in page and "endpoints disagree" in page and f"#3 {net.liar.url}" in page


async def test_a_lying_endpoint_cannot_feed_the_index_a_history_without_the_revocation(
        client: httpx.AsyncClient, net: Network) -> None:
    certificate = await issued(client, net)
    net.liar.lie = together(forged_status(), hidden_events("CertificateRevoked"))
    await revoke(client, net, certificate)
    follower, chain = net.node.context.follower, net.node.context.chain
    document_hash = parse_hex32(certificate.document_hash)
    revoked_in = chain.events(0, names={"CertificateRevoked"},
                              topics=[chain.event_topic("CertificateRevoked"), certificate.document_hash])[-1]
    with pytest.raises(QuorumError, match="endpoints disagree"):
        follower.poll()
    assert net.node.context.store.last_indexed_block() < revoked_in.block_number  # refused, not recorded
    proof = [parse_hex32(p) for p in certificate.document["proof"]["path"]]
    with net.node.paused():
        chain_reads_only(net)
        assert [r["verdict"] for r in await verdicts(client, certificate)] == ["UNAVAILABLE"] * 3
        net.liar.lie = None
        follower.poll()
        assert IndexedView(net.node.context.store.connection).inspect(document_hash, proof).state.name == "REVOKED"
        assert [r["verdict"] for r in await verdicts(client, certificate)] == ["REVOKED"] * 3


async def test_a_stale_endpoint_is_left_out_and_the_two_at_the_head_decide(
        client: httpx.AsyncClient, net: Network) -> None:
    certificate = await issued(client, net)
    chain = net.node.context.chain
    before = chain.block_number()
    await revoke(client, net, certificate)
    for _ in range(DEFAULT_MAX_LAG + 1):
        chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    net.liar.lie = stale_head(before)
    net.node.context.follower.poll()  # the index follows the two endpoints at the head
    with net.node.paused():
        chain_reads_only(net)
        assert [r["verdict"] for r in await verdicts(client, certificate)] == ["REVOKED"] * 3


def test_one_endpoint_with_a_quorum_of_one_is_the_plain_client_with_no_extra_request(node: Node) -> None:
    assert node.context.reads is None  # the session's node: one COO_RPC_URL, no quorum configured


# -- coo verify --------------------------------------------------------------------------------------------


async def test_coo_verify_through_two_endpoints_one_lying_is_unavailable(
        client: httpx.AsyncClient, net: Network, tmp_path: Path) -> None:
    certificate = await issued(client, net)
    await revoke(client, net, certificate)
    sealed = tmp_path / "sealed.json"
    sealed.write_text(json.dumps(certificate.document))
    contract = net.node.context.chain.address

    def coo_verify(*urls: str, quorum: str = "2") -> Any:
        flags = [arg for url in urls for arg in ("--rpc-url", url)]
        return runner.invoke(cli, ["verify", str(sealed), *flags, "--quorum", quorum, "--contract", contract])

    honest = coo_verify(net.honest.url, net.other.url)
    assert honest.exit_code == 1 and "REVOKED" in honest.stdout, honest.output
    net.liar.lie = forged_status()
    alone = runner.invoke(cli, ["verify", str(sealed), "--rpc-url", net.liar.url, "--contract", contract])
    assert alone.exit_code == 0 and "VALID" in alone.stdout  # K=1, one endpoint: it is believed
    lied = coo_verify(net.honest.url, net.liar.url)
    assert lied.exit_code == 1 and "UNAVAILABLE" in lied.stdout and "endpoints disagree" in lied.stdout
    assert net.liar.url.removeprefix("http://") in lied.stdout


def test_coo_verify_refuses_a_quorum_it_cannot_meet_in_one_line(net: Network, tmp_path: Path) -> None:
    sealed = tmp_path / "sealed.json"
    sealed.write_text("{}")
    contract = net.node.context.chain.address
    cases = {("--rpc-url", net.honest.url, "--rpc-url", net.other.url, "--quorum", "3"): "is not between 1 and the 2",
             ("--rpc-url", net.honest.url, "--rpc-url", net.honest.url + "/"): "given twice",
             ("--quorum", "2"): "--quorum counts --rpc-url endpoints"}
    for flags, message in cases.items():
        answer = runner.invoke(cli, ["verify", str(sealed), *flags, "--contract", contract])
        assert answer.exit_code == 2 and message in answer.stderr, (flags, answer.output)
        assert len(answer.stderr.strip().splitlines()) == 1


# -- settings ----------------------------------------------------------------------------------------------


def test_the_rpc_endpoints_and_the_quorum_are_settings_checked_before_anything_starts(tmp_path: Path) -> None:
    settings = load_settings({"data_dir": tmp_path, "rpc_urls": "http://127.0.0.1:1/a, http://127.0.0.1:2",
                              "rpc_quorum": 2})
    config = node_config(settings)
    assert (config.rpc_url, config.rpc_urls, config.rpc_quorum) == (None, ("http://127.0.0.1:1/a",
                                                                            "http://127.0.0.1:2"), 2)
    assert config.read_endpoints()[0] == "http://127.0.0.1:1/a"  # without COO_RPC_URL the first takes the writes
    refused = {"rpc_quorum": (3, "COO_RPC_QUORUM 3: needs between 1 and the 2 RPC endpoint(s) configured"),
               "rpc_urls": ("http://127.0.0.1:2,ftp://x/SECRET", "COO_RPC_URLS: #2 ftp://x is not an http"),
               "rpc_url": ("http://127.0.0.1:2", "given twice")}
    for name, (value, message) in refused.items():
        overrides = {"data_dir": tmp_path, "rpc_urls": "http://127.0.0.1:1,http://127.0.0.1:2", name: value}
        with pytest.raises(SettingsError, match=re.escape(message)) as caught:
            load_settings(overrides)
        assert "SECRET" not in str(caught.value)
    with pytest.raises(SettingsError, match=re.escape("COO_RPC_QUORUM 2: needs between 1 and the 1 RPC endpoint(s)")):
        load_settings({"data_dir": tmp_path, "rpc_quorum": 2})  # a managed Anvil is one endpoint
