"""Whom a certificate comes from, by name: governance registers names on chain, every verifier shows them.

The names are read from the chain with the document's status (one ``inspect`` call), so an importing
Customs node sees the exporting country's names without asking that country's node; only the issuing
body's own authority may name it, only the consortium admin may name an authority.
"""

from __future__ import annotations

from typing import Any

import httpx

from registry.runtime import Node
from tests.support.consortium import example
from tests.support.http import PROBLEM, auth

Keys = dict[str, dict[str, str]]


async def new_issuer(client: httpx.AsyncClient, keys: Keys, name: str) -> tuple[str, dict[str, str]]:
    """A new SG issuing body named *name* (the node's session is shared: no test renames the demo issuer)."""
    made = await client.post("/v1/governance/issuers", json={"label": name}, headers=auth(keys, "authority"))
    assert made.status_code == 201, made.text
    return made.json()["account"], {"Authorization": f"Bearer {made.json()['api_key']}"}


async def verified(client: httpx.AsyncClient, node: Node, issuer: dict[str, str]) -> dict[str, Any]:
    made = await client.post("/v1/certificates", json=example(), headers=issuer)
    assert made.status_code in (201, 202), made.text
    certificate_id = made.json()["id"]
    node.context.anchorer.flush()
    document = await client.get(f"/v1/certificates/{certificate_id}/document", headers=issuer)
    assert document.status_code == 200, document.text
    answer = await client.post("/v1/verify", json=document.json())
    assert answer.status_code == 200, answer.text
    report: dict[str, Any] = answer.json()
    return report


async def test_the_report_names_the_issuing_body_and_its_countrys_authority(
        client: httpx.AsyncClient, keys: Keys, node: Node) -> None:
    account, issuer = await new_issuer(client, keys, "Singapore Customs, Jurong office")
    report = await verified(client, node, issuer)
    assert report["issuer"].lower() == account.lower()
    assert report["issuer_name"] == "Singapore Customs, Jurong office"
    assert report["authority"].lower() == keys["authority"]["account"].lower()
    assert report["authority_name"] == "Singapore Customs (demo authority)"


async def test_an_authority_renames_its_own_issuer_and_every_verification_shows_it(
        client: httpx.AsyncClient, keys: Keys, node: Node) -> None:
    issuer, key = await new_issuer(client, keys, "Singapore Customs, old name")
    renamed = await client.put(f"/v1/governance/issuers/{issuer}/name", json={"name": "Singapore Customs, CO unit"},
                               headers=auth(keys, "authority"))
    assert renamed.status_code == 204, renamed.text
    assert node.context.chain.name_of(issuer) == "Singapore Customs, CO unit"
    assert (await verified(client, node, key))["issuer_name"] == "Singapore Customs, CO unit"


async def test_another_countrys_authority_cannot_rename_our_issuer(
        client: httpx.AsyncClient, keys: Keys, node: Node) -> None:
    issuer, _ = await new_issuer(client, keys, "Singapore Customs, Changi office")
    hostile = await client.put(f"/v1/governance/issuers/{issuer}/name", json={"name": "Singapore Customs"},
                               headers=auth(keys, "authority_jp"))
    assert hostile.status_code == 409 and hostile.headers["content-type"].startswith(PROBLEM), hostile.text
    assert node.context.chain.name_of(issuer) == "Singapore Customs, Changi office"


async def test_nobody_but_the_authority_or_the_admin_names_anyone(client: httpx.AsyncClient, keys: Keys,
                                                                  node: Node) -> None:
    issuer, _ = await new_issuer(client, keys, "Singapore Customs, Tuas office")
    for role in ("issuer", "customs"):
        self_named = await client.put(f"/v1/governance/issuers/{issuer}/name", json={"name": "Anyone"},
                                      headers=auth(keys, role))
        assert self_named.status_code == 403, (role, self_named.text)
    for role in ("authority", "authority_jp", "issuer"):
        answer = await client.put("/v1/governance/countries/SG/authority-name", json={"name": "Not SG"},
                                  headers=auth(keys, role))
        assert answer.status_code == 403, (role, answer.text)
    assert node.context.chain.name_of(issuer) == "Singapore Customs, Tuas office"
    assert node.context.chain.name_of(keys["authority"]["account"]) == "Singapore Customs (demo authority)"
    unadmitted = await client.put("/v1/governance/countries/AQ/authority-name", json={"name": "Antarctica"},
                                  headers=auth(keys, "admin"))
    assert unadmitted.status_code == 409 and unadmitted.headers["content-type"].startswith(PROBLEM)


async def test_a_name_that_could_read_as_another_is_refused_naming_the_field(
        client: httpx.AsyncClient, keys: Keys) -> None:
    issuer = keys["issuer"]["account"]
    for name in ("Singapore\u202eCustoms", "Singapore\nCustoms", " Singapore", "", "x" * 129, "é" * 65):
        answer = await client.put(f"/v1/governance/issuers/{issuer}/name", json={"name": name},
                                  headers=auth(keys, "authority"))
        assert answer.status_code == 422 and answer.headers["content-type"].startswith(PROBLEM), (name, answer.text)
        assert "name" in answer.text
    made = await client.post("/v1/governance/issuers", json={"label": "x" * 129}, headers=auth(keys, "authority"))
    assert made.status_code == 422 and "label" in made.text
