"""Customs to Customs through HTTP on one node: utilisation, verification requests, true copies, encrypted records."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.support.consortium import example
from tests.support.http import anchored, assert_problem, auth

Keys = dict[str, dict[str, str]]


async def issued(client: httpx.AsyncClient, keys: Keys, mode: str = "hash-only", name: str = "rcep-sg-jp",
                 parent: str | None = None, role: str = "issuer", **changes: Any) -> dict[str, Any]:
    """Register an example certificate and wait until it is anchored."""
    params = {"mode": mode} | ({"parent": parent} if parent else {})
    answer = await client.post("/v1/certificates", json=example(name, **changes), params=params,
                               headers=auth(keys, role))
    assert answer.status_code == 202, answer.text
    return await anchored(client, auth(keys, role), answer.json()["id"])


def draw(reference: str, *items: tuple[int, str], **extra: Any) -> dict[str, Any]:
    return {"declaration_reference": reference, "date": "2026-11-23",
            "items": [{"item_number": n, "quantity": q} for n, q in items], **extra}


async def utilise(client: httpx.AsyncClient, keys: Keys, ref: str, body: dict[str, Any],
                  role: str = "customs") -> httpx.Response:
    return await client.post(f"/v1/certificates/{ref}/utilisations", json=body, headers=auth(keys, role))


async def sealed(client: httpx.AsyncClient, keys: Keys, certificate_id: str) -> dict[str, Any]:
    answer = await client.get(f"/v1/certificates/{certificate_id}/document", headers=auth(keys, "issuer"))
    body: dict[str, Any] = answer.json()
    return body


async def test_importing_customs_draws_and_sees_the_remaining_quantity(client: httpx.AsyncClient, keys: Keys) -> None:
    cert = await issued(client, keys)
    answer = await utilise(client, keys, cert["id"], draw("JP-IMP-0001", (1, "200"), (3, "400.5")))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["utilisation"]["declaration_reference"] == "JP-IMP-0001"
    assert body["utilisation"]["tx_hash"].startswith("0x")
    balance = {i["item_number"]: i for i in body["items"]}
    assert balance[1]["remaining"] == "1000" and balance[2]["remaining"] == "600"
    assert balance[3]["drawn"] == "400.5" and balance[3]["remaining"] == "1999.5"
    listed = (await client.get(f"/v1/certificates/{cert['id']}/utilisations", headers=auth(keys, "issuer"))).json()
    assert [d["declaration_reference"] for d in listed["declarations"]] == ["JP-IMP-0001"]
    report = (await client.post("/v1/verify", json=await sealed(client, keys, cert["id"]))).json()
    check = next(c for c in report["checks"] if c["name"] == "utilisation")
    assert report["verdict"] == "VALID" and check["status"] == "pass"
    assert check["details"]["remaining"] == {"1": "1000", "2": "600", "3": "1999.5"}


async def test_over_utilisation_is_refused_on_chain(client: httpx.AsyncClient, keys: Keys) -> None:
    cert = await issued(client, keys)
    problem = assert_problem(await utilise(client, keys, cert["id"], draw("JP-IMP-0002", (2, "601"))), 409,
                             "exceed", "goods item 2", "600 remain")
    assert "refused on chain" in problem["detail"]
    balance = (await client.get(f"/v1/certificates/{cert['id']}/utilisations", headers=auth(keys, "customs"))).json()
    assert all(item["drawn"] == "0" for item in balance["items"])


async def test_two_declarations_may_not_sum_beyond_the_quantity(client: httpx.AsyncClient, keys: Keys) -> None:
    cert = await issued(client, keys)
    assert (await utilise(client, keys, cert["id"], draw("JP-IMP-0003", (2, "400")))).status_code == 201
    assert_problem(await utilise(client, keys, cert["id"], draw("JP-IMP-0004", (2, "201"))), 409, "200 remain")
    again = await utilise(client, keys, cert["id"], draw("JP-IMP-0003", (2, "400")))
    assert again.status_code == 200  # the same declaration again: recorded once, nothing drawn twice
    assert next(i for i in again.json()["items"] if i["item_number"] == 2)["remaining"] == "200"
    assert_problem(await utilise(client, keys, cert["id"], draw("JP-IMP-0003", (2, "1"))), 409, "already drawn")


async def test_a_revoked_certificate_cannot_be_used(client: httpx.AsyncClient, keys: Keys) -> None:
    cert = await issued(client, keys)
    revoked = await client.post(f"/v1/certificates/{cert['id']}/revoke", json={"reason": "fraud"},
                                headers=auth(keys, "issuer"))
    assert revoked.status_code == 200
    assert_problem(await utilise(client, keys, cert["id"], draw("JP-IMP-0005", (1, "1"))), 409, "revoked")


async def test_customs_of_another_country_cannot_use_it(client: httpx.AsyncClient, keys: Keys) -> None:
    cert = await issued(client, keys)
    made = await client.post("/v1/governance/customs", json={"label": "Singapore Customs"},
                             headers=auth(keys, "authority"))
    assert made.status_code == 201, made.text
    sg_customs = {"sg_customs": {"api_key": made.json()["api_key"]}}
    answer = await utilise(client, sg_customs, cert["id"], draw("SG-IMP-0001", (1, "1")), role="sg_customs")
    assert_problem(answer, 403, "import into JP", "not Customs of SG")
    asked = await client.post(f"/v1/certificates/{cert['id']}/verification-requests", json={"reason": "doubt"},
                              headers=auth(sg_customs, "sg_customs"))
    assert_problem(asked, 403, "import into JP")
    assert_problem(await utilise(client, keys, cert["id"], draw("X", (1, "1")), role="issuer"), 403, "customs")


async def test_bad_draws_are_refused_with_the_field_named(client: httpx.AsyncClient, keys: Keys) -> None:
    cert = await issued(client, keys)
    assert_problem(await utilise(client, keys, cert["id"], draw("JP-IMP-0006", (9, "1"))), 422, "no goods item 9")
    assert_problem(await utilise(client, keys, cert["id"], draw("JP-IMP-0006", (1, "0"))), 422)
    assert_problem(await utilise(client, keys, cert["id"], draw("JP-IMP-0006", (1, "0.0000001"))), 422)
    assert_problem(await utilise(client, keys, "0x" + "ab" * 32, draw("JP-IMP-0006", (1, "1"))), 404,
                   "include the sealed document")


async def test_a_fully_used_certificate_verifies_as_exhausted(client: httpx.AsyncClient, keys: Keys) -> None:
    cert = await issued(client, keys)
    whole = draw("JP-IMP-0007", (1, "1200"), (2, "600"), (3, "2400"))
    answer = await utilise(client, keys, cert["id"], whole)
    assert answer.status_code == 201 and answer.json()["exhausted"]
    report = (await client.post("/v1/verify", json=await sealed(client, keys, cert["id"]))).json()
    assert report["verdict"] == "EXHAUSTED" and "used in full" in report["summary"]
    assert_problem(await utilise(client, keys, cert["id"], draw("JP-IMP-0008", (1, "1"))), 409, "0 remain")


async def outcome(client: httpx.AsyncClient, keys: Keys, answer: httpx.Response) -> str:
    """"drawn" or "refused": at once (201, 409), or once a write answered 202 (the node was busy sending the
    others) has settled or been refused on chain. Which of them answers 202 depends on timing; the count not."""
    if answer.status_code == 202:
        for _ in range(600):
            write = (await client.get(answer.json()["status_url"], headers=auth(keys, "customs"))).json()
            if write["state"] in ("settled", "refused"):
                return "drawn" if write["state"] == "settled" else "refused"
            await asyncio.sleep(0.05)
        raise AssertionError(f"chain write still {write['state']} after 30 s")
    assert answer.status_code in (201, 409), answer.text
    return "drawn" if answer.status_code == 201 else "refused"


async def test_twenty_concurrent_utilisations_never_overdraw(client: httpx.AsyncClient, keys: Keys) -> None:
    cert = await issued(client, keys)
    answers = await asyncio.gather(*(utilise(client, keys, cert["id"], draw(f"JP-RACE-{n:03}", (2, "70")))
                                     for n in range(20)))
    outcomes = sorted([await outcome(client, keys, a) for a in answers])
    assert outcomes == ["drawn"] * 8 + ["refused"] * 12, outcomes  # 8 × 70 = 560 ≤ 600 < 9 × 70
    for refused in (a for a in answers if a.status_code == 409):
        assert_problem(refused, 409, "exceed")
    balance = (await client.get(f"/v1/certificates/{cert['id']}/utilisations", headers=auth(keys, "customs"))).json()
    item = next(i for i in balance["items"] if i["item_number"] == 2)
    assert item["drawn"] == "560" and item["remaining"] == "40" and len(balance["declarations"]) == 8


async def test_a_verification_request_warns_until_answered_and_not_confirmed_revokes(
        client: httpx.AsyncClient, keys: Keys) -> None:
    cert = await issued(client, keys)
    opened = await client.post(f"/v1/certificates/{cert['document_hash']}/verification-requests",
                               json={"reason": "origin criterion WO doubtful for item 2"},
                               headers=auth(keys, "customs"))
    assert opened.status_code == 201, opened.text
    request = opened.json()
    assert (request["status"] == "open" and request["reason"].startswith("origin criterion")
            and request["age_seconds"] >= 0)
    for role in ("customs", "issuer", "authority"):
        listed = (await client.get("/v1/verification-requests", params={"status": "open"},
                                   headers=auth(keys, role))).json()
        assert request["id"] in [r["id"] for r in listed], role
    report = (await client.post("/v1/verify", json=await sealed(client, keys, cert["id"]))).json()
    assert report["verdict"] == "VALID_WITH_WARNINGS" and "verification request" in report["summary"]

    assert_problem(await client.post(f"/v1/verification-requests/{request['id']}/answer",
                                     json={"answer": "confirmed"}, headers=auth(keys, "customs")), 403)
    answered = await client.post(f"/v1/verification-requests/{request['id']}/answer",
                                 json={"answer": "not-confirmed", "remarks": "producer could not show records"},
                                 headers=auth(keys, "issuer"))
    assert answered.status_code == 200 and answered.json()["status"] == "not-confirmed"
    still_open = (await client.get("/v1/verification-requests", params={"status": "open"},
                                   headers=auth(keys, "customs"))).json()
    assert request["id"] not in [r["id"] for r in still_open]
    report = (await client.post("/v1/verify", json=await sealed(client, keys, cert["id"]))).json()
    assert report["verdict"] == "REVOKED" and "not confirmed" in report["summary"]
    assert (await client.get(f"/v1/certificates/{cert['id']}",
                             headers=auth(keys, "issuer"))).json()["status"] == "revoked"
    assert_problem(await client.post(f"/v1/verification-requests/{request['id']}/answer",
                                     json={"answer": "confirmed"}, headers=auth(keys, "issuer")), 409, "already")


async def test_a_certified_true_copy_supersedes_the_original(client: httpx.AsyncClient, keys: Keys) -> None:
    cert = await issued(client, keys)
    original = await sealed(client, keys, cert["id"])
    assert (await utilise(client, keys, cert["id"], draw("JP-IMP-0009", (1, "1000")))).status_code == 201
    made = await client.post(f"/v1/certificates/{cert['id']}/true-copy", json={"remarks": "original lost in transit"},
                             headers=auth(keys, "issuer"))
    assert made.status_code == 200, made.text
    copy = made.json()["replacement"]
    assert (copy["certificate_number"] == cert["certificate_number"]
            and made.json()["replaced"]["status"] == "superseded")
    report = (await client.post("/v1/verify", json=original)).json()
    assert report["verdict"] == "SUPERSEDED" and copy["document_hash"] in report["summary"]
    copy_document = await sealed(client, keys, copy["id"])
    assert copy_document["certificate"]["valid_until"] == original["certificate"]["valid_until"]
    report = (await client.post("/v1/verify", json=copy_document)).json()
    assert report["verdict"] == "VALID_WITH_WARNINGS" and "certified true copy" in report["summary"]
    assert_problem(await utilise(client, keys, cert["id"], draw("JP-IMP-0010", (1, "1"))), 409, "superseded")
    assert_problem(await utilise(client, keys, copy["id"], draw("JP-IMP-0011", (1, "201"))), 409, "200 remain")
    lookup = (await client.get("/v1/verify", params={"issuer": cert["issuer"], "number": cert["certificate_number"]},
                               headers=auth(keys, "issuer")))
    assert lookup.json()["document_hash"] == copy["document_hash"]


async def test_a_back_to_back_certificate_draws_down_its_parent(client: httpx.AsyncClient, keys: Keys) -> None:
    made = await client.post("/v1/governance/issuers", json={"label": "JP issuing body"},
                             headers=auth(keys, "authority_jp"))
    assert made.status_code == 201, made.text
    with_jp = {**keys, "jp_issuer": {"api_key": made.json()["api_key"]}}
    parent = await issued(client, with_jp, role="jp_issuer", exporting_country="JP", importing_country="SG",
                          exporter={"name": "Kobe Trading K.K.", "address": "1-1 Kobe", "country": "JP"},
                          consignee={"name": "Lion City Pte. Ltd.", "address": "1 Raffles Place", "country": "SG"})
    parent_document = (await client.get(f"/v1/certificates/{parent['id']}/document",
                                        headers=auth(with_jp, "jp_issuer"))).json()
    children = [await issued(client, keys, parent=parent["document_hash"], back_to_back=True,
                             parent_reference=parent["certificate_number"]) for _ in range(2)]
    first = await utilise(client, keys, children[0]["id"], draw("JP-B2B-1", (1, "700"),
                                                                  parent_document=parent_document))
    assert first.status_code == 201, first.text
    assert_problem(await utilise(client, keys, children[1]["id"], draw("JP-B2B-2", (1, "600"))), 409,
                   "parent certificate", "500 remain")
    assert (await utilise(client, keys, children[1]["id"], draw("JP-B2B-2", (1, "500")))).status_code == 201

    # a child whose items are numbered differently names the parent item each draws (0-based)
    mapped = await client.post("/v1/certificates", json=example(back_to_back=True,
                                                                parent_reference=parent["certificate_number"]),
                               params={"parent": parent["document_hash"], "parent_items": "1,1,2"},
                               headers=auth(keys, "issuer"))
    assert mapped.status_code == 202, mapped.text
    mapped_child = await anchored(client, auth(keys, "issuer"), mapped.json()["id"])
    assert (await utilise(client, keys, mapped_child["id"], draw("JP-B2B-3", (1, "250")))).status_code == 201
    balance = (await client.get(f"/v1/certificates/{parent['id']}/utilisations",
                                headers=auth(with_jp, "jp_issuer"))).json()
    assert [i["drawn"] for i in balance["items"]] == ["1200", "250", "0"]
    wrong = await client.post("/v1/certificates", json=example(back_to_back=True, parent_reference="X-1"),
                              params={"parent": parent["document_hash"], "parent_items": "0"},
                              headers=auth(keys, "issuer"))
    assert_problem(wrong, 422, "parent_items")


async def test_encrypted_records_open_with_the_key_token_until_erased(client: httpx.AsyncClient, keys: Keys) -> None:
    cert = await issued(client, keys, mode="encrypted")
    link = (await client.get(f"/v1/certificates/{cert['id']}/verification-link", headers=auth(keys, "issuer"))).json()
    assert link["carries_key"] and "/v/k1." in link["url"]
    path = link["url"].removeprefix("http://testserver")
    report = (await client.get(path, headers={"Accept": "application/json"})).json()
    assert report["verdict"] == "VALID" and report["disclosed"]["certificate_number"] == cert["certificate_number"]

    released = await client.post(f"/v1/certificates/{cert['document_hash']}/key-release", headers=auth(keys, "customs"))
    assert released.status_code == 200 and released.headers["cache-control"] == "no-store"
    assert released.json()["document_hash"] == cert["document_hash"] and len(released.json()["data_key"]) == 43
    assert_problem(await client.post(f"/v1/certificates/{cert['id']}/key-release", headers=auth(keys, "issuer")), 403)

    erased = await client.post(f"/v1/certificates/{cert['id']}/erase", headers=auth(keys, "issuer"))
    assert erased.status_code == 200
    report = (await client.get(path, headers={"Accept": "application/json"})).json()
    assert report["verdict"] == "ERASED" and report["disclosed"] is None
    assert_problem(await client.post(f"/v1/certificates/{cert['id']}/key-release", headers=auth(keys, "customs")), 410)


async def test_hash_only_certificates_have_no_key_to_release(client: httpx.AsyncClient, keys: Keys) -> None:
    cert = await issued(client, keys)
    link = (await client.get(f"/v1/certificates/{cert['id']}/verification-link", headers=auth(keys, "issuer"))).json()
    assert not link["carries_key"] and link["url"].endswith(cert["id"])
    assert_problem(await client.post(f"/v1/certificates/{cert['id']}/key-release", headers=auth(keys, "customs")),
                   409, "hash-only")


@pytest.mark.parametrize("status", ["open", "all", "not-confirmed"])
async def test_request_listing_accepts_each_status(client: httpx.AsyncClient, keys: Keys, status: str) -> None:
    answer = await client.get("/v1/verification-requests", params={"status": status}, headers=auth(keys, "admin"))
    assert answer.status_code == 200 and isinstance(answer.json(), list)
    assert_problem(await client.get("/v1/verification-requests", params={"status": "closed"},
                                    headers=auth(keys, "admin")), 422)


async def test_one_declaration_sent_five_times_at_once_draws_once(client: httpx.AsyncClient, keys: Keys) -> None:
    cert = await issued(client, keys)
    same = draw("JP-DUP-0001", (3, "100"))
    answers = await asyncio.gather(*(utilise(client, keys, cert["id"], same) for _ in range(5)))
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 201]
    assert len({a.json()["utilisation"]["tx_hash"] for a in answers}) == 1
    balance = (await client.get(f"/v1/certificates/{cert['id']}/utilisations", headers=auth(keys, "customs"))).json()
    assert next(i for i in balance["items"] if i["item_number"] == 3)["drawn"] == "100"
    assert len(balance["declarations"]) == 1


async def test_a_retry_after_losing_the_local_record_finds_the_draw_on_chain(
        client: httpx.AsyncClient, keys: Keys, node: Any) -> None:
    cert = await issued(client, keys)
    first = await utilise(client, keys, cert["id"], draw("JP-CRASH-0001", (1, "5")))
    assert first.status_code == 201
    with node.context.store.transaction() as conn:  # as if the node died between the transaction and its record
        conn.execute("DELETE FROM utilisations WHERE id = ?", (first.json()["utilisation"]["id"],))
    retry = await utilise(client, keys, cert["id"], draw("JP-CRASH-0001", (1, "5")))
    assert retry.status_code == 200
    assert retry.json()["utilisation"]["tx_hash"] == first.json()["utilisation"]["tx_hash"]
    assert next(i for i in retry.json()["items"] if i["item_number"] == 1)["drawn"] == "5"


async def test_a_delivered_reason_must_match_the_hash_on_chain(client: httpx.AsyncClient, keys: Keys,
                                                              node: Any) -> None:
    from registry.sealing.merkle import keccak, process_proof

    cert = await issued(client, keys)
    customs = node.context.api_keys.authenticate(keys["customs"]["api_key"])
    signer = node.context.accounts.get(customs.account)
    document = node.issuing.sealed_document(None, cert["id"])
    node.utilisation.ensure_terms(signer, document)
    document_hash = bytes.fromhex(cert["document_hash"][2:])
    root = process_proof(document_hash, [bytes.fromhex(p[2:]) for p in document.proof.path])
    request_id, _ = node.utilisation.ledger.request_verification(signer, document_hash, root,
                                                             keccak(b"the reason JP wrote"))
    path = f"/v1/verification-requests/{request_id}/reason"
    assert_problem(await client.put(path, json={"reason": "another text"}, headers=auth(keys, "customs")), 422,
                   "hash")
    assert_problem(await client.put(path, json={"reason": "the reason JP wrote"}, headers=auth(keys, "issuer")), 403)
    delivered = await client.put(path, json={"reason": "the reason JP wrote"}, headers=auth(keys, "customs"))
    assert delivered.status_code == 204
    seen = (await client.get(f"/v1/verification-requests/{request_id}", headers=auth(keys, "issuer"))).json()
    assert seen["reason"] == "the reason JP wrote"


async def test_an_expired_certificate_cannot_be_used(client: httpx.AsyncClient, keys: Keys) -> None:
    transport = {"mode": "1", "vessel_or_flight": "KOTA NABIL 001E", "port_of_loading": "SGSIN",
                 "port_of_discharge": "JPYOK", "departure_date": "2025-03-02"}
    invoice = {"invoice_date": "2025-02-27"}
    body = example()
    goods = [{**item, **invoice} for item in body["goods"]]  # type: ignore[attr-defined]
    cert = await issued(client, keys, issue_date="2025-03-01", valid_until="2025-08-31", transport=transport,
                        goods=goods, exporter_declaration={**body["exporter_declaration"], "date": "2025-02-28"},  # type: ignore[dict-item]
                        certification={**body["certification"], "date": "2025-03-01"})  # type: ignore[dict-item]
    assert_problem(await utilise(client, keys, cert["id"], draw("JP-OLD-0001", (1, "1"))), 409, "expired",
                   "2025-08-31")
    report = (await client.post("/v1/verify", json=await sealed(client, keys, cert["id"]))).json()
    assert report["verdict"] == "EXPIRED"
