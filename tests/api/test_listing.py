"""Listing certificates: each caller sees exactly what it may read, a page at a time, newest first."""

from __future__ import annotations

import httpx

from registry.runtime import Node
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


async def register(client: httpx.AsyncClient, headers: dict[str, str], number: str) -> str:
    made = await client.post("/v1/certificates", json=example(certificate_number=number), headers=headers)
    assert made.status_code in (201, 202), made.text
    certificate_id: str = made.json()["id"]
    return certificate_id


async def test_filters_by_number_prefix_registration_time_and_importing_country(
        client: httpx.AsyncClient, keys: Keys) -> None:
    import time
    import uuid
    from datetime import UTC, datetime

    run = uuid.uuid4().hex[:8].upper()
    issuer = auth(keys, "issuer")
    early = [await register(client, issuer, f"F{run}-A-{i}") for i in range(2)]
    between = datetime.fromtimestamp(time.time(), UTC).isoformat()
    late = [await register(client, issuer, f"F{run}-A-{i}") for i in range(2, 4)]
    other = await register(client, issuer, f"F{run}-B-0")
    assert set(await listed(client, issuer, number_prefix=f"F{run}-A-")) == set(early + late)
    assert await listed(client, issuer, number_prefix=f"F{run}-B") == [other]
    assert set(await listed(client, issuer, number_prefix=f"F{run}-A-", since=between)) == set(late)
    assert set(await listed(client, issuer, number_prefix=f"F{run}-A-", until=between)) == set(early)
    assert set(await listed(client, issuer, number_prefix=f"F{run}", importing_country="JP")) == {*early, *late, other}
    assert await listed(client, issuer, number_prefix=f"F{run}", importing_country="KR") == []


async def test_a_number_prefix_pages_without_gaps_or_repeats(client: httpx.AsyncClient, keys: Keys) -> None:
    import uuid

    run = uuid.uuid4().hex[:8].upper()
    issuer = auth(keys, "issuer")
    made = [await register(client, issuer, f"P{run}-{i}") for i in range(7)]
    for i in range(3):  # not matching, interleaved
        await register(client, issuer, f"Q{run}-{i}")
    pages: list[list[str]] = []
    after: str | None = None
    while True:
        body = (await client.get("/v1/certificates", headers=issuer, params={
            "number_prefix": f"P{run}", "limit": 3, **({"after": after} if after else {})})).json()
        pages.append([c["id"] for c in body["certificates"]])
        after = body["next"]
        if after is None:
            break
    assert [len(p) for p in pages] == [3, 3, 1] and sorted(sum(pages, [])) == sorted(made)
    assert sum(pages, []) == list(reversed(made))  # newest first


async def test_filters_never_widen_what_a_key_may_see(client: httpx.AsyncClient, keys: Keys) -> None:
    """A Customs key filtering for another country's imports, or for numbers it cannot read, gets nothing."""
    import uuid

    run = uuid.uuid4().hex[:8].upper()
    mine = await register(client, auth(keys, "issuer"), f"W{run}-1")  # imported into JP
    kr_customs = await mint(client, keys, "customs", "KR")
    assert await listed(client, kr_customs, number_prefix=f"W{run}") == []
    assert await listed(client, kr_customs, number_prefix=f"W{run}", importing_country="JP") == []
    jp_customs = auth(keys, "customs")
    assert await listed(client, jp_customs, number_prefix=f"W{run}") == [mine]
    assert await listed(client, jp_customs, number_prefix=f"W{run}", importing_country="KR") == []
    jp_authority = auth(keys, "authority_jp")  # exports of JP only
    assert await listed(client, jp_authority, number_prefix=f"W{run}") == []


async def test_an_erased_certificate_is_never_found_by_its_old_number(
        client: httpx.AsyncClient, keys: Keys, node: Node) -> None:
    import uuid

    run = uuid.uuid4().hex[:8].upper()
    issuer = auth(keys, "issuer")
    gone = await register(client, issuer, f"E{run}-1")
    kept = await register(client, issuer, f"E{run}-2")
    node.context.anchorer.flush()
    assert (await client.post(f"/v1/certificates/{gone}/erase", headers=issuer)).status_code in (200, 202)
    assert await listed(client, issuer, number_prefix=f"E{run}") == [kept]
    assert await listed(client, issuer, number_prefix="erased") == []
    assert gone in await listed(client, issuer, status="erased")


async def test_bad_filters_are_problems_naming_the_field(client: httpx.AsyncClient, keys: Keys) -> None:
    for params, field in (({"importing_country": "jp"}, "importing_country"), ({"since": "yesterday"}, "since"),
                          ({"until": "2026-13-01"}, "until"), ({"number_prefix": "x" * 65}, "number_prefix"),
                          ({"number_prefix": ""}, "number_prefix"), ({"after": "not-a-cursor"}, "after")):
        answer = await client.get("/v1/certificates", params=params, headers=auth(keys, "issuer"))
        assert answer.status_code == 422 and answer.headers["content-type"].startswith(PROBLEM), (params, answer.text)
        assert field in answer.text, (params, answer.text)
