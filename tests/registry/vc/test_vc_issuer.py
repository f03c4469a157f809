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


def test_an_issuance_appends_one_journal_line_instead_of_rewriting_the_list(tmp_path: Path) -> None:
    issuer = _issuer(tmp_path)
    for _ in range(3):
        issuer.issue(CERTIFICATE, ISSUED_AT)
    issuer.revoke(next(iter(issuer.status.assigned)))
    assert not (tmp_path / "vc-status-list.json").exists()  # no whole-list rewrite per change
    lines = (tmp_path / "vc-status-journal.log").read_text().splitlines()
    assert [line.split()[0] for line in lines] == ["a", "a", "a", "r"]


def test_the_journal_is_compacted_into_a_snapshot_and_a_restart_replays_both(tmp_path: Path) -> None:
    from registry.vc.status_store import StatusStore

    issuer = _issuer(tmp_path)
    issuer._store = StatusStore(tmp_path, compact_every=2)
    first = issuer.issue(CERTIFICATE, ISSUED_AT)
    issuer.issue(CERTIFICATE, ISSUED_AT)  # second line: compacted
    issuer.revoke(first.status_index)  # one line after the snapshot
    issuer.close()
    assert (tmp_path / "vc-status-list.json").exists()
    assert len((tmp_path / "vc-status-journal.log").read_text().splitlines()) == 1
    again = _issuer(tmp_path)
    assert again.status.assigned == issuer.status.assigned and again.status.get(first.status_index)


def test_a_journal_line_cut_short_by_a_crash_is_ignored(tmp_path: Path) -> None:
    issuer = _issuer(tmp_path)
    issued = issuer.issue(CERTIFICATE, ISSUED_AT)
    issuer.close()
    with open(tmp_path / "vc-status-journal.log", "a") as journal:
        journal.write("r 1 ")
    again = _issuer(tmp_path)
    assert again.status.assigned == {issued.status_index} and again.status.count() == 0


def test_a_full_list_rolls_over_to_a_new_list_published_at_its_own_url(tmp_path: Path) -> None:
    issuer = _issuer(tmp_path)
    for _ in range(issuer.status.size):
        issuer.allocate()
    issued = issuer.issue(CERTIFICATE, ISSUED_AT)
    assert issued.status_list == 2 and len(issuer.lists) == 2
    assert issued.credential["credentialStatus"]["statusListCredential"] == BASE_URL + "/v1/status-lists/revocation-2"
    issuer.revoke(issued.status_index, 2)
    assert parse_compact(issuer.status_list(NOW, 2)).payload["id"] == BASE_URL + "/v1/status-lists/revocation-2"
    issuer.close()
    again = _issuer(tmp_path)
    assert len(again.lists) == 2 and again.lists[1].get(issued.status_index)
    assert len(again.lists[0].assigned) == again.lists[0].size
