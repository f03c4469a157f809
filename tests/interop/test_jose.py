"""vc+jwt both ways with npm ``jose``: ours verify with it; what it signs with our key verifies with ours."""

from __future__ import annotations

from typing import Any

import pytest

from registry.domain.report import Verdict
from registry.vc.keys import IssuerKey, public_jwk
from registry.vc.status_list import StatusList, issue_status_list_credential
from tests.interop.support import node, private_jwk, requires_node
from tests.registry.vc.support import ISSUED_AT, STATUS_URL, World, make_world

pytestmark = requires_node


def _their_token(world: World, header: dict[str, Any], signer: IssuerKey | None = None) -> str:
    answer = node("jose_sign.mjs", {"payload": world.issued.credential, "jwk": private_jwk(signer or world.issuer),
                                    "header": header})
    assert answer["ok"], answer
    token: str = answer["token"]
    return token


def test_our_certificate_credential_verifies_with_jose_under_the_ed25519_name() -> None:
    world = make_world()
    answer = node("jose_verify.mjs", {"token": world.issued.jwt, "jwk": public_jwk(world.issuer.public_bytes)})
    assert answer["ok"], answer
    assert answer["header"] == {"alg": "Ed25519", "typ": "vc+jwt", "cty": "vc", "kid": world.issuer.kid}
    assert answer["payload"] == world.issued.credential


def test_our_status_list_credential_verifies_with_jose() -> None:
    issuer = IssuerKey.generate()
    signed = issue_status_list_credential(StatusList(), issuer, STATUS_URL, ISSUED_AT)
    answer = node("jose_verify.mjs", {"token": signed.jwt, "jwk": public_jwk(issuer.public_bytes)})
    assert answer["ok"] and answer["payload"] == signed.credential


def test_jose_refuses_our_token_under_another_key() -> None:
    world = make_world()
    answer = node("jose_verify.mjs", {"token": world.issued.jwt, "jwk": public_jwk(IssuerKey.generate().public_bytes)})
    assert not answer["ok"] and "signature verification failed" in answer["error"]


@pytest.mark.parametrize("header", [
    {"alg": "Ed25519", "typ": "vc+jwt", "kid": "FULL"},
    {"alg": "EdDSA", "typ": "vc+jwt", "cty": "vc", "kid": "FULL"},
    {"alg": "Ed25519", "typ": "application/vc+jwt", "kid": "FULL"},
    {"alg": "Ed25519", "typ": "VC+JWT", "kid": "FRAGMENT"},
    {"alg": "Ed25519", "typ": "Application/VC+JWT"},
], ids=["as-we-sign", "eddsa", "application-prefix", "upper-case-fragment-kid", "no-kid-one-key"])
def test_a_token_jose_signs_with_our_key_verifies_with_ours(header: dict[str, Any]) -> None:
    world = make_world()
    kid = {"FULL": world.issuer.kid, "FRAGMENT": "#" + world.issuer.kid.split("#")[1]}.get(header.get("kid", ""))
    header = {k: v for k, v in header.items() if k != "kid"} | ({"kid": kid} if kid else {})
    report = world.verify(_their_token(world, header))
    assert report.verdict is Verdict.VALID, report.summary
    assert report.check("integrity").details["kid"] == world.issuer.kid


def test_a_did_key_issuer_needs_no_kid() -> None:
    issuer = IssuerKey.generate()
    world = make_world(issuer=issuer)
    world.trust["SG"] = {issuer.did}
    report = world.verify(_their_token(world, {"alg": "Ed25519", "typ": "vc+jwt"}))
    assert report.verdict is Verdict.VALID, report.summary


@pytest.mark.parametrize(("header", "complaint"), [
    ({"alg": "Ed25519", "typ": "jwt", "kid": "FULL"}, "not vc+jwt"),
    ({"alg": "Ed25519", "typ": "application/vc+jwt+extra", "kid": "FULL"}, "not vc+jwt"),
    ({"alg": "Ed25519", "typ": "vc+jwt", "kid": "did:web:attacker.example#z6Mk"}, "not a key of the issuer"),
    ({"alg": "Ed25519", "typ": "vc+jwt", "kid": "#"}, "not a key of the issuer"),
], ids=["plain-jwt", "another-media-type", "another-did", "empty-fragment"])
def test_a_token_with_a_wrong_type_or_a_foreign_key_id_is_refused(header: dict[str, Any], complaint: str) -> None:
    world = make_world()
    header = header | ({"kid": world.issuer.kid} if header["kid"] == "FULL" else {})
    report = world.verify(_their_token(world, header))
    assert report.verdict is Verdict.INVALID and complaint in report.check("integrity").reason


def test_a_token_jose_signs_with_another_key_is_refused_by_ours() -> None:
    world = make_world()
    token = _their_token(world, {"alg": "Ed25519", "typ": "vc+jwt", "kid": world.issuer.kid},
                         signer=IssuerKey.generate())
    report = world.verify(token)
    assert report.verdict is Verdict.INVALID and "signature does not match" in report.check("integrity").reason


def test_no_kid_is_refused_as_ambiguous_when_the_issuer_lists_two_keys() -> None:
    world = make_world()
    spare = IssuerKey.generate(world.issuer.did)
    document = world.issuer.did_document()
    document["verificationMethod"].append(spare.did_document()["verificationMethod"][0])
    document["assertionMethod"].append(spare.kid)
    world.did_host.documents[world.issuer.did] = document
    report = world.verify(_their_token(world, {"alg": "Ed25519", "typ": "vc+jwt"}))
    assert report.verdict is Verdict.INVALID and "ambiguous" in report.check("integrity").reason
    named = world.verify(_their_token(world, {"alg": "Ed25519", "typ": "vc+jwt", "kid": world.issuer.kid}))
    assert named.verdict is Verdict.VALID, named.summary
