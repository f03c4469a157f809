"""Every error is application/problem+json with a useful detail; never a 500."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.support.consortium import example
from tests.support.http import assert_problem, auth


async def test_an_invalid_certificate_names_the_field(
        client: httpx.AsyncClient, keys: dict[str, dict[str, str]]) -> None:
    body = example()
    body["goods"][0]["hs_code"] = "12.34"  # type: ignore[index]
    problem = assert_problem(await client.post("/v1/certificates", json=body, headers=auth(keys, "issuer")),
                             422, "goods[0].hs_code")
    assert problem["errors"][0]["loc"] == "goods[0].hs_code"


@pytest.mark.parametrize("country", ["QQ", "XX"])
async def test_a_country_outside_iso_3166_is_refused_naming_the_field(
        client: httpx.AsyncClient, keys: dict[str, dict[str, str]], country: str) -> None:
    for path in ("/v1/governance/countries", "/v1/governance/authority-accounts"):
        problem = assert_problem(await client.post(path, json={"country": country}, headers=auth(keys, "admin")),
                                 422, "ISO 3166-1")
        assert problem["errors"][0]["loc"] == "country"


async def test_an_unknown_certificate_is_404(client: httpx.AsyncClient, keys: dict[str, dict[str, str]]) -> None:
    assert_problem(await client.get("/v1/certificates/does-not-exist", headers=auth(keys, "admin")), 404, "not found")


async def test_an_unknown_mode_or_reason_is_422(client: httpx.AsyncClient, keys: dict[str, dict[str, str]]) -> None:
    assert_problem(await client.post("/v1/certificates?mode=plain", json=example(), headers=auth(keys, "issuer")),
                   422, "mode")
    assert_problem(await client.post("/v1/certificates/x/revoke", json={"reason": "because"},
                                     headers=auth(keys, "issuer")), 422, "reason")


async def test_a_malformed_hash_is_422(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/v1/verify/0x1234"), 422, "64 hex digits")


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe\x00garbage", b"[]", b"null", b'{"a": 1e400}'])
async def test_hostile_bodies_get_a_clean_4xx(
        client: httpx.AsyncClient, keys: dict[str, dict[str, str]], raw: bytes) -> None:
    for path in ("/v1/certificates", "/v1/verify"):
        answer = await client.post(path, content=raw,
                                   headers={**auth(keys, "issuer"), "Content-Type": "application/json"})
        assert 400 <= answer.status_code < 500, (path, raw, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")


async def test_deeply_nested_json_gets_a_clean_4xx(client: httpx.AsyncClient, keys: dict[str, dict[str, str]]) -> None:
    raw = ("[" * 5000 + "]" * 5000).encode()
    answer = await client.post("/v1/verify", content=raw, headers={"Content-Type": "application/json"})
    assert 400 <= answer.status_code < 500


async def test_bodies_over_the_limit_are_refused_with_413(
        client: httpx.AsyncClient, keys: dict[str, dict[str, str]]) -> None:
    body = example(remarks="x" * 2000)
    padded = json.dumps({**body, "padding": "y" * (1 << 20)}).encode()
    assert_problem(await client.post("/v1/certificates", content=padded,
                                     headers={**auth(keys, "issuer"),
                                              "Content-Type": "application/json"}), 413, "limit")


async def test_a_document_sealed_elsewhere_is_invalid_not_an_error(client: httpx.AsyncClient) -> None:
    forged = {"certificate": {"certificate_number": "X"}, "salts": {"certificate_number": "0x" + "11" * 32},
              "document_hash": "0x" + "22" * 32, "proof": {"batch_root": "0x" + "22" * 32, "path": []},
              "anchor": {"chain_id": 1, "contract": "0x" + "33" * 20, "batch_root": "0x" + "22" * 32}}
    answer = await client.post("/v1/verify", json=forged)
    assert answer.status_code == 200 and answer.json()["verdict"] == "INVALID"


@pytest.mark.parametrize("raw", [b'{"a": 1, "a": 2}', b'{"quantity": NaN}', b'{"x": Infinity}',
                                 b'{"goods": [{"item_number": 1, "item_number": 1}]}'])
async def test_duplicate_keys_and_non_numbers_are_refused(
    client: httpx.AsyncClient, keys: dict[str, dict[str, str]], raw: bytes
) -> None:
    answer = await client.post("/v1/certificates", content=raw,
                               headers={**auth(keys, "issuer"), "Content-Type": "application/json"})
    assert_problem(answer, 400, "JSON")


async def test_ten_thousand_goods_items_get_a_clean_4xx(
        client: httpx.AsyncClient, keys: dict[str, dict[str, str]]) -> None:
    body = example()
    item = body["goods"][0]  # type: ignore[index]
    body["goods"] = [{**item, "item_number": i + 1} for i in range(10_000)]
    answer = await client.post("/v1/certificates", json=body, headers=auth(keys, "issuer"))
    assert answer.status_code in (413, 422) and answer.headers["content-type"].startswith("application/problem+json")


async def test_numbers_beyond_float_precision_are_refused_not_rounded(
    client: httpx.AsyncClient, keys: dict[str, dict[str, str]]
) -> None:
    body = example()
    body["goods"][0]["quantity"] = "__Q__"  # type: ignore[index]
    raw = json.dumps(body).replace('"__Q__"', "1200.000000000000000000001").encode()
    answer = await client.post("/v1/certificates", content=raw,
                               headers={**auth(keys, "issuer"), "Content-Type": "application/json"})
    assert_problem(answer, 400, "beyond float precision")
