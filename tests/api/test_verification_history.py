"""A caller's own verification history: each key sees exactly what it asked for, filtered and a page at a time;
anonymous checks are no one's; erased certificates keep their entries without contents."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from registry.custody.apikeys import Role
from registry.runtime import Node
from tests.support.consortium import example
from tests.support.http import PROBLEM, anchored, auth

Keys = dict[str, dict[str, str]]
Headers = dict[str, str]


def minted(node: Node, role: Role, country: str) -> tuple[Headers, str]:
    """A fresh key of *role* for *country*: its Authorization header and its key id."""
    key = node.context.api_keys.mint(role, country=country, label=f"history {country} {os.urandom(3).hex()}")
    return {"Authorization": f"Bearer {key}"}, key.split("_")[1]


@pytest.fixture
def officer(node: Node) -> tuple[Headers, str]:
    """A JP Customs officer (the importing country of the example certificates)."""
    return minted(node, Role.CUSTOMS, "JP")


async def sealed(client: httpx.AsyncClient, keys: Keys) -> dict[str, Any]:
    """A fresh, anchored certificate's sealed document."""
    made = await client.post("/v1/certificates", json=example(), headers=auth(keys, "issuer"))
    assert made.status_code == 202, made.text
    cert = await anchored(client, auth(keys, "issuer"), made.json()["id"])
    document: dict[str, Any] = (await client.get(f"/v1/certificates/{cert['id']}/document",
                                                 headers=auth(keys, "issuer"))).json()
    document["_id"] = cert["id"]
    return document


async def verified(client: httpx.AsyncClient, document: dict[str, Any], headers: Headers | None = None) -> str:
    """POST /v1/verify the document (with *headers*); the receipt id."""
    body = {k: v for k, v in document.items() if k != "_id"}
    answer = await client.post("/v1/verify", json=body, headers=headers or {})
    assert answer.status_code == 200, answer.text
    receipt_id: str = answer.json()["receipt_id"]
    return receipt_id


async def history(client: httpx.AsyncClient, headers: Headers, **params: str | int) -> list[dict[str, Any]]:
    """Every entry the caller gets, following the pages."""
    entries: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        answer = await client.get("/v1/verifications", params={**params, **({"after": after} if after else {})},
                                  headers=headers)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        entries += body["verifications"]
        after = body["next"]
        if after is None:
            return entries


def ids(entries: list[dict[str, Any]]) -> list[str]:
    return [e["receipt_id"] for e in entries]


async def test_a_customs_key_sees_exactly_its_own_verifications_newest_first_with_signed_receipts(
        client: httpx.AsyncClient, keys: Keys, node: Node, officer: tuple[Headers, str]) -> None:
    mine, my_key_id = officer
    colleague, _ = minted(node, Role.CUSTOMS, "JP")
    korea, _ = minted(node, Role.CUSTOMS, "KR")
    document = await sealed(client, keys)
    first = await verified(client, document, mine)
    by_hash = await client.get(f"/v1/verify/{document['document_hash']}", headers=mine)
    second = by_hash.json()["receipt_id"]
    theirs = await verified(client, document, colleague)
    anonymous = await verified(client, document)

    entries = await history(client, mine)
    assert ids(entries) == [second, first], "only this key's, newest first"
    full = entries[1]
    assert full["verdict"] == "VALID" and full["contents"] == "available" and full["key_id"] == my_key_id
    assert full["document_hash"] == document["document_hash"]
    assert full["certificate_number"] == document["certificate"]["certificate_number"]
    receipt = full["receipt"]
    message = (f"coo-verification/1|{receipt['receipt_id']}|{receipt['report_hash']}|{receipt['checked_at']}|"
               f"{receipt['chain_head']}")
    assert Account.recover_message(encode_defunct(text=message), signature=receipt["signature"]) == \
        receipt["node_account"]
    assert ids(await history(client, colleague)) == [theirs]
    assert await history(client, korea) == [], "another country's Customs sees none of ours"
    assert not {first, second, theirs, anonymous} & set(ids(await history(client, auth(keys, "issuer")))), \
        "an issuer does not see who verified its certificates"


async def test_an_admin_sees_every_keys_verifications_but_no_one_sees_anonymous_ones(
        client: httpx.AsyncClient, keys: Keys, officer: tuple[Headers, str]) -> None:
    mine, my_key_id = officer
    since = datetime.now(UTC).isoformat()
    document = await sealed(client, keys)
    attributed = await verified(client, document, mine)
    anonymous = await verified(client, document)
    everything = ids(await history(client, auth(keys, "admin"), since=since))
    assert attributed in everything and anonymous not in everything
    assert ids(await history(client, auth(keys, "admin"), key_id=my_key_id)) == [attributed]
    assert (await client.get(f"/v1/verifications/{anonymous}", headers=auth(keys, "customs"))).status_code == 200, \
        "the anonymous receipt is still in the audit log, by its id"


async def test_another_key_cannot_read_or_page_through_someone_elses_history(
        client: httpx.AsyncClient, keys: Keys, node: Node, officer: tuple[Headers, str]) -> None:
    mine, my_key_id = officer
    intruder, _ = minted(node, Role.CUSTOMS, "KR")
    document = await sealed(client, keys)
    receipt = await verified(client, document, mine)
    asked = await client.get("/v1/verifications", params={"key_id": my_key_id}, headers=intruder)
    assert asked.status_code == 403 and asked.headers["content-type"].startswith(PROBLEM)
    for stranger in (intruder, auth(keys, "issuer")):  # a cursor from someone else's history is no cursor here
        paged = await client.get("/v1/verifications", params={"after": receipt}, headers=stranger)
        assert paged.status_code == 422 and paged.json()["errors"][0]["loc"] == "after", paged.text
    assert ids(await history(client, mine)) == [receipt]


async def test_filters_by_verdict_and_time_and_pages_without_repeats(
        client: httpx.AsyncClient, keys: Keys, officer: tuple[Headers, str]) -> None:
    mine, _ = officer
    document = await sealed(client, keys)
    valid = [await verified(client, document, mine) for _ in range(3)]
    invalid = [(await client.get(f"/v1/verify/0x{os.urandom(32).hex()}", headers=mine)).json()["receipt_id"]
               for _ in range(2)]
    paged = await history(client, mine, limit=2)
    assert ids(paged) == [*reversed(invalid), *reversed(valid)]
    assert ids(await history(client, mine, verdict="INVALID")) == list(reversed(invalid))
    assert ids(await history(client, mine, verdict="REVOKED")) == []
    assert ids(await history(client, mine, since="2000-01-01")) == ids(paged)
    later = datetime.fromtimestamp(time.time() + 3600, UTC).isoformat()
    assert await history(client, mine, since=later) == []
    assert await history(client, mine, until="2000-01-01T00:00:00Z") == []
    assert len(await history(client, mine, until=later)) == 5


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 201}, {"verdict": "MAYBE"}, {"after": "not-a-receipt"},
                                    {"after": "00000000-0000-4000-8000-000000000000"}, {"since": "last tuesday"},
                                    {"until": "2026-13-01"}, {"key_id": "coo_secret"}])
async def test_bad_parameters_are_problems_naming_the_field(
        client: httpx.AsyncClient, officer: tuple[Headers, str], params: dict[str, str | int]) -> None:
    answer = await client.get("/v1/verifications", params=params, headers=officer[0])
    assert answer.status_code == 422 and answer.headers["content-type"].startswith(PROBLEM), answer.text
    assert answer.json()["errors"][0]["loc"] in (name := next(iter(params)), f"query.{name}")


async def test_no_key_or_a_wrong_key_is_401(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/verifications")).status_code == 401
    wrong = await client.get("/v1/verifications", headers={"Authorization": "Bearer coo_0123456789abcdef_nope"})
    assert wrong.status_code == 401 and wrong.headers["content-type"].startswith(PROBLEM)


async def test_an_erased_certificate_keeps_its_entry_without_hash_number_or_contents(
        client: httpx.AsyncClient, keys: Keys, officer: tuple[Headers, str]) -> None:
    mine, _ = officer
    document = await sealed(client, keys)
    receipt = await verified(client, document, mine)
    erased = await client.post(f"/v1/certificates/{document['_id']}/erase", headers=auth(keys, "issuer"))
    assert erased.status_code == 200, erased.text
    answer = await client.get("/v1/verifications", headers=mine)
    [entry] = answer.json()["verifications"]
    assert entry["receipt_id"] == receipt and entry["verdict"] == "VALID" and entry["contents"] == "erased"
    assert entry["document_hash"] is None and entry["certificate_number"] is None
    for secret in (document["document_hash"], document["certificate"]["certificate_number"]):
        assert secret not in answer.text


async def test_a_status_only_answer_by_number_leaves_no_hash_or_number_in_the_history(
        client: httpx.AsyncClient, keys: Keys, node: Node) -> None:
    korea, _ = minted(node, Role.CUSTOMS, "KR")
    document = await sealed(client, keys)
    number = document["certificate"]["certificate_number"]
    issuer = (await client.get(f"/v1/certificates/{document['_id']}", headers=auth(keys, "issuer"))).json()["issuer"]
    asked = await client.get("/v1/verify", params={"issuer": issuer, "number": number}, headers=korea)
    assert asked.status_code == 200 and asked.json()["document_hash"] is None
    answer = await client.get("/v1/verifications", headers=korea)
    [entry] = answer.json()["verifications"]
    assert entry["receipt_id"] == asked.json()["receipt_id"] and entry["document_hash"] is None
    assert number not in answer.text and document["document_hash"] not in answer.text


async def test_the_key_that_asked_reads_its_receipt_back_and_no_other_stranger_does(
        client: httpx.AsyncClient, keys: Keys, node: Node) -> None:
    korea, _ = minted(node, Role.CUSTOMS, "KR")
    other_korea, _ = minted(node, Role.CUSTOMS, "KR")
    document = await sealed(client, keys)
    receipt = await verified(client, document, korea)
    [entry] = (await client.get("/v1/verifications", headers=korea)).json()["verifications"]
    shown = await client.get(f"/v1/verifications/{entry['receipt_id']}", headers=korea)
    assert shown.status_code == 200 and shown.json()["receipt"]["receipt_id"] == receipt, shown.text
    assert shown.json()["report"]["document_hash"] == document["document_hash"]
    assert (await client.get(f"/v1/verifications/{receipt}", headers=other_korea)).status_code == 404
