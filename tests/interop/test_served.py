"""What a node publishes for the ecosystem: its JSON-LD context and its status list in both securing mechanisms."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from registry.domain.report import Verdict
from registry.runtime import Node
from registry.vc.context import CONTEXT_PATH, context_bytes
from registry.vc.issuer import STATUS_DI_PATH, STATUS_PATH
from registry.vc.jose import parse_compact
from registry.vc.resolver import Resolver
from registry.vc.status_check import verify_status_list
from registry.vc.verify import verify_credential
from tests.interop.support import node as run_node
from tests.interop.support import requires_node, vc_issuer
from tests.registry.vc.support import CERTIFICATE, StatusHost

pytestmark = requires_node




async def test_the_context_is_served_byte_for_byte_as_immutable_json_ld(http: httpx.AsyncClient) -> None:
    answer = await http.get(CONTEXT_PATH)
    assert answer.status_code == 200 and answer.content == context_bytes()
    assert answer.headers["content-type"].startswith("application/ld+json")
    assert "immutable" in answer.headers["cache-control"] and "max-age=31536000" in answer.headers["cache-control"]
    assert (await http.get(CONTEXT_PATH + "x")).status_code == 404


async def test_the_status_list_is_published_as_a_vc_jwt_and_as_data_integrity_with_the_same_bits(
        http: httpx.AsyncClient, node: Node) -> None:
    issuer = vc_issuer(node)
    jwt, di = await http.get(STATUS_PATH), await http.get(STATUS_DI_PATH)
    assert jwt.headers["content-type"].startswith("application/vc+jwt")
    assert di.headers["content-type"].startswith("application/vc") and "jwt" not in di.headers["content-type"]
    assert jwt.headers["cache-control"] == di.headers["cache-control"] == "max-age=60"
    resolver = Resolver({issuer.key.did: issuer.did_document()})
    as_jwt, as_di = (verify_status_list(a.text, issuer.key.did, resolver) for a in (jwt, di))
    assert as_jwt["credentialSubject"]["encodedList"] == as_di["credentialSubject"]["encodedList"]
    assert (as_jwt["id"], as_di["id"]) == (issuer.status_url, issuer.status_urls["di"])
    assert parse_compact(jwt.text).header["alg"] == "Ed25519" and di.json()["proof"]["cryptosuite"] == "eddsa-jcs-2022"


async def test_a_node_credential_checks_against_the_served_list_with_digital_bazaar_and_with_ours(
        http: httpx.AsyncClient, node: Node) -> None:
    issuer = vc_issuer(node)
    now = datetime.now(UTC).replace(microsecond=0)
    secured, index = issuer.issue_secured(CERTIFICATE, "di", now)
    url = secured.credential["credentialStatus"]["statusListCredential"]
    assert url == issuer.base_url + STATUS_DI_PATH

    async def theirs() -> list[bool]:
        served = (await http.get(STATUS_DI_PATH)).json()
        answer = run_node("di_verify.mjs", {"credential": secured.secured, "status": "bitstring",
                                            "documents": {issuer.key.did: issuer.did_document(), url: served}})
        assert answer["ok"] and answer["verified"], answer
        return list(answer["statuses"])

    async def ours() -> Verdict:
        host = StatusHost()
        host.publish(url, (await http.get(STATUS_DI_PATH)).text)
        return verify_credential(secured.secured, resolver=Resolver({issuer.key.did: issuer.did_document()}),
                                 status_fetcher=host, trusted_issuers={"SG": {issuer.key.did}}, now=now).verdict

    assert await theirs() == [False] and await ours() is Verdict.VALID
    issuer.revoke(index)
    assert await theirs() == [True] and await ours() is Verdict.REVOKED
