"""Listing certificates: each caller sees exactly what it may read, a page at a time, newest first."""

from __future__ import annotations

import httpx

from tests.support.consortium import example
from tests.support.http import PROBLEM, auth

Keys = dict[str, dict[str, str]]


async def mint(client: httpx.AsyncClient, keys: Keys, role: str, country: str) -> dict[str, str]:
    made = await client.post("/v1/keys", json={"role": role, "country": country, "label": f"listing {country}"},
                             headers=auth(keys, "admin"))
    assert made.status_code == 201, made.text
    return {"Authorization": f"Bearer {made.json()['api_key']}"}


async def listed(client: httpx.AsyncClient, headers: dict[str, str], **params: str | int) -> list[str]:
    """Every id the caller gets, following the pages."""
    ids: list[str] = []
    after: str | None = None
    while True:
        query = {**params, **({"after": after} if after else {})}
        answer = await client.get("/v1/certificates", params=query, headers=headers)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        ids += [c["id"] for c in body["certificates"]]
        after = body["next"]
        if after is None:
            return ids


async def test_each_caller_lists_exactly_the_certificates_it_may_read(client: httpx.AsyncClient, keys: Keys) -> None:
    issuer = auth(keys, "issuer")
    mine = [(await client.post("/v1/certificates", json=example(), headers=issuer)).json()["id"] for _ in range(5)]
    other_issuer = await client.post("/v1/governance/issuers", json={"label": "listing: second SG issuer"},
                                     headers=auth(keys, "authority"))
    theirs = (await client.post("/v1/certificates", json=example(),
                                headers={"Authorization": f"Bearer {other_issuer.json()['api_key']}"})).json()["id"]

    by_issuer = await listed(client, issuer, limit=2)  # pages of two, followed to the end
    assert set(mine) <= set(by_issuer) and theirs not in by_issuer
    assert by_issuer.index(mine[-1]) < by_issuer.index(mine[0]), "newest first"
    assert len(by_issuer) == len(set(by_issuer)), "a certificate was listed twice across pages"
    assert set(mine) | {theirs} <= set(await listed(client, auth(keys, "authority")))  # SG's exports
    assert set(mine) <= set(await listed(client, auth(keys, "customs")))  # JP's imports
    assert not set(mine) & set(await listed(client, auth(keys, "authority_jp")))  # not JP's exports
    assert not set(mine) & set(await listed(client, await mint(client, keys, "customs", "KR")))  # not KR's imports
    assert set(mine) | {theirs} <= set(await listed(client, auth(keys, "admin")))


async def test_a_status_filter_and_bad_parameters(client: httpx.AsyncClient, keys: Keys) -> None:
    issuer = auth(keys, "issuer")
    made = (await client.post("/v1/certificates", json=example(), headers=issuer)).json()["id"]
    assert made in await listed(client, issuer, status="pending") + await listed(client, issuer, status="anchored")
    assert made not in await listed(client, issuer, status="revoked")
    for params in ({"limit": 0}, {"limit": 201}, {"status": "lost"}, {"after": "not-an-id"}):
        answer = await client.get("/v1/certificates", params=params, headers=issuer)
        assert answer.status_code == 422 and answer.headers["content-type"].startswith(PROBLEM), params
    assert (await client.get("/v1/certificates")).status_code == 401
