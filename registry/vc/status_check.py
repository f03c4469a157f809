"""The ``status`` check of a credential with a ``BitstringStatusListEntry``: fetch, verify, read the bit.

The status list credential is fetched only once the credential's signature has
verified, and must itself be signed by the credential's issuer, secured either
way (a ``vc+jwt`` or a JSON document with an ``eddsa-jcs-2022`` proof; each
credential names the list secured as it is, but either is checked on its own
merits). A host that cannot be reached gives ``UNAVAILABLE`` (fail closed),
never a stale ``VALID``; a list shorter than 131,072 entries, signed by someone
else, or not covering the index gives ``INVALID``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from registry.domain.report import CheckStatus, Verdict
from registry.vc.credential import credential_issuer, parse_instant
from registry.vc.data_integrity import verify_proof
from registry.vc.errors import (
    CredentialFormatError,
    DidResolutionError,
    DidUnavailableError,
    InvalidSignatureError,
    StatusListError,
    StatusUnavailableError,
)
from registry.vc.jose import VC_JWT_MEDIA_TYPE, json_object, parse_compact, verify_signature
from registry.vc.keys import is_loopback_host
from registry.vc.resolver import DidResolver, resolve_signing_key
from registry.vc.status_list import list_ttl_seconds, read_status_list_credential

PASS, FAIL, SKIPPED = CheckStatus.PASS, CheckStatus.FAIL, CheckStatus.SKIPPED

STATUS_LIST_CLOCK_SKEW = timedelta(seconds=60)
"""How far a status list's ``validFrom`` may lie after the verification time.

The list is fetched after the verification time was fixed, and is issued on the
issuer's clock when it is served: a list dated a moment later is the normal case
(seen as one refused verification in fifty under load), not a forgery. A list
dated further ahead is still refused.
"""


@dataclass(frozen=True)
class Outcome:
    """The result of one check before it goes into a report.

    Attributes:
        status: pass, fail, warn or skipped.
        reason: why, for the officer.
        verdict: the verdict it forces (``None``: it forces none).
        details: facts for the report's ``details``.
    """

    status: CheckStatus
    reason: str
    verdict: Verdict | None = None
    details: dict[str, Any] = field(default_factory=dict)


class StatusFetcher(Protocol):
    """Returns the status list credential published at a URL: a compact ``vc+jwt`` or a JSON document.

    Raises :class:`~registry.vc.errors.StatusUnavailableError` when it cannot.
    """

    def fetch(self, url: str) -> str: ...


def parse_status_list(body: str) -> tuple[dict[str, Any], Callable[[DidResolver, str], None]]:
    """Read a fetched status list credential, secured either way, without checking it yet.

    Args:
        body: a compact JWS, or the JSON of a credential with a Data Integrity proof.

    Returns:
        The unsecured credential, and a function that checks its securing
        against the named issuer's key (raising as :func:`verify_status_list` says).

    Raises:
        CredentialFormatError: neither a well-formed JWS nor a JSON object.
    """
    text = body.strip()
    if text.startswith("{"):
        document = json_object(text.encode("utf-8"), "status list credential")
        unsecured = {k: v for k, v in document.items() if k != "proof"}

        def check_proof(resolver: DidResolver, issuer: str) -> None:
            proof = document.get("proof")
            method = proof.get("verificationMethod") if isinstance(proof, Mapping) else None
            _, key = resolve_signing_key(resolver, issuer, method if isinstance(method, str) else "")
            verify_proof(document, key)

        return unsecured, check_proof
    jws = parse_compact(text)

    def check_jws(resolver: DidResolver, issuer: str) -> None:
        if jws.typ != VC_JWT_MEDIA_TYPE:
            raise CredentialFormatError(f"the status list's JWS type is {jws.header.get('typ')!r}, not vc+jwt")
        verify_signature(jws, resolve_signing_key(resolver, issuer, jws.kid)[1])

    return jws.payload, check_jws


def verify_status_list(body: str, issuer: str, resolver: DidResolver) -> dict[str, Any]:
    """Verify a fetched status list credential as *issuer*'s, and return it unsecured.

    Raises:
        CredentialFormatError: malformed, or issued by someone other than *issuer*.
        DidUnavailableError: the issuer's DID host could not be reached.
        DidResolutionError: the signing key is not one of *issuer*'s assertion keys.
        InvalidSignatureError: the signature or proof does not verify.
    """
    listed, check = parse_status_list(body)
    if credential_issuer(listed) != issuer:
        raise CredentialFormatError(f"the status list is issued by {credential_issuer(listed)!r}, not {issuer}")
    check(resolver, issuer)
    return listed


class HttpStatusFetcher:
    """Fetch status list credentials over HTTP, caching each for a while.

    The cache lifetime is what delays revocation: a verifier holding a list
    fetched ``t`` seconds ago does not see revocations made since. It is the
    shorter of :attr:`ttl` and the list's own ``ttl`` (just :attr:`ttl` when the list does
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

    ACCEPT = "application/vc+jwt, application/vc, application/ld+json;q=0.9"

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

    def _lifetime(self, body: str) -> float:
        if not self.honour_list_ttl:
            return self.ttl
        try:
            asked = list_ttl_seconds(parse_status_list(body)[0])
            return self.ttl if asked is None else min(self.ttl, asked)
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
            answer = self.http.get(url, timeout=self.timeout, headers={"Accept": self.ACCEPT})
        except httpx.TransportError as error:
            raise StatusUnavailableError(f"STATUS_RETRIEVAL_ERROR: {url} could not be reached "
                                         f"({type(error).__name__})") from None
        self.fetches += 1
        self.bytes_fetched += len(answer.content)
        if answer.status_code != 200:
            raise StatusUnavailableError(f"STATUS_RETRIEVAL_ERROR: {url} answered {answer.status_code}")
        body = answer.text.strip()
        with self._lock:
            self._cache[url] = (self.clock(), self._lifetime(body), body)
        return body

    def invalidate(self, url: str | None = None) -> None:
        """Forget the cached copy of *url* (or of every list)."""
        with self._lock:
            if url is None:
                self._cache.clear()
            else:
                self._cache.pop(url, None)


# -- the check ------------------------------------------------------------------------------


def revocation_entries(credential: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The credential's ``BitstringStatusListEntry`` entries with purpose ``revocation``."""
    status = credential.get("credentialStatus")
    entries = status if isinstance(status, list) else [status]
    return [e for e in entries if isinstance(e, Mapping) and e.get("type") == "BitstringStatusListEntry"
            and e.get("statusPurpose") == "revocation"]


def _slot(entry: Mapping[str, Any]) -> tuple[str, int]:
    index, url = entry.get("statusListIndex"), entry.get("statusListCredential")
    if not isinstance(index, str) or not index.isascii() or not index.isdigit():
        raise StatusListError(f"statusListIndex {index!r} is not a base-10 integer string")
    if entry.get("statusSize", 1) != 1:
        raise StatusListError(f"statusSize {entry.get('statusSize')!r} is not supported (only 1)")
    if not isinstance(url, str) or not url:
        raise StatusListError("the status entry has no statusListCredential URL")
    return url, int(index)


def _read_bit(listed: Mapping[str, Any], url: str, index: int, now: datetime) -> Outcome:
    where: dict[str, Any] = {"status_list": url, "status_index": index}
    try:
        if listed.get("id", url) != url:
            raise StatusListError(f"the list fetched from {url} says it is {listed.get('id')!r}")
        if "validFrom" in listed and parse_instant(listed["validFrom"]) > now + STATUS_LIST_CLOCK_SKEW:
            raise StatusListError(f"the status list is dated in the future ({listed['validFrom']})")
        if "validUntil" in listed and parse_instant(listed["validUntil"]) < now:
            return Outcome(SKIPPED, f"revocation status unknown: the only status list to be had expired at "
                           f"{listed['validUntil']}", Verdict.UNAVAILABLE, where)
        bits = read_status_list_credential(listed, purpose="revocation")
        revoked = bits.get(index)
    except (StatusListError, CredentialFormatError) as error:
        return Outcome(FAIL, f"the status list is unusable: {error.message}", Verdict.INVALID, where)
    where |= {"list_entries": bits.size, "list_valid_from": listed.get("validFrom")}
    if revoked:
        when = listed.get("validFrom", "at an unknown time")
        return Outcome(FAIL, f"REVOKED: the issuer's status list (issued {when}) marks this credential revoked",
                       Verdict.REVOKED, where)
    return Outcome(PASS, f"not revoked according to the issuer's status list of {bits.size} entries", details=where)


def check_status_list(entry: Mapping[str, Any], issuer: str, resolver: DidResolver, fetcher: StatusFetcher,
                      now: datetime) -> Outcome:
    """The ``status`` check for one revocation entry: fetch the list, verify it as *issuer*'s, read the bit.

    Args:
        entry: the credential's ``BitstringStatusListEntry``.
        issuer: the DID of the credential's (already verified) issuer.
        resolver: resolves the issuer's DID for the list's signature.
        fetcher: fetches the list.
        now: the verification time.

    Returns:
        ``PASS``; ``FAIL`` with ``REVOKED`` or ``INVALID``; ``SKIPPED`` with ``UNAVAILABLE``.
    """
    try:
        url, index = _slot(entry)
    except StatusListError as error:
        return Outcome(FAIL, error.message, Verdict.INVALID)
    where: dict[str, Any] = {"status_list": url, "status_index": index}
    try:
        listed = verify_status_list(fetcher.fetch(url), issuer, resolver)
    except (StatusUnavailableError, DidUnavailableError) as error:
        return Outcome(SKIPPED, f"revocation status unknown: {error}", Verdict.UNAVAILABLE, where)
    except (CredentialFormatError, DidResolutionError, InvalidSignatureError) as error:
        return Outcome(FAIL, f"the status list credential at {url} was rejected: {error}", Verdict.INVALID, where)
    return _read_bit(listed, url, index, now)

