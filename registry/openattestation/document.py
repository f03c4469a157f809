"""An OpenAttestation v2 wrapped document: its envelope, its integrity, its issuers; and wrapping one.

A wrapped v2 document (``@govtechsg/open-attestation`` ``wrapDocument``/``wrapDocuments``)::

    {"version": "https://schema.openattestation.com/2.0/schema.json",
     "data": {... every value salted ...},
     "signature": {"type": "SHA3MerkleProof", "targetHash": "<hex>", "proof": ["<hex>", ...],
                   "merkleRoot": "<hex>"},
     "privacy": {"obfuscatedData": ["<hex>", ...]}}        # only when fields were obfuscated

An envelope of the wrong shape is refused (:class:`OpenAttestationDocumentError`, 422);
a well-formed envelope whose contents do not hash to its target hash, or whose proof does not
reach its Merkle root, is a tampered document (:meth:`WrappedDocument.integrity_problem`).
Hashing follows :mod:`registry.openattestation.hashing`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from registry.errors import ValidationError
from registry.openattestation.hashing import UnsupportedData, climb, salt_data, target_hash, unsalt, unsalt_data

SCHEMA_PREFIX = "https://schema.openattestation.com/"
V2_SCHEMA = SCHEMA_PREFIX + "2.0/schema.json"
"""The ``version`` of an OpenAttestation v2 document."""
SIGNATURE_TYPE = "SHA3MerkleProof"
DNS_TXT = "DNS-TXT"
_HEX32 = re.compile(r"^[0-9a-fA-F]{64}$")


class OpenAttestationDocumentError(ValidationError):
    """An OpenAttestation envelope of the wrong shape (not a tampered document: not one at all)."""

    title = "Malformed OpenAttestation document"


def is_openattestation(body: object) -> bool:
    """Whether *body* presents itself as an OpenAttestation document (any version)."""
    return isinstance(body, Mapping) and isinstance(body.get("version"), str) and \
        str(body["version"]).startswith(SCHEMA_PREFIX)


@dataclass(frozen=True)
class Issuer:
    """One entry of ``data.issuers``, unsalted: who claims to have issued the document, and where to check."""

    name: str | None
    document_store: str | None
    """``documentStore`` (or the deprecated ``certificateStore``), as written."""
    other_method: str | None
    """``tokenRegistry`` when the document is a transferable record (not supported here)."""
    identity_type: str | None
    location: str | None


@dataclass(frozen=True)
class WrappedDocument:
    """A parsed v2 envelope (nothing verified yet)."""

    data: Mapping[str, Any]
    target_hash: str
    merkle_root: str
    proof: tuple[str, ...]
    obfuscated: tuple[Any, ...]

    @classmethod
    def parse(cls, body: Mapping[str, Any]) -> WrappedDocument:
        """Read the envelope of a wrapped v2 document.

        Raises:
            OpenAttestationDocumentError: another version, or a part missing or of the wrong type (naming it).
        """
        version = body.get("version")
        if version != V2_SCHEMA:
            raise _wrong("version", f"only OpenAttestation v2 ({V2_SCHEMA}) is supported, not {version!r}")
        data = body.get("data")
        if not isinstance(data, Mapping):
            raise _wrong("data", "expected the salted data as a JSON object")
        target, root, proof = _signature(body.get("signature"))
        return cls(data, target, root, proof, _obfuscated(body.get("privacy")))

    def integrity_problem(self) -> str | None:
        """Why the document is not intact (contents vs target hash, proof vs Merkle root), or None."""
        hashes = [("signature.targetHash", self.target_hash), ("signature.merkleRoot", self.merkle_root)]
        hashes += [(f"signature.proof[{i}]", p) for i, p in enumerate(self.proof)]
        hashes += [(f"privacy.obfuscatedData[{i}]", h) for i, h in enumerate(self.obfuscated)]
        for where, value in hashes:
            if not isinstance(value, str) or not _HEX32.match(value):
                return f"{where} is not a 32-byte hex value"
        try:
            digest = target_hash(self.data, [str(h) for h in self.obfuscated])
        except UnsupportedData as error:
            return f"the data cannot be hashed as OpenAttestation does: {error}"
        if digest != self.target_hash:
            return "the data does not hash to the target hash: the document was changed after it was wrapped"
        if climb(self.target, self.proofs)[-1] != self.root:
            return "the proof does not lead from the target hash to the Merkle root"
        return None

    @property
    def target(self) -> bytes:
        """The target hash as bytes (after :meth:`integrity_problem` passed)."""
        return bytes.fromhex(self.target_hash)

    @property
    def root(self) -> bytes:
        """The Merkle root as bytes (after :meth:`integrity_problem` passed)."""
        return bytes.fromhex(self.merkle_root)

    @property
    def proofs(self) -> list[bytes]:
        """The proof as bytes (after :meth:`integrity_problem` passed)."""
        return [bytes.fromhex(p) for p in self.proof]

    def contents(self) -> dict[str, Any]:
        """The data unsalted (what OpenAttestation's ``getData`` shows)."""
        unsalted: dict[str, Any] = unsalt_data(self.data)
        return unsalted

    def issuers(self) -> list[Issuer]:
        """``data.issuers``, unsalted; an empty list when there is none."""
        listed = self.data.get("issuers")
        if not isinstance(listed, list):
            return []
        return [_issuer(entry) for entry in listed if isinstance(entry, Mapping)]


def _signature(signature: object) -> tuple[str, str, tuple[str, ...]]:
    """Target hash, Merkle root and proof of a ``SHA3MerkleProof`` signature (shapes only; hex is checked later)."""
    if not isinstance(signature, Mapping):
        raise _wrong("signature", "expected the signature (SHA3MerkleProof) as a JSON object")
    if signature.get("type") != SIGNATURE_TYPE:
        raise _wrong("signature.type", f"expected {SIGNATURE_TYPE!r}")
    for name in ("targetHash", "merkleRoot"):
        if not isinstance(signature.get(name), str):
            raise _wrong(f"signature.{name}", "expected a hex string")
    proof = signature.get("proof", [])
    if not isinstance(proof, list) or not all(isinstance(p, str) for p in proof):
        raise _wrong("signature.proof", "expected a list of hex strings")
    return signature["targetHash"], signature["merkleRoot"], tuple(proof)


def _obfuscated(privacy: object) -> tuple[Any, ...]:
    hidden = (privacy or {}).get("obfuscatedData", []) if isinstance(privacy, Mapping) or privacy is None else None
    if not isinstance(hidden, list):
        raise _wrong("privacy.obfuscatedData", "expected a list of hex strings")
    return tuple(hidden)


def _issuer(entry: Mapping[str, Any]) -> Issuer:
    proof = entry.get("identityProof")
    proof = proof if isinstance(proof, Mapping) else {}
    return Issuer(name=_text(entry.get("name")),
                  document_store=_text(entry.get("documentStore")) or _text(entry.get("certificateStore")),
                  other_method=_text(entry.get("tokenRegistry")) and "tokenRegistry",
                  identity_type=_text(proof.get("type")), location=_text(proof.get("location")))


def _text(value: Any) -> str | None:
    try:
        plain = unsalt(value)
    except UnsupportedData:
        return None
    return plain if isinstance(plain, str) and plain else None


def _wrong(loc: str, msg: str) -> OpenAttestationDocumentError:
    return OpenAttestationDocumentError(f"{loc}: {msg}", [{"loc": loc, "msg": msg}])


def wrap(raw: Mapping[str, Any], salt_for: Callable[[str], str]) -> dict[str, Any]:
    """Wrap raw document data alone (a batch of one: the target hash is the Merkle root, no proof).

    Args:
        raw: the unsalted document data (``issuers`` and the rest).
        salt_for: the UUID v4 salt for each flattened path (:func:`~registry.openattestation.hashing.derived_salts`).
    """
    data = salt_data(raw, salt_for)
    digest = target_hash(data)
    return {"version": V2_SCHEMA, "data": data,
            "signature": {"type": SIGNATURE_TYPE, "targetHash": digest, "proof": [], "merkleRoot": digest}}


__all__ = ["DNS_TXT", "SCHEMA_PREFIX", "V2_SCHEMA", "Issuer", "OpenAttestationDocumentError", "WrappedDocument",
           "is_openattestation", "wrap"]
