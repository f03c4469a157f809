"""Data Integrity proofs with the ``eddsa-jcs-2022`` cryptosuite (W3C vc-di-eddsa).

The other way to secure a VC 2.0 credential: instead of wrapping it in a JWS,
a ``proof`` object is embedded. The document and the proof options are each
canonicalised with JCS (RFC 8785) and hashed with SHA-256; the Ed25519
signature covers ``SHA-256(proof options) ‖ SHA-256(document)`` and is stored
as base58btc multibase in ``proofValue``. Kept here so the comparison can
weigh an embedded proof against ``vc+jwt`` on the same credentials; it is
checked against the W3C test vectors.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import base58
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from registry.vc.credential import format_instant, parse_instant
from registry.vc.errors import CredentialFormatError, InvalidSignatureError
from registry.vc.resolver import DidResolver, resolve_key

CRYPTOSUITE = "eddsa-jcs-2022"
PROOF_TYPE = "DataIntegrityProof"


def _jcs(value: Any) -> bytes:
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as error:
        raise CredentialFormatError(f"cannot canonicalise with JCS: {error}") from None


def hash_data(document: Mapping[str, Any], proof_config: Mapping[str, Any]) -> bytes:
    """What the signature covers: ``SHA-256(JCS(proof config)) ‖ SHA-256(JCS(document))``.

    Args:
        document: the unsecured document (no ``proof``).
        proof_config: the proof options without ``proofValue``.

    Returns:
        64 bytes.

    Raises:
        CredentialFormatError: a value JCS cannot represent.
    """
    return hashlib.sha256(_jcs(proof_config)).digest() + hashlib.sha256(_jcs(document)).digest()


def _check_options(options: Mapping[str, Any]) -> None:
    if options.get("type") != PROOF_TYPE or options.get("cryptosuite") != CRYPTOSUITE:
        raise CredentialFormatError(f"not a {PROOF_TYPE} with cryptosuite {CRYPTOSUITE}")
    if "created" in options:
        parse_instant(options["created"])
    if not isinstance(options.get("verificationMethod"), str) or not options.get("proofPurpose"):
        raise CredentialFormatError("the proof names no verificationMethod or proofPurpose")


def add_proof(document: Mapping[str, Any], private_key: Ed25519PrivateKey, *, verification_method: str,
              created: datetime | None = None, proof_purpose: str = "assertionMethod") -> dict[str, Any]:
    """Secure *document* with an ``eddsa-jcs-2022`` proof.

    Args:
        document: the unsecured credential (it must not carry a ``proof``).
        private_key: the signing key.
        verification_method: the DID URL of the matching public key.
        created: when the proof is made (timezone-aware); left out when ``None``.
        proof_purpose: the verification relationship, ``assertionMethod`` for issuing.

    Returns:
        A copy of *document* with ``proof``; the proof carries the document's
        ``@context``, as the cryptosuite prescribes.

    Raises:
        CredentialFormatError: the document already has a proof, or holds
            values JCS cannot represent.
    """
    if "proof" in document:
        raise CredentialFormatError("the document already carries a proof")
    proof: dict[str, Any] = {"type": PROOF_TYPE, "cryptosuite": CRYPTOSUITE}
    if created is not None:
        proof["created"] = format_instant(created)
    proof |= {"verificationMethod": verification_method, "proofPurpose": proof_purpose}
    if "@context" in document:
        proof["@context"] = copy.deepcopy(document["@context"])
    signature = private_key.sign(hash_data(document, proof))
    secured = copy.deepcopy(dict(document))
    secured["proof"] = proof | {"proofValue": "z" + base58.b58encode(signature).decode("ascii")}
    return secured


# Complexity (radon C): one branch per eddsa-jcs-2022 verification step (purpose, proofValue, @context, signature)
def verify_proof(secured: Mapping[str, Any], key: Ed25519PublicKey | DidResolver,
                 *, expected_purpose: str = "assertionMethod") -> dict[str, Any]:
    """Verify the ``eddsa-jcs-2022`` proof of *secured*.

    Args:
        secured: the document with its ``proof``.
        key: the public key, or a resolver that turns the proof's
            ``verificationMethod`` into a key listed as an ``assertionMethod``.
        expected_purpose: the proof purpose required.

    Returns:
        The unsecured document (``proof`` removed).

    Raises:
        CredentialFormatError: no proof, another suite or purpose, a malformed
            ``proofValue``, or a proof ``@context`` the document does not start with.
        InvalidSignatureError: the signature does not verify.
        DidResolutionError: the resolver cannot produce the key.
    """
    proof = secured.get("proof")
    if not isinstance(proof, Mapping):
        raise CredentialFormatError("the document carries no single proof object")
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    _check_options(options)
    if options["proofPurpose"] != expected_purpose:
        raise CredentialFormatError(f"the proof purpose is {options['proofPurpose']!r}, not {expected_purpose!r}")
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z"):
        raise CredentialFormatError("proofValue is not base58btc multibase")
    try:
        signature = base58.b58decode(value[1:])
    except ValueError:
        raise CredentialFormatError("proofValue is not valid base58btc") from None
    if len(signature) != 64:
        raise CredentialFormatError(f"an Ed25519 signature has 64 bytes, not {len(signature)}")
    unsecured = {k: copy.deepcopy(v) for k, v in secured.items() if k != "proof"}
    if "@context" in options:
        context, claimed = unsecured.get("@context"), options["@context"]
        context = context if isinstance(context, list) else [context]
        claimed = claimed if isinstance(claimed, list) else [claimed]
        if context[:len(claimed)] != claimed:
            raise CredentialFormatError("the document's @context does not start with the proof's @context")
        unsecured["@context"] = copy.deepcopy(options["@context"])
    public_key = key if isinstance(key, Ed25519PublicKey) else resolve_key(key, options["verificationMethod"])
    try:
        public_key.verify(signature, hash_data(unsecured, options))
    except InvalidSignature:
        raise InvalidSignatureError("the Data Integrity proof does not verify: altered or signed by another key") \
            from None
    return unsecured
