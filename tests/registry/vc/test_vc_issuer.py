"""A node as a credential issuer: its key and status list survive restarts, revocations publish."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from registry.custody.keys import load_or_create_kek
from registry.domain.report import Verdict
from registry.vc.errors import CredentialFormatError
from registry.vc.issuer import STATUS_PATH, STATUS_TTL_SECONDS, VcIssuer
from registry.vc.jose import parse_compact
from registry.vc.keys import did_web
from registry.vc.resolver import Resolver
from registry.vc.verify import verify_credential
from tests.registry.vc.support import CERTIFICATE, ISSUED_AT, NOW, StatusHost

BASE_URL = "https://coo.customs.gov.sg"


def _issuer(directory: Path) -> VcIssuer:
    return VcIssuer(directory, load_or_create_kek(directory / "kek"), did_web("coo.customs.gov.sg"), BASE_URL)


def _verify(issuer: VcIssuer, token: str) -> Verdict:
    host = StatusHost()
    host.publish(issuer.status_url, issuer.status_list(NOW))
    return verify_credential(token, resolver=Resolver({issuer.key.did: issuer.did_document()}),
                             status_fetcher=host, trusted_issuers={"SG": {issuer.key.did}}, now=NOW).verdict


def test_a_node_issues_and_revokes_and_its_published_list_says_so(tmp_path: Path) -> None:
    issuer = _issuer(tmp_path)
    issued = issuer.issue(CERTIFICATE, ISSUED_AT)
    assert issued.credential["credentialStatus"]["statusListCredential"] == BASE_URL + STATUS_PATH
    assert _verify(issuer, issued.jwt) is Verdict.VALID
    issuer.revoke(issued.status_index)
    assert _verify(issuer, issued.jwt) is Verdict.REVOKED


def test_the_key_and_the_list_survive_a_restart(tmp_path: Path) -> None:
    first = _issuer(tmp_path)
    issued = first.issue(CERTIFICATE, ISSUED_AT)
    first.revoke(issued.status_index)
    again = _issuer(tmp_path)
    assert again.key.public_bytes == first.key.public_bytes
    assert again.status.get(issued.status_index) and issued.status_index in again.status.assigned
    assert again.did_document() == first.did_document()
    assert _verify(again, issued.jwt) is Verdict.REVOKED


def test_the_published_list_is_re_signed_only_after_a_change_or_half_its_validity(tmp_path: Path) -> None:
    issuer = _issuer(tmp_path)
    first = issuer.status_list(NOW)
    assert issuer.status_list(NOW + timedelta(hours=1)) == first
    assert issuer.status_list(NOW + timedelta(hours=13)) != first
    payload = parse_compact(first).payload
    assert payload["credentialSubject"]["ttl"] == STATUS_TTL_SECONDS * 1000
    assert payload["validUntil"] == "2026-11-21T09:30:00Z"


def test_a_refused_certificate_does_not_use_up_an_index(tmp_path: Path) -> None:
    issuer = _issuer(tmp_path)
    with pytest.raises(CredentialFormatError):
        issuer.issue({k: v for k, v in CERTIFICATE.items() if k != "certificate_number"}, ISSUED_AT)
    assert issuer.status.assigned == frozenset()


def test_the_did_document_names_the_key_that_signs(tmp_path: Path) -> None:
    issuer = _issuer(tmp_path)
    document = issuer.did_document()
    assert document["id"] == "did:web:coo.customs.gov.sg"
    assert document["assertionMethod"] == [document["verificationMethod"][0]["id"]] == [issuer.key.kid]
