"""Issuer keys and DIDs: Ed25519, ``did:key``, ``did:web``, and DID resolution.

A ``did:key`` is the public key itself (multicodec ``0xed01`` + 32 bytes,
base58btc, multibase prefix ``z``): it resolves offline and can never rotate.
A ``did:web`` names a DID document served over HTTPS at a path derived from
the DID (``did:web:example.com%3A8000`` → ``https://example.com:8000/.well-known/did.json``):
it can rotate, but verifying needs the host. Verification methods are named
``<did>#<multibase key>`` in both, so a key id says which key it is.

Resolving a ``did:web`` over the network lives in :mod:`registry.vc.resolver`.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, unquote, urlsplit

import base58
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from registry.vc.errors import DidResolutionError
from registry.vc.jose import b64url_encode

ED25519_MULTICODEC = b"\xed\x01"
"""Multicodec prefix of an Ed25519 public key (varint of 0xed)."""

DID_CONTEXT = "https://www.w3.org/ns/did/v1"
JWK_CONTEXT = "https://w3id.org/security/jwk/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"

MethodType = Literal["JsonWebKey", "Multikey"]
_HOST = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::[0-9]{1,5})?")


# -- encodings ------------------------------------------------------------------


def _raw(public_key: bytes | Ed25519PublicKey) -> bytes:
    if isinstance(public_key, Ed25519PublicKey):
        return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    if len(public_key) != 32:
        raise ValueError(f"an Ed25519 public key has 32 bytes, not {len(public_key)}")
    return bytes(public_key)


def multibase_key(public_key: bytes | Ed25519PublicKey) -> str:
    """The Multikey form of an Ed25519 public key: ``z`` + base58btc(0xed01 ‖ key)."""
    return "z" + base58.b58encode(ED25519_MULTICODEC + _raw(public_key)).decode("ascii")


def key_from_multibase(value: str) -> bytes:
    """The raw Ed25519 key in a Multikey string.

    Raises:
        DidResolutionError: not base58btc, or not an Ed25519 key.
    """
    if not value.startswith("z"):
        raise DidResolutionError(f"{value!r} is not base58btc multibase (prefix 'z')")
    try:
        raw = base58.b58decode(value[1:])
    except ValueError:
        raise DidResolutionError(f"{value!r} is not valid base58btc") from None
    if raw[:2] != ED25519_MULTICODEC or len(raw) != 34:
        raise DidResolutionError(f"{value!r} is not an Ed25519 public key (multicodec 0xed01)")
    return raw[2:]


def public_jwk(public_key: bytes | Ed25519PublicKey) -> dict[str, str]:
    """The public JWK (RFC 8037 OKP) of an Ed25519 key."""
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(_raw(public_key))}


# -- did:key --------------------------------------------------------------------


def did_key(public_key: bytes | Ed25519PublicKey) -> str:
    """The ``did:key`` of an Ed25519 public key."""
    return "did:key:" + multibase_key(public_key)


def public_key_of_did_key(did: str) -> bytes:
    """The raw public key a ``did:key`` (or a DID URL on one) encodes.

    Raises:
        DidResolutionError: not an Ed25519 ``did:key``.
    """
    if not did.startswith("did:key:"):
        raise DidResolutionError(f"{did!r} is not a did:key")
    return key_from_multibase(did.removeprefix("did:key:").split("#")[0])


def did_key_document(did: str) -> dict[str, Any]:
    """Expand a ``did:key`` into its DID document (one Multikey, every relationship).

    Raises:
        DidResolutionError: not an Ed25519 ``did:key``.
    """
    did = did.split("#")[0]
    key = public_key_of_did_key(did)
    method_id = verification_method_id(did, key)
    return {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": did,
        "verificationMethod": [{"id": method_id, "type": "Multikey", "controller": did,
                                "publicKeyMultibase": multibase_key(key)}],
        "authentication": [method_id],
        "assertionMethod": [method_id],
        "capabilityInvocation": [method_id],
        "capabilityDelegation": [method_id],
    }


# -- did:web --------------------------------------------------------------------


def did_web(host: str, path: str = "") -> str:
    """The ``did:web`` for *host* (with optional port) and optional *path*.

    ``127.0.0.1:8000`` becomes ``did:web:127.0.0.1%3A8000``; path segments are
    joined with ``:``.
    """
    segments = [quote(p, safe="") for p in path.strip("/").split("/") if p]
    return ":".join(["did:web", quote(host.lower(), safe=""), *segments])


def did_web_from(domain_or_url: str) -> str:
    """The ``did:web`` for a domain (``example.com:8000``) or a URL (``https://example.com/issuers/sg``).

    A URL ending in ``/did.json`` or ``/.well-known/did.json`` maps to the DID
    that document belongs to.

    Raises:
        ValueError: no host, or a query or fragment in the URL.
    """
    text = domain_or_url if "://" in domain_or_url else "https://" + domain_or_url
    parts = urlsplit(text)
    if not parts.hostname or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"{domain_or_url!r} is not a bare domain or an https URL")
    path = parts.path.removesuffix("/did.json").removesuffix("/.well-known")
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return did_web(host, path)


def is_loopback_host(host: str) -> bool:
    """Whether *host* (optionally with ``:port``) is ``localhost`` or a loopback address."""
    bare_ipv6 = host.count(":") > 1 and not host.startswith("[")
    name = host if bare_ipv6 else urlsplit("//" + host).hostname or ""
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


# Complexity (radon C): the did:web method's rules (prefix, host, path segments, loopback-only http) checked in one pass
def did_web_url(did: str, *, allow_http: bool = False) -> str:
    """Where the document of a ``did:web`` lives.

    Args:
        did: the DID (a fragment, if any, is ignored).
        allow_http: use ``http`` instead of ``https`` — only for loopback hosts
            (``localhost``, ``127.0.0.0/8``, ``::1``), for tests and local demos.

    Returns:
        ``https://<host>/.well-known/did.json`` for a bare host, else
        ``https://<host>/<path>/did.json``.

    Raises:
        DidResolutionError: not a ``did:web``, a malformed host or path, or
            ``allow_http`` for a host that is not loopback.
    """
    if not did.startswith("did:web:"):
        raise DidResolutionError(f"{did!r} is not a did:web")
    host, *path = did.removeprefix("did:web:").split("#")[0].split(":")
    host = unquote(host).lower()
    segments = [unquote(p) for p in path]
    if not _HOST.fullmatch(host):
        raise DidResolutionError(f"{did!r} does not name a valid host")
    if any(s in ("", ".", "..") or "/" in s for s in segments):
        raise DidResolutionError(f"{did!r} has an invalid path segment")
    if allow_http and not is_loopback_host(host):
        raise DidResolutionError(f"plain http is only allowed for loopback hosts, not {host}")
    scheme = "http" if allow_http else "https"
    suffix = "/".join(quote(s, safe="") for s in segments) + "/did.json" if segments else ".well-known/did.json"
    return f"{scheme}://{host}/{suffix}"


def verification_method_id(did: str, public_key: bytes | Ed25519PublicKey) -> str:
    """The id of the verification method for *public_key* in *did*'s document: ``<did>#<multibase>``."""
    return f"{did}#{multibase_key(public_key)}"


def build_did_web_document(domain_or_url: str, public_key: bytes | Ed25519PublicKey, *,
                           method_type: MethodType = "JsonWebKey") -> dict[str, Any]:
    """The DID document a node serves at its ``did:web`` location.

    Args:
        domain_or_url: the host (``example.com:8000``), an https URL, or the ``did:web`` itself.
        public_key: the issuer's Ed25519 public key.
        method_type: ``JsonWebKey`` (``publicKeyJwk``; what VC-JOSE-COSE asks of
            controller documents) or ``Multikey`` (``publicKeyMultibase``).

    Returns:
        The document, with the key under ``assertionMethod`` and ``authentication``.

    Raises:
        ValueError: *domain_or_url* names no host, or an unknown *method_type*.
    """
    did = domain_or_url if domain_or_url.startswith("did:web:") else did_web_from(domain_or_url)
    method_id = verification_method_id(did, public_key)
    method: dict[str, Any] = {"id": method_id, "type": method_type, "controller": did}
    if method_type == "JsonWebKey":
        method["publicKeyJwk"] = public_jwk(public_key)
        context = JWK_CONTEXT
    elif method_type == "Multikey":
        method["publicKeyMultibase"] = multibase_key(public_key)
        context = MULTIKEY_CONTEXT
    else:
        raise ValueError(f"unknown verification method type {method_type!r}")
    return {"@context": [DID_CONTEXT, context], "id": did, "verificationMethod": [method],
            "assertionMethod": [method_id], "authentication": [method_id]}


# -- the issuer's key -------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class IssuerKey:
    """An issuer's Ed25519 signing key and the DID it signs as.

    Attributes:
        private_key: the signing key (never printed: ``repr`` shows the DID only).
        did: a ``did:web`` or the key's own ``did:key``.
    """

    private_key: Ed25519PrivateKey
    did: str

    @classmethod
    def generate(cls, did: str | None = None) -> IssuerKey:
        """A fresh key, signing as *did* (e.g. a ``did:web``) or else as its own ``did:key``."""
        key = Ed25519PrivateKey.generate()
        return cls(key, did or did_key(key.public_key()))

    @classmethod
    def from_private_bytes(cls, raw: bytes, did: str | None = None) -> IssuerKey:
        """Load a 32-byte Ed25519 seed, signing as *did* or as the key's ``did:key``.

        Raises:
            ValueError: *raw* is not 32 bytes.
        """
        key = Ed25519PrivateKey.from_private_bytes(raw)
        return cls(key, did or did_key(key.public_key()))

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The public half."""
        return self.private_key.public_key()

    @property
    def public_bytes(self) -> bytes:
        """The raw 32-byte public key."""
        return _raw(self.public_key)

    @property
    def kid(self) -> str:
        """The verification method id put in JWS headers (``<did>#<multibase key>``)."""
        return verification_method_id(self.did, self.public_bytes)

    def did_document(self, method_type: MethodType = "JsonWebKey") -> dict[str, Any]:
        """This key's DID document: served for a ``did:web``, derived for a ``did:key``."""
        if self.did.startswith("did:key:"):
            return did_key_document(self.did)
        return build_did_web_document(self.did, self.public_bytes, method_type=method_type)

    def __repr__(self) -> str:
        return f"IssuerKey(did={self.did!r})"
