"""Verify a ``vc+jwt`` certificate credential into the chain path's report shape.

Checks line up with :mod:`registry.verify`: ``integrity`` is the JWS signature
(resolved through the issuer's DID), ``anchored`` does not apply, ``issuer_authorised``
is membership of a trust list for the exporting country, ``status`` is the
Bitstring Status List bit, ``validity`` the credential's dates, ``readable`` always
passes (the credential is plaintext), ``utilisation`` does not apply. A DID host or
status host that cannot be reached gives ``UNAVAILABLE`` (fail closed).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from registry.report import Check, CheckStatus, Verdict, VerificationReport
from registry.vc.credential import ALG
from registry.vc.keys import DidResolutionError, DidResolver
from registry.vc.status_list import StatusList, StatusListError

PASS, FAIL, SKIPPED = CheckStatus.PASS, CheckStatus.FAIL, CheckStatus.SKIPPED


class StatusUnavailable(Exception):
    """The status list could not be fetched."""


class StatusFetcher(Protocol):
    """Returns the status list credential (compact JWS) published at a URL."""

    def fetch(self, url: str) -> str: ...


class HttpStatusFetcher:
    """Fetch status lists over HTTP, caching each for ``ttl`` seconds (what delays revocation)."""

    def __init__(self, http: httpx.Client, ttl: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.http = http
        self.ttl = ttl
        self.clock = clock
        self._cache: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def fetch(self, url: str) -> str:
        """The status list credential at *url*, from cache while fresh.

        Raises:
            StatusUnavailable: the host could not be reached.
        """
        with self._lock:
            cached = self._cache.get(url)
        if cached is not None and self.clock() - cached[0] < self.ttl:
            return cached[1]
        try:
            answer = self.http.get(url, timeout=5)
            answer.raise_for_status()
        except httpx.HTTPError as error:
            raise StatusUnavailable(f"status list host unreachable: {type(error).__name__}") from error
        with self._lock:
            self._cache[url] = (self.clock(), answer.text)
        return answer.text


def _b64json(part: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def open_jws(token: str, resolver: DidResolver) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check a compact JWS against its ``kid``'s key; return (header, payload).

    Raises:
        ValueError: malformed token, wrong algorithm, or bad signature.
        DidResolutionError: the key could not be resolved.
    """
    try:
        head, body, signature = token.strip().split(".")
        header = _b64json(head)
    except ValueError:
        raise ValueError("not a compact JWS") from None
    if header.get("alg") not in (ALG, "EdDSA"):
        raise ValueError(f"unsupported algorithm {header.get('alg')!r}")
    key: Ed25519PublicKey = resolver.resolve(str(header.get("kid", "")))
    try:
        key.verify(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)), f"{head}.{body}".encode())
    except (InvalidSignature, ValueError):
        raise ValueError("the signature does not match the issuer's key: altered or signed by someone else") from None
    return header, _b64json(body)


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def verify_credential(token: str, *, resolver: DidResolver, status_fetcher: StatusFetcher,
                      trusted_issuers: Mapping[str, set[str]], now: datetime | None = None) -> VerificationReport:
    """Verify a certificate-of-origin ``vc+jwt`` end to end."""
    now = now or datetime.now(UTC)
    checks: list[Check] = []

    def add(name: str, status: CheckStatus, reason: str) -> None:
        checks.append(Check(name=name, status=status, reason=reason))

    def report(verdict: Verdict, summary: str, credential: Mapping[str, Any] | None = None) -> VerificationReport:
        subject = (credential or {}).get("credentialSubject") or {}
        return VerificationReport(verdict=verdict, summary=f"{verdict.value}: {summary}", checks=checks,
                                  certificate_number=subject.get("certificate_number"),
                                  issuer=(credential or {}).get("issuer"),
                                  exporting_country=subject.get("exporting_country"), checked_at=now,
                                  disclosed=dict(subject) if verdict is not Verdict.INVALID and subject else None)

    try:
        header, credential = open_jws(token, resolver)
    except DidResolutionError as error:
        add("integrity", SKIPPED, str(error))
        return report(Verdict.UNAVAILABLE, f"the issuer's DID could not be resolved ({error})")
    except ValueError as error:
        add("integrity", FAIL, str(error))
        return report(Verdict.INVALID, str(error))
    if header.get("typ") != "vc+jwt" or credential.get("issuer") != str(header.get("kid", "")).split("#")[0]:
        add("integrity", FAIL, "the credential's issuer is not the DID that signed it")
        return report(Verdict.INVALID, "issuer and signing key disagree", credential)
    add("integrity", PASS, f"signature by {credential['issuer']} checks out")
    add("anchored", SKIPPED, "not applicable: the VC path has no ledger")
    subject = credential.get("credentialSubject") or {}
    country = subject.get("exporting_country")
    if credential["issuer"] in trusted_issuers.get(str(country), set()):
        add("issuer_authorised", PASS, f"{credential['issuer']} is on the trust list for {country}")
    else:
        add("issuer_authorised", FAIL, f"{credential['issuer']} is not on the trust list for {country}")
    status_verdict = _status(credential, resolver, status_fetcher, add)
    if status_verdict is Verdict.UNAVAILABLE:
        return report(Verdict.UNAVAILABLE, "the status list could not be fetched; do not accept on this basis", credential)
    valid_from, valid_until = _moment(credential.get("validFrom")), _moment(credential.get("validUntil"))
    if valid_from and now < valid_from:
        add("validity", FAIL, f"not valid before {valid_from:%Y-%m-%d}")
    elif valid_until and now > valid_until:
        add("validity", FAIL, f"EXPIRED: valid until {valid_until:%Y-%m-%d}")
    else:
        add("validity", PASS, "within its validity period")
    add("readable", PASS, "the credential is plaintext")
    add("utilisation", SKIPPED, "not applicable: no shared utilisation record")
    failed = {c.name for c in checks if c.status is FAIL}
    if "issuer_authorised" in failed:
        return report(Verdict.INVALID, "issuer not trusted for the exporting country", credential)
    if status_verdict is Verdict.REVOKED:
        return report(Verdict.REVOKED, "the issuer revoked this credential", credential)
    if "status" in failed:
        return report(Verdict.INVALID, next(c.reason for c in checks if c.name == "status"), credential)
    if "validity" in failed:
        return report(Verdict.EXPIRED, next(c.reason for c in checks if c.name == "validity"), credential)
    return report(Verdict.VALID, "signed by a trusted issuer, within validity, not revoked", credential)


def _status(credential: Mapping[str, Any], resolver: DidResolver, fetcher: StatusFetcher,
            add: Callable[[str, CheckStatus, str], None]) -> Verdict | None:
    entry = credential.get("credentialStatus") or {}
    if entry.get("type") != "BitstringStatusListEntry" or entry.get("statusPurpose") != "revocation":
        add("status", FAIL, "no revocation status entry")
        return None
    try:
        _, status_credential = open_jws(fetcher.fetch(str(entry["statusListCredential"])), resolver)
    except (StatusUnavailable, DidResolutionError) as error:
        add("status", SKIPPED, str(error))
        return Verdict.UNAVAILABLE
    except ValueError as error:
        add("status", FAIL, f"status list credential invalid: {error}")
        return None
    if status_credential.get("issuer") != credential.get("issuer"):
        add("status", FAIL, "the status list was not issued by the credential's issuer")
        return None
    try:
        bits = StatusList.decode(str(status_credential["credentialSubject"]["encodedList"]))
        revoked = bits.get(int(entry["statusListIndex"]))
    except (StatusListError, KeyError, ValueError) as error:
        add("status", FAIL, f"status list unusable: {error}")
        return None
    if revoked:
        add("status", FAIL, "REVOKED: the status list marks this credential revoked")
        return Verdict.REVOKED
    add("status", PASS, "not revoked according to the issuer's status list")
    return None
