"""Verify a certificate ``vc+jwt`` into the chain path's report, check by check.

=================  ============================================================
``integrity``      the JWS signature, under the key the issuer's DID names as an
                   ``assertionMethod``, over a well-formed CoO credential
``anchored``       skipped: not applicable, the VC path has no ledger
``issuer_authorised``  the issuer's DID resolved and is on the trust list for the
                   certificate's exporting country
``status``         the credential's bit in the issuer's Bitstring Status List
``validity``       ``validFrom`` ≤ now ≤ ``validUntil``
``readable``       pass: the credential is plaintext, nothing to decrypt
``utilisation``    skipped: no shared record of quantities drawn
=================  ============================================================

The claimed issuer is checked against the trust list *before* its DID is
resolved, so a token can never make the verifier contact a host of the
attacker's choosing; the status list URL is only fetched once the signature
has verified. A DID host or status host that cannot be reached gives
``UNAVAILABLE`` (fail closed), never a stale ``VALID``; a status list shorter
than 131,072 entries, signed by someone else, or not covering the index gives
``INVALID``. When several things are wrong the verdict is the most definite:
``INVALID`` before ``REVOKED`` before ``EXPIRED`` before ``UNAVAILABLE``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from registry.domain.report import CHECK_NAMES, Check, CheckName, CheckStatus, Verdict, VerificationReport
from registry.vc.credential import CREDENTIAL_TYPE, credential_issuer, parse_instant
from registry.vc.errors import (
    CredentialFormatError,
    DidResolutionError,
    DidUnavailableError,
    InvalidSignatureError,
    StatusListError,
    StatusUnavailableError,
)
from registry.vc.jose import VC_JWT_TYP, CompactJws, b64url_decode, json_object, parse_compact, verify_signature
from registry.vc.keys import is_loopback_host
from registry.vc.resolver import DidResolver, resolve_key
from registry.vc.status_list import VC_CONTEXT, list_ttl_seconds, read_status_list_credential

PASS, FAIL, WARN, SKIPPED = CheckStatus.PASS, CheckStatus.FAIL, CheckStatus.WARN, CheckStatus.SKIPPED

NO_LEDGER = "not applicable: VC path has no ledger"
NO_UTILISATION = "not applicable: the VC path keeps no shared record of quantities drawn"
_PRECEDENCE = (Verdict.INVALID, Verdict.REVOKED, Verdict.EXPIRED, Verdict.UNAVAILABLE)
_VC_CHECKS = tuple(n for n in CHECK_NAMES if n not in (CheckName.DECLARATION_MATCH, CheckName.VERIFICATION_REQUEST,
                                                     CheckName.FLAGS))


# -- fetching status lists ------------------------------------------------------------



STATUS_LIST_CLOCK_SKEW = timedelta(seconds=60)
"""How far a status list's ``validFrom`` may lie after the verification time.

The list is fetched after the verification time was fixed, and is issued on the
issuer's clock when it is served: a list dated a moment later is the normal case
(seen as one refused verification in fifty under load), not a forgery. A list
dated further ahead is still refused.
"""

class StatusFetcher(Protocol):
    """Returns the status list credential (a compact ``vc+jwt``) published at a URL.

    Raises :class:`~registry.vc.errors.StatusUnavailableError` when it cannot.
    """

    def fetch(self, url: str) -> str: ...


class HttpStatusFetcher:
    """Fetch status list credentials over HTTP, caching each for a while.

    The cache lifetime is what delays revocation: a verifier holding a list
    fetched ``t`` seconds ago does not see revocations made since. It is the
    shorter of :attr:`ttl` and the list's own ``ttl`` (300 s when the list does
    not say; the specification forbids using a list cached for longer). After
    it lapses a host that is down gives :class:`StatusUnavailableError`, never
    the stale list.

    Args:
        http: the client.
        ttl: the verifier's own upper bound on the cache lifetime, in seconds
            (``0`` fetches on every verification).
        honour_list_ttl: also bound by the list's ``ttl``; turning this off
            departs from the specification and is for experiments only.
        allow_http: accept ``http://`` status URLs on loopback hosts (tests, demos).
        clock: monotonic seconds, injectable for tests.
        timeout: HTTP timeout in seconds.
    """

    def __init__(self, http: httpx.Client, *, ttl: float = 300.0, honour_list_ttl: bool = True,
                 allow_http: bool = False, clock: Callable[[], float] = time.monotonic, timeout: float = 5.0) -> None:
        self.http = http
        self.ttl = ttl
        self.honour_list_ttl = honour_list_ttl
        self.allow_http = allow_http
        self.clock = clock
        self.timeout = timeout
        self.fetches = 0
        self.bytes_fetched = 0
        self._cache: dict[str, tuple[float, float, str]] = {}
        self._lock = threading.Lock()

    def _lifetime(self, token: str) -> float:
        if not self.honour_list_ttl:
            return self.ttl
        try:
            return min(self.ttl, list_ttl_seconds(parse_compact(token).payload))
        except CredentialFormatError:
            return 0.0

    def fetch(self, url: str) -> str:
        """The status list credential at *url*, from the cache while it is fresh.

        Raises:
            StatusUnavailableError: a scheme other than https, an unreachable
                host, or any answer but 200 (``STATUS_RETRIEVAL_ERROR``).
        """
        parts = urlsplit(url)
        loopback_http = parts.scheme == "http" and self.allow_http and is_loopback_host(parts.netloc)
        if parts.scheme != "https" and not loopback_http:
            raise StatusUnavailableError(
                f"STATUS_RETRIEVAL_ERROR: refusing to fetch a status list over {parts.scheme!r}")
        with self._lock:
            cached = self._cache.get(url)
        if cached is not None and self.clock() - cached[0] < cached[1]:
            return cached[2]
        try:
            answer = self.http.get(url, timeout=self.timeout, headers={"Accept": "application/vc+jwt"})
        except httpx.TransportError as error:
            raise StatusUnavailableError(f"STATUS_RETRIEVAL_ERROR: {url} could not be reached "
                                         f"({type(error).__name__})") from None
        self.fetches += 1
        self.bytes_fetched += len(answer.content)
        if answer.status_code != 200:
            raise StatusUnavailableError(f"STATUS_RETRIEVAL_ERROR: {url} answered {answer.status_code}")
        token = answer.text.strip()
        with self._lock:
            self._cache[url] = (self.clock(), self._lifetime(token), token)
        return token

    def invalidate(self, url: str | None = None) -> None:
        """Forget the cached copy of *url* (or of every list)."""
        with self._lock:
            if url is None:
                self._cache.clear()
            else:
                self._cache.pop(url, None)


# -- the checks -------------------------------------------------------------------------


@dataclass
class _Run:
    checks: dict[str, Check] = field(default_factory=dict)
    forced: set[Verdict] = field(default_factory=set)

    def add(self, name: str, status: CheckStatus, reason: str, verdict: Verdict | None = None,
            **details: Any) -> None:
        self.checks[name] = Check(name=name, status=status, reason=reason, details=details)
        if verdict is not None:
            self.forced.add(verdict)


def _b64json(part: str) -> Any:
    """Decode one base64url JSON segment of a JWS (no verification)."""
    return json_object(b64url_decode(part), "JWS segment")


def _envelope(jws: CompactJws) -> str:
    """Check the header against the payload; return the issuer DID."""
    if jws.header.get("typ") != VC_JWT_TYP:
        raise CredentialFormatError(f"the JWS type is {jws.header.get('typ')!r}, not {VC_JWT_TYP!r}")
    payload = jws.payload
    if "vc" in payload or "vp" in payload:
        raise CredentialFormatError("the payload carries a 'vc'/'vp' claim, which vc+jwt forbids")
    issuer = credential_issuer(payload)
    if issuer is None or not issuer.startswith("did:"):
        raise CredentialFormatError("the credential does not name its issuer by DID")
    if jws.kid.split("#")[0] != issuer or "#" not in jws.kid:
        raise CredentialFormatError(f"the signing key {jws.kid!r} is not a key of the issuer {issuer}")
    if payload.get("iss") not in (None, issuer):
        raise CredentialFormatError("the 'iss' claim contradicts the credential's issuer")
    if not isinstance(payload.get("credentialSubject"), Mapping):
        raise CredentialFormatError("the credential has no credentialSubject object")
    return issuer


def _shape(credential: Mapping[str, Any]) -> None:
    """A signed payload must still be a CoO credential in VC Data Model 2.0."""
    context, types = credential.get("@context"), credential.get("type")
    if not isinstance(context, list) or not context or context[0] != VC_CONTEXT:
        raise CredentialFormatError(f"the first @context is not {VC_CONTEXT}")
    if not isinstance(types, list) or "VerifiableCredential" not in types or CREDENTIAL_TYPE not in types:
        raise CredentialFormatError(f"the credential is not a VerifiableCredential of type {CREDENTIAL_TYPE}")
    for name in ("validFrom", "validUntil"):
        if name in credential:
            parse_instant(credential[name])


# Complexity (radon C): finds the BitstringStatusListEntry and validates its index, size and URL, one branch per field
def _revocation_entry(credential: Mapping[str, Any]) -> tuple[str, int]:
    status = credential.get("credentialStatus")
    entries = status if isinstance(status, list) else [status]
    for entry in entries:
        if isinstance(entry, Mapping) and entry.get("type") == "BitstringStatusListEntry" \
                and entry.get("statusPurpose") == "revocation":
            index, url = entry.get("statusListIndex"), entry.get("statusListCredential")
            if not isinstance(index, str) or not index.isascii() or not index.isdigit():
                raise StatusListError(f"statusListIndex {index!r} is not a base-10 integer string")
            if entry.get("statusSize", 1) != 1:
                raise StatusListError(f"statusSize {entry.get('statusSize')!r} is not supported (only 1)")
            if not isinstance(url, str) or not url:
                raise StatusListError("the status entry has no statusListCredential URL")
            return url, int(index)
    raise StatusListError("the credential has no revocation status entry, so revocation cannot be checked")


# Complexity (radon C): the status-list steps (entry, fetch, signature, dates, bit), each failure to its verdict
def _status(run: _Run, credential: Mapping[str, Any], issuer: str, resolver: DidResolver,
            fetcher: StatusFetcher, now: datetime) -> None:
    try:
        url, index = _revocation_entry(credential)
    except StatusListError as error:
        run.add("status", FAIL, error.message, Verdict.INVALID)
        return
    where: dict[str, Any] = {"status_list": url, "status_index": index}
    try:
        jws = parse_compact(fetcher.fetch(url))
        if jws.header.get("typ") != VC_JWT_TYP or jws.kid.split("#")[0] != issuer \
                or credential_issuer(jws.payload) != issuer:
            raise CredentialFormatError(f"the status list at {url} is not a vc+jwt issued by {issuer}")
        verify_signature(jws, resolve_key(resolver, jws.kid))
    except (StatusUnavailableError, DidUnavailableError) as error:
        run.add("status", SKIPPED, f"revocation status unknown: {error}", Verdict.UNAVAILABLE, **where)
        return
    except (CredentialFormatError, DidResolutionError, InvalidSignatureError) as error:
        run.add("status", FAIL, f"the status list credential was rejected: {error}", Verdict.INVALID, **where)
        return
    listed = jws.payload
    try:
        if listed.get("id", url) != url:
            raise StatusListError(f"the list fetched from {url} says it is {listed.get('id')!r}")
        if "validFrom" in listed and parse_instant(listed["validFrom"]) > now + STATUS_LIST_CLOCK_SKEW:
            raise StatusListError(f"the status list is dated in the future ({listed['validFrom']})")
        if "validUntil" in listed and parse_instant(listed["validUntil"]) < now:
            run.add("status", SKIPPED, f"revocation status unknown: the only status list to be had expired at "
                    f"{listed['validUntil']}", Verdict.UNAVAILABLE, **where)
            return
        bits = read_status_list_credential(listed, purpose="revocation")
        revoked = bits.get(index)
    except (StatusListError, CredentialFormatError) as error:
        run.add("status", FAIL, f"the status list is unusable: {error.message}", Verdict.INVALID, **where)
        return
    where |= {"list_entries": bits.size, "list_valid_from": listed.get("validFrom")}
    if revoked:
        when = listed.get("validFrom", "at an unknown time")
        run.add("status", FAIL, f"REVOKED: the issuer's status list (issued {when}) marks this credential revoked",
                Verdict.REVOKED, **where)
    else:
        run.add("status", PASS, f"not revoked according to the issuer's status list of {bits.size} entries", **where)


def _validity(run: _Run, credential: Mapping[str, Any], now: datetime) -> None:
    start = parse_instant(credential["validFrom"]) if "validFrom" in credential else None
    end = parse_instant(credential["validUntil"]) if "validUntil" in credential else None
    dates = {"valid_from": credential.get("validFrom"), "valid_until": credential.get("validUntil")}
    if start is not None and now < start:
        run.add("validity", FAIL, f"not valid before {credential['validFrom']}", Verdict.INVALID, **dates)
    elif end is not None and now > end:
        run.add("validity", FAIL, f"EXPIRED: valid until {credential['validUntil']}", Verdict.EXPIRED, **dates)
    else:
        run.add("validity", PASS, f"valid from {dates['valid_from'] or 'issue'} until "
                f"{dates['valid_until'] or 'revoked'}", **dates)


def verify_credential(jwt: str, *, resolver: DidResolver, status_fetcher: StatusFetcher,
                      trusted_issuers: Mapping[str, Collection[str]], now: datetime) -> VerificationReport:
    """Verify a certificate-of-origin ``vc+jwt`` end to end.

    Args:
        jwt: the compact token.
        resolver: turns the issuer's DID into its document (offline, in memory or HTTP).
        status_fetcher: fetches the issuer's status list credential.
        trusted_issuers: exporting country (ISO 3166-1 alpha-2) → DIDs of the
            bodies authorised to issue its certificates.
        now: the verification time (timezone-aware).

    Returns:
        The report: ``VALID``, ``VALID_WITH_WARNINGS``, ``REVOKED``, ``EXPIRED``,
        ``INVALID`` or ``UNAVAILABLE``, with every check and its reason. It never
        raises for a bad token or an unreachable host.

    Raises:
        ValueError: *now* has no time zone.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    run = _Run()
    try:
        jws = parse_compact(jwt)
        issuer = _envelope(jws)
    except CredentialFormatError as error:
        run.add("integrity", FAIL, error.message, Verdict.INVALID)
        return _report(run, None, now, "the token could not be read")
    credential = jws.payload
    subject: Mapping[str, Any] = credential["credentialSubject"]
    country = str(subject.get("exporting_country"))
    if issuer not in trusted_issuers.get(country, ()):
        run.add("issuer_authorised", FAIL, f"{issuer} is not on the trust list for exporting country {country}",
                Verdict.INVALID, country=country)
        run.add("integrity", SKIPPED, "not checked: the issuer is not trusted, so its DID was not resolved")
        return _report(run, credential, now, "the issuer is not trusted")
    try:
        verify_signature(jws, resolve_key(resolver, jws.kid))
    except DidUnavailableError as error:
        run.add("integrity", SKIPPED, f"the signature could not be checked: {error}", Verdict.UNAVAILABLE)
        return _report(run, credential, now, "the issuer's DID could not be resolved")
    except (DidResolutionError, InvalidSignatureError) as error:
        run.add("integrity", FAIL, error.message, Verdict.INVALID, kid=jws.kid)
        return _report(run, credential, now, "the signature did not verify")
    try:
        _shape(credential)
    except CredentialFormatError as error:
        run.add("integrity", FAIL, f"validly signed, but {error.message}", Verdict.INVALID, kid=jws.kid)
        return _report(run, credential, now, "the signed content is not a certificate-of-origin credential")
    run.add("integrity", PASS, f"signed by {issuer} with {jws.kid.split('#')[-1][:16]}…, an assertion key of its DID",
            kid=jws.kid, alg=jws.header.get("alg"))
    run.add("anchored", SKIPPED, NO_LEDGER)
    run.add("issuer_authorised", PASS, f"{issuer} resolved and is on the trust list for {country}", country=country)
    _status(run, credential, issuer, resolver, status_fetcher, now)
    _validity(run, credential, now)
    return _report(run, credential, now, "")


# Complexity (radon C): backfills unreached checks, then picks verdict and summary, so every report is whole
def _report(run: _Run, credential: Mapping[str, Any] | None, now: datetime, stopped: str) -> VerificationReport:
    subject = credential.get("credentialSubject") if credential is not None else None
    subject = subject if isinstance(subject, Mapping) else {}
    run.checks.setdefault("anchored", Check(name="anchored", status=SKIPPED, reason=NO_LEDGER))
    if credential is not None:
        run.checks.setdefault("readable", Check(name="readable", status=PASS,
                                                reason="the credential is plaintext: its contents travel with it"))
    run.checks.setdefault("utilisation", Check(name="utilisation", status=SKIPPED, reason=NO_UTILISATION))
    for name in _VC_CHECKS:
        run.checks.setdefault(name, Check(name=name, status=SKIPPED, reason=f"not checked: {stopped}"))
    verdict = next((v for v in _PRECEDENCE if v in run.forced), Verdict.VALID)
    if verdict is Verdict.VALID:
        flags = [f for f in ("issued_retrospectively", "certified_true_copy") if subject.get(f)]
        for flag in flags:
            run.checks[f"flags:{flag}"] = Check(name="flags", status=WARN,
                                                 reason=f"the certificate is marked {flag.replace('_', ' ')}")
        verdict = Verdict.VALID_WITH_WARNINGS if flags else Verdict.VALID
    checks = [run.checks[n] for n in _VC_CHECKS] + [c for k, c in run.checks.items() if k not in _VC_CHECKS]
    failing = next((c for c in checks if c.status is FAIL), None)
    if verdict is Verdict.VALID:
        summary = "VALID: authentic, unaltered, issued by a trusted body, not revoked and within its validity"
    elif verdict is Verdict.VALID_WITH_WARNINGS:
        summary = "VALID WITH WARNINGS: " + "; ".join(c.reason for c in checks if c.status is WARN)
    elif verdict is Verdict.UNAVAILABLE:
        why = next(c.reason for c in checks if c.status is SKIPPED and c.name in ("integrity", "status"))
        summary = f"UNAVAILABLE: {why}; do not accept the certificate on this basis"
    else:
        summary = f"{verdict.value}: {failing.reason if failing else 'see the checks'}"
    trusted = run.checks["integrity"].status is PASS
    return VerificationReport(
        verdict=verdict, summary=summary, checks=checks,
        certificate_number=subject.get("certificate_number"),
        issuer=credential_issuer(credential) if credential is not None else None,
        exporting_country=subject.get("exporting_country"), checked_at=now,
        disclosed=dict(subject) if trusted and subject else None,
    )
