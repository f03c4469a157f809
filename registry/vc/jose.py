"""Compact JWS with Ed25519, the envelope of every ``vc+jwt`` this package makes.

Only what the profile needs, written against ``cryptography`` directly so the
rules are visible: the algorithm is Ed25519 (``alg`` ``Ed25519``, RFC 9864's
fully-specified name; the older ``EdDSA`` is accepted on input), the payload is the JSON
of the credential itself, and parsing is strict (three base64url segments
without padding, JSON objects without duplicate members, no ``crit`` and no
unencoded payloads). Media types in ``typ`` and ``cty`` are compared as RFC 7515
§4.1.9 says: case-insensitively, with ``application/`` implied when the value
has no ``/``. Nothing here trusts a key carried in the token: the caller
supplies the key, found through the issuer's DID.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from registry.vc.errors import CredentialFormatError, InvalidSignatureError

ALG = "Ed25519"
"""The ``alg`` this package writes: RFC 9864's fully-specified name for Ed25519.

RFC 9864 (October 2025) deprecates the polymorphic ``EdDSA`` (the name
VC-JOSE-COSE's examples use) in favour of ``Ed25519``; both name the same
signature here, both are accepted on input, and :func:`sign_compact` writes either."""

ACCEPTED_ALGS = frozenset({"EdDSA", "Ed25519"})
"""Algorithms accepted on input: ``EdDSA`` and RFC 9864's fully-specified ``Ed25519``."""

VC_JWT_TYP = "vc+jwt"
"""``typ`` header of a credential secured with JOSE (VC-JOSE-COSE)."""

VC_JWT_MEDIA_TYPE = "application/vc+jwt"
"""Media type to serve a ``vc+jwt`` with."""

VC_CTY = "vc"
"""``cty`` header: the payload is a verifiable credential."""

MAX_TOKEN_CHARS = 4 * 1024 * 1024
"""Refuse to parse anything larger (a status list of 16 MiB compresses far below this)."""

_B64URL = re.compile(r"[A-Za-z0-9_-]*")


@dataclass(frozen=True)
class CompactJws:
    """A parsed, not yet verified, compact JWS."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes

    @property
    def kid(self) -> str:
        """The ``kid`` header (empty when absent)."""
        kid = self.header.get("kid")
        return kid if isinstance(kid, str) else ""

    @property
    def typ(self) -> str | None:
        """The media type the ``typ`` header names (see :func:`media_type`), ``None`` when absent."""
        return media_type(self.header.get("typ"))


def media_type(value: Any) -> str | None:
    """The media type a ``typ`` or ``cty`` header names, in the form to compare (RFC 7515 §4.1.9).

    Media type names are case-insensitive, and a value without ``/`` stands
    for ``application/<value>``: ``vc+jwt``, ``VC+JWT`` and
    ``application/vc+jwt`` all give ``application/vc+jwt``.

    Args:
        value: the header's value.

    Returns:
        The lower-cased full media type, or ``None`` when *value* is not a string.
    """
    if not isinstance(value, str):
        return None
    lowered = value.strip().lower()
    return lowered if "/" in lowered else "application/" + lowered


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2).

    Args:
        data: bytes to encode.

    Returns:
        The encoded text.
    """
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url decoding: only the URL-safe alphabet, no padding.

    Args:
        text: the encoded text.

    Returns:
        The decoded bytes.

    Raises:
        CredentialFormatError: characters outside the alphabet, padding, or an impossible length.
    """
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise CredentialFormatError("not base64url without padding")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except binascii.Error as error:
        raise CredentialFormatError(f"not base64url: {error}") from None


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise CredentialFormatError(f"duplicate member {key!r} in a JWS segment")
        result[key] = value
    return result


def json_object(data: bytes, what: str) -> dict[str, Any]:
    """Parse *data* as a UTF-8 JSON object, refusing duplicate member names.

    Args:
        data: the JSON text.
        what: what is parsed, for the error message.

    Returns:
        The object.

    Raises:
        CredentialFormatError: not UTF-8, not JSON, or not an object.
    """
    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=_reject_duplicates)
    except (UnicodeDecodeError, ValueError) as error:  # duplicates raise CredentialFormatError themselves
        raise CredentialFormatError(f"the {what} is not JSON: {error}") from None
    if not isinstance(value, dict):
        raise CredentialFormatError(f"the {what} is not a JSON object")
    return value


def canonical_payload(payload: Mapping[str, Any]) -> bytes:
    """The bytes signed for *payload*: compact UTF-8 JSON.

    Raises:
        CredentialFormatError: the payload holds values JSON cannot represent.
    """
    try:
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as error:
        raise CredentialFormatError(f"the payload is not JSON-serialisable: {error}") from None


def sign_compact(payload: Mapping[str, Any], private_key: Ed25519PrivateKey, *, kid: str,
                 typ: str = VC_JWT_TYP, cty: str | None = VC_CTY, alg: str = ALG) -> str:
    """Sign *payload* as a compact JWS with Ed25519.

    Args:
        payload: the JSON object to secure (for a ``vc+jwt``, the credential itself).
        private_key: the issuer's signing key.
        kid: the verification method id (a DID URL) verifiers resolve the key from.
        typ: the ``typ`` header.
        cty: the ``cty`` header, or ``None`` to leave it out.
        alg: ``EdDSA`` or ``Ed25519`` (RFC 9864's name for the same signature).

    Returns:
        ``header.payload.signature`` in base64url.

    Raises:
        CredentialFormatError: the payload is not JSON-serialisable.
        ValueError: *alg* is not an Ed25519 algorithm name.
    """
    if alg not in ACCEPTED_ALGS:
        raise ValueError(f"{alg!r} is not an Ed25519 JWS algorithm")
    header: dict[str, str] = {"alg": alg, "typ": typ, "kid": kid}
    if cty is not None:
        header["cty"] = cty
    signing_input = (b64url_encode(canonical_payload(header)) + "." + b64url_encode(canonical_payload(payload)))
    signature = private_key.sign(signing_input.encode("ascii"))
    return signing_input + "." + b64url_encode(signature)


def parse_compact(token: str) -> CompactJws:
    """Split and decode a compact JWS without checking its signature.

    Args:
        token: the compact serialisation.

    Returns:
        The header, payload, signing input and signature.

    Raises:
        CredentialFormatError: malformed token, unsupported algorithm, ``crit``
            or unencoded-payload headers.
    """
    token = token.strip()
    if len(token) > MAX_TOKEN_CHARS:
        raise CredentialFormatError(f"token larger than {MAX_TOKEN_CHARS} characters")
    parts = token.split(".")
    if len(parts) != 3:
        raise CredentialFormatError("not a compact JWS (expected three dot-separated parts)")
    head, body, signature = parts
    header = json_object(b64url_decode(head), "JWS header")
    alg = header.get("alg")
    if alg not in ACCEPTED_ALGS:
        raise CredentialFormatError(f"unsupported JWS algorithm {alg!r}; only Ed25519 (EdDSA) is accepted")
    if "crit" in header or header.get("b64") is False:
        raise CredentialFormatError("JWS critical or unencoded-payload headers are not supported")
    payload = json_object(b64url_decode(body), "JWS payload")
    raw_signature = b64url_decode(signature)
    if len(raw_signature) != 64:
        raise CredentialFormatError(f"an Ed25519 signature has 64 bytes, not {len(raw_signature)}")
    return CompactJws(header, payload, f"{head}.{body}".encode("ascii"), raw_signature)


def verify_signature(jws: CompactJws, public_key: Ed25519PublicKey) -> None:
    """Check *jws*'s signature under *public_key*.

    Args:
        jws: a parsed token.
        public_key: the key the token's ``kid`` resolved to.

    Raises:
        InvalidSignatureError: the signature does not match (altered, or another key).
    """
    try:
        public_key.verify(jws.signature, jws.signing_input)
    except InvalidSignature:
        raise InvalidSignatureError(
            "the signature does not match the issuer's key: the content was altered or signed by someone else"
        ) from None
