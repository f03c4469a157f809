"""The verifiable-credential path: issue, verify, revoke; every failure in its own check."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.report import CheckStatus, Verdict
from registry.vc.credential import issue_credential, sign, status_list_credential
from registry.vc.keys import IssuerKey, Resolver, did_document, did_key, did_web, did_web_url, public_key_of_did_key
from registry.vc.status_list import MIN_ENTRIES, StatusList, StatusListError
from registry.vc.verify import StatusUnavailable, verify_credential

CERTIFICATE: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[3] / "examples" / "rcep-sg-jp.json").read_text())
STATUS_URL = "https://issuer.example/status/1"
NOW = datetime(2026, 11, 23, tzinfo=UTC)


class StatusHost:
    """An in-memory status list host that can be taken down."""

    def __init__(self) -> None:
        self.published: dict[str, str] = {}
        self.up = True

    def publish(self, url: str, token: str) -> None:
        self.published[url] = token

    def fetch(self, url: str) -> str:
        if not self.up:
            raise StatusUnavailable("status host down")
        return self.published[url]


@pytest.fixture
def world() -> dict[str, Any]:
    issuer = IssuerKey.generate(did_web("issuer.example"))
    status = StatusList()
    host = StatusHost()
    issued = issue_credential(CERTIFICATE, issuer, status, STATUS_URL)
    host.publish(STATUS_URL, status_list_credential(status, issuer, STATUS_URL)[0])
    resolver = Resolver({issuer.did: did_document(issuer.did, issuer.public_bytes)})
    return {"issuer": issuer, "status": status, "host": host, "issued": issued, "resolver": resolver,
            "trust": {"SG": {issuer.did}}}


def check(world: dict[str, Any], token: str | None = None, now: datetime = NOW) -> Any:
    return verify_credential(token or world["issued"].jwt, resolver=world["resolver"], status_fetcher=world["host"],
                             trusted_issuers=world["trust"], now=now)


def test_an_issued_credential_verifies_valid(world: dict[str, Any]) -> None:
    report = check(world)
    assert report.verdict is Verdict.VALID, report.summary
    assert report.check("anchored").status is CheckStatus.SKIPPED
    assert report.disclosed == CERTIFICATE
    header = json.loads(base64.urlsafe_b64decode(world["issued"].jwt.split(".")[0] + "=="))
    assert header["typ"] == "vc+jwt" and header["kid"].startswith(world["issuer"].did)
    assert world["issued"].credential["@context"][0] == "https://www.w3.org/ns/credentials/v2"


def test_revocation_shows_once_the_list_is_republished(world: dict[str, Any]) -> None:
    world["status"].set(world["issued"].status_index)
    assert check(world).verdict is Verdict.VALID  # the host still serves the old list
    world["host"].publish(STATUS_URL, status_list_credential(world["status"], world["issuer"], STATUS_URL)[0])
    report = check(world)
    assert report.verdict is Verdict.REVOKED and report.check("status").status is CheckStatus.FAIL


def test_a_tampered_payload_fails_integrity(world: dict[str, Any]) -> None:
    head, body, signature = world["issued"].jwt.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["credentialSubject"]["goods"][0]["quantity"] = "99999"
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    report = check(world, f"{head}.{forged}.{signature}")
    assert report.verdict is Verdict.INVALID and report.check("integrity").status is CheckStatus.FAIL


def test_a_credential_signed_with_another_key_fails_integrity(world: dict[str, Any]) -> None:
    impostor = IssuerKey(IssuerKey.generate().private_key, world["issuer"].did)
    token = issue_credential(CERTIFICATE, impostor, StatusList(), STATUS_URL).jwt
    report = check(world, token)
    assert report.verdict is Verdict.INVALID and "signature" in report.check("integrity").reason


def test_an_untrusted_issuer_is_invalid(world: dict[str, Any]) -> None:
    world["trust"] = {"SG": set()}
    report = check(world)
    assert report.verdict is Verdict.INVALID and report.check("issuer_authorised").status is CheckStatus.FAIL


def test_an_expired_credential_is_expired(world: dict[str, Any]) -> None:
    report = check(world, now=NOW + timedelta(days=800))
    assert report.verdict is Verdict.EXPIRED and report.check("validity").status is CheckStatus.FAIL


def test_a_status_list_under_131072_entries_is_refused(world: dict[str, Any]) -> None:
    with pytest.raises(StatusListError):
        StatusList(size=MIN_ENTRIES - 8)
    short = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(1024))).rstrip(b"=").decode()
    _, credential = status_list_credential(world["status"], world["issuer"], STATUS_URL)
    credential["credentialSubject"]["encodedList"] = short
    world["host"].publish(STATUS_URL, sign(credential, world["issuer"]))
    report = check(world)
    assert report.verdict is Verdict.INVALID and "at least 131072" in report.check("status").reason


def test_an_unreachable_status_host_gives_unavailable(world: dict[str, Any]) -> None:
    world["host"].up = False
    report = check(world)
    assert report.verdict is Verdict.UNAVAILABLE and report.check("status").status is CheckStatus.SKIPPED


def test_an_unreachable_did_host_gives_unavailable(world: dict[str, Any]) -> None:
    world["resolver"] = Resolver({})  # did:web with no network and no cached document
    assert check(world).verdict is Verdict.UNAVAILABLE


def test_did_key_round_trips_and_verifies_offline() -> None:
    issuer = IssuerKey.generate()
    assert issuer.did.startswith("did:key:z6Mk") and public_key_of_did_key(issuer.did) == issuer.public_bytes
    assert did_key(issuer.public_bytes) == issuer.did
    status, host = StatusList(), StatusHost()
    host.publish(STATUS_URL, status_list_credential(status, issuer, STATUS_URL)[0])
    token = issue_credential(CERTIFICATE, issuer, status, STATUS_URL).jwt
    report = verify_credential(token, resolver=Resolver(), status_fetcher=host, trusted_issuers={"SG": {issuer.did}},
                               now=NOW)
    assert report.verdict is Verdict.VALID


def test_did_web_maps_to_its_well_known_url() -> None:
    assert did_web("127.0.0.1:8000") == "did:web:127.0.0.1%3A8000"
    assert did_web_url("did:web:127.0.0.1%3A8000", "http") == "http://127.0.0.1:8000/.well-known/did.json"
    assert did_web_url(did_web("example.org", "issuers/sg")) == "https://example.org/issuers/sg/did.json"


def test_an_empty_16_kib_list_compresses_to_a_few_hundred_bytes() -> None:
    encoded = StatusList().encode()
    assert encoded.startswith("u") and len(encoded) < 300
    assert StatusList.decode(encoded).size == MIN_ENTRIES


@settings(max_examples=30, deadline=None)
@given(st.sets(st.integers(0, MIN_ENTRIES - 1), max_size=200))
def test_any_set_of_revocations_survives_encoding(indexes: set[int]) -> None:
    status = StatusList()
    for index in indexes:
        status.set(index)
    decoded = StatusList.decode(status.encode())
    assert {i for i in indexes if decoded.get(i)} == indexes
    assert sum(bin(b).count("1") for b in decoded.bits) == len(indexes)


def test_indexes_are_random_and_never_reused() -> None:
    status = StatusList()
    drawn = [status.allocate() for _ in range(2000)]
    assert len(set(drawn)) == 2000 and drawn != sorted(drawn)
