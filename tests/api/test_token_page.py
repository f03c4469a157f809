"""`/v/{token}` over HTTP: the verification page with the report embedded, or a readable error page;
JSON clients keep JSON and problem+json."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from tests.support.consortium import example
from tests.support.http import anchored, assert_problem, auth

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def embedded(page: str, element_id: str) -> dict[str, Any]:
    found = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', page, re.S)
    assert found, f"no {element_id} in the page"
    value: dict[str, Any] = json.loads(found.group(1))
    return value


async def issued(client: httpx.AsyncClient, keys: dict[str, dict[str, str]], **changes: object) -> dict[str, Any]:
    issuer = auth(keys, "issuer")
    created = (await client.post("/v1/certificates", json=example(**changes), headers=issuer)).json()
    return await anchored(client, issuer, created["id"])


async def test_the_page_is_the_verification_page_with_the_report_its_qr_code_and_code(
        client: httpx.AsyncClient, keys: dict[str, dict[str, str]]) -> None:
    record = await issued(client, keys)
    page = await client.get(f"/v/{record['id']}", headers=BROWSER)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    shell = (await client.get("/")).text
    for same in ('id="verify-form"', 'id="result"', 'id="checks"', 'id="certificate-body"',
                 '<script src="/static/certificate.js"></script>', '<script src="/static/verify.js"></script>'):
        assert same in page.text and same in shell, same
    report = embedded(page.text, "embedded-report")
    as_json = (await client.get(f"/v/{record['id']}", headers={"Accept": "application/json"})).json()
    assert report["verdict"] == as_json["verdict"] == "VALID"
    assert report["document_hash"] == as_json["document_hash"] == record["document_hash"]
    assert report["disclosed"] == as_json["disclosed"]
    assert '<svg' in page.text and f'<code id="verification-code" class="hash">{record["id"]}</code>' in page.text
    assert f"http://testserver/v/{record['id']}" in page.text
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "<noscript>" in page.text and "Verdict: VALID" in page.text


async def test_no_certificate_value_can_break_out_of_the_embedded_report(
        client: httpx.AsyncClient, keys: dict[str, dict[str, str]]) -> None:
    hostile = "</script><script>alert(1)</script><!-- & \u2028 -->"
    record = await issued(client, keys, remarks=hostile)
    page = (await client.get(f"/v/{record['id']}", headers=BROWSER)).text
    assert "<script>alert(1)" not in page and "</script><script>" not in page
    assert embedded(page, "embedded-report")["disclosed"]["remarks"] == hostile


async def test_an_unknown_code_gets_an_html_404_page_and_json_clients_problem_json(
        client: httpx.AsyncClient) -> None:
    for code in ("00000000-0000-4000-8000-000000000000", "not-a-code", "k1.garbage", "<b>x<b>"):
        page = await client.get(f"/v/{code}", headers=BROWSER)
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html"), code
        assert "Not verified: Unknown verification code" in page.text and "<b>x<b>" not in page.text
        assert embedded(page.text, "embedded-problem")["status"] == 404
        assert page.headers["cache-control"] == "no-store"
        assert_problem(await client.get(f"/v/{code}", headers={"Accept": "application/json"}), 404, "not found")
    default = await client.get("/v/not-a-code")  # no Accept header at all: a person, most likely
    assert default.status_code == 404 and default.headers["content-type"].startswith("text/html")


async def test_the_token_route_documents_both_answers(client: httpx.AsyncClient) -> None:
    operation = (await client.get("/openapi.json")).json()["paths"]["/v/{token}"]["get"]
    assert {"text/html", "application/json"} <= set(operation["responses"]["200"]["content"])
    assert {"text/html", "application/problem+json"} <= set(operation["responses"]["404"]["content"])


async def test_a_mangled_qr_link_is_a_readable_page_for_a_browser_and_a_problem_for_a_program(
        client: httpx.AsyncClient) -> None:
    """Paths no route serves (a code with a slash, an empty code): a phone still gets a page, never JSON."""
    for path in ("/v/abc/def", "/v/", "/v/%2F%2F"):
        page = await client.get(path, headers=BROWSER)
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html"), (path, page.text)
        assert embedded(page.text, "embedded-problem")["title"] == "Unknown verification code"
        assert_problem(await client.get(path, headers={"Accept": "application/json"}), 404)
    assert_problem(await client.get("/v1/nothing-here", headers=BROWSER), 404)  # the API stays problem+json
