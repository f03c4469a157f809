"""A batch request's body is parsed once, and each certificate in it validated once."""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import httpx
import pytest

from registry.domain.certificate import Certificate
from tests.support.consortium import example
from tests.support.http import auth


class CountingValidator:
    """Stands in for a model's pydantic validator, counting each validation it passes on."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    def validate_python(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.inner.validate_python(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def test_a_batch_is_parsed_once_and_each_certificate_validated_once(
    client: httpx.AsyncClient, keys: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    items = [example() for _ in range(5)]
    body = json.dumps({"certificates": items}).encode()
    validator = CountingValidator(Certificate.__pydantic_validator__)
    monkeypatch.setattr(Certificate, "__pydantic_validator__", validator)
    with mock.patch.object(json, "loads", wraps=json.loads) as loads:
        answer = await client.post("/v1/certificates/batch", content=body,
                                   headers={**auth(keys, "issuer"), "Content-Type": "application/json"})
    assert answer.status_code == 202, answer.text
    assert [c["certificate_number"] for c in answer.json()["certificates"]] == [i["certificate_number"] for i in items]
    assert len([call for call in loads.call_args_list if call.args and call.args[0] == body]) == 1
    assert validator.calls == len(items)
