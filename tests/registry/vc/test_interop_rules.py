"""The rules issue #17 settles: context URLs, typ media types, kid forms, the validity default, both securings."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from registry.custody.keys import load_or_create_kek
from registry.domain.certificate import parse_certificate
from registry.domain.report import Verdict
from registry.vc.context import (
    CONTEXT_PATH,
    DEFAULT_CONTEXT_BASE,
    DEFAULT_CONTEXT_URL,
    accepted_contexts,
    context_base,
    context_url,
)
from registry.vc.credential import build_credential, default_valid_until, secure_credential
from registry.vc.errors import DidResolutionError
from registry.vc.issuer import STATUS_DI_PATH, STATUS_PATH, VcIssuer
from registry.vc.jose import media_type
from registry.vc.keys import IssuerKey, did_web
from registry.vc.resolver import resolve_signing_key
from registry.vc.securing import secure
from registry.vc.status_list import StatusAllocation, build_status_list_credential
from tests.registry.vc.support import CERTIFICATE, ISSUED_AT, NOW, STATUS_URL, DidHost, World, make_world

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


# -- the context URL ---------------------------------------------------------------------------


@pytest.mark.parametrize(("public_url", "base"), [
    (None, DEFAULT_CONTEXT_BASE), ("http://127.0.0.1:8000", DEFAULT_CONTEXT_BASE),
    ("http://localhost:8000/", DEFAULT_CONTEXT_BASE), ("http://[::1]:8000", DEFAULT_CONTEXT_BASE),
    ("https://coo.customs.gov.sg/", "https://coo.customs.gov.sg"), ("https://coo.example:8443", "https://coo.example:8443"),
])
def test_credentials_name_the_context_under_the_public_url_unless_it_is_loopback(public_url: str | None,
                                                                                 base: str) -> None:
    assert context_base(public_url) == base
    assert context_url(base) == base + CONTEXT_PATH


def test_a_verifier_accepts_the_context_it_was_given_and_the_one_at_a_did_web_issuers_origin() -> None:
    assert accepted_contexts("did:web:coo.customs.gov.sg", [DEFAULT_CONTEXT_URL]) == {
        DEFAULT_CONTEXT_URL, "https://coo.customs.gov.sg" + CONTEXT_PATH}
    assert accepted_contexts("did:web:coo.customs.gov.sg:issuers:sg", []) == {
        "https://coo.customs.gov.sg" + CONTEXT_PATH}
    assert accepted_contexts(IssuerKey.generate().did, [DEFAULT_CONTEXT_URL]) == {DEFAULT_CONTEXT_URL}
    assert accepted_contexts("did:web:-bad-", []) == frozenset()


def _resigned(world: World, changes: dict[str, Any]) -> str:
    credential = copy.deepcopy(world.issued.credential) | changes
    return secure_credential(credential, world.issuer)


@pytest.mark.parametrize("context", [
    ["https://www.w3.org/ns/credentials/v2", "https://attacker.example" + CONTEXT_PATH],
    ["https://www.w3.org/ns/credentials/v2", DEFAULT_CONTEXT_URL, {"certificate_number": "https://a.example/n"}],
    ["https://www.w3.org/ns/credentials/v2"],
    ["https://www.w3.org/ns/credentials/v2", DEFAULT_CONTEXT_URL, "https://www.w3.org/ns/credentials/examples/v2"],
], ids=["another-host", "redefinition", "ours-missing", "one-more"])
def test_a_validly_signed_credential_with_contexts_the_verifier_does_not_know_is_refused(context: list[Any]) -> None:
    world = make_world()
    report = world.verify(_resigned(world, {"@context": context}))
    assert report.verdict is Verdict.INVALID and "will not guess" in report.check("integrity").reason


def test_a_node_with_a_public_url_names_its_own_context_and_a_verifier_trusting_it_accepts_it(tmp_path: Path) -> None:
    issuer = VcIssuer(tmp_path, load_or_create_kek(tmp_path / "kek"), did_web("coo.customs.gov.sg"),
                      "https://coo.customs.gov.sg")
    issued = issuer.issue(CERTIFICATE, ISSUED_AT)
    assert issued.credential["@context"][1] == "https://coo.customs.gov.sg" + CONTEXT_PATH
    world = make_world(issuer=issuer.key)
    world.status_host.publish(issuer.status_url, issuer.status_list(NOW))
    assert world.verify(issued.jwt).verdict is Verdict.VALID


# -- typ and kid -------------------------------------------------------------------------------


@pytest.mark.parametrize(("typ", "full"), [
    ("vc+jwt", "application/vc+jwt"), ("VC+JWT", "application/vc+jwt"), ("application/vc+jwt", "application/vc+jwt"),
    ("Application/VC+JWT", "application/vc+jwt"), ("JWT", "application/jwt"), ("text/vc+jwt", "text/vc+jwt"),
    (42, None), (None, None),
])
def test_media_types_are_compared_case_insensitively_with_application_implied(typ: object, full: str | None) -> None:
    assert media_type(typ) == full


def test_a_key_is_found_by_full_id_by_fragment_or_as_the_only_assertion_key() -> None:
    issuer = IssuerKey.generate(did_web("coo.customs.gov.sg"))
    host = DidHost({issuer.did: issuer.did_document()})
    for kid in (issuer.kid, "#" + issuer.kid.split("#")[1], ""):
        method, key = resolve_signing_key(host, issuer.did, kid)
        assert method == issuer.kid and key.public_bytes_raw() == issuer.public_bytes


def test_no_kid_is_ambiguous_when_the_document_lists_two_assertion_keys() -> None:
    issuer, spare = IssuerKey.generate(did_web("coo.customs.gov.sg")), IssuerKey.generate(did_web("coo.customs.gov.sg"))
    document = issuer.did_document()
    document["verificationMethod"] += spare.did_document()["verificationMethod"]
    document["assertionMethod"] += [spare.kid]
    with pytest.raises(DidResolutionError, match="ambiguous"):
        resolve_signing_key(DidHost({issuer.did: document}), issuer.did, "")
    assert resolve_signing_key(DidHost({issuer.did: document}), issuer.did, spare.kid)[0] == spare.kid


def test_a_kid_of_another_did_is_refused_before_anything_is_resolved() -> None:
    issuer = IssuerKey.generate(did_web("coo.customs.gov.sg"))
    host = DidHost({issuer.did: issuer.did_document()})
    for kid in ("did:web:attacker.example#z6Mk", "#", issuer.did + "#", "z6Mk", issuer.did + "x#z6Mk"):
        with pytest.raises(DidResolutionError, match="not a key of the issuer"):
            resolve_signing_key(host, issuer.did, kid)
    assert host.lookups == []


# -- the validity default ------------------------------------------------------------------------


def test_a_certificate_without_valid_until_gets_the_chain_paths_default_in_its_subject() -> None:
    raw = json.loads((EXAMPLES / "non-preferential-chamber.json").read_text())
    assert "valid_until" not in raw
    credential = build_credential(raw, issuer_did="did:web:kenya.example", status=StatusAllocation(STATUS_URL, 1),
                                  now=ISSUED_AT)
    chain_path = parse_certificate(raw).to_json()["valid_until"]
    assert credential["credentialSubject"]["valid_until"] == chain_path == "2027-11-10"
    assert credential["validUntil"] == "2027-11-10T23:59:59Z"
    assert "valid_until" not in raw  # the caller's dict is left as it was


@pytest.mark.parametrize("issued", [date(2028, 2, 29), date(2026, 1, 31), date(2026, 12, 31)])
def test_the_default_is_the_same_day_the_chain_path_gives_even_at_month_ends(issued: date) -> None:
    raw = json.loads((EXAMPLES / "non-preferential-chamber.json").read_text())
    raw |= {"issue_date": issued.isoformat(), "certification": raw["certification"] | {"date": issued.isoformat()},
            "exporter_declaration": raw["exporter_declaration"] | {"date": issued.isoformat()}}
    for item in raw["goods"]:
        item["invoice_date"] = issued.isoformat()
    raw["transport"]["departure_date"] = issued.isoformat()
    assert default_valid_until(issued).isoformat() == parse_certificate(raw).to_json()["valid_until"]


# -- both securing mechanisms --------------------------------------------------------------------


@pytest.fixture
def node_issuer(tmp_path: Path) -> VcIssuer:
    return VcIssuer(tmp_path, load_or_create_kek(tmp_path / "kek"), did_web("coo.customs.gov.sg"),
                    "https://coo.customs.gov.sg")


def test_each_credential_points_at_the_list_secured_its_own_way(node_issuer: VcIssuer) -> None:
    jwt, _ = node_issuer.issue_secured(CERTIFICATE, "vc+jwt", ISSUED_AT)
    di, _ = node_issuer.issue_secured(CERTIFICATE, "di", ISSUED_AT)
    assert jwt.credential["credentialStatus"]["statusListCredential"] == "https://coo.customs.gov.sg" + STATUS_PATH
    assert di.credential["credentialStatus"]["statusListCredential"] == "https://coo.customs.gov.sg" + STATUS_DI_PATH
    assert isinstance(jwt.secured, str) and isinstance(di.secured, dict) and di.secured["proof"]["verificationMethod"] \
        == node_issuer.key.kid


def test_a_data_integrity_credential_verifies_against_the_data_integrity_list_and_shows_revocation(
        node_issuer: VcIssuer) -> None:
    secured, index = node_issuer.issue_secured(CERTIFICATE, "di", ISSUED_AT)
    world = make_world(issuer=node_issuer.key)
    url = node_issuer.status_urls["di"]
    world.status_host.publish(url, node_issuer.published_list("di", NOW).body().decode())
    report = world.verify(json.dumps(secured.secured))
    assert report.verdict is Verdict.VALID, report.summary
    assert report.check("integrity").details["securing"] == "di"
    node_issuer.revoke(index)
    world.status_host.publish(url, node_issuer.published_list("di", NOW).body().decode())
    assert world.verify(json.dumps(secured.secured)).verdict is Verdict.REVOKED


def test_an_altered_or_foreign_data_integrity_credential_is_refused(node_issuer: VcIssuer) -> None:
    secured, _ = node_issuer.issue_secured(CERTIFICATE, "di", ISSUED_AT)
    assert isinstance(secured.secured, dict)
    world = make_world(issuer=node_issuer.key)
    altered = copy.deepcopy(secured.secured)
    altered["credentialSubject"]["goods"][0]["quantity"] = "9600"
    report = world.verify(json.dumps(altered))
    assert report.verdict is Verdict.INVALID and "does not verify" in report.check("integrity").reason
    world.did_host.lookups.clear()
    foreign = copy.deepcopy(secured.secured)
    foreign["proof"]["verificationMethod"] = "did:web:attacker.example#z6Mk"
    report = world.verify(json.dumps(foreign))
    assert report.verdict is Verdict.INVALID and world.did_host.lookups == []


def test_a_status_list_secured_either_way_by_another_key_is_refused(node_issuer: VcIssuer) -> None:
    secured, _ = node_issuer.issue_secured(CERTIFICATE, "di", ISSUED_AT)
    impostor = IssuerKey.generate(node_issuer.key.did)  # claims the issuer's DID, holds another key
    listed = build_status_list_credential(node_issuer.status, issuer_did=impostor.did,
                                          url=node_issuer.status_urls["di"], now=NOW)
    world = make_world(issuer=node_issuer.key)
    for securing in ("di", "vc+jwt"):
        forged = secure(listed, impostor, securing, NOW).body().decode()
        world.status_host.publish(node_issuer.status_urls["di"], forged)
        report = world.verify(json.dumps(secured.secured))
        assert report.verdict is Verdict.INVALID and "rejected" in report.check("status").reason, securing


def test_the_published_lists_are_re_signed_after_a_revocation(node_issuer: VcIssuer) -> None:
    first = node_issuer.published_list("di", NOW)
    assert node_issuer.published_list("di", NOW) is first
    node_issuer.revoke(node_issuer.status.allocate())
    assert node_issuer.published_list("di", NOW) is not first
