"""DID resolution: from a DID to its document, and from a key id to an Ed25519 key.

:class:`Resolver` answers ``did:key`` offline, ``did:web`` from documents it
was given, and otherwise over HTTP (with a cache TTL). The verifier needs only
the :class:`DidResolver` protocol, so tests and the comparison harness can plug
in an in-memory host that can be taken down.

Failures are split the way a Customs officer needs them: a host that cannot be
reached is :class:`~registry.vc.errors.DidUnavailableError` (``UNAVAILABLE``,
try again later); a DID that does not resolve, or a key that may not sign
credentials, is :class:`~registry.vc.errors.DidResolutionError` (``INVALID``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from registry.vc.errors import CredentialFormatError, DidResolutionError, DidUnavailableError
from registry.vc.jose import b64url_decode
from registry.vc.keys import did_key_document, did_web_url, key_from_multibase


class DidResolver(Protocol):
    """Turns a DID into its DID document.

    Implementations raise :class:`DidUnavailableError` when the host cannot be
    reached (the verifier then answers ``UNAVAILABLE``) and
    :class:`DidResolutionError` when the DID does not resolve (``INVALID``).
    """

    def resolve(self, did: str) -> Mapping[str, Any]: ...


def _reference(document: Mapping[str, Any], entry: Any) -> str | None:
    value = entry.get("id") if isinstance(entry, Mapping) else entry
    if not isinstance(value, str):
        return None
    return f"{document.get('id')}{value}" if value.startswith("#") else value


def _key_of_method(method: Mapping[str, Any], kid: str) -> Ed25519PublicKey:
    kind = method.get("type")
    if kind in ("JsonWebKey", "JsonWebKey2020"):
        jwk = method.get("publicKeyJwk")
        if not isinstance(jwk, Mapping) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            raise DidResolutionError(f"{kid} is not an Ed25519 (OKP) JSON Web Key")
        if "d" in jwk:
            raise DidResolutionError(f"{kid} publishes a private key; refusing to trust it")
        try:
            raw = b64url_decode(str(jwk.get("x", "")))
        except CredentialFormatError:
            raise DidResolutionError(f"{kid} has a malformed JWK 'x'") from None
    elif kind in ("Multikey", "Ed25519VerificationKey2020"):
        raw = key_from_multibase(str(method.get("publicKeyMultibase", "")))
    else:
        raise DidResolutionError(f"{kid} has unsupported verification method type {kind!r}")
    if len(raw) != 32:
        raise DidResolutionError(f"{kid} does not hold a 32-byte Ed25519 key")
    return Ed25519PublicKey.from_public_bytes(raw)


# Complexity (radon C): the DID-document rules for a signing key (its DID, assertionMethod, defined, controller)
def find_assertion_key(document: Mapping[str, Any], kid: str) -> Ed25519PublicKey:
    """The Ed25519 key *kid* names in *document*, if it may sign credentials.

    Args:
        document: the resolved DID document.
        kid: a DID URL ``<did>#<fragment>``.

    Returns:
        The public key.

    Raises:
        DidResolutionError: the document is for another DID, *kid* is not an
            ``assertionMethod``, its controller is not the DID, or it is not an
            Ed25519 ``JsonWebKey``/``Multikey``.
    """
    did = kid.split("#")[0]
    if "#" not in kid or document.get("id") != did:
        raise DidResolutionError(f"{kid!r} is not a key of the DID document {document.get('id')!r}")
    assertion = document.get("assertionMethod") or []
    if not isinstance(assertion, list) or kid not in [_reference(document, e) for e in assertion]:
        raise DidResolutionError(f"{kid} is not an assertion method of {did}")
    candidates = [e for e in (document.get("verificationMethod") or []) + assertion if isinstance(e, Mapping)]
    for method in candidates:
        if _reference(document, method) == kid:
            if method.get("controller") != did:
                raise DidResolutionError(f"{kid} is controlled by {method.get('controller')!r}, not {did}")
            return _key_of_method(method, kid)
    raise DidResolutionError(f"{did}'s document lists {kid} but does not define it")


def resolve_key(resolver: DidResolver, kid: str) -> Ed25519PublicKey:
    """Resolve *kid*'s DID and return the assertion key it names.

    Raises:
        DidUnavailableError: the DID host could not be reached.
        DidResolutionError: the DID or the key does not resolve.
    """
    return find_assertion_key(resolver.resolve(kid.split("#")[0]), kid)


def names_issuer_key(kid: str, issuer: str) -> bool:
    """Whether *kid* can only name a key of *issuer*: absent, a fragment (``#…``), or ``<issuer>#…``.

    Checked before anything is resolved, so a token cannot send the verifier to another DID's host.
    """
    return kid == "" or (kid.startswith("#") and len(kid) > 1) or (kid.startswith(issuer + "#")
                                                                    and len(kid) > len(issuer) + 1)


def resolve_signing_key(resolver: DidResolver, issuer: str, kid: str) -> tuple[str, Ed25519PublicKey]:
    """The assertion key of *issuer* that *kid* names, accepting the unambiguous short forms.

    A full DID URL names its key; a fragment-only ``kid`` (``#z6Mk…``) is
    resolved against the issuer's DID; no ``kid`` at all is accepted when the
    issuer's DID document lists exactly one assertion key (always true of a
    ``did:key``), and refused as ambiguous otherwise.

    Args:
        resolver: resolves the issuer's DID.
        issuer: the issuer's DID (the credential's ``issuer``).
        kid: the ``kid`` header or ``verificationMethod`` as given ("" when absent).

    Returns:
        The full verification method id and its key.

    Raises:
        DidUnavailableError: the DID host could not be reached.
        DidResolutionError: *kid* names another DID's key, the key does not
            resolve or may not sign credentials, or no *kid* and the document
            lists no or several assertion keys.
    """
    if not names_issuer_key(kid, issuer):
        raise DidResolutionError(f"the signing key {kid!r} is not a key of the issuer {issuer}")
    document = resolver.resolve(issuer)
    if kid.startswith("#"):
        kid = issuer + kid
    elif not kid:
        assertion = document.get("assertionMethod")
        entries = assertion if isinstance(assertion, list) else []
        methods = sorted({ref for ref in (_reference(document, e) for e in entries) if ref is not None})
        if len(methods) != 1:
            raise DidResolutionError(f"the signature names no key (no kid) and {issuer} lists {len(methods)} "
                                     "assertion keys: ambiguous, so it is refused; name the key in 'kid'")
        kid = methods[0]
    return kid, find_assertion_key(document, kid)


class Resolver:
    """Resolves ``did:key`` offline and ``did:web`` from known documents or over HTTP.

    Args:
        documents: ``did:web`` documents known in advance (by DID), consulted first.
        http: client for ``did:web`` lookups; ``None`` keeps resolution offline.
        allow_http: fetch from ``http://`` — loopback hosts only (tests, local demos).
        ttl: seconds a fetched document is reused; after that it is fetched
            again, and a host that is down then gives :class:`DidUnavailableError`.
        clock: monotonic seconds, injectable for tests.
        timeout: HTTP timeout in seconds.
    """

    def __init__(self, documents: Mapping[str, Mapping[str, Any]] | None = None, http: httpx.Client | None = None,
                 *, allow_http: bool = False, ttl: float = 300.0, clock: Callable[[], float] = time.monotonic,
                 timeout: float = 5.0) -> None:
        self.documents = dict(documents or {})
        self.http = http
        self.allow_http = allow_http
        self.ttl = ttl
        self.clock = clock
        self.timeout = timeout
        self.fetches = 0
        self._cache: dict[str, tuple[float, Mapping[str, Any]]] = {}
        self._lock = threading.Lock()

    def resolve(self, did: str) -> Mapping[str, Any]:
        """The DID document of *did*.

        Raises:
            DidUnavailableError: the ``did:web`` host could not be reached or answered 5xx.
            DidResolutionError: unsupported method, not found, or a malformed document.
        """
        did = did.split("#")[0]
        if did.startswith("did:key:"):
            return did_key_document(did)
        if did in self.documents:
            return self.documents[did]
        if not did.startswith("did:web:"):
            raise DidResolutionError(f"cannot resolve {did!r}: only did:key and did:web are supported")
        if self.http is None:
            raise DidUnavailableError(f"{did} is not known and this resolver works offline")
        with self._lock:
            cached = self._cache.get(did)
        if cached is not None and self.clock() - cached[0] < self.ttl:
            return cached[1]
        document = self._fetch(did)
        with self._lock:
            self._cache[did] = (self.clock(), document)
        return document

    def _fetch(self, did: str) -> Mapping[str, Any]:
        assert self.http is not None
        url = did_web_url(did, allow_http=self.allow_http)
        try:
            answer = self.http.get(url, timeout=self.timeout,
                                   headers={"Accept": "application/did+json, application/json"})
        except httpx.TransportError as error:
            raise DidUnavailableError(f"the DID host of {did} could not be reached ({type(error).__name__})") from None
        self.fetches += 1
        if answer.status_code >= 500 or answer.status_code in (408, 429):
            raise DidUnavailableError(f"the DID host of {did} answered {answer.status_code}")
        if answer.status_code != 200:
            raise DidResolutionError(f"{did} does not resolve: {url} answered {answer.status_code}")
        try:
            document = answer.json()
        except ValueError:
            raise DidResolutionError(f"{url} did not return JSON") from None
        if not isinstance(document, dict) or document.get("id") != did:
            found = document.get("id") if isinstance(document, dict) else None
            raise DidResolutionError(f"{url} holds a document for {found!r}, not {did}")
        return document
