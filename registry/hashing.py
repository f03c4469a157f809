"""Sealing: salted field leaves, the document hash, and selective disclosure.

A certificate (its JSON form) is flattened into fields, one per scalar value,
named by path (``exporter.name``, ``goods[0].hs_code``); an empty list or object
is a field too, so nothing can be added to it silently. Each field becomes a leaf::

    leaf = keccak256(salt ‖ utf8(path) ‖ 0x00 ‖ rfc8785(value))

with a fresh 256-bit salt per field, so a low-entropy value (an HS code, a
country, a date) cannot be brute-forced from its leaf. The document hash is::

    document_hash = keccak256("CoO-document-v1" ‖ merkle_root(sorted(leaves)))

The domain tag keeps a document hash from ever being the 64-byte preimage of an
inner node of a batch tree, so a batch node cannot pass for a document.

Selective disclosure replaces any field by its leaf hash (and drops its salt):
the document hash is still recomputable, the withheld value is not learnable.
A withheld key disappears from its object; a withheld list element in full
becomes ``null`` (certificate JSON never carries nulls otherwise).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from copy import deepcopy
from dataclasses import dataclass
from typing import Any

import rfc8785
from pydantic import BaseModel, ConfigDict, Field

from registry.errors import SealedDocumentError
from registry.merkle import MerkleTree, keccak, merkle_root, process_proof
from registry.types import hex32, parse_hex32

DOMAIN_TAG = b"CoO-document-v1"
_SAFE_INTEGER = 2**53 - 1
SEALED_VERSION = "coo-sealed/1"
_HEX32 = r"^0x[0-9a-fA-F]{64}$"
_Hex32 = Field(pattern=_HEX32)


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Yield ``(path, scalar)`` for every field of a JSON value, in document order.

    ``None`` (a withheld list element) yields nothing.
    """
    if isinstance(value, Mapping):
        if not value:
            yield prefix, {}
        for key, inner in value.items():
            if "\x00" in key or not key:
                raise SealedDocumentError(f"{prefix or 'certificate'}: invalid field name {key!r}")
            yield from flatten(inner, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list):
        if not value:
            yield prefix, []
        for index, inner in enumerate(value):
            yield from flatten(inner, f"{prefix}[{index}]")
    elif value is None:
        return
    else:
        if isinstance(value, float):
            raise SealedDocumentError(f"{prefix}: floating-point values are not sealed; use a decimal string")
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _SAFE_INTEGER:
            raise SealedDocumentError(f"{prefix}: integer beyond 2^53 cannot be hashed canonically; use a string")
        yield prefix, value


def leaf_hash(salt: bytes, path: str, value: Any) -> bytes:
    """The leaf of one field."""
    return keccak(salt + path.encode() + b"\x00" + rfc8785.dumps(value))


def document_hash_of(leaves: Iterable[bytes]) -> bytes:
    """Document hash from the full set of field leaves."""
    return keccak(DOMAIN_TAG + merkle_root(sorted(leaves)))


@dataclass(frozen=True)
class Sealed:
    """A freshly sealed certificate: its hash, and the per-field salts and leaves."""

    document_hash: bytes
    salts: dict[str, bytes]
    leaves: dict[str, bytes]


def seal(certificate: Mapping[str, Any]) -> Sealed:
    """Salt and hash every field of *certificate* (its JSON form).

    Raises:
        SealedDocumentError: for a float value or an invalid field name.
    """
    salts: dict[str, bytes] = {}
    leaves: dict[str, bytes] = {}
    for path, value in flatten(certificate):
        salt = secrets.token_bytes(32)
        salts[path] = salt
        leaves[path] = leaf_hash(salt, path, value)
    return Sealed(document_hash_of(leaves.values()), salts, leaves)


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BatchProof(_Frozen):
    """Proof that a document hash is a leaf of an anchored batch."""

    batch_root: str = _Hex32
    path: list[str] = Field(default_factory=list, max_length=64)


class AnchorRef(_Frozen):
    """Where the batch root is anchored."""

    chain_id: int = Field(ge=1)
    contract: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")
    batch_root: str = _Hex32


class SealedDocument(_Frozen):
    """What the exporter hands over: certificate, salts, hash, proof, anchoring reference."""

    version: str = Field(default=SEALED_VERSION, pattern=r"^coo-sealed/1$")
    certificate: dict[str, Any]
    salts: dict[str, str] = Field(default_factory=dict)
    withheld: dict[str, str] = Field(default_factory=dict)
    document_hash: str = _Hex32
    proof: BatchProof
    anchor: AnchorRef


def build_sealed_document(
    certificate: Mapping[str, Any], sealed: Sealed, batch_root: bytes, proof: Sequence[bytes],
    *, chain_id: int, contract: str,
) -> SealedDocument:
    """Assemble the full (nothing withheld) sealed document."""
    return SealedDocument(
        certificate=dict(certificate),
        salts={path: "0x" + salt.hex() for path, salt in sealed.salts.items()},
        document_hash=hex32(sealed.document_hash),
        proof=BatchProof(batch_root=hex32(batch_root), path=[hex32(p) for p in proof]),
        anchor=AnchorRef(chain_id=chain_id, contract=contract, batch_root=hex32(batch_root)),
    )


def _covered(path: str, keep: Sequence[str]) -> bool:
    return any(path == k or path.startswith(k + ".") or path.startswith(k + "[") for k in keep)


def disclose(document: SealedDocument, keep: Iterable[str]) -> SealedDocument:
    """Withhold every field not under one of the *keep* paths (prefixes allowed)."""
    keep = list(keep)
    certificate = deepcopy(document.certificate)
    salts = dict(document.salts)
    withheld = dict(document.withheld)
    for path, value in list(flatten(document.certificate)):
        if _covered(path, keep):
            continue
        salt = _salt(salts, path)
        withheld[path] = hex32(leaf_hash(salt, path, value))
        del salts[path]
        _remove(certificate, path)
    return document.model_copy(update={"certificate": _prune(certificate, "", salts), "salts": salts, "withheld": withheld})


_STEP = re.compile(r"\.?([^.\[\]]+)|\[(\d+)\]")


def _steps(path: str) -> list[str | int]:
    return [int(index) if index else key for key, index in _STEP.findall(path)]


def _remove(container: Any, path: str) -> None:
    *parents, last = _steps(path)
    for step in parents:
        container = container[step]
    if isinstance(last, int):
        container[last] = None
    else:
        del container[last]


def _prune(value: Any, path: str, salts: Mapping[str, str]) -> Any:
    """Drop containers emptied by withholding: dict keys vanish, list slots become null.

    A container that is empty in the certificate itself is a field with a salt and stays.
    """
    if isinstance(value, dict):
        out = {}
        for key, inner in value.items():
            pruned = _prune(inner, f"{path}.{key}" if path else key, salts)
            if pruned is not _EMPTIED:
                out[key] = pruned
        return out if out or path in salts or not path else _EMPTIED
    if isinstance(value, list):
        items = [_prune(v, f"{path}[{i}]", salts) for i, v in enumerate(value)]
        if path not in salts and all(v is _EMPTIED or v is None for v in items):
            return _EMPTIED
        return [None if v is _EMPTIED else v for v in items]
    return value


_EMPTIED: Any = object()


def _salt(salts: Mapping[str, str], path: str) -> bytes:
    text = salts.get(path)
    if text is None:
        raise SealedDocumentError(f"{path}: disclosed without its salt")
    try:
        return parse_hex32(text)
    except ValueError:
        raise SealedDocumentError(f"salts.{path}: not a 32-byte hex salt") from None


def recompute_document_hash(document: SealedDocument) -> bytes:
    """Recompute the document hash from disclosed values, salts and withheld leaves.

    Raises:
        SealedDocumentError: a disclosed field lacks a salt, a salt or withheld leaf
            is malformed, or a path is both disclosed and withheld.
    """
    leaves: list[bytes] = []
    seen: set[str] = set()
    for path, value in flatten(document.certificate):
        if path in document.withheld:
            raise SealedDocumentError(f"{path}: both disclosed and withheld")
        if isinstance(value, (dict, list)) and path not in document.salts:
            continue  # a container emptied by withholding
        leaves.append(leaf_hash(_salt(document.salts, path), path, value))
        seen.add(path)
    for path, leaf in document.withheld.items():
        try:
            leaves.append(parse_hex32(leaf))
        except ValueError:
            raise SealedDocumentError(f"withheld.{path}: not a 32-byte hex leaf") from None
    extra = set(document.salts) - seen
    if extra:
        raise SealedDocumentError(f"{sorted(extra)[0]}: salt given for a field that is not disclosed")
    if not leaves:
        raise SealedDocumentError("certificate: no fields at all")
    return document_hash_of(leaves)


@dataclass(frozen=True)
class IntegrityResult:
    """Outcome of the integrity check."""

    ok: bool
    reason: str
    computed_hash: bytes | None = None
    computed_root: bytes | None = None


def check_integrity(document: SealedDocument) -> IntegrityResult:
    """Do the fields hash to the document hash, and the proof lead to the batch root?"""
    try:
        computed = recompute_document_hash(document)
        proof = [parse_hex32(p) for p in document.proof.path]
    except (SealedDocumentError, ValueError) as error:
        return IntegrityResult(False, f"malformed: {error}")
    if computed != parse_hex32(document.document_hash):
        return IntegrityResult(False, "the fields do not hash to the document hash: contents altered or salts swapped",
                               computed)
    root = process_proof(computed, proof)
    if root != parse_hex32(document.proof.batch_root):
        return IntegrityResult(False, "the Merkle proof does not lead to the stated batch root", computed, root)
    return IntegrityResult(True, "fields and proof check out", computed, root)


def build_batch(document_hashes: Sequence[bytes]) -> MerkleTree:
    """The batch tree over *document_hashes*, in order."""
    return MerkleTree(document_hashes)
