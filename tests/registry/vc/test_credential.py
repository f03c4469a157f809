"""Certificates issued as VC Data Model 2.0 credentials secured as vc+jwt."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime, timedelta, timezone

import pytest
from joserfc import jws as joserfc_jws
from joserfc.errors import SecurityWarning
from joserfc.jwk import OKPKey

from registry.vc.credential import (
    COO_CONTEXT,
    build_credential,
    issue_credential,
    parse_instant,
    secure_credential,
)
from registry.vc.errors import CredentialFormatError
from registry.vc.jose import parse_compact, sign_compact
from registry.vc.keys import IssuerKey, did_web, public_jwk
from registry.vc.status_list import StatusAllocation, StatusList
from tests.registry.vc.support import CERTIFICATE, ISSUED_AT, STATUS_URL

ISSUER = IssuerKey.generate(did_web("coo.customs.gov.sg"))


def _jwk() -> dict[str, str | list[str]]:
    return dict(public_jwk(ISSUER.public_bytes))


def test_a_certificate_becomes_a_vc_2_credential_with_a_revocation_entry() -> None:
    status = StatusAllocation(STATUS_URL, 94567)
    issued = issue_credential(CERTIFICATE, ISSUER, status, ISSUED_AT)
    credential = issued.credential
    assert credential["@context"] == ["https://www.w3.org/ns/credentials/v2", COO_CONTEXT]
    assert credential["type"] == ["VerifiableCredential", "CertificateOfOriginCredential"]
    assert credential["issuer"] == ISSUER.did and credential["id"].startswith("urn:uuid:")
    assert (credential["validFrom"], credential["validUntil"]) == ("2026-11-10T00:00:00Z", "2027-11-09T23:59:59Z")
    assert credential["credentialSubject"] == CERTIFICATE
    assert credential["credentialStatus"] == {
        "id": f"{STATUS_URL}#94567", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
        "statusListIndex": "94567", "statusListCredential": STATUS_URL}
    assert issued.status_index == 94567


def test_the_jws_payload_is_the_credential_itself_under_a_vc_jwt_header() -> None:
    issued = issue_credential(CERTIFICATE, ISSUER, StatusList().reserve(STATUS_URL), ISSUED_AT)
    token = parse_compact(issued.jwt)
    assert token.header == {"alg": "Ed25519", "typ": "vc+jwt", "cty": "vc", "kid": ISSUER.kid}
    assert token.payload == issued.credential
    assert "vc" not in token.payload and "iss" not in token.payload
    assert ISSUER.kid.startswith(ISSUER.did + "#z6Mk")


def test_an_independent_jose_library_accepts_the_signature_under_the_fully_specified_ed25519_name() -> None:
    issued = issue_credential(CERTIFICATE, ISSUER, StatusList().reserve(STATUS_URL), ISSUED_AT)
    key = OKPKey.import_key(_jwk())
    decoded = joserfc_jws.deserialize_compact(issued.jwt, key, algorithms=["Ed25519"])
    assert decoded.protected["typ"] == "vc+jwt" and decoded.protected["alg"] == "Ed25519"
    assert json.loads(decoded.payload) == issued.credential


def test_the_older_eddsa_name_is_still_available_and_accepted_by_an_independent_library() -> None:
    credential = build_credential(CERTIFICATE, issuer_did=ISSUER.did, status=StatusAllocation(STATUS_URL, 1),
                                  now=ISSUED_AT)
    token = sign_compact(credential, ISSUER.private_key, kid=ISSUER.kid, alg="EdDSA")
    key = OKPKey.import_key(_jwk())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)  # joserfc flags EdDSA as deprecated by RFC 9864
        assert json.loads(joserfc_jws.deserialize_compact(token, key, algorithms=["EdDSA"]).payload) == credential
    with pytest.raises(ValueError):
        sign_compact(credential, ISSUER.private_key, kid=ISSUER.kid, alg="ES256")


def test_each_credential_gets_its_own_id_unless_one_is_given() -> None:
    first = issue_credential(CERTIFICATE, ISSUER, StatusAllocation(STATUS_URL, 1), ISSUED_AT)
    second = issue_credential(CERTIFICATE, ISSUER, StatusAllocation(STATUS_URL, 2), ISSUED_AT)
    named = issue_credential(CERTIFICATE, ISSUER, StatusAllocation(STATUS_URL, 3), ISSUED_AT,
                             credential_id="urn:uuid:0b6f3a52-3f0b-4c61-9bd3-3b1e1f3f9a10")
    assert first.credential["id"] != second.credential["id"]
    assert named.credential["id"] == "urn:uuid:0b6f3a52-3f0b-4c61-9bd3-3b1e1f3f9a10"


def test_an_issuer_east_of_utc_signing_early_on_its_issue_date_issues_an_already_valid_credential() -> None:
    singapore = timezone(timedelta(hours=8))
    early = datetime(2026, 11, 10, 7, 5, 30, 123456, tzinfo=singapore)  # 23:05:30 UTC the day before
    credential = build_credential(CERTIFICATE, issuer_did=ISSUER.did, status=StatusAllocation(STATUS_URL, 1),
                                  now=early)
    assert credential["validFrom"] == "2026-11-09T23:05:30Z"
    assert parse_instant(credential["validFrom"]) <= early


@pytest.mark.parametrize("field", ["certificate_number", "exporting_country", "issue_date"])
def test_a_certificate_without_a_required_field_is_refused_with_the_field_named(field: str) -> None:
    certificate = {k: v for k, v in CERTIFICATE.items() if k != field}
    with pytest.raises(CredentialFormatError) as raised:
        issue_credential(certificate, ISSUER, StatusAllocation(STATUS_URL, 1), ISSUED_AT)
    assert raised.value.errors == [{"loc": [field], "msg": "field required"}]


@pytest.mark.parametrize(("changes", "complaint"), [
    ({"issue_date": "10/11/2026"}, "not an ISO date"),
    ({"valid_until": "2026-11-01"}, "before issue_date"),
    ({"remarks": float("nan")}, "not plain JSON"),
    ({"remarks": {1, 2}}, "not plain JSON"),
])
def test_a_certificate_that_cannot_be_a_credential_is_refused(changes: dict[str, object], complaint: str) -> None:
    with pytest.raises(CredentialFormatError, match=complaint):
        issue_credential(CERTIFICATE | changes, ISSUER, StatusAllocation(STATUS_URL, 1), ISSUED_AT)


def test_an_expired_certificate_is_not_issued() -> None:
    with pytest.raises(CredentialFormatError, match="expired"):
        issue_credential(CERTIFICATE, ISSUER, StatusAllocation(STATUS_URL, 1), datetime(2027, 11, 10, tzinfo=UTC))


def test_a_naive_issue_time_is_refused() -> None:
    with pytest.raises(ValueError):
        issue_credential(CERTIFICATE, ISSUER, StatusAllocation(STATUS_URL, 1), datetime(2026, 11, 10))


def test_a_key_cannot_sign_a_credential_naming_another_issuer() -> None:
    credential = build_credential(CERTIFICATE, issuer_did="did:web:other.example", now=ISSUED_AT,
                                  status=StatusAllocation(STATUS_URL, 1))
    with pytest.raises(CredentialFormatError, match=r"other\.example"):
        secure_credential(credential, ISSUER)


@pytest.mark.parametrize("text", ["2026-11-10", "2026-11-10T00:00:00", "yesterday", 20261110])
def test_validity_times_must_be_date_times_with_a_time_zone(text: object) -> None:
    with pytest.raises(CredentialFormatError):
        parse_instant(text)


def test_validity_times_with_an_offset_are_understood() -> None:
    assert parse_instant("2026-11-10T08:00:00+08:00") == datetime(2026, 11, 10, tzinfo=UTC)
