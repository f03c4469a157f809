"""The hybrid credential: an anchored certificate issued as a VC whose status is read on chain.

Issued by ``POST /v1/certificates/{id}/credential?format=vc+jwt|di`` on the session's node (a real Anvil),
verified by ours against the registry it trusts, its proof by Digital Bazaar's libraries, its JSON-LD by jsonld.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from registry.custody.apikeys import Role
from registry.domain.report import Verdict, VerificationReport
from registry.pipelines.verify import Verifier
from registry.runtime import Node
from registry.vc.envelope import open_credential
from registry.vc.resolver import Resolver
from registry.vc.securing import secure
from registry.vc.verify import verify_credential
from tests.interop.support import node as run_node
from tests.interop.support import requires_node, vc_issuer
from tests.registry.vc.support import StatusHost
from tests.support.consortium import example
from tests.support.http import anchored, assert_problem, auth

pytestmark = requires_node



async def _anchored_certificate(http: httpx.AsyncClient, issuer: dict[str, str]) -> str:
    created = (await http.post("/v1/certificates", json=example(), headers=issuer)).json()
    await anchored(http, issuer, created["id"])
    return str(created["id"])



def _verify(node: Node, credential: str | dict[str, Any], use_registry: bool = True) -> VerificationReport:
    issuer = vc_issuer(node).key
    return verify_credential(credential, resolver=Resolver({issuer.did: issuer.did_document()}),
                             status_fetcher=StatusHost(), trusted_issuers={"SG": {issuer.did}},
                             now=datetime.now(UTC), contexts=(vc_issuer(node).context,),
                             registry=Verifier(node.context.chain) if use_registry else None)


async def test_an_anchored_certificate_is_issued_as_a_vc_jwt_whose_status_is_read_on_chain(
        http: httpx.AsyncClient, node: Node, demo_keys: dict[str, dict[str, str]]) -> None:
    issuer = auth(demo_keys, "issuer")
    certificate_id = await _anchored_certificate(http, issuer)
    answer = await http.post(f"/v1/certificates/{certificate_id}/credential", params={"format": "vc+jwt"},
                             headers=issuer)
    assert answer.status_code == 201 and answer.headers["content-type"].startswith("application/vc+jwt")
    token = answer.text
    entry = open_credential(token).credential["credentialStatus"]
    record = (await http.get(f"/v1/certificates/{certificate_id}", headers=issuer)).json()
    assert entry["type"] == "CertificateRegistryStatus" and entry["documentHash"] == record["document_hash"]
    assert (entry["chainId"], entry["registry"]) == (node.context.chain.chain_id, node.context.chain.address)
    report = _verify(node, token)
    assert report.verdict is Verdict.VALID, report.summary
    assert report.check("anchored").status == "pass" and report.check("status").reason.startswith("on chain")
    assert "on chain: authorised" in report.check("issuer_authorised").reason

    revoked = await http.post(f"/v1/certificates/{certificate_id}/revoke", json={"reason": "fraud"}, headers=issuer)
    assert revoked.status_code == 200, revoked.text
    report = _verify(node, token)
    assert report.verdict is Verdict.REVOKED and "REVOKED" in report.check("status").reason
    assert_problem(await http.post(f"/v1/certificates/{certificate_id}/credential", headers=issuer), 409, "revoked")


async def test_the_data_integrity_form_verifies_with_ours_and_digital_bazaar_and_expands_as_json_ld(
        http: httpx.AsyncClient, node: Node, demo_keys: dict[str, dict[str, str]]) -> None:
    issuer = auth(demo_keys, "issuer")
    certificate_id = await _anchored_certificate(http, issuer)
    answer = await http.post(f"/v1/certificates/{certificate_id}/credential?format=di", headers=issuer)
    assert answer.status_code == 201 and answer.headers["content-type"].startswith("application/vc")
    credential = answer.json()
    assert _verify(node, credential).verdict is Verdict.VALID
    assert _verify(node, credential, use_registry=False).verdict is Verdict.UNAVAILABLE
    did = vc_issuer(node).key.did
    theirs = run_node("di_verify.mjs", {"credential": credential, "documents": {did: vc_issuer(node).did_document()},
                                        "status": "skip"})
    assert theirs["ok"] and theirs["verified"], theirs
    expanded = run_node("expand.mjs", {"credential": credential})
    assert expanded["ok"] and expanded["leavesOut"] == expanded["leavesIn"], expanded


@pytest.mark.parametrize("change", [{"registry": "0x" + "11" * 20}, {"chainId": 1}], ids=["contract", "chain"])
async def test_a_hybrid_credential_naming_another_registry_is_refused(
        http: httpx.AsyncClient, node: Node, demo_keys: dict[str, dict[str, str]], change: dict[str, Any]) -> None:
    issuer = auth(demo_keys, "issuer")
    certificate_id = await _anchored_certificate(http, issuer)
    token = (await http.post(f"/v1/certificates/{certificate_id}/credential?format=vc+jwt", headers=issuer)).text
    credential = open_credential(token).credential
    credential["credentialStatus"] |= change  # signed again with the node's own key: only the registry is wrong
    forged = secure(credential, vc_issuer(node).key, "vc+jwt", datetime.now(UTC)).secured
    assert isinstance(forged, str)
    report = _verify(node, forged)
    assert report.verdict is Verdict.INVALID and "this verifier trusts" in report.check("status").reason


async def test_a_hybrid_credential_whose_proof_leads_to_another_root_is_refused(
        http: httpx.AsyncClient, node: Node, demo_keys: dict[str, dict[str, str]]) -> None:
    issuer = auth(demo_keys, "issuer")
    certificate_id = await _anchored_certificate(http, issuer)
    credential = (await http.post(f"/v1/certificates/{certificate_id}/credential?format=di", headers=issuer)).json()
    unsecured = {k: v for k, v in credential.items() if k != "proof"}
    unsecured["credentialStatus"]["batchProof"] = ["0x" + "22" * 32]
    report = _verify(node, secure(unsecured, vc_issuer(node).key, "di", datetime.now(UTC)).secured)
    assert report.verdict is Verdict.INVALID and report.check("anchored").status == "fail"


async def test_only_the_issuer_of_an_anchored_certificate_gets_its_credential(
        http: httpx.AsyncClient, node: Node, demo_keys: dict[str, dict[str, str]]) -> None:
    issuer = auth(demo_keys, "issuer")
    certificate_id = await _anchored_certificate(http, issuer)
    path = f"/v1/certificates/{certificate_id}/credential"
    jp_authority = node.context.api_keys.authenticate(demo_keys["authority_jp"]["api_key"])
    _, other_issuer = node.governance.authorise_issuer(jp_authority, "JP issuer (hybrid)", None)
    assert_problem(await http.post(path, headers={"Authorization": f"Bearer {other_issuer}"}), 404)
    assert_problem(await http.post(path, headers=auth(demo_keys, "customs")), 403)
    assert_problem(await http.post(path), 401)
    assert_problem(await http.post("/v1/certificates/no-such-certificate/credential", headers=issuer), 404)
    refused = assert_problem(await http.post(f"{path}?format=xml", headers=issuer), 422, "format")
    assert json.dumps(refused).count("vc+jwt") >= 1
    customs = node.context.api_keys.mint(Role.CUSTOMS, country="JP", label="hybrid")
    assert_problem(await http.post(path, headers={"Authorization": f"Bearer {customs}"}), 403)


async def test_an_erased_certificate_gets_no_credential_and_its_old_one_shows_no_contents(
        http: httpx.AsyncClient, node: Node, demo_keys: dict[str, dict[str, str]]) -> None:
    issuer = auth(demo_keys, "issuer")
    certificate_id = await _anchored_certificate(http, issuer)
    token = (await http.post(f"/v1/certificates/{certificate_id}/credential", headers=issuer)).text
    assert (await http.post(f"/v1/certificates/{certificate_id}/erase", headers=issuer)).status_code == 200
    assert_problem(await http.post(f"/v1/certificates/{certificate_id}/credential", headers=issuer), 409, "erased")
    report = _verify(node, token)
    assert report.verdict is Verdict.ERASED and report.disclosed is None
