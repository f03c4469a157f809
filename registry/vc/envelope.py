"""Open a secured credential, either way it is secured, into what the verifier needs.

A ``vc+jwt`` is a compact JWS whose payload is the credential; a Data
Integrity credential is a JSON object with an embedded ``proof``. Both open
into a :class:`Envelope`: the unsecured credential, the issuer's DID, the key
the securing names (as written: a full DID URL, a fragment, or nothing) and a
function that checks the signature under a key. Nothing is resolved or
verified here, and the rules that need no key are checked at once: the JWS
``typ`` (RFC 7515 §4.1.9), no ``vc``/``vp`` wrapper claims, an issuer named by
DID, a signing key that can only be one of the issuer's.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from registry.vc.credential import credential_issuer
from registry.vc.data_integrity import CRYPTOSUITE, verify_proof
from registry.vc.errors import CredentialFormatError
from registry.vc.jose import VC_JWT_MEDIA_TYPE, CompactJws, json_object, parse_compact, verify_signature
from registry.vc.resolver import names_issuer_key


@dataclass(frozen=True)
class Envelope:
    """A credential opened but not yet verified.

    Attributes:
        securing: ``vc+jwt`` or ``di``.
        credential: the credential without its securing.
        issuer: the issuer's DID.
        kid: the signing key as the securing names it ("" when it names none).
        algorithm: ``alg`` of the JWS, or the Data Integrity cryptosuite.
        check: raises unless the signature verifies under the given key.
    """

    securing: str
    credential: dict[str, Any]
    issuer: str
    kid: str
    algorithm: str
    check: Callable[[Ed25519PublicKey], None]


def _issuer(credential: Mapping[str, Any], kid: str) -> str:
    issuer = credential_issuer(credential)
    if issuer is None or not issuer.startswith("did:"):
        raise CredentialFormatError("the credential does not name its issuer by DID")
    if not names_issuer_key(kid, issuer):
        raise CredentialFormatError(f"the signing key {kid!r} is not a key of the issuer {issuer}")
    if not isinstance(credential.get("credentialSubject"), Mapping):
        raise CredentialFormatError("the credential has no credentialSubject object")
    return issuer


def _open_jws(jws: CompactJws) -> Envelope:
    if jws.typ != VC_JWT_MEDIA_TYPE:
        raise CredentialFormatError(f"the JWS type is {jws.header.get('typ')!r}, not vc+jwt (application/vc+jwt)")
    payload = jws.payload
    if "vc" in payload or "vp" in payload:
        raise CredentialFormatError("the payload carries a 'vc'/'vp' claim, which vc+jwt forbids")
    issuer = _issuer(payload, jws.kid)
    if payload.get("iss") not in (None, issuer):
        raise CredentialFormatError("the 'iss' claim contradicts the credential's issuer")
    return Envelope("vc+jwt", payload, issuer, jws.kid, str(jws.header.get("alg")),
                    lambda key: verify_signature(jws, key))


def _open_document(document: Mapping[str, Any]) -> Envelope:
    proof = document.get("proof")
    if not isinstance(proof, Mapping):
        raise CredentialFormatError("the credential is neither a vc+jwt nor carries a single Data Integrity proof")
    if proof.get("cryptosuite") != CRYPTOSUITE:
        raise CredentialFormatError(f"the proof's cryptosuite is {proof.get('cryptosuite')!r}, not {CRYPTOSUITE}")
    method = proof.get("verificationMethod")
    if not isinstance(method, str) or not method:
        raise CredentialFormatError("the proof names no verificationMethod")
    unsecured = {k: copy.deepcopy(v) for k, v in document.items() if k != "proof"}
    issuer = _issuer(unsecured, method)
    kept = copy.deepcopy(dict(document))

    def check(key: Ed25519PublicKey) -> None:
        verify_proof(kept, key)

    return Envelope("di", unsecured, issuer, method, CRYPTOSUITE, check)


def open_credential(secured: str | Mapping[str, Any]) -> Envelope:
    """Open a ``vc+jwt`` (compact JWS) or a Data Integrity credential (a JSON object, or its text).

    Args:
        secured: the token, the document, or the document's JSON text.

    Returns:
        The envelope, not yet verified.

    Raises:
        CredentialFormatError: neither form, or a rule that needs no key is broken.
    """
    if isinstance(secured, Mapping):
        return _open_document(secured)
    text = secured.strip()
    if text.startswith("{"):
        return _open_document(json_object(text.encode("utf-8"), "credential"))
    return _open_jws(parse_compact(text))
