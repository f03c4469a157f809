"""Certificates as W3C VC Data Model 2.0 credentials secured as ``vc+jwt``.

The JWS payload is the credential itself (VC-JOSE-COSE: no ``vc`` wrapper
claim), the protected header carries ``typ: vc+jwt``, ``cty: vc`` and the
verification method as ``kid``, and the signature is Ed25519. The algorithm
is named ``Ed25519`` (RFC 9864's fully-specified name; ``EdDSA`` is deprecated).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from joserfc import jws

from registry.vc.keys import IssuerKey
from registry.vc.status_list import StatusList

ALG = "Ed25519"
VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
COO_CONTEXT = "https://coo-registry.example/contexts/certificate-of-origin/v1"


@dataclass(frozen=True)
class IssuedCredential:
    """A signed credential: its compact JWS, the credential JSON, and its status index."""

    jwt: str
    credential: dict[str, Any]
    status_index: int


def _iso(day: str | None, end_of_day: bool = False) -> str | None:
    if not day:
        return None
    return f"{day}T23:59:59Z" if end_of_day else f"{day}T00:00:00Z"


def sign(payload: Mapping[str, Any], issuer: IssuerKey, typ: str = "vc+jwt") -> str:
    """Compact JWS of *payload* (its JSON) with the issuer's key."""
    header = {"alg": ALG, "typ": typ, "cty": "vc", "kid": issuer.kid}
    return str(jws.serialize_compact(header, json.dumps(payload, separators=(",", ":")), issuer.jwk(),
                                     algorithms=[ALG]))


def issue_credential(certificate: Mapping[str, Any], issuer: IssuerKey, status: StatusList, status_url: str,
                     *, credential_id: str | None = None) -> IssuedCredential:
    """Issue *certificate* (its JSON form) as a ``vc+jwt`` with a revocation status entry."""
    index = status.allocate()
    credential: dict[str, Any] = {
        "@context": [VC_CONTEXT, COO_CONTEXT],
        "id": credential_id or f"urn:coo:{issuer.did}:{certificate['certificate_number']}",
        "type": ["VerifiableCredential", "CertificateOfOriginCredential"],
        "issuer": issuer.did,
        "validFrom": _iso(certificate.get("issue_date")),
        "validUntil": _iso(certificate.get("valid_until"), end_of_day=True),
        "credentialSubject": dict(certificate),
        "credentialStatus": {
            "id": f"{status_url}#{index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(index),
            "statusListCredential": status_url,
        },
    }
    credential = {k: v for k, v in credential.items() if v is not None}
    return IssuedCredential(sign(credential, issuer), credential, index)


def status_list_credential(status: StatusList, issuer: IssuerKey, url: str,
                           now: datetime | None = None) -> tuple[str, dict[str, Any]]:
    """The ``BitstringStatusListCredential`` for *status*, signed as ``vc+jwt``."""
    moment = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    credential = {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer.did,
        "validFrom": moment,
        "credentialSubject": {"id": f"{url}#list", "type": "BitstringStatusList", "statusPurpose": "revocation",
                              "encodedList": status.encode()},
    }
    return sign(credential, issuer), credential
