"""POST /v1/disclosures: a holder withholds fields; the partial document verifies, keeps nothing of what it
withholds, cannot launder a tampered document, and the node neither stores nor logs it."""

from __future__ import annotations

import copy
import logging
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from registry.runtime import Node
from tests.support.consortium import example
from tests.support.http import anchored, assert_problem, auth

Keys = dict[str, dict[str, str]]


@pytest.fixture
async def document(client: httpx.AsyncClient, keys: Keys) -> dict[str, Any]:
    """A fresh anchored certificate's sealed document, whose exporter address and second item are unique."""
    body = example()
    marker = uuid.uuid4().hex
    body["exporter"] = {**body["exporter"], "address": f"ADDRESS-{marker}"}  # type: ignore[dict-item]
    goods: list[dict[str, Any]] = body["goods"]  # type: ignore[assignment]
    goods[1] = {**goods[1], "description": f"GOODS-{marker}"}
    made = await client.post("/v1/certificates", json=body, headers=auth(keys, "issuer"))
    assert made.status_code == 202, made.text
    cert = await anchored(client, auth(keys, "issuer"), made.json()["id"])
    sealed: dict[str, Any] = (await client.get(f"/v1/certificates/{cert['id']}/document",
                                               headers=auth(keys, "issuer"))).json()
    return sealed


async def test_the_partial_document_verifies_and_carries_no_value_or_salt_of_a_withheld_field(
        client: httpx.AsyncClient, document: dict[str, Any]) -> None:
    answer = await client.post("/v1/disclosures", json={"document": document,
                                                         "withhold": ["exporter.address", "goods[1]"]})
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    partial = answer.json()
    withheld = [p for p in document["salts"] if p == "exporter.address" or p.startswith("goods[1].")]
    assert sorted(partial["withheld"]) == sorted(withheld)
    for path in withheld:
        assert document["salts"][path] not in answer.text
    assert document["certificate"]["exporter"]["address"] not in answer.text
    assert document["certificate"]["goods"][1]["description"] not in answer.text
    report = (await client.post("/v1/verify", json=partial)).json()
    assert report["verdict"] == "VALID", report
    assert "address" not in report["disclosed"]["exporter"] and report["disclosed"]["goods"][1] is None
    assert set(report["withheld"]) == set(withheld)


async def test_withholding_cannot_launder_a_tampered_document(client: httpx.AsyncClient,
                                                              document: dict[str, Any]) -> None:
    forged = copy.deepcopy(document)
    forged["certificate"]["producer"]["name"] = "Someone Else Pte. Ltd."  # not among the terms: integrity alone holds
    for withhold in (["goods[1]"], ["producer.name"]):  # another field, or the forged one itself
        answer = await client.post("/v1/disclosures", json={"document": forged, "withhold": withhold})
        assert answer.status_code == 200, answer.text
        assert (await client.post("/v1/verify", json=answer.json())).json()["verdict"] == "INVALID", withhold


@pytest.mark.parametrize("withhold, loc, words", [
    (["goods[0]", "goods[42]"], "withhold[1]", ("withhold[1]", "goods[42]")),
    (["exporter.adress"], "withhold[0]", ("exporter.adress",)),
    ([], "withhold", ()),
    ([""], "withhold[0]", ()),
    ("goods", "withhold", ()),
])
async def test_a_bad_withhold_list_is_a_problem_naming_the_place(
        client: httpx.AsyncClient, document: dict[str, Any], withhold: Any, loc: str, words: tuple[str, ...]) -> None:
    answer = await client.post("/v1/disclosures", json={"document": document, "withhold": withhold})
    body = assert_problem(answer, 422, *words)
    assert body["errors"][0]["loc"] == loc, body


async def test_withholding_every_field_is_refused(client: httpx.AsyncClient, document: dict[str, Any]) -> None:
    every = sorted({p.split(".")[0].split("[")[0] for p in document["salts"]})
    answer = await client.post("/v1/disclosures", json={"document": document, "withhold": every})
    assert_problem(answer, 422, "nothing to disclose", "document hash")


async def test_garbage_is_refused_as_problems(client: httpx.AsyncClient, document: dict[str, Any]) -> None:
    no_salt = copy.deepcopy(document)
    del no_salt["salts"]["exporter.name"]
    for content, status in ((b"{not json", 400), (b'{"a": 1, "a": 2}', 400), (b"[]", 422),
                            (b'{"withhold": ["goods"]}', 422), (b'"just a string"', 422)):
        assert_problem(await client.post("/v1/disclosures", content=content,
                                         headers={"content-type": "application/json"}), status)
    assert_problem(await client.post("/v1/disclosures", json={"document": no_salt, "withhold": ["goods"]}),
                   422, "exporter.name")
    assert_problem(await client.post("/v1/disclosures", json={"document": document, "withhold": ["goods"],
                                                              "keep": ["x"]}), 422)
    assert_problem(await client.post("/v1/disclosures", json={"document": {"certificate": {}}, "withhold": ["a"]}),
                   422)


async def test_the_node_neither_stores_nor_logs_the_document(
        client: httpx.AsyncClient, document: dict[str, Any], node: Node, caplog: pytest.LogCaptureFixture) -> None:
    marker = document["certificate"]["exporter"]["address"].encode()
    tables = ("verification_receipts", "audit_log", "certificates", "sealed_documents")

    def counts() -> list[int]:
        return [int(node.context.store.query(f"SELECT COUNT(*) FROM {t}")[0][0]) for t in tables]

    before = counts()
    with caplog.at_level(logging.DEBUG):
        answer = await client.post("/v1/disclosures", json={"document": document, "withhold": ["goods"]})
        refused = await client.post("/v1/disclosures", json={"document": document, "withhold": ["nope"]})
    assert answer.status_code == 200 and refused.status_code == 422
    assert counts() == before
    assert not [r for r in caplog.records if marker.decode() in r.getMessage()]
    files = [p for p in Path(node.config.data_dir).rglob("*") if p.is_file()]
    assert files and not [p for p in files if marker in p.read_bytes()]
