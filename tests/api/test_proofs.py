"""POST /v1/certificates/{id}/proofs, POST /v1/verify with a proof bundle, `coo prove` and `coo verify` of a bundle:
the issuer proves, anyone verifies, no one else proves, and nothing confidential leaves the holder."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from api.cli import app
from registry.chain.nodes import NodeProcess
from registry.runtime import Node
from registry.sealing.document import SealedDocument
from registry.types import parse_hex32
from tests.support import principals
from tests.support.consortium import example
from tests.support.http import assert_problem, auth

Keys = dict[str, dict[str, str]]
VNM = "9000.00"
CLAIM = "goods[1].rvc >= 40"
runner = CliRunner()


@pytest.fixture(scope="module")
def sealed(node: Node, demo_keys: Keys) -> dict[str, SealedDocument]:
    """An anchored certificate with a confidential non-originating value, and a plain one."""
    issuer, = principals(node.context, demo_keys, "issuer")
    body = example()
    goods: list[dict[str, Any]] = body["goods"]  # type: ignore[assignment]
    goods[1] = {**goods[1], "non_originating_value": VNM}
    rows = node.issuing.register(issuer, [body, example()])
    node.context.anchorer.flush()
    return {"zk": node.issuing.sealed_document(issuer, rows[0].id),
            "plain": node.issuing.sealed_document(issuer, rows[1].id)}


def _id(node: Node, document: SealedDocument) -> str:
    row = node.context.store.by_document_hash(parse_hex32(document.document_hash))
    assert row is not None
    return row.id


async def test_the_issuer_proves_anyone_verifies_and_no_value_or_opening_travels(
        client: httpx.AsyncClient, keys: Keys, node: Node, sealed: dict[str, SealedDocument],
        caplog: pytest.LogCaptureFixture) -> None:
    opening = sealed["zk"].zk.opening  # type: ignore[union-attr]
    assert opening is not None
    with caplog.at_level(logging.DEBUG):
        answer = await client.post(f"/v1/certificates/{_id(node, sealed['zk'])}/proofs", json={"claims": [CLAIM]},
                                   headers=auth(keys, "issuer"))
        assert answer.status_code == 200, answer.text
        assert answer.headers["cache-control"] == "no-store"
        report = await client.post("/v1/verify", json=answer.json())
    assert report.status_code == 200, report.text
    verdict = report.json()
    assert verdict["verdict"] == "VALID", verdict
    claim = next(c for c in verdict["checks"] if c["name"] == "claim")
    assert claim["status"] == "pass" and "proven, value not disclosed" in claim["reason"]
    assert verdict["disclosed"] is None and verdict["receipt_id"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for text in (answer.text, report.text):
        assert opening.salt not in text and VNM not in text and opening.items[1].vnm not in text
    # In the logs, as whole numbers: hex data logged at DEBUG (transactions, calls) may hold the same digits
    for secret in (opening.salt, VNM, opening.items[1].vnm):
        whole = re.compile(rf"(?<![0-9A-Za-z.]){re.escape(secret)}(?![0-9A-Za-z])")
        assert not whole.search(logged), f"{secret} appears in the logs"


async def test_the_holders_document_carries_the_opening_a_disclosure_does_not(
        client: httpx.AsyncClient, keys: Keys, node: Node, sealed: dict[str, SealedDocument]) -> None:
    full = (await client.get(f"/v1/certificates/{_id(node, sealed['zk'])}/document",
                             headers=auth(keys, "issuer"))).json()
    assert full["zk"]["opening"]["salt"]
    partial = await client.post("/v1/disclosures", json={"document": full, "withhold": ["exporter"]})
    assert partial.status_code == 200, partial.text
    assert partial.json()["zk"] == {"commitment": full["zk"]["commitment"], "opening": None}
    assert full["zk"]["opening"]["salt"] not in partial.text
    assert (await client.post("/v1/verify", json=partial.json())).json()["verdict"] == "VALID"


@pytest.mark.parametrize(("role", "status"), [("customs", 403), ("authority", 403), ("admin", 403), ("none", 401)])
async def test_no_one_but_the_issuer_proves(client: httpx.AsyncClient, keys: Keys, node: Node,
                                            sealed: dict[str, SealedDocument], role: str, status: int) -> None:
    headers = {} if role == "none" else auth(keys, role)
    answer = await client.post(f"/v1/certificates/{_id(node, sealed['zk'])}/proofs", json={"claims": [CLAIM]},
                               headers=headers)
    assert_problem(answer, status)


async def test_another_countrys_issuer_cannot_see_the_certificate(
        client: httpx.AsyncClient, node: Node, demo_keys: Keys, sealed: dict[str, SealedDocument]) -> None:
    jp_authority, = principals(node.context, demo_keys, "authority_jp")
    _, jp_issuer = node.governance.authorise_issuer(jp_authority, "JP issuer (proofs)", None)
    answer = await client.post(f"/v1/certificates/{_id(node, sealed['zk'])}/proofs", json={"claims": [CLAIM]},
                               headers={"Authorization": f"Bearer {jp_issuer}"})
    assert_problem(answer, 404)


@pytest.mark.parametrize(("claims", "where", "words"), [
    (["goods[1].rvc >= 60"], "claims[0]", ("cannot be proven",)),
    (["goods[1].rvc >= 40", "drop table"], "claims[1]", ("is not a claim",)),
    (["goods[1].rvc >= 400"], "claims[0]", ("more than the whole",)),
    (["goods[1].fob_value <= 1.00001"], "claims[0]", ("decimal places",)),
    ([], "claims", ()),
])
async def test_bad_claims_are_problems_naming_the_claim_and_no_value(
        client: httpx.AsyncClient, keys: Keys, node: Node, sealed: dict[str, SealedDocument],
        claims: list[str], where: str, words: tuple[str, ...]) -> None:
    answer = await client.post(f"/v1/certificates/{_id(node, sealed['zk'])}/proofs", json={"claims": claims},
                               headers=auth(keys, "issuer"))
    body = assert_problem(answer, 422, *words)
    assert where in json.dumps(body) and VNM not in answer.text


async def test_a_certificate_without_confidential_figures_has_nothing_to_prove(
        client: httpx.AsyncClient, keys: Keys, node: Node, sealed: dict[str, SealedDocument]) -> None:
    assert sealed["plain"].zk is None
    answer = await client.post(f"/v1/certificates/{_id(node, sealed['plain'])}/proofs", json={"claims": [CLAIM]},
                               headers=auth(keys, "issuer"))
    assert_problem(answer, 422, "without confidential figures")
    unknown = await client.post("/v1/certificates/3f0e8d5c-0000-4000-8000-000000000000/proofs",
                                json={"claims": [CLAIM]}, headers=auth(keys, "issuer"))
    assert_problem(unknown, 404)


async def test_a_malformed_bundle_is_a_problem(client: httpx.AsyncClient, sealed: dict[str, SealedDocument]) -> None:
    document = sealed["zk"]
    bundle = {"version": "coo-proofs/1", "document_hash": document.document_hash,
              "proof": document.proof.model_dump(), "anchor": document.anchor.model_dump(),
              "commitment": {"value": "0x" + "00" * 32, "path": []}, "claims": [{"claim": CLAIM}]}
    answer = await client.post("/v1/verify", json=bundle)
    assert answer.status_code == 422 and answer.headers["content-type"].startswith("application/problem+json")


def test_coo_prove_offline_then_coo_verify_the_bundle_against_the_chain(
        node: Node, node_anvil: NodeProcess, sealed: dict[str, SealedDocument], tmp_path: Path) -> None:
    document = tmp_path / "sealed.json"
    document.write_text(sealed["zk"].model_dump_json())
    bundle = tmp_path / "proof.json"
    proved = runner.invoke(app, ["prove", str(document), "--claim", CLAIM, "--claim",
                                 "goods[0].hs_code startswith 8481", "-o", str(bundle)])
    assert proved.exit_code == 0, proved.output
    assert VNM not in bundle.read_text()
    ok = runner.invoke(app, ["verify", str(bundle), "--rpc-url", node_anvil.url, "--contract",
                             node.context.chain.address])
    assert ok.exit_code == 0, ok.output
    assert "VALID" in ok.stdout and "claim" in ok.stdout
    refused = runner.invoke(app, ["prove", str(document), "--claim", "goods[1].rvc >= 60"])
    assert refused.exit_code == 2 and len(refused.stderr.strip().splitlines()) == 1
    assert "cannot be proven" in refused.stderr and VNM not in refused.stderr
    partial = tmp_path / "partial.json"
    partial.write_text(sealed["plain"].model_dump_json())
    nothing = runner.invoke(app, ["prove", str(partial), "--claim", CLAIM])
    assert nothing.exit_code == 2 and "without confidential figures" in nothing.stderr


@pytest.fixture(scope="module")
def bundle(sealed: dict[str, SealedDocument]) -> dict[str, Any]:
    from registry.zk.prover import prove

    return prove(sealed["zk"], [CLAIM, "goods[0].fob_value <= 100000"]).model_dump(mode="json")


async def test_customs_has_the_chain_verify_and_record_each_claim(
        client: httpx.AsyncClient, keys: Keys, node: Node, bundle: dict[str, Any]) -> None:
    answer = await client.post("/v1/claims", json=bundle, headers=auth(keys, "customs"))
    assert answer.status_code == 200, answer.text
    recorded = answer.json()
    assert recorded["verdict"] == "VALID" and [r["claim"] for r in recorded["recorded"]] == [
        c["claim"] for c in bundle["claims"]]
    from registry.zk.onchain import ClaimLog

    log = ClaimLog(node.context.chain.w3, recorded["claim_log"])
    events = log.events(recorded["recorded"][0]["block_number"], names={"ClaimVerified"})
    assert {bytes(e.args["documentHash"]).hex() for e in events} == {bundle["document_hash"][2:]}
    assert {e.args["verifier"] for e in events} == {keys["customs"]["account"]}
    again = await client.post("/v1/claims", json=bundle, headers=auth(keys, "customs"))
    assert again.status_code == 200 and again.json()["claim_log"] == recorded["claim_log"]  # deployed once


@pytest.mark.parametrize(("role", "status"), [("issuer", 403), ("authority", 403), ("none", 401)])
async def test_only_customs_records_claims(client: httpx.AsyncClient, keys: Keys, bundle: dict[str, Any],
                                           role: str, status: int) -> None:
    headers = {} if role == "none" else auth(keys, role)
    assert_problem(await client.post("/v1/claims", json=bundle, headers=headers), status)


async def test_a_bundle_that_does_not_verify_is_not_sent_to_the_chain(
        client: httpx.AsyncClient, keys: Keys, bundle: dict[str, Any]) -> None:
    forged = json.loads(json.dumps(bundle))
    forged["claims"][0]["claim"] = "goods[1].rvc >= 41"
    assert_problem(await client.post("/v1/claims", json=forged, headers=auth(keys, "customs")), 409,
                   "nothing is recorded")


def test_a_claim_sent_just_before_a_crash_is_found_on_chain_not_recorded_twice(
        node: Node, demo_keys: Keys, bundle: dict[str, Any]) -> None:
    """The outbox looks for the claim's ClaimVerified event (from the block the write was recorded at) before it
    sends an attempted claim again."""
    from registry.custody.apikeys import Role
    from registry.storage.writelog import WriteKind, WriteState
    from registry.zk.bundle import ProofBundle
    from registry.zk.writes import claim_args

    outbox = node.context.outbox
    customs, = principals(node.context, demo_keys, "customs")
    signer = node.context.signer_for(customs, Role.CUSTOMS)
    parsed = ProofBundle.model_validate(bundle)
    args = claim_args(parsed, parsed.claims[1], node.context.chain.block_number())
    logs = outbox.effects.handlers[WriteKind.ZK_CLAIM].logs  # type: ignore[attr-defined]
    with node.paused():
        write = outbox.record(WriteKind.ZK_CLAIM, signer, args)
        outbox.log.mark(write.id, WriteState.PENDING, attempted=True)  # counted, then sent, then the crash
        sent = outbox.effects.send(write, signer)
        outbox.round()
    events = logs.current().events(args["from_block"], names={"ClaimVerified"})
    assert [e.tx_hash for e in events if e.block_number >= sent.block_number] == [sent.tx_hash], "recorded twice"
    settled = outbox.log.get(write.id)
    assert settled.state is WriteState.SETTLED and settled.attempts == 1
    assert settled.tx_hash in {e.tx_hash for e in events}  # this one, or the same officer's same claim just before
