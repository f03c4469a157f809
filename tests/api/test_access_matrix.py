"""Every endpoint × every role: allowed callers get 2xx, everyone else a 4xx refusal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from registry.apikeys import Role
from registry.runtime import Node
from tests.conftest import example

ROLES = ("none", "admin", "authority_a", "authority_b", "issuer_a", "issuer_b", "customs_a", "customs_b")


@pytest.fixture(scope="module")
def role_keys(node: Node, demo_keys: dict[str, dict[str, str]]) -> dict[str, str | None]:
    service = node.service
    jp_authority = service.api_keys.authenticate(demo_keys["authority_jp"]["api_key"])
    _, issuer_b = service.authorise_issuer(jp_authority, "JP issuer (matrix)", None)
    return {
        "none": None,
        "admin": demo_keys["admin"]["api_key"],
        "authority_a": demo_keys["authority"]["api_key"],
        "authority_b": demo_keys["authority_jp"]["api_key"],
        "issuer_a": demo_keys["issuer"]["api_key"],
        "issuer_b": issuer_b,
        "customs_a": service.api_keys.mint(Role.CUSTOMS, country="SG", label="SG customs (matrix)"),
        "customs_b": demo_keys["customs"]["api_key"],
    }


def certificate(node: Node, demo_keys: dict[str, dict[str, str]]) -> Any:
    service = node.service
    issuer = service.api_keys.authenticate(demo_keys["issuer"]["api_key"])
    row = service.register(issuer, [example()])[0]
    service.anchorer.flush()
    return service.store.certificate(row.id)


Request = Callable[[Any, Node], tuple[str, str, dict[str, Any]]]

# endpoint: (builds method, path, kwargs from a fresh SG→JP certificate; roles allowed)
MATRIX: dict[str, tuple[Request, set[str]]] = {
    "register": (lambda c, n: ("POST", "/v1/certificates", {"json": example()}), {"issuer_a"}),
    "register batch": (lambda c, n: ("POST", "/v1/certificates/batch", {"json": {"certificates": [example()]}}),
                       {"issuer_a"}),
    "read": (lambda c, n: ("GET", f"/v1/certificates/{c.id}", {}), {"admin", "authority_a", "issuer_a", "customs_b"}),
    "document": (lambda c, n: ("GET", f"/v1/certificates/{c.id}/document", {}), {"authority_a", "issuer_a"}),
    "qr": (lambda c, n: ("GET", f"/v1/certificates/{c.id}/qr.png", {}), {"authority_a", "issuer_a"}),
    "replace": (lambda c, n: ("POST", f"/v1/certificates/{c.id}/replace", {"json": example()}), {"issuer_a"}),
    "revoke": (lambda c, n: ("POST", f"/v1/certificates/{c.id}/revoke", {"json": {"reason": "fraud"}}),
               {"authority_a", "issuer_a"}),
    "erase": (lambda c, n: ("POST", f"/v1/certificates/{c.id}/erase", {}), {"authority_a", "issuer_a"}),
    "admit country": (lambda c, n: ("POST", "/v1/governance/countries",
                                    {"json": {"country": f"{chr(65 + len(n.service.store.path.name) % 26)}Q"}}),
                      {"admin"}),
    "authorise issuer": (lambda c, n: ("POST", "/v1/governance/issuers", {"json": {"label": "matrix"}}),
                         {"authority_a", "authority_b"}),
    "reinstate issuer": (lambda c, n: ("POST", f"/v1/governance/issuers/{c.issuer}/reinstate", {}), {"authority_a"}),
    "mint key": (lambda c, n: ("POST", "/v1/keys", {"json": {"role": "customs", "country": "KR"}}), {"admin"}),
    "verify document": (lambda c, n: ("POST", "/v1/verify",
                                      {"json": n.service.sealed_document(None, c.id).model_dump(mode="json")}),
                        set(ROLES)),
    "verify hash": (lambda c, n: ("GET", f"/v1/verify/0x{c.document_hash.hex()}", {}), set(ROLES)),
    "verify token": (lambda c, n: ("GET", f"/v/{c.id}", {}), set(ROLES)),
    "readiness": (lambda c, n: ("GET", "/readyz", {}), set(ROLES)),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", list(MATRIX))
async def test_each_endpoint_admits_exactly_its_roles(
    client: httpx.AsyncClient, node: Node, demo_keys: dict[str, dict[str, str]],
    role_keys: dict[str, str | None], endpoint: str, role: str,
) -> None:
    build, allowed = MATRIX[endpoint]
    method, path, kwargs = build(certificate(node, demo_keys), node)
    key = role_keys[role]
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    answer = await client.request(method, path, headers=headers, **kwargs)
    if role in allowed:
        assert 200 <= answer.status_code < 300, (endpoint, role, answer.text)
    else:
        expected = {401} if role == "none" else {403, 404, 409}
        assert answer.status_code in expected, (endpoint, role, answer.status_code, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
