"""The whole certificate lifecycle through HTTP against a real Anvil."""

from __future__ import annotations

import httpx

from tests.support.consortium import example
from tests.support.http import anchored, assert_problem, auth


async def test_issue_download_verify_revoke_erase(client: httpx.AsyncClient, keys: dict[str, dict[str, str]]) -> None:
    issuer = auth(keys, "issuer")
    answer = await client.post("/v1/certificates", json=example(), headers=issuer)
    assert answer.status_code == 202
    created = answer.json()
    assert created["status"] == "pending" and created["document_hash"].startswith("0x")
    record = await anchored(client, issuer, created["id"])
    assert record["status"] == "anchored" and record["tx_hash"] and record["block_number"]

    document = (await client.get(f"/v1/certificates/{created['id']}/document", headers=issuer)).json()
    assert document["document_hash"] == created["document_hash"] and document["salts"]
    verdict = (await client.post("/v1/verify", json=document)).json()
    assert verdict["verdict"] == "VALID" and verdict["receipt_id"]
    receipt = (await client.get(f"/v1/verifications/{verdict['receipt_id']}", headers=issuer)).json()
    assert receipt["report"]["verdict"] == "VALID" and receipt["contents"] == "available"

    revoked = await client.post(f"/v1/certificates/{created['id']}/revoke", json={"reason": "fraud"}, headers=issuer)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert revoked.json()["revocation_reason"] == "fraud"
    verdict = (await client.post("/v1/verify", json=document)).json()
    assert verdict["verdict"] == "REVOKED" and "fraud" in verdict["summary"]

    erased = await client.post(f"/v1/certificates/{created['id']}/erase", headers=issuer)
    assert erased.status_code == 200 and erased.json()["signature"].startswith("0x")
    assert erased.json()["state"] == "erased"
    assert_problem(await client.get(f"/v1/certificates/{created['id']}/document", headers=issuer), 410, "destroyed")
    by_hash = (await client.get(f"/v1/verify/{created['document_hash']}")).json()
    assert by_hash["verdict"] == "ERASED"


async def test_registration_is_idempotent_and_conflicts_on_other_contents(
    client: httpx.AsyncClient, keys: dict[str, dict[str, str]]
) -> None:
    issuer = auth(keys, "issuer")
    body = example()
    first = (await client.post("/v1/certificates", json=body, headers=issuer)).json()
    second = await client.post("/v1/certificates", json=body, headers=issuer)
    assert second.status_code == 202 and second.json()["id"] == first["id"]
    changed = {**body, "remarks": "a different body under the same number"}
    assert_problem(await client.post("/v1/certificates", json=changed, headers=issuer), 409, "different contents")


async def test_a_batch_is_anchored_under_one_root(client: httpx.AsyncClient, keys: dict[str, dict[str, str]]) -> None:
    issuer = auth(keys, "issuer")
    answer = await client.post("/v1/certificates/batch", json={"certificates": [example() for _ in range(20)]},
                               headers=issuer)
    assert answer.status_code == 202
    ids = [c["id"] for c in answer.json()["certificates"]]
    roots = {(await anchored(client, issuer, cid))["batch_root"] for cid in ids}
    assert len(roots) == 1


async def test_a_replacement_supersedes_the_original(
        client: httpx.AsyncClient, keys: dict[str, dict[str, str]]) -> None:
    issuer = auth(keys, "issuer")
    original = example()
    created = (await client.post("/v1/certificates", json=original, headers=issuer)).json()
    await anchored(client, issuer, created["id"])
    document = (await client.get(f"/v1/certificates/{created['id']}/document", headers=issuer)).json()
    answer = await client.post(f"/v1/certificates/{created['id']}/replace",
                               json=example(replaces=original["certificate_number"]), headers=issuer)
    assert answer.status_code == 200, answer.text
    replacement = answer.json()["replacement"]
    assert answer.json()["replaced"]["status"] == "superseded"
    assert replacement["replaces"] == created["id"]  # by id: no other certificate's number kept in clear
    verdict = (await client.post("/v1/verify", json=document)).json()
    assert verdict["verdict"] == "SUPERSEDED" and replacement["document_hash"] in verdict["summary"]


async def test_qr_codes_point_at_the_verification_page(
        client: httpx.AsyncClient, keys: dict[str, dict[str, str]]) -> None:
    issuer = auth(keys, "issuer")
    created = (await client.post("/v1/certificates", json=example(), headers=issuer)).json()
    svg = await client.get(f"/v1/certificates/{created['id']}/qr.svg", headers=issuer)
    png = await client.get(f"/v1/certificates/{created['id']}/qr.png", headers=issuer)
    assert svg.headers["content-type"] == "image/svg+xml" and b"<svg" in svg.content
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
    await anchored(client, issuer, created["id"])
    page = await client.get(f"/v/{created['id']}")
    assert page.headers["content-type"].startswith("text/html") and "VALID" in page.text
    as_json = await client.get(f"/v/{created['id']}", headers={"Accept": "application/json"})
    assert as_json.json()["verdict"] == "VALID" and as_json.json()["disclosed"]["certificate_number"]


async def test_a_declaration_is_matched_when_given(client: httpx.AsyncClient, keys: dict[str, dict[str, str]]) -> None:
    issuer = auth(keys, "issuer")
    created = (await client.post("/v1/certificates", json=example(), headers=issuer)).json()
    await anchored(client, issuer, created["id"])
    document = (await client.get(f"/v1/certificates/{created['id']}/document", headers=issuer)).json()
    body = {"document": document, "declaration": {"hs_code": "848180", "quantity": "5000", "importing_country": "JP"}}
    verdict = (await client.post("/v1/verify", json=body)).json()
    assert verdict["verdict"] == "INVALID"
    assert any(c["name"] == "declaration_match" and c["status"] == "fail" for c in verdict["checks"])


async def test_the_node_serves_its_did_document_and_status_list(client: httpx.AsyncClient) -> None:
    from registry.vc.status_list import MIN_ENTRIES, StatusList
    from registry.vc.verify import _b64json

    did = (await client.get("/.well-known/did.json")).json()
    assert did["id"].startswith("did:web:") and did["assertionMethod"] == [did["verificationMethod"][0]["id"]]
    answer = await client.get("/v1/status-lists/revocation-1")
    assert answer.headers["content-type"] == "application/vc+jwt"
    credential = _b64json(answer.text.split(".")[1])
    assert credential["issuer"] == did["id"]
    assert StatusList.decode(credential["credentialSubject"]["encodedList"]).size == MIN_ENTRIES
