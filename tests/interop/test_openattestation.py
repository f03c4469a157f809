"""OpenAttestation v2 (TradeTrust) documents, end to end, with OpenAttestation's own libraries on our Anvil.

Documents are wrapped with ``@govtechsg/open-attestation`` and issued on a DocumentStore
deployed from ``@govtechsg/document-store`` (``js/oa/issue.mjs``); their issuer's domain
vouches for the store in a tiny DNS server the node is pointed at. ``POST /v1/verify`` must
say VALID, REVOKED once the store revokes them, INVALID when tampered with or vouched for by no
one, and UNAVAILABLE (never VALID) when DNS cannot be asked and the trust list has no entry.
``@govtechsg/oa-verify`` (``js/oa/verify.mjs``) is asked the same questions and must agree.
"""

from __future__ import annotations

import copy
import json
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from api.config import Settings, SettingsError, load_settings
from registry.chain.ports import free_port
from registry.runtime import Node
from tests.interop.oa_support import DevIssuer, TinyDns, node_script, txt_record
from tests.support.http import assert_problem, served_over_http

runner = CliRunner()


@pytest.fixture(scope="module")
def tiny_dns() -> Iterator[TinyDns]:
    server = TinyDns().start()
    yield server
    server.stop()


async def _client(node: Node, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(data_dir=node.config.data_dir, public_url="http://testserver", **settings), node)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def client(node: Node, tiny_dns: TinyDns) -> AsyncIterator[httpx.AsyncClient]:
    async for http in _client(node, oa_dns_resolver=tiny_dns.address):
        yield http


@pytest.fixture
def issuer(node: Node) -> DevIssuer:
    """A funded dev-chain account of a TradeTrust issuer (its key only ever goes to the node script's stdin)."""
    return DevIssuer.funded(node.context.chain)


def _domain() -> str:
    return f"issuer-{uuid.uuid4().hex[:10]}.test"


def issue(issuer: DevIssuer, documents: list[dict[str, Any]], location: str, **options: Any) -> dict[str, Any]:
    """Deploy a store, wrap *documents* in one batch naming DNS-TXT identity *location*, issue the root."""
    payload = {**issuer.payload(), "documents": documents, "location": location, **options}
    issued: dict[str, Any] = node_script("issue", payload)
    return issued


def certificate(number: str) -> dict[str, Any]:
    return {"id": number, "name": "Certificate of Origin", "exporter": {"name": "Lion City Precision Components",
            "country": "SG"}, "importingCountry": "JP", "goods": [{"hsCode": "848180", "quantity": 1200}]}


async def verify(client: httpx.AsyncClient, document: dict[str, Any]) -> dict[str, Any]:
    answer = await client.post("/v1/verify", json=document)
    assert answer.status_code in (200, 503), answer.text
    report: dict[str, Any] = answer.json()
    return report


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["status"] for c in report["checks"]}


def oa_verify(issuer: DevIssuer, dns: TinyDns, document: dict[str, Any]) -> dict[str, Any]:
    verdict: dict[str, Any] = node_script("verify", {"rpc_url": issuer.rpc_url, "document": document,
                                                     "dns": dns.address})
    return verdict


def fragments(verdict: dict[str, Any]) -> dict[str, str]:
    """oa-verify's fragments by name: their status."""
    return {f["name"]: f["status"] for f in verdict["fragments"]}


@pytest.fixture
def vouched(issuer: DevIssuer, tiny_dns: TinyDns) -> dict[str, Any]:
    """Two documents issued in one batch by an issuer whose domain vouches for its store."""
    location = _domain()
    issued = issue(issuer, [certificate("CO-A"), certificate("CO-B")], location)
    tiny_dns.records[location] = ["v=spf1 -all", txt_record(issued["chain_id"], issued["store"])]
    return {**issued, "location": location}


async def test_a_document_issued_with_openattestation_on_our_chain_verifies_valid(
        client: httpx.AsyncClient, vouched: dict[str, Any], issuer: DevIssuer, tiny_dns: TinyDns) -> None:
    document = vouched["wrapped"][0]
    report = await verify(client, document)
    assert report["verdict"] == "VALID", report
    assert statuses(report) == {"integrity": "pass", "anchored": "pass", "issuer_authorised": "pass",
                                "status": "pass", "validity": "skipped"}
    assert report["issuer"] == vouched["store"] and report["issuer_name"] == vouched["location"]
    assert report["document_hash"] == "0x" + document["signature"]["targetHash"]
    assert report["certificate_number"] == "CO-A" and report["disclosed"]["goods"][0]["quantity"] == 1200
    assert report["chain_id"] == vouched["chain_id"] and report["receipt_id"]
    assert "DNS" in next(c["reason"] for c in report["checks"] if c["name"] == "issuer_authorised")
    theirs = fragments(oa_verify(issuer, tiny_dns, document))  # OpenAttestation's verifier agrees on the chain
    assert theirs["OpenAttestationHash"] == theirs["OpenAttestationEthereumDocumentStoreStatus"] == "VALID"
    # ... but its DNS-TXT records may only name the networks dnsprove lists (1, 3, 4, 5, 137, 1337, 80002,
    # 11155111): Anvil's default chain 31337 is not one (see test_openattestation_export for chain 1337)
    assert theirs["OpenAttestationDnsTxtIdentityProof"] == "INVALID"


async def test_revoked_by_its_store_a_document_verifies_revoked_and_its_batch_mate_only_once_the_root_is(
        client: httpx.AsyncClient, vouched: dict[str, Any], issuer: DevIssuer, tiny_dns: TinyDns) -> None:
    first, second = vouched["wrapped"]
    node_script("revoke", {**issuer.payload(), "store": vouched["store"], "hash": first["signature"]["targetHash"]})
    report = await verify(client, first)
    assert report["verdict"] == "REVOKED" and statuses(report)["status"] == "fail", report
    assert (await verify(client, second))["verdict"] == "VALID"
    assert fragments(oa_verify(issuer, tiny_dns, first))["OpenAttestationEthereumDocumentStoreStatus"] == "INVALID"
    node_script("revoke", {**issuer.payload(), "store": vouched["store"], "hash": second["signature"]["merkleRoot"]})
    assert (await verify(client, second))["verdict"] == "REVOKED"


def _changed_value(document: dict[str, Any], _: dict[str, Any]) -> None:
    salt = document["data"]["id"].split(":", 1)[0]
    document["data"]["id"] = f"{salt}:string:CO-FORGED"


def _swapped_proof(document: dict[str, Any], other: dict[str, Any]) -> None:
    document["signature"]["proof"] = other["signature"]["proof"]


def _other_root(document: dict[str, Any], other: dict[str, Any]) -> None:
    document["signature"]["merkleRoot"] = other["signature"]["targetHash"]


@pytest.mark.parametrize("tamper", [_changed_value, _swapped_proof, _other_root],
                         ids=["changed value", "swapped proof", "another merkle root"])
async def test_a_tampered_document_is_invalid_and_nothing_else_is_checked(
        client: httpx.AsyncClient, vouched: dict[str, Any], issuer: DevIssuer, tiny_dns: TinyDns,
        tamper: Any) -> None:
    document = copy.deepcopy(vouched["wrapped"][0])
    tamper(document, vouched["wrapped"][1])
    report = await verify(client, document)
    assert report["verdict"] == "INVALID", report
    assert statuses(report) == {"integrity": "fail", "anchored": "skipped", "issuer_authorised": "skipped",
                                "status": "skipped", "validity": "skipped"}
    assert report["disclosed"] is None
    assert fragments(oa_verify(issuer, tiny_dns, document))["OpenAttestationHash"] == "INVALID"


async def test_a_store_its_domain_does_not_vouch_for_is_invalid(
        client: httpx.AsyncClient, issuer: DevIssuer, tiny_dns: TinyDns) -> None:
    location = _domain()
    issued = issue(issuer, [certificate("CO-C")], location)
    tiny_dns.records[location] = [txt_record(issued["chain_id"], "0x" + "12" * 20)]  # another store
    report = await verify(client, issued["wrapped"][0])
    assert report["verdict"] == "INVALID" and statuses(report)["issuer_authorised"] == "fail", report
    assert "no DNS-TXT record for store" in report["summary"]


async def test_a_store_vouched_for_on_another_chain_is_invalid_here(
        client: httpx.AsyncClient, issuer: DevIssuer, tiny_dns: TinyDns) -> None:
    location = _domain()
    issued = issue(issuer, [certificate("CO-D")], location)
    tiny_dns.records[location] = [txt_record(1, issued["store"])]  # the same address, on mainnet
    report = await verify(client, issued["wrapped"][0])
    assert report["verdict"] == "INVALID" and statuses(report)["issuer_authorised"] == "fail", report
    assert "on chain 1" in report["summary"]


async def test_a_document_its_store_never_issued_is_invalid(
        client: httpx.AsyncClient, issuer: DevIssuer, tiny_dns: TinyDns) -> None:
    location = _domain()
    issued = issue(issuer, [certificate("CO-E")], location, issue=False)
    tiny_dns.records[location] = [txt_record(issued["chain_id"], issued["store"])]
    report = await verify(client, issued["wrapped"][0])
    assert report["verdict"] == "INVALID" and statuses(report)["anchored"] == "fail", report
    assert "has not issued" in report["summary"]


async def test_a_store_that_is_not_on_our_chain_at_all_is_invalid(
        client: httpx.AsyncClient, vouched: dict[str, Any], issuer: DevIssuer, tiny_dns: TinyDns) -> None:
    raw = {"id": "CO-F", "issuers": [{"name": "Elsewhere", "documentStore": "0x" + "34" * 20,
                                      "identityProof": {"type": "DNS-TXT", "location": vouched["location"]}}]}
    [document] = node_script("wrap", {"documents": [raw]})["wrapped"]
    report = await verify(client, document)
    assert report["verdict"] == "INVALID" and "no contract lives at" in report["summary"], report


@pytest.fixture
def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    return port  # nothing listens there now: the resolver's query is refused at once


async def test_without_dns_and_without_a_trust_list_entry_the_answer_is_unavailable_never_valid(
        node: Node, vouched: dict[str, Any], closed_port: int) -> None:
    async for http in _client(node, oa_dns_resolver=f"127.0.0.1:{closed_port}", oa_dns_timeout_ms=500):
        answer = await http.post("/v1/verify", json=vouched["wrapped"][0])
        assert answer.status_code == 503 and answer.headers["Retry-After"]
        report = answer.json()
        assert report["verdict"] == "UNAVAILABLE" and statuses(report)["issuer_authorised"] == "skipped", report
        assert "DNS could not be asked" in report["summary"]


async def test_the_trust_list_vouches_when_dns_cannot_and_names_itself(
        node: Node, vouched: dict[str, Any], closed_port: int, tmp_path: Path) -> None:
    trusted = tmp_path / "trust-list.json"
    trusted.write_text(json.dumps({vouched["location"]: [f"eip155:{vouched['chain_id']}:{vouched['store']}"]}))
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(json.dumps({vouched["location"]: [f"eip155:1:{vouched['store']}"]}))
    resolver = {"oa_dns_resolver": f"127.0.0.1:{closed_port}", "oa_dns_timeout_ms": 500}
    async for http in _client(node, **resolver, oa_trust_list=trusted):
        report = await verify(http, vouched["wrapped"][0])
        assert report["verdict"] == "VALID", report
        assert "trust list" in next(c["reason"] for c in report["checks"] if c["name"] == "issuer_authorised")
    async for http in _client(node, **resolver, oa_trust_list=elsewhere):
        assert (await verify(http, vouched["wrapped"][0]))["verdict"] == "UNAVAILABLE"


@pytest.mark.parametrize("body,field", [
    ({"version": "https://schema.openattestation.com/3.0/schema.json", "data": {}, "signature": {}}, "version"),
    ({"version": "https://schema.openattestation.com/2.0/schema.json", "data": {}}, "signature"),
    ({"version": "https://schema.openattestation.com/2.0/schema.json", "data": [], "signature": {}}, "data"),
    ({"version": "https://schema.openattestation.com/2.0/schema.json", "data": {},
      "signature": {"type": "SHA3MerkleProof", "targetHash": 5, "merkleRoot": "00", "proof": []}},
     "signature.targetHash"),
    ({"version": "https://schema.openattestation.com/2.0/schema.json", "data": {},
      "signature": {"type": "Ed25519Signature", "targetHash": "00", "merkleRoot": "00", "proof": []}},
     "signature.type"),
])
async def test_a_malformed_openattestation_envelope_is_a_422_naming_the_part(
        client: httpx.AsyncClient, body: dict[str, Any], field: str) -> None:
    problem = assert_problem(await client.post("/v1/verify", json=body), 422, field)
    assert any(field in str(e["loc"]) for e in problem["errors"]), problem


async def test_garbage_hashes_in_a_well_formed_envelope_are_invalid_not_an_error(client: httpx.AsyncClient) -> None:
    body = {"version": "https://schema.openattestation.com/2.0/schema.json", "data": {"id": "x"},
            "signature": {"type": "SHA3MerkleProof", "targetHash": "zz", "merkleRoot": "00", "proof": ["1"]}}
    report = await verify(client, body)
    assert report["verdict"] == "INVALID" and "not a 32-byte hex value" in report["summary"]


def test_coo_verify_takes_an_openattestation_file_from_a_node_and_offline(
        node: Node, vouched: dict[str, Any], tiny_dns: TinyDns, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    valid, tampered = tmp_path / "valid.json", tmp_path / "tampered.json"
    valid.write_text(json.dumps(vouched["wrapped"][0]))
    forged = copy.deepcopy(vouched["wrapped"][0])
    _changed_value(forged, {})
    tampered.write_text(json.dumps(forged))
    port = free_port()
    app = create_app(Settings(port=port, oa_dns_resolver=tiny_dns.address), node)
    with served_over_http(app, port) as url:
        assert runner.invoke(cli, ["verify", str(valid), "--node", url]).exit_code == 0
        assert runner.invoke(cli, ["verify", str(tampered), "--node", url]).exit_code == 1
    monkeypatch.setenv("COO_OA_DNS_RESOLVER", tiny_dns.address)
    offline = runner.invoke(cli, ["verify", str(valid), "--rpc-url", node.context.chain.w3.provider.endpoint_uri,
                                  "--json"])
    assert offline.exit_code == 0, offline.output
    assert json.loads(offline.output)["issuer_name"] == vouched["location"]
    monkeypatch.setenv("COO_OA_DNS_RESOLVER", "no resolver here")
    garbled = runner.invoke(cli, ["verify", str(valid), "--rpc-url", node.context.chain.w3.provider.endpoint_uri])
    assert garbled.exit_code == 2 and "host[:port]" in garbled.output


@pytest.mark.parametrize("setting,value,words", [
    ("oa_dns_resolver", "dns://8.8.8.8", "host[:port]"),
    ("oa_trust_list", "{missing}", "cannot read the trust list"),
    ("oa_trust_list", "{bad}", "is not eip155"),
    ("oa_identity_domain", "https://registry.example", "not a domain name"),
])
def test_a_bad_openattestation_setting_stops_the_node_with_one_line_naming_it(
        tmp_path: Path, setting: str, value: str, words: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"issuer.example": ["0x9178F546D3FF57D7A6352bD61B80cCCD46199C2d"]}))
    given = value.format(missing=tmp_path / "missing.json", bad=bad)
    with pytest.raises(SettingsError) as refused:
        load_settings({setting: given})
    assert f"COO_{setting.upper()}" in str(refused.value) and words in str(refused.value)
