"""Erasure through HTTP: receipts that need a key and lose their contents, no oracle, private files,
observable state."""

from __future__ import annotations

import stat
from typing import Any

import httpx
import pytest

from registry.custody.apikeys import Role
from registry.runtime import Node
from tests.support.consortium import example
from tests.support.http import anchored, assert_problem, auth

Keys = dict[str, dict[str, str]]


@pytest.fixture
def other_customs(node: Node) -> dict[str, str]:
    """Authorization of Customs of a country that is neither exporter nor importer."""
    return {"Authorization": "Bearer " + node.context.api_keys.mint(Role.CUSTOMS, country="KR", label="KR customs")}


async def registered(client: httpx.AsyncClient, keys: Keys, body: dict[str, Any] | None = None) -> dict[str, Any]:
    answer = await client.post("/v1/certificates", json=body or example(), headers=auth(keys, "issuer"))
    assert answer.status_code == 202, answer.text
    return await anchored(client, auth(keys, "issuer"), answer.json()["id"])


async def erase(client: httpx.AsyncClient, keys: Keys, certificate_id: str) -> dict[str, Any]:
    answer = await client.post(f"/v1/certificates/{certificate_id}/erase", headers=auth(keys, "issuer"))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_a_receipt_needs_the_issuers_or_the_importing_customs_key_and_loses_its_contents_on_erasure(
        client: httpx.AsyncClient, keys: Keys, other_customs: dict[str, str]) -> None:
    cert = await registered(client, keys)
    document = (await client.get(f"/v1/certificates/{cert['id']}/document", headers=auth(keys, "issuer"))).json()
    verdict = (await client.post("/v1/verify", json=document)).json()
    path = f"/v1/verifications/{verdict['receipt_id']}"
    assert_problem(await client.get(path), 401, "API key")
    assert_problem(await client.get(path, headers=other_customs), 404, "receipt")
    for role in ("issuer", "customs"):
        shown = (await client.get(path, headers=auth(keys, role))).json()
        assert shown["contents"] == "available" and shown["verdict"] == "VALID"
        assert shown["report"]["disclosed"]["exporter"] == document["certificate"]["exporter"]
        assert shown["receipt"]["signature"] == verdict["receipt_signature"]
    await erase(client, keys, cert["id"])
    for role in ("issuer", "customs"):
        after = await client.get(path, headers=auth(keys, role))
        assert after.status_code == 200, after.text
        shown = after.json()
        assert shown["contents"] == "erased" and shown["report"] is None and shown["verdict"] == "VALID"
        assert shown["receipt"]["report_hash"] == (await client.get(path, headers=auth(keys, "issuer"))).json()[
            "receipt"]["report_hash"]
        assert document["certificate"]["exporter"]["name"] not in after.text
    assert_problem(await client.get(path, headers=other_customs), 404, "receipt")


async def test_after_erasure_a_right_and_a_wrong_guess_of_the_body_get_the_same_answer(
        client: httpx.AsyncClient, keys: Keys) -> None:
    bodies = [example(), example()]
    erased = [await registered(client, keys, body) for body in bodies]
    for cert in erased:
        await erase(client, keys, cert["id"])
    right = await client.post("/v1/certificates", json=bodies[0], headers=auth(keys, "issuer"))
    wrong = await client.post("/v1/certificates", json={**bodies[1], "remarks": "a guess"},
                              headers=auth(keys, "issuer"))
    assert right.status_code == wrong.status_code == 202
    assert right.json().keys() == wrong.json().keys()
    for answer, cert in zip((right, wrong), erased, strict=True):
        assert answer.json()["status"] == "pending" and answer.json()["id"] != cert["id"]
        assert cert["document_hash"] not in answer.text and "erase" not in answer.text.lower()


async def test_lookup_by_number_without_a_key_gives_the_verdict_only_and_the_same_shape_for_unknown_numbers(
        client: httpx.AsyncClient, keys: Keys, other_customs: dict[str, str]) -> None:
    body = example()
    cert = await registered(client, keys, body)
    issuer = cert["issuer"]
    known = await client.get("/v1/verify", params={"issuer": issuer, "number": body["certificate_number"]})
    unknown = await client.get("/v1/verify", params={"issuer": issuer, "number": body["certificate_number"] + "X"})
    stranger = await client.get("/v1/verify", params={"issuer": issuer, "number": body["certificate_number"]},
                                headers=other_customs)
    assert known.status_code == unknown.status_code == stranger.status_code == 200
    assert known.json().keys() == unknown.json().keys()
    assert known.json()["verdict"] == "VALID" and unknown.json()["verdict"] != "VALID"
    for answer in (known, unknown, stranger):
        report = answer.json()
        assert report["disclosed"] is None and report["certificate_number"] is None
        assert report["document_hash"] is None and all(not c["details"] for c in report["checks"])
        assert cert["document_hash"] not in answer.text and body["certificate_number"] not in answer.text
        for value in (body["exporter"]["name"], body["consignee"]["name"], body["goods"][0]["invoice_number"]):
            assert value not in answer.text
    entitled = await client.get("/v1/verify", params={"issuer": issuer, "number": body["certificate_number"]},
                                headers=auth(keys, "customs"))
    assert entitled.json()["disclosed"]["exporter"]["name"] == body["exporter"]["name"]


async def test_erasure_is_observable_in_the_api_and_the_metrics(client: httpx.AsyncClient, keys: Keys) -> None:
    cert = await registered(client, keys)
    before = (await client.get(f"/v1/certificates/{cert['id']}/erasure", headers=auth(keys, "issuer"))).json()
    assert before == {"state": "none", "started_at": None, "finished_at": None, "acknowledgements": []}
    assert (await erase(client, keys, cert["id"]))["state"] == "erased"
    after = (await client.get(f"/v1/certificates/{cert['id']}/erasure", headers=auth(keys, "issuer"))).json()
    assert after["state"] == "erased" and after["finished_at"] >= after["started_at"]
    assert after["acknowledgements"] == []  # no peer held the key
    metrics = (await client.get("/metrics")).text
    assert 'coo_erasures{state="erasing"} 0' in metrics
    assert any(line.startswith('coo_erasures{state="erased"} ') and int(line.split()[-1]) >= 1
               for line in metrics.splitlines())


async def test_an_acknowledgement_must_be_signed_by_the_node_it_names(
        client: httpx.AsyncClient, keys: Keys, node: Node) -> None:
    from eth_account import Account

    from registry.custody.acknowledgements import sign_acknowledgement
    from registry.types import parse_hex32

    cert = await registered(client, keys)
    path = f"/v1/certificates/{cert['document_hash']}/erasure/acknowledgements"
    peer = Account.create()
    signed = sign_acknowledgement(peer, parse_hex32(cert["document_hash"]))
    assert_problem(await client.post(path, json=signed, headers=auth(keys, "customs")), 409, "not erased")
    await erase(client, keys, cert["id"])
    forged = {**signed, "node_account": Account.create().address}
    problem = assert_problem(await client.post(path, json=forged, headers=auth(keys, "customs")), 422, "signature")
    assert "signature" in str(problem)
    malformed = assert_problem(await client.post(path, json={**signed, "signature": "0x12"},
                                                 headers=auth(keys, "customs")), 422)
    assert "signature" in str(malformed)
    assert (await client.post(path, json=signed, headers=auth(keys, "customs"))).status_code == 204
    listed = (await client.get(f"/v1/certificates/{cert['id']}/erasure", headers=auth(keys, "issuer"))).json()
    assert [(a["country"], a["node_account"]) for a in listed["acknowledgements"]] == [("JP", peer.address)]


def test_store_files_are_private_and_the_data_directory_is_closed(node: Node) -> None:
    data = node.config.data_dir
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "keys").stat().st_mode) == 0o700
    files = [data / "registry.db", *(data / "keys").glob("epoch-*.key")]
    files += [p for p in (data / "registry.db-wal", data / "registry.db-shm") if p.exists()]
    assert len(files) >= 2
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
