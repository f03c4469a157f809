"""Our certificates exported as OpenAttestation v2 documents, accepted by OpenAttestation's own verifier.

``GET /v1/certificates/{id}/openattestation`` wraps the certificate, deploys this node's
DocumentStore (once) and issues the document's root on it through the chain-write outbox.
``@govtechsg/oa-verify`` must then say VALID, its DNS step pointed at the tiny DNS server
where the node's identity domain vouches for the store; once the certificate is revoked, the
store has revoked the document too and both verifiers say so.

These tests run their own node on an Anvil with chain id 1337: dnsprove (which oa-verify uses
to read DNS-TXT records) accepts only the networks it lists (1, 3, 4, 5, 137, 1337, 80002,
11155111), not Anvil's default 31337 that the session node uses.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.config import Settings
from api.serve import set_up_demo
from registry.chain.nodes import NodeProcess
from registry.custody.apikeys import Role
from registry.errors import ContractRevertError
from registry.openattestation.exports import RECORD, OpenAttestationExports
from registry.openattestation.store import DocumentStore, artifact
from registry.pipelines.anchoring import BatchPolicy
from registry.runtime import Node, NodeConfig, open_node
from registry.storage.writelog import WriteKind
from tests.interop.oa_support import TinyDns, node_script, txt_record
from tests.support.consortium import example
from tests.support.http import anchored, assert_problem, auth

CHAIN_ID = 1337


@pytest.fixture(scope="module")
def oa_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    chain = NodeProcess(kind="anvil", chain_id=CHAIN_ID, state_file=tmp_path_factory.mktemp("oa-anvil") / "state.json")
    chain.start()
    running = open_node(NodeConfig(data_dir=tmp_path_factory.mktemp("oa-node"), rpc_url=chain.url,
                                   batch=BatchPolicy(max_size=256, max_wait=0.05)))
    try:
        set_up_demo(running, "http://testserver")
        yield running
    finally:
        running.close()
        chain.stop()


@pytest.fixture(scope="module")
def tiny_dns() -> Iterator[TinyDns]:
    server = TinyDns().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def keys(oa_node: Node) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = json.loads((oa_node.config.data_dir / "demo-keys.json").read_text())
    return found


@pytest.fixture(scope="module")
def domain() -> str:
    return f"registry-{uuid.uuid4().hex[:8]}.test"


@pytest.fixture
async def client(oa_node: Node, tiny_dns: TinyDns, domain: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(data_dir=oa_node.config.data_dir, public_url="http://testserver",
                        oa_dns_resolver=tiny_dns.address, oa_identity_domain=domain)
    transport = httpx.ASGITransport(app=create_app(settings, oa_node), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def issued(client: httpx.AsyncClient, keys: dict[str, dict[str, str]]) -> dict[str, Any]:
    answer = await client.post("/v1/certificates", json=example(), headers=auth(keys, "issuer"))
    assert answer.status_code == 202, answer.text
    return await anchored(client, auth(keys, "issuer"), answer.json()["id"])


async def exported(client: httpx.AsyncClient, keys: dict[str, dict[str, str]], certificate_id: str,
                   role: str = "issuer") -> dict[str, Any]:
    answer = await client.get(f"/v1/certificates/{certificate_id}/openattestation", headers=auth(keys, role))
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document


def vouch(oa_node: Node, tiny_dns: TinyDns, domain: str) -> str:
    """Publish the TXT record the node's operator would publish for its store; the store's address."""
    store: str = json.loads((oa_node.config.data_dir / RECORD).read_text())["address"]
    tiny_dns.records[domain] = [txt_record(CHAIN_ID, store)]
    return store


def oa_verify(oa_node: Node, tiny_dns: TinyDns, document: dict[str, Any]) -> dict[str, str]:
    rpc_url = oa_node.context.chain.w3.provider.endpoint_uri  # type: ignore[attr-defined]
    verdict = node_script("verify", {"rpc_url": rpc_url, "document": document, "dns": tiny_dns.address})
    fragments = {f["name"]: f["status"] for f in verdict["fragments"]}
    return {**fragments, "valid": str(verdict["valid"])}


async def test_our_export_verifies_with_openattestations_own_verifier_and_with_ours(
        client: httpx.AsyncClient, keys: dict[str, dict[str, str]], oa_node: Node, tiny_dns: TinyDns,
        domain: str) -> None:
    cert = await issued(client, keys)
    document = await exported(client, keys, cert["id"])
    store = vouch(oa_node, tiny_dns, domain)
    data = node_script("check", {"documents": [document]})["results"][0]
    assert data["signature"] is True and data["wrapped"] is True
    assert data["data"]["issuers"] == [{"name": f"Certificate of Origin registry ({domain})", "documentStore": store,
                                        "identityProof": {"type": "DNS-TXT", "location": domain}}]
    assert data["data"]["certificateOfOrigin"]["certificate_number"] == cert["certificate_number"]
    assert data["data"]["registry"]["documentHash"] == cert["document_hash"]
    theirs = oa_verify(oa_node, tiny_dns, document)
    assert theirs["valid"] == "True", theirs
    assert theirs["OpenAttestationDnsTxtIdentityProof"] == "VALID"
    ours = (await client.post("/v1/verify", json=document)).json()
    assert ours["verdict"] == "VALID" and ours["issuer"] == store, ours


async def test_the_export_is_the_same_document_every_time_and_issued_once(
        client: httpx.AsyncClient, keys: dict[str, dict[str, str]], oa_node: Node) -> None:
    cert = await issued(client, keys)
    first = await exported(client, keys, cert["id"])
    again = await exported(client, keys, cert["id"], role="authority")  # its country's authority may too
    assert first == again
    writes = oa_node.context.outbox.log.about(f"openattestation:{cert['id']}", WriteKind.OA_ISSUE)
    assert [w.state.value for w in writes] == ["settled"]


async def test_revoking_the_certificate_revokes_its_openattestation_document(
        client: httpx.AsyncClient, keys: dict[str, dict[str, str]], oa_node: Node, tiny_dns: TinyDns,
        domain: str) -> None:
    cert = await issued(client, keys)
    document = await exported(client, keys, cert["id"])
    vouch(oa_node, tiny_dns, domain)
    answer = await client.post(f"/v1/certificates/{cert['id']}/revoke", json={"reason": "fraud"},
                               headers=auth(keys, "issuer"))
    assert answer.status_code == 200, answer.text
    oa_node.context.outbox.round()  # send the recorded oa-revoke now rather than on the worker's next round
    [revoking] = oa_node.context.outbox.log.about(f"openattestation:{cert['id']}", WriteKind.OA_REVOKE)
    assert revoking.state.value == "settled" and revoking.args["target_hash"] == \
        "0x" + document["signature"]["targetHash"]
    theirs = oa_verify(oa_node, tiny_dns, document)
    assert theirs["valid"] == "False" and theirs["OpenAttestationEthereumDocumentStoreStatus"] == "INVALID", theirs
    assert (await client.post("/v1/verify", json=document)).json()["verdict"] == "REVOKED"
    assert_problem(await client.get(f"/v1/certificates/{cert['id']}/openattestation", headers=auth(keys, "issuer")),
                   409, "revoked")


async def test_only_the_certificates_issuer_and_its_countrys_authority_may_export_it(
        client: httpx.AsyncClient, keys: dict[str, dict[str, str]], oa_node: Node) -> None:
    cert = await issued(client, keys)
    path = f"/v1/certificates/{cert['id']}/openattestation"
    stranger = oa_node.context.api_keys.mint(Role.ISSUER, country="SG", account="0x" + "56" * 20, label="stranger")
    assert (await client.get(path)).status_code == 401
    assert_problem(await client.get(path, headers=auth(keys, "customs")), 403)
    assert_problem(await client.get(path, headers=auth(keys, "admin")), 403)
    assert_problem(await client.get(path, headers=auth(keys, "authority_jp")), 404)
    assert_problem(await client.get(path, headers={"Authorization": f"Bearer {stranger}"}), 404)
    assert_problem(await client.get("/v1/certificates/not-a-certificate/openattestation",
                                    headers=auth(keys, "issuer")), 404)


async def test_an_erased_certificate_cannot_be_exported(
        client: httpx.AsyncClient, keys: dict[str, dict[str, str]]) -> None:
    cert = await issued(client, keys)
    answer = await client.post(f"/v1/certificates/{cert['id']}/erase", headers=auth(keys, "issuer"))
    assert answer.status_code == 200, answer.text
    assert_problem(await client.get(f"/v1/certificates/{cert['id']}/openattestation",
                                    headers=auth(keys, "issuer")), 410)


def test_the_committed_document_store_artifact_is_the_npm_packages() -> None:
    shipped = node_script("artifact", {})
    assert {k: artifact()[k] for k in shipped} == shipped


def test_a_root_already_on_the_store_settles_its_issuance_and_a_stranger_is_refused(oa_node: Node) -> None:
    exports = OpenAttestationExports(oa_node.context, oa_node.config.data_dir, "registry.test", "http://testserver")
    deployment = exports.store_deployment()
    operator = oa_node.context.accounts.get(deployment.operator)
    stranger = oa_node.context.accounts.get(oa_node.context.new_funded_account())
    assert operator is not None and stranger is not None
    store = DocumentStore(oa_node.context.chain.w3, deployment.address)
    root = "0x" + os.urandom(32).hex()
    args = {"store": deployment.address, "merkle_root": root, "target_hash": root, "certificate": "test"}
    outbox = oa_node.context.outbox
    with oa_node.paused():  # no worker sends for the operator meanwhile
        store.issue(operator, bytes.fromhex(root[2:]))  # on chain before the write is ever sent
        write = outbox.submit(WriteKind.OA_ISSUE, operator, args, subject=f"openattestation:{uuid.uuid4()}")
        assert write.state.value == "settled" and write.attempts == 1
        other = "0x" + os.urandom(32).hex()
        subject = f"openattestation:{uuid.uuid4()}"
        with pytest.raises(ContractRevertError, match="missing role"):
            outbox.submit(WriteKind.OA_ISSUE, stranger, {**args, "merkle_root": other}, subject=subject)
    assert outbox.log.about(subject, WriteKind.OA_ISSUE) == []  # a refused write is no export
    assert not store.is_issued(bytes.fromhex(other[2:]))
