"""Every endpoint × every role: allowed callers get 2xx, everyone else a 4xx refusal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from registry.custody.apikeys import Role
from registry.domain.reasons import RevocationReason
from registry.runtime import Node
from tests.support.consortium import example

ROLES = ("none", "admin", "authority_a", "authority_b", "issuer_a", "issuer_b", "customs_a", "customs_b")


@pytest.fixture(scope="module")
def role_keys(node: Node, demo_keys: dict[str, dict[str, str]]) -> dict[str, str | None]:
    service = node.context
    jp_authority = service.api_keys.authenticate(demo_keys["authority_jp"]["api_key"])
    _, issuer_b = node.governance.authorise_issuer(jp_authority, "JP issuer (matrix)", None)
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
    service = node.context
    issuer = service.api_keys.authenticate(demo_keys["issuer"]["api_key"])
    row = node.issuing.register(issuer, [example()])[0]
    service.anchorer.flush()
    return service.store.certificate(row.id)


def encrypted(node: Node, demo_keys: dict[str, dict[str, str]]) -> Any:
    service = node.context
    issuer = service.api_keys.authenticate(demo_keys["issuer"]["api_key"])
    row = node.issuing.register(issuer, [example()], "encrypted")[0]
    service.anchorer.flush()
    return service.store.certificate(row.id)


def open_request(node: Node, demo_keys: dict[str, dict[str, str]], certificate_id: str) -> int:
    customs = node.context.api_keys.authenticate(demo_keys["customs"]["api_key"])
    return int(node.requests.open_request(customs, certificate_id, "access matrix")["id"])


def revoke_write(node: Node, demo_keys: dict[str, dict[str, str]], certificate_id: str) -> int:
    """Revoke the certificate as its issuer; the id of that chain write."""
    issuer = node.context.api_keys.authenticate(demo_keys["issuer"]["api_key"])
    row = node.issuing.revoke(issuer, certificate_id, RevocationReason.ISSUED_IN_ERROR)
    found = node.context.store.query("SELECT max(id) FROM chain_writes WHERE lower(signer) = lower(?)", (row.issuer,))
    return int(found[0][0])


def _spare_key(node: Node) -> str:
    """The id of a fresh key nobody else uses (so revoking it harms no other test)."""
    return node.context.api_keys.mint(Role.CUSTOMS, country="KR", label="matrix spare").split("_")[1]


def _demo_keys(node: Node) -> dict[str, dict[str, str]]:
    import json

    keys: dict[str, dict[str, str]] = json.loads((node.config.data_dir / "demo-keys.json").read_text())
    return keys


DRAW = {"declaration_reference": "MATRIX-1", "date": "2026-11-23", "items": [{"item_number": 1, "quantity": "1"}]}
UNADMITTED = ("AQ", "BQ", "GQ", "MQ", "AD", "AE", "AF", "AG")  # ISO 3166-1 codes no test admits

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
    "erasure": (lambda c, n: ("GET", f"/v1/certificates/{c.id}/erasure", {}),
                {"admin", "authority_a", "issuer_a", "customs_b"}),
    "admit country": (lambda c, n: ("POST", "/v1/governance/countries",
                                    {"json": {"country":
                                              UNADMITTED[len(n.context.store.path.name) % len(UNADMITTED)]}}),
                      {"admin"}),
    "authorise issuer": (lambda c, n: ("POST", "/v1/governance/issuers", {"json": {"label": "matrix"}}),
                         {"authority_a", "authority_b"}),
    "reinstate issuer": (lambda c, n: ("POST", f"/v1/governance/issuers/{c.issuer}/reinstate", {}), {"authority_a"}),
    "name issuer": (lambda c, n: ("PUT", f"/v1/governance/issuers/{c.issuer}/name",
                                  {"json": {"name": "Matrix issuing body"}}), {"authority_a"}),
    "name authority": (lambda c, n: ("PUT", "/v1/governance/countries/JP/authority-name",
                                     {"json": {"name": "Japan Customs"}}), {"admin"}),
    "list keys": (lambda c, n: ("GET", "/v1/keys", {}), {"admin"}),
    "revoke key": (lambda c, n: ("DELETE", f"/v1/keys/{_spare_key(n)}", {}), {"admin"}),
    "mint key": (lambda c, n: ("POST", "/v1/keys", {"json": {"role": "customs", "country": "KR"}}), {"admin"}),
    "verify document": (lambda c, n: ("POST", "/v1/verify",
                                      {"json": n.issuing.sealed_document(None, c.id).model_dump(mode="json")}),
                        set(ROLES)),
    "verify hash": (lambda c, n: ("GET", f"/v1/verify/0x{c.document_hash.hex()}", {}), set(ROLES)),
    "verify token": (lambda c, n: ("GET", f"/v/{c.id}", {}), set(ROLES)),
    "code lists": (lambda c, n: ("GET", "/v1/code-lists", {}), set(ROLES)),
    "hybrid credential": (lambda c, n: ("POST", f"/v1/certificates/{c.id}/credential", {}), {"issuer_a"}),
    "readiness": (lambda c, n: ("GET", "/readyz", {}), set(ROLES)),
    "utilise": (lambda c, n: ("POST", f"/v1/certificates/{c.id}/utilisations", {"json": DRAW}), {"customs_b"}),
    "utilisation": (lambda c, n: ("GET", f"/v1/certificates/{c.id}/utilisations", {}),
                    {"admin", "authority_a", "issuer_a", "customs_b"}),
    "open verification request": (lambda c, n: ("POST", f"/v1/certificates/{c.id}/verification-requests",
                                                {"json": {"reason": "matrix"}}), {"customs_b"}),
    "list certificates": (lambda c, n: ("GET", "/v1/certificates", {}), set(ROLES) - {"none"}),
    "list verification requests": (lambda c, n: ("GET", "/v1/verification-requests", {}), set(ROLES) - {"none"}),
    "answer verification request": (
        lambda c, n: ("POST", f"/v1/verification-requests/{open_request(n, _demo_keys(n), c.id)}/answer",
                      {"json": {"answer": "confirmed"}}), {"authority_a", "issuer_a"}),
    "true copy": (lambda c, n: ("POST", f"/v1/certificates/{c.id}/true-copy", {}), {"authority_a", "issuer_a"}),
    "verification link": (lambda c, n: ("GET", f"/v1/certificates/{c.id}/verification-link", {}),
                          {"authority_a", "issuer_a"}),
    "key release": (lambda c, n: ("POST", f"/v1/certificates/{encrypted(n, _demo_keys(n)).id}/key-release", {}),
                    {"customs_b"}),
    "authorise customs": (lambda c, n: ("POST", "/v1/governance/customs", {"json": {"label": "matrix"}}),
                          {"authority_a", "authority_b"}),
    "create authority account": (lambda c, n: ("POST", "/v1/governance/authority-accounts",
                                               {"json": {"country": "KR"}}), {"admin"}),
    "chain write": (lambda c, n: ("GET", f"/v1/chain-writes/{revoke_write(n, _demo_keys(n), c.id)}", {}),
                    {"admin", "issuer_a"}),
    "set peer": (lambda c, n: ("PUT", "/v1/governance/peers/KR",
                               {"json": {"url": "http://127.0.0.1:9", "api_key": "x"}}),
                 {"admin"}),
    "verification history": (lambda c, n: ("GET", "/v1/verifications", {}), set(ROLES) - {"none"}),
    "disclose": (lambda c, n: ("POST", "/v1/disclosures",
                               {"json": {"document": n.issuing.sealed_document(None, c.id).model_dump(mode="json"),
                                         "withhold": ["goods"]}}), set(ROLES)),
    "openattestation export": (lambda c, n: ("GET", f"/v1/certificates/{c.id}/openattestation", {}),
                               {"authority_a", "issuer_a"}),
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


def test_the_matrix_covers_every_route(node: Node) -> None:
    from api.app import create_app
    from api.config import Settings

    app = create_app(Settings(data_dir=node.config.data_dir), node)
    routes = {(method.upper(), path) for path, operations in app.openapi()["paths"].items() for method in operations
              if path.startswith(("/v1/", "/v/"))}
    untested = {("GET", "/v1/certificates/{certificate_id}/qr.svg"),  # as qr.png
                ("POST", "/v1/certificates/{document_hash}/fetch"),  # needs a second node: tests/scripts
                ("POST", "/v1/certificates/{document_hash}/erasure/acknowledgements"),  # node to node: tests/scripts
                ("POST", "/v1/governance/issuers/{address}/suspend"),  # as reinstate
                ("GET", "/v1/verify"), ("GET", "/v1/verifications/{receipt_id}"),  # tests/api/test_erasure.py
                ("GET", "/v1/verification-requests/{request_id}"),  # tests/api/test_customs_to_customs.py
                ("PUT", "/v1/verification-requests/{request_id}/reason"),  # tests/scripts (node to node)
                ("GET", "/v1/status-lists/revocation-1"),  # public (VC status list): tests/registry/vc
                ("GET", "/v1/status-lists/revocation-1/data-integrity"),  # tests/interop/test_served.py
                ("POST", "/v1/certificates/{certificate_id}/proofs"),  # needs confidential figures: test_proofs.py
                ("POST", "/v1/claims")}  # needs a proof bundle: tests/api/test_proofs.py
    assert len(routes - untested) == len(MATRIX) - 1  # "readiness" is not under /v1
