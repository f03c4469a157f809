"""Issuer keys and DIDs: Ed25519, ``did:key`` and ``did:web``, and DID resolution."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote, unquote

import base58
import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from joserfc.jwk import OKPKey

from registry.errors import RegistryError

_ED25519_MULTICODEC = b"\xed\x01"


class DidResolutionError(RegistryError):
    """A DID could not be resolved (unknown method, host down, malformed document)."""

    title = "DID resolution failed"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def did_key(public_key: bytes) -> str:
    """The ``did:key`` of an Ed25519 public key (multicodec 0xed01, base58btc ``z``)."""
    return "did:key:z" + base58.b58encode(_ED25519_MULTICODEC + public_key).decode()


def public_key_of_did_key(did: str) -> bytes:
    """Raw Ed25519 public key inside a ``did:key``.

    Raises:
        DidResolutionError: not an Ed25519 ``did:key``.
    """
    if not did.startswith("did:key:z"):
        raise DidResolutionError(f"{did!r} is not a base58btc did:key")
    raw = base58.b58decode(did.removeprefix("did:key:z").split("#")[0])
    if raw[:2] != _ED25519_MULTICODEC or len(raw) != 34:
        raise DidResolutionError(f"{did!r} is not an Ed25519 did:key")
    return raw[2:]


def did_web(host: str, path: str = "") -> str:
    """The ``did:web`` for *host* (``127.0.0.1:8000`` becomes ``did:web:127.0.0.1%3A8000``)."""
    parts = [quote(host, safe="")] + [p for p in path.strip("/").split("/") if p]
    return "did:web:" + ":".join(parts)


def did_web_url(did: str, scheme: str = "https") -> str:
    """Where a ``did:web`` document lives (``/.well-known/did.json`` for a bare host)."""
    if not did.startswith("did:web:"):
        raise DidResolutionError(f"{did!r} is not a did:web")
    host, *path = did.removeprefix("did:web:").split("#")[0].split(":")
    suffix = "/".join(unquote(p) for p in path) + "/did.json" if path else ".well-known/did.json"
    return f"{scheme}://{unquote(host)}/{suffix}"


@dataclass(frozen=True)
class IssuerKey:
    """An issuer's Ed25519 signing key and the DID it signs as."""

    private_key: Ed25519PrivateKey
    did: str

    @classmethod
    def generate(cls, did: str | None = None) -> IssuerKey:
        """A new key; its DID is *did* (e.g. a did:web) or the key's own did:key."""
        key = Ed25519PrivateKey.generate()
        raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return cls(key, did or did_key(raw))

    @property
    def public_bytes(self) -> bytes:
        """Raw 32-byte public key."""
        return self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def kid(self) -> str:
        """Verification method id used in JWS headers."""
        if self.did.startswith("did:key:"):
            return f"{self.did}#{self.did.removeprefix('did:key:')}"
        return f"{self.did}#key-1"

    def jwk(self) -> OKPKey:
        """The private key as a JOSE key (for signing)."""
        raw = self.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return OKPKey.import_key({"kty": "OKP", "crv": "Ed25519", "x": _b64url(self.public_bytes), "d": _b64url(raw)})

    def __repr__(self) -> str:
        return f"IssuerKey(did={self.did!r})"


def did_document(did: str, public_key: bytes) -> dict[str, Any]:
    """A DID document with one Ed25519 ``JsonWebKey`` verification method."""
    kid = f"{did}#key-1"
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/jwk/v1"],
        "id": did,
        "verificationMethod": [{"id": kid, "type": "JsonWebKey", "controller": did,
                                "publicKeyJwk": {"kty": "OKP", "crv": "Ed25519", "x": _b64url(public_key)}}],
        "assertionMethod": [kid],
        "authentication": [kid],
    }


class DidResolver(Protocol):
    """Turns a DID URL (``did#fragment``) into the Ed25519 public key it names."""

    def resolve(self, kid: str) -> Ed25519PublicKey: ...


def _key_from_document(document: dict[str, Any], kid: str) -> Ed25519PublicKey:
    did = kid.split("#")[0]
    if document.get("id") != did:
        raise DidResolutionError(f"the DID document is for {document.get('id')!r}, not {did!r}")
    for method in document.get("verificationMethod", []):
        if method.get("id") == kid and kid in document.get("assertionMethod", []):
            x = method.get("publicKeyJwk", {}).get("x", "")
            return Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(x + "=" * (-len(x) % 4)))
    raise DidResolutionError(f"{kid} is not an assertion method of {did}")


class Resolver:
    """Resolves ``did:key`` offline and ``did:web`` over HTTP (or from a dict of documents).

    Args:
        documents: did:web documents known in advance (by DID), consulted first.
        http: client for did:web lookups; ``None`` disables the network.
        scheme: ``http`` for loopback test hosts.
    """

    def __init__(self, documents: dict[str, dict[str, Any]] | None = None, http: httpx.Client | None = None,
                 scheme: str = "https") -> None:
        self.documents = documents or {}
        self.http = http
        self.scheme = scheme

    def resolve(self, kid: str) -> Ed25519PublicKey:
        """The public key *kid* names.

        Raises:
            DidResolutionError: unknown method, unreachable host, or no such key.
        """
        did = kid.split("#")[0]
        if did.startswith("did:key:"):
            return Ed25519PublicKey.from_public_bytes(public_key_of_did_key(did))
        if did in self.documents:
            return _key_from_document(self.documents[did], kid)
        if not did.startswith("did:web:") or self.http is None:
            raise DidResolutionError(f"cannot resolve {did}")
        try:
            answer = self.http.get(did_web_url(did, self.scheme), timeout=5)
            answer.raise_for_status()
            return _key_from_document(answer.json(), kid)
        except (httpx.HTTPError, ValueError) as error:
            raise DidResolutionError(f"DID host for {did} unreachable or invalid: {type(error).__name__}") from error
