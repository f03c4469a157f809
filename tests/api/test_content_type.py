"""A JSON route sent another media type answers 415 problem+json saying JSON is expected, never a bare 422."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.support.consortium import example
from tests.support.http import assert_problem, auth

NO_SUCH_ID = "00000000-0000-4000-8000-000000000000"
ROUTES = [  # (path, role whose key it takes, a body it accepts)
    ("/v1/certificates", "issuer", example()),
    ("/v1/certificates/batch", "issuer", {"certificates": [example()]}),
    ("/v1/verify", None, {"document": {}}),
    (f"/v1/certificates/{NO_SUCH_ID}/revoke", "issuer", {"reason": "fraud"}),
    (f"/v1/certificates/{NO_SUCH_ID}/true-copy", "issuer", {"remarks": "lost"}),
    (f"/v1/certificates/{NO_SUCH_ID}/utilisations", "customs",
     {"declaration_reference": "D-1", "date": "2025-01-01", "items": [{"item_number": 1, "quantity": "1"}]}),
    ("/v1/keys", "admin", {"role": "issuer"}),
]
OTHER_TYPES = ["text/plain", "application/x-www-form-urlencoded", "text/json", "application/xml", None]


@pytest.mark.parametrize("path,role,body", ROUTES, ids=[r[0].rsplit("/", 1)[-1] or r[0] for r in ROUTES])
@pytest.mark.parametrize("media", OTHER_TYPES, ids=[str(m) for m in OTHER_TYPES])
async def test_a_body_that_is_not_json_gets_415_naming_the_type_expected_and_the_type_sent(
    client: httpx.AsyncClient, keys: dict[str, dict[str, str]], path: str, role: str | None, body: object,
    media: str | None,
) -> None:
    headers = {**(auth(keys, role) if role else {}), **({"Content-Type": media} if media else {})}
    answer = await client.post(path, content=json.dumps(body), headers=headers)
    problem = assert_problem(answer, 415, "application/json", media or "no Content-Type")
    assert problem["errors"] == [{"loc": "body", "msg": "expected application/json"}]


async def test_form_fields_are_refused_as_a_media_type_too(
    client: httpx.AsyncClient, keys: dict[str, dict[str, str]]
) -> None:
    form = await client.post("/v1/certificates", data={"certificate_number": "X"}, headers=auth(keys, "issuer"))
    assert_problem(form, 415, "x-www-form-urlencoded")
    upload = await client.post("/v1/verify", files={"document": ("sealed.json", b"{}", "application/json")})
    assert_problem(upload, 415, "multipart/form-data")


async def test_json_with_parameters_or_a_json_suffix_is_still_json(
    client: httpx.AsyncClient, keys: dict[str, dict[str, str]]
) -> None:
    for media in ("application/json; charset=utf-8", "application/merge-patch+json"):
        answer = await client.post("/v1/certificates", content=json.dumps(example()),
                                   headers={**auth(keys, "issuer"), "Content-Type": media})
        assert answer.status_code == 202, answer.text


async def test_json_that_is_not_an_object_is_located_at_the_body(
    client: httpx.AsyncClient, keys: dict[str, dict[str, str]]
) -> None:
    for body in ([example()], "text", 3):
        answer = await client.post("/v1/certificates/batch", json=body, headers=auth(keys, "issuer"))
        problem = assert_problem(answer, 422, "body", "JSON object")
        assert problem["errors"] == [{"loc": "body", "msg": "expected a JSON object"}]


async def test_an_empty_body_with_another_type_is_a_missing_body_not_a_media_type(
    client: httpx.AsyncClient, keys: dict[str, dict[str, str]]
) -> None:
    answer = await client.post("/v1/certificates/batch", headers={**auth(keys, "issuer"), "Content-Type": "text/plain"})
    assert_problem(answer, 422, "body")
