"""Data Integrity both ways with Digital Bazaar's libraries (vc, data-integrity, eddsa-jcs-2022, bitstring status list).

Ours: a node's certificate credential and its status list, both with eddsa-jcs-2022 proofs, verify with
``@digitalbazaar/vc`` and their status bit reads with ``@digitalbazaar/vc-bitstring-status-list``. Theirs: a
credential and a status list they sign (with the key we give them) verify with ours.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from registry.custody.keys import load_or_create_kek
from registry.domain.report import Verdict, VerificationReport
from registry.vc.context import CONTEXT_PATH
from registry.vc.credential import format_instant
from registry.vc.issuer import STATUS_DI_PATH, VcIssuer
from registry.vc.keys import IssuerKey, did_web
from registry.vc.resolver import Resolver
from registry.vc.verify import verify_credential
from tests.interop.support import documents_of, node, private_jwk, real_now, requires_node
from tests.registry.vc.support import CERTIFICATE, StatusHost

pytestmark = requires_node

BASE_URL = "https://coo.customs.gov.sg"
CONTEXT = BASE_URL + CONTEXT_PATH
LIST_URL = BASE_URL + STATUS_DI_PATH


@pytest.fixture
def issuer(tmp_path: Path) -> VcIssuer:
    return VcIssuer(tmp_path, load_or_create_kek(tmp_path / "kek"), did_web("coo.customs.gov.sg"), BASE_URL)


def _theirs(credential: dict[str, Any], documents: dict[str, Any]) -> dict[str, Any]:
    answer = node("di_verify.mjs", {"credential": credential, "documents": documents, "cooUrls": [CONTEXT],
                                    "status": "bitstring"})
    assert answer["ok"], answer
    return answer


def _ours(issuer: VcIssuer, credential: dict[str, Any], status_list: dict[str, Any],
          now: datetime) -> VerificationReport:
    host = StatusHost()
    host.publish(LIST_URL, json.dumps(status_list))
    return verify_credential(credential, resolver=Resolver({issuer.key.did: issuer.did_document()}),
                             status_fetcher=host, trusted_issuers={"SG": {issuer.key.did}}, now=now)


def test_our_credential_and_our_status_list_verify_with_digital_bazaar_and_it_reads_the_revocation(
        issuer: VcIssuer) -> None:
    now = real_now()
    secured, index = issuer.issue_secured(CERTIFICATE, "di", now)
    assert isinstance(secured.secured, dict) and secured.credential["credentialStatus"]["statusListCredential"] \
        == LIST_URL
    listed = issuer.published_list("di", now).secured
    assert _theirs(secured.secured, documents_of(issuer.key, {LIST_URL: listed}))["statuses"] == [False]
    issuer.revoke(index)
    revoked = issuer.published_list("di", now).secured
    answer = _theirs(secured.secured, documents_of(issuer.key, {LIST_URL: revoked}))
    assert answer["verified"] and answer["statuses"] == [True]


def test_digital_bazaar_refuses_our_credential_once_altered(issuer: VcIssuer) -> None:
    now = real_now()
    secured, _ = issuer.issue_secured(CERTIFICATE, "di", now)
    assert isinstance(secured.secured, dict)
    altered = copy.deepcopy(secured.secured)
    altered["credentialSubject"]["goods"][0]["quantity"] = "9600"
    listed = issuer.published_list("di", now).secured
    answer = _theirs(altered, documents_of(issuer.key, {LIST_URL: listed}))
    assert answer["verified"] is False and answer["statuses"] == []


def _their_list(issuer: VcIssuer, now: datetime, revoked: list[int], signer: IssuerKey | None = None) -> Any:
    made = node("status_list_make.mjs", {"id": LIST_URL, "issuer": issuer.key.did, "revoked": revoked,
                                         "validFrom": format_instant(now),
                                         "validUntil": format_instant(now + timedelta(days=1))})
    assert made["ok"], made
    key = signer or issuer.key
    signed = node("di_sign.mjs", {"credential": made["credential"], "jwk": private_jwk(key), "id": key.kid,
                                  "controller": key.did, "documents": documents_of(key)})
    assert signed["ok"], signed
    return signed["credential"]


def test_a_credential_and_a_status_list_digital_bazaar_signs_with_our_key_verify_with_ours(issuer: VcIssuer) -> None:
    now = real_now()
    unsigned, index = issuer.issue_secured(CERTIFICATE, "di", now)
    signed = node("di_sign.mjs", {"credential": unsigned.credential, "jwk": private_jwk(issuer.key),
                                  "id": issuer.key.kid, "controller": issuer.key.did, "cooUrls": [CONTEXT],
                                  "documents": documents_of(issuer.key)})
    assert signed["ok"], signed
    theirs = signed["credential"]
    assert theirs["proof"]["cryptosuite"] == "eddsa-jcs-2022" and theirs["proof"]["verificationMethod"] == \
        issuer.key.kid
    assert _ours(issuer, theirs, _their_list(issuer, now, []), now).verdict is Verdict.VALID
    report = _ours(issuer, theirs, _their_list(issuer, now, [index]), now)
    assert report.verdict is Verdict.REVOKED, report.summary


def test_a_status_list_signed_by_another_key_is_refused_by_theirs_and_by_ours(issuer: VcIssuer) -> None:
    now = real_now()
    secured, _ = issuer.issue_secured(CERTIFICATE, "di", now)
    assert isinstance(secured.secured, dict)
    forged = _their_list(issuer, now, [], signer=IssuerKey.generate(issuer.key.did))
    answer = node("di_verify.mjs", {"credential": secured.secured, "cooUrls": [CONTEXT], "status": "bitstring",
                                    "documents": documents_of(issuer.key, {LIST_URL: forged})})
    assert answer["ok"] and answer["verified"] is False and "not verified" in answer["statusError"]
    report = _ours(issuer, secured.secured, forged, now)
    assert report.verdict is Verdict.INVALID and "rejected" in report.check("status").reason
