"""Helpers for API tests."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

PROBLEM = "application/problem+json"


def auth(keys: dict[str, dict[str, str]], role: str) -> dict[str, str]:
    """Authorization header for a demo role."""
    return {"Authorization": f"Bearer {keys[role]['api_key']}"}


async def anchored(client: httpx.AsyncClient, headers: dict[str, str], certificate_id: str,
                   timeout: float = 15.0) -> dict[str, Any]:
    """Poll until the certificate is anchored; return its public record."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        answer = await client.get(f"/v1/certificates/{certificate_id}", headers=headers)
        body: dict[str, Any] = answer.json()
        if body.get("status") != "pending":
            return body
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"certificate {certificate_id} still pending after {timeout} s")
        await asyncio.sleep(0.05)


def assert_problem(answer: httpx.Response, status: int, *words: str) -> dict[str, Any]:
    """The response is problem+json with *status*, and its detail mentions *words*."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM), answer.headers["content-type"]
    body: dict[str, Any] = answer.json()
    assert body["status"] == status and body["title"] and body["detail"]
    for word in words:
        assert word.lower() in body["detail"].lower(), body
    return body
