"""API keys: an admin lists and revokes them; a revoked key stops working at once; no secret is ever listed."""

from __future__ import annotations

from pathlib import Path

import httpx

from api.app import create_app
from api.config import Settings
from registry.chain.nodes import NodeProcess
from registry.runtime import ADMIN_KEY_FILE, NodeConfig, open_node
from tests.support.http import PROBLEM, auth

Keys = dict[str, dict[str, str]]


async def mint(client: httpx.AsyncClient, keys: Keys, role: str, **extra: str) -> str:
    made = await client.post("/v1/keys", json={"role": role, "label": "key test", **extra}, headers=auth(keys, "admin"))
    assert made.status_code == 201, made.text
    key: str = made.json()["api_key"]
    return key


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_a_revoked_key_is_refused_on_its_very_next_request(client: httpx.AsyncClient, keys: Keys) -> None:
    key = await mint(client, keys, "customs", country="JP")
    assert (await client.get("/v1/verification-requests", headers=bearer(key))).status_code == 200  # checked, cached
    key_id = key.split("_")[1]
    assert (await client.delete(f"/v1/keys/{key_id}", headers=auth(keys, "admin"))).status_code == 204
    refused = await client.get("/v1/verification-requests", headers=bearer(key))
    assert refused.status_code == 401 and refused.headers["content-type"].startswith(PROBLEM)
    assert key_id not in [k["key_id"] for k in (await client.get("/v1/keys", headers=auth(keys, "admin"))).json()]
    assert (await client.delete(f"/v1/keys/{key_id}", headers=auth(keys, "admin"))).status_code == 404


async def test_the_list_names_every_key_and_shows_no_secret(client: httpx.AsyncClient, keys: Keys) -> None:
    key = await mint(client, keys, "issuer", country="SG")
    key_id, secret = key.split("_")[1], key.split("_", 2)[2]
    answer = await client.get("/v1/keys", headers=auth(keys, "admin"))
    assert answer.status_code == 200
    listed = {k["key_id"]: k for k in answer.json()}
    assert listed[key_id]["role"] == "issuer" and listed[key_id]["country"] == "SG"
    assert secret not in answer.text and "digest" not in answer.text and "salt" not in answer.text


async def test_only_an_admin_manages_keys(client: httpx.AsyncClient, keys: Keys) -> None:
    victim = (await mint(client, keys, "issuer", country="SG")).split("_")[1]
    for role in ("authority", "issuer", "customs", "authority_jp"):
        assert (await client.get("/v1/keys", headers=auth(keys, role))).status_code == 403, role
        assert (await client.delete(f"/v1/keys/{victim}", headers=auth(keys, role))).status_code == 403, role
    assert (await client.delete("/v1/keys/not-a-key-id", headers=auth(keys, "admin"))).status_code == 422
    assert victim in [k["key_id"] for k in (await client.get("/v1/keys", headers=auth(keys, "admin"))).json()]


async def test_the_last_admin_key_cannot_be_revoked(node_anvil: NodeProcess, tmp_path: Path) -> None:
    """On a node of its own: the session's admin keys must keep working for the other tests."""
    node = open_node(NodeConfig(data_dir=tmp_path / "node", rpc_url=node_anvil.url))
    try:
        first = (node.config.data_dir / ADMIN_KEY_FILE).read_text().strip()
        app = create_app(Settings(public_url="http://testserver"), node)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
            spare = (await http.post("/v1/keys", json={"role": "admin"}, headers=bearer(first))).json()["api_key"]
            assert (await http.delete(f"/v1/keys/{first.split('_')[1]}", headers=bearer(spare))).status_code == 204
            last = await http.delete(f"/v1/keys/{spare.split('_')[1]}", headers=bearer(spare))
            assert last.status_code == 409 and "last admin key" in last.json()["detail"]
            assert (await http.get("/v1/keys", headers=bearer(spare))).status_code == 200
            assert (await http.get("/v1/keys", headers=bearer(first))).status_code == 401
    finally:
        node.close()


async def test_a_refused_admission_leaves_no_authority_key_behind(client: httpx.AsyncClient, keys: Keys) -> None:
    """SG is admitted already: the chain refuses a second admission, and the key minted for it goes with it."""
    before = {k["key_id"] for k in (await client.get("/v1/keys", headers=auth(keys, "admin"))).json()}
    again = await client.post("/v1/governance/countries", json={"country": "SG"}, headers=auth(keys, "admin"))
    assert again.status_code == 409 and again.headers["content-type"].startswith(PROBLEM), again.text
    assert "already" in again.json()["detail"] and "api_key" not in again.text
    after = {k["key_id"] for k in (await client.get("/v1/keys", headers=auth(keys, "admin"))).json()}
    assert after == before, f"a refused admission left keys {after - before}"
