"""Certificates of origin as W3C VC Data Model 2.0 credentials.

The certificate JSON becomes the ``credentialSubject``; its dates become the
credential's validity period; its ``credentialStatus`` is a
``BitstringStatusListEntry`` with purpose ``revocation`` pointing at the
issuer's status list, or (a hybrid credential) a ``CertificateRegistryStatus``
naming the anchored document on chain (:mod:`registry.vc.registry_status`).
Secured as ``vc+jwt`` the credential is the JWS payload itself (VC-JOSE-COSE:
no ``vc`` wrapper claim), with the protected header
``{"alg": "Ed25519", "typ": "vc+jwt", "cty": "vc", "kid": <verification method>}``;
secured with Data Integrity it carries an ``eddsa-jcs-2022`` proof
(:mod:`registry.vc.securing`). Its contexts are the VC 2.0 base context and
this project's (:mod:`registry.vc.context`), which defines every field.

Dates are read as UTC days, as the chain path reads them: ``validFrom`` is the
start of the issue date and ``validUntil`` the last second of ``valid_until``.
A certificate without ``valid_until`` gets the chain path's default (the issue
date plus :data:`~registry.domain.certificate.VALIDITY_MONTHS` months, by the
same :func:`~registry.domain.certificate.add_months`), written into the
subject as the chain path writes it into the sealed certificate. An issuer
east of UTC signing early on its issue date would otherwise issue a
credential that is not yet valid, so ``validFrom`` is moved back to the moment
of signing when that is earlier.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Protocol

from registry.domain.certificate import VALIDITY_MONTHS, add_months
from registry.vc.context import DEFAULT_CONTEXT_URL
from registry.vc.errors import CredentialFormatError
from registry.vc.jose import sign_compact
from registry.vc.keys import IssuerKey
from registry.vc.status_list import VC_CONTEXT, StatusAllocation

COO_CONTEXT = DEFAULT_CONTEXT_URL
"""This project's context for the certificate terms, under its default base (see :mod:`registry.vc.context`)."""

CREDENTIAL_TYPE = "CertificateOfOriginCredential"

_REQUIRED = ("certificate_number", "exporting_country", "issue_date")


class StatusEntry(Protocol):
    """What a credential's ``credentialStatus`` is made from (a status list slot, a registry entry)."""

    def entry(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class IssuedCredential:
    """A certificate issued as a credential.

    Attributes:
        jwt: the compact ``vc+jwt`` to hand to the exporter.
        credential: the credential (the JWS payload).
        status_index: its bit in the issuer's status list (what revocation sets).
        status_list: which of the issuer's lists (from 1) holds that bit.
    """

    jwt: str
    credential: dict[str, Any]
    status_index: int
    status_list: int = 1


def format_instant(moment: datetime) -> str:
    """An XML Schema ``dateTimeStamp`` in UTC (``2026-11-10T00:00:00Z``).

    Raises:
        ValueError: *moment* has no time zone.
    """
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(text: Any) -> datetime:
    """Parse a ``validFrom``/``validUntil`` value; it must carry a time zone.

    Raises:
        CredentialFormatError: not a date-time with a time zone.
    """
    if not isinstance(text, str) or "T" not in text:
        raise CredentialFormatError(f"{text!r} is not an XML Schema dateTimeStamp")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise CredentialFormatError(f"{text!r} is not an XML Schema dateTimeStamp") from None
    if moment.tzinfo is None:
        raise CredentialFormatError(f"{text!r} has no time zone")
    return moment


def credential_issuer(credential: Mapping[str, Any]) -> str | None:
    """The issuer's identifier: ``issuer`` when a string, ``issuer.id`` when an object."""
    issuer = credential.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def _day(certificate: Mapping[str, Any], field: str) -> date:
    try:
        return date.fromisoformat(str(certificate[field]))
    except ValueError:
        raise CredentialFormatError(f"{field}: not an ISO date", [{"loc": [field], "msg": "not an ISO date"}]) from None


def _subject(certificate: Mapping[str, Any]) -> dict[str, Any]:
    missing = [f for f in _REQUIRED if not certificate.get(f)]
    if missing:
        raise CredentialFormatError(f"the certificate lacks {', '.join(missing)}",
                                    [{"loc": [f], "msg": "field required"} for f in missing])
    try:
        subject = json.loads(json.dumps(certificate, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise CredentialFormatError(f"the certificate is not plain JSON: {error}") from None
    if not isinstance(subject, dict):
        raise CredentialFormatError("the certificate is not a JSON object")
    if not subject.get("valid_until"):
        subject["valid_until"] = default_valid_until(_day(subject, "issue_date")).isoformat()
    return subject


def default_valid_until(issue_date: date) -> date:
    """The chain path's default end of validity: *issue_date* plus ``VALIDITY_MONTHS`` months."""
    return add_months(issue_date, VALIDITY_MONTHS)


def build_credential(certificate: Mapping[str, Any], *, issuer_did: str, status: StatusEntry, now: datetime,
                     credential_id: str | None = None, context: str = COO_CONTEXT) -> dict[str, Any]:
    """The unsigned VC Data Model 2.0 credential for *certificate*.

    Args:
        certificate: the certificate's JSON form (``certificate_number``,
            ``exporting_country`` and ``issue_date`` at least; ``valid_until``
            defaults as on the chain path).
        issuer_did: the issuing body's DID.
        status: its ``credentialStatus``: its place in the issuer's revocation
            list, or its entry in the registry.
        now: the moment of issue (timezone-aware).
        credential_id: the credential's ``id``; a fresh ``urn:uuid:`` by default.
        context: the URL of this project's context (see :mod:`registry.vc.context`).

    Returns:
        The credential.

    Raises:
        CredentialFormatError: a required field is missing, a date is malformed,
            the dates are out of order, the certificate is not plain JSON, or it
            has already expired at *now*.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    subject = _subject(certificate)
    issued, until = _day(subject, "issue_date"), _day(subject, "valid_until")
    if until < issued:
        raise CredentialFormatError("valid_until is before issue_date",
                                    [{"loc": ["valid_until"], "msg": "before issue_date"}])
    valid_from = min(datetime.combine(issued, time(0, 0, 0), UTC), now.astimezone(UTC).replace(microsecond=0))
    valid_until = datetime.combine(until, time(23, 59, 59), UTC)
    if now > valid_until:
        raise CredentialFormatError(f"the certificate expired on {until}; it cannot be issued at {format_instant(now)}",
                                    [{"loc": ["valid_until"], "msg": "in the past"}])
    return {
        "@context": [VC_CONTEXT, context],
        "id": credential_id or f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", CREDENTIAL_TYPE],
        "issuer": issuer_did,
        "validFrom": format_instant(valid_from),
        "validUntil": format_instant(valid_until),
        "credentialSubject": subject,
        "credentialStatus": status.entry(),
    }


def secure_credential(credential: Mapping[str, Any], issuer: IssuerKey) -> str:
    """Sign any credential as a ``vc+jwt`` with *issuer*'s key.

    Args:
        credential: the credential; it becomes the JWS payload unchanged.
        issuer: the signing key; its verification method becomes the ``kid``.

    Returns:
        The compact JWS.

    Raises:
        CredentialFormatError: the credential is not JSON-serialisable, or its
            issuer is not *issuer*'s DID.
    """
    if credential_issuer(credential) != issuer.did:
        raise CredentialFormatError(f"the credential names issuer {credential_issuer(credential)!r}, "
                                    f"but the key signs as {issuer.did}")
    return sign_compact(credential, issuer.private_key, kid=issuer.kid)


def issue_credential(certificate: Mapping[str, Any], issuer: IssuerKey, status: StatusAllocation, now: datetime, *,
                     credential_id: str | None = None, context: str = COO_CONTEXT) -> IssuedCredential:
    """Issue *certificate* as a ``vc+jwt`` carrying a revocation status entry.

    Args:
        certificate: the certificate's JSON form.
        issuer: the issuing body's key and DID.
        status: the index reserved for it (see :meth:`~registry.vc.status_list.StatusList.reserve`).
        now: the moment of issue (timezone-aware).
        credential_id: the credential's ``id``; a fresh ``urn:uuid:`` by default.
        context: the URL of this project's context.

    Returns:
        The token, the credential and its status index.

    Raises:
        CredentialFormatError: see :func:`build_credential`.
    """
    credential = build_credential(certificate, issuer_did=issuer.did, status=status, now=now,
                                  credential_id=credential_id, context=context)
    return IssuedCredential(secure_credential(credential, issuer), credential, status.index)
