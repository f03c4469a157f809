"""`GET /v1/code-lists`: every code the dataset accepts, with its name; public and cacheable."""

from __future__ import annotations

import json
import re

import httpx
import pycountry

from registry.domain import codes
from tests.support.consortium import EXAMPLES
from tests.support.http import assert_problem


async def test_the_code_lists_name_units_modes_countries_and_criteria(client: httpx.AsyncClient) -> None:
    answer = await client.get("/v1/code-lists")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    lists = answer.json()
    assert lists["units"]["H87"] == "piece" and lists["units"]["KGM"] == "kilogram"
    assert lists["transport_modes"]["1"] == "maritime transport"
    assert lists["countries"]["JP"] == "Japan" and lists["countries"]["SG"] == "Singapore"
    assert lists["origin_criteria"]["CTH"] == "change of tariff heading"
    assert lists["currencies"]["USD"] == "US Dollar" and "XAU" not in lists["currencies"]
    assert lists["certificate_types"]["RCEP"].startswith("Regional Comprehensive Economic Partnership")
    assert "non-preferential" in lists["certificate_types"]
    assert lists["value_content"].format(percent=40) == "regional value content of at least 40 %"


def test_every_code_the_checks_accept_has_a_name() -> None:
    lists = codes.code_list_names()
    assert set(lists["units"]) == set(codes.unit_codes())
    assert set(lists["transport_modes"]) == set(codes.transport_modes())
    assert set(lists["origin_criteria"]) == set(codes.ORIGIN_CRITERIA)
    assert {c.alpha_2 for c in pycountry.countries} == set(lists["countries"])
    for country in lists["countries"]:
        assert codes.check_country(country) == country
    for currency in lists["currencies"]:
        assert codes.check_currency(currency) == currency
    for kind in lists["certificate_types"]:
        assert codes.check_certificate_type(kind) == kind
    for example in EXAMPLES.glob("*.json"):  # and the examples' codes, one by one
        certificate = json.loads(example.read_text())
        for item in certificate["goods"]:
            assert item["unit"] in lists["units"] and item["origin_country"] in lists["countries"]
            for token in re.split(r"[+/]", item["origin_criterion"]):
                assert token in lists["origin_criteria"] or re.fullmatch(r"RVC[0-9]{2}", token), token
        assert certificate["transport"]["mode"] in lists["transport_modes"]


async def test_the_code_lists_are_cacheable(client: httpx.AsyncClient) -> None:
    first = await client.get("/v1/code-lists")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=86400" and etag.startswith('"')
    for tag in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = await client.get("/v1/code-lists", headers={"If-None-Match": tag})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag, tag
    for stale in ('"stale"', "garbage", ""):
        fresh = await client.get("/v1/code-lists", headers={"If-None-Match": stale})
        assert fresh.status_code == 200 and fresh.content == first.content, stale


async def test_the_code_lists_are_documented_and_read_only(client: httpx.AsyncClient) -> None:
    operation = (await client.get("/openapi.json")).json()["paths"]["/v1/code-lists"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("CodeListsPublic")
    assert_problem(await client.post("/v1/code-lists", json={}), 405)
    assert_problem(await client.get("/v1/code-lists/units"), 404)
