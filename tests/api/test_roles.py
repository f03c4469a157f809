"""Role boundaries: who may call what, through HTTP."""

from __future__ import annotations

import httpx
import pytest

from tests.support.consortium import example
from tests.support.http import anchored, assert_problem, auth


async def jp_issuer(client: httpx.AsyncClient, keys: dict[str, dict[str, str]]) -> dict[str, str]:
    answer = await client.post("/v1/governance/issuers", json={"label": "Japan Chamber (test)"},
                               headers=auth(keys, "authority_jp"))
    assert answer.status_code == 201, answer.text
    return {"Authorization": f"Bearer {answer.json()['api_key']}"}


async def anchored_sg_certificate(client: httpx.AsyncClient, keys: dict[str, dict[str, str]]) -> str:
    created = (await client.post("/v1/certificates", json=example(), headers=auth(keys, "issuer"))).json()
    await anchored(client, auth(keys, "issuer"), created["id"])
    return str(created["id"])


async def test_without_a_key_the_answer_is_401(client: httpx.AsyncClient) -> None:
    answer = await client.post("/v1/certificates", json=example())
    assert_problem(answer, 401, "API key")
    assert answer.headers["www-authenticate"] == "Bearer"
    assert_problem(await client.post("/v1/certificates", json=example(), headers={"Authorization": "Bearer coo_x_y"}),
                   401, "invalid")


@pytest.mark.parametrize("role", ["admin", "authority", "customs"])
async def test_only_issuer_keys_register(client: httpx.AsyncClient, keys: dict[str, dict[str, str]], role: str) -> None:
    assert_problem(await client.post("/v1/certificates", json=example(), headers=auth(keys, role)), 403, "issuer key")


async def test_an_issuer_certifies_only_its_own_countrys_exports(
    client: httpx.AsyncClient, keys: dict[str, dict[str, str]]
) -> None:
    assert_problem(await client.post("/v1/certificates", json=example(), headers=await jp_issuer(client, keys)),
                   403, "exports from JP")


async def test_another_countrys_issuer_or_authority_cannot_revoke(
    client: httpx.AsyncClient, keys: dict[str, dict[str, str]]
) -> None:
    certificate = await anchored_sg_certificate(client, keys)
    for headers in (await jp_issuer(client, keys), auth(keys, "authority_jp"), auth(keys, "customs")):
        answer = await client.post(f"/v1/certificates/{certificate}/revoke", json={"reason": "fraud"}, headers=headers)
        assert answer.status_code == 403, answer.text
    answer = await client.post(f"/v1/certificates/{certificate}/revoke", json={"reason": "fraud"},
                               headers=auth(keys, "authority"))
    assert answer.status_code == 200 and answer.json()["status"] == "revoked"


async def test_who_may_read_a_certificate(client: httpx.AsyncClient, keys: dict[str, dict[str, str]]) -> None:
    certificate = await anchored_sg_certificate(client, keys)
    for role in ("issuer", "authority", "customs", "admin"):
        assert (await client.get(f"/v1/certificates/{certificate}", headers=auth(keys, role))).status_code == 200
    for headers in (await jp_issuer(client, keys), auth(keys, "authority_jp")):
        assert_problem(await client.get(f"/v1/certificates/{certificate}", headers=headers), 404, "not found")
    assert_problem(await client.get(f"/v1/certificates/{certificate}/document", headers=auth(keys, "customs")), 403)


async def test_governance_is_for_admins_and_authorities(
        client: httpx.AsyncClient, keys: dict[str, dict[str, str]]) -> None:
    assert_problem(await client.post("/v1/governance/countries", json={"country": "DE"},
                                     headers=auth(keys, "issuer")), 403)
    assert_problem(await client.post("/v1/governance/issuers", json={"label": "x"}, headers=auth(keys, "admin")), 403)
    assert_problem(await client.post("/v1/keys", json={"role": "admin"}, headers=auth(keys, "authority")), 403)


async def test_an_authority_cannot_suspend_another_countrys_issuer(
    client: httpx.AsyncClient, keys: dict[str, dict[str, str]]
) -> None:
    issuer = keys["issuer"]["account"]
    answer = await client.post(f"/v1/governance/issuers/{issuer}/suspend", headers=auth(keys, "authority_jp"))
    body = assert_problem(answer, 409, f"{keys['authority_jp']['account']} is not the competent authority of SG")
    assert body["code"] == body["contract_error"] == "TrustRegistryNotCountryAuthority"


async def test_a_suspended_issuer_is_refused_and_reinstated(
        client: httpx.AsyncClient, keys: dict[str, dict[str, str]]) -> None:
    jp = await jp_issuer(client, keys)
    authority = auth(keys, "authority_jp")
    key = jp["Authorization"].removeprefix("Bearer ")
    account = next(v for v in [await _account_of(client, keys, key)] if v)
    suspended = await client.post(f"/v1/governance/issuers/{account}/suspend", headers=authority)
    assert suspended.status_code == 204, suspended.text
    certificate = example("rcep-sg-jp", exporting_country="JP", importing_country="SG")
    certificate["exporter"] = {**certificate["exporter"], "country": "JP"}  # type: ignore[dict-item]
    certificate["transport"] = {"mode": "4", "port_of_loading": "JPTYO", "port_of_discharge": "SGSIN"}
    assert_problem(await client.post("/v1/certificates", json=certificate, headers=jp), 403, "not authorised")
    reinstated = await client.post(f"/v1/governance/issuers/{account}/reinstate", headers=authority)
    assert reinstated.status_code == 204, reinstated.text
    accepted = await client.post("/v1/certificates", json=certificate, headers=jp)
    assert accepted.status_code == 202, accepted.text


async def _account_of(client: httpx.AsyncClient, keys: dict[str, dict[str, str]], api_key: str) -> str:
    app = client._transport.app  # type: ignore[attr-defined]
    return str(app.state.node.context.api_keys.authenticate(api_key).account)


@pytest.mark.parametrize("role,method,path,says", [
    ("customs", "POST", "/v1/certificates", "a customs key cannot do this; it needs an issuer key"),
    ("issuer", "POST", "/v1/keys", "an issuer key cannot do this; it needs an admin key"),
    ("authority", "POST", "/v1/governance/countries", "an authority key cannot do this; it needs an admin key"),
    ("admin", "POST", "/v1/certificates/x/utilisations", "an admin key cannot do this; it needs a customs key"),
    ("customs", "POST", "/v1/certificates/x/revoke", "it needs an issuer or authority key"),
])
async def test_a_refused_key_is_named_in_plain_english(
    client: httpx.AsyncClient, keys: dict[str, dict[str, str]], role: str, method: str, path: str, says: str
) -> None:
    answer = await client.request(method, path, json={}, headers=auth(keys, role))
    assert_problem(answer, 403, says)


def test_no_message_puts_a_before_a_vowel_sounding_role() -> None:
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    wrong = re.compile(r"\ba (admin|authority|issuer|importing|exporting|issuing|API key|erased|expired|open)\b")
    sources = (p for folder in ("registry", "api", "docs") for p in sorted((root / folder).rglob("*")))
    files = [root / "README.md", *(p for p in sources if p.suffix in (".py", ".md", ".html", ".js"))]
    found = [f"{path.relative_to(root)}:{number}: {line.strip()}" for path in files
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if wrong.search(line)]
    assert not found, found
