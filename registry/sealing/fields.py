"""Fields, leaves and the document hash (see :mod:`registry.sealing.document` for the whole scheme):
flatten a certificate into salted leaves, hash them, and assemble a certificate back from its fields."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import orjson
import rfc8785

from registry.entropy import random_bytes
from registry.errors import SealedDocumentError
from registry.sealing.canonical import canonical_json, plain_scalar
from registry.sealing.merkle import keccak, keccak_each, merkle_root
from registry.sealing.terms import SealedTerms, Terms
from registry.zk.commitment import SealedCommitment

DOMAIN_TAG = b"CoO-document-v1"
"""Prefix of the document-hash preimage (domain separation from batch-tree nodes)."""
SEALED_VERSION: Final = "coo-sealed/1"
SALT_SIZE = 32
_MAX_SAFE_INTEGER = 2**53 - 1
_KEY = r"[^.\[\]\x00]+"
_PATH = re.compile(rf"{_KEY}(?:\.{_KEY}|\[(?:0|[1-9][0-9]*)\])*")
_STEP = re.compile(rf"\.?({_KEY})|\[([0-9]+)\]")
_key_match = re.compile(_KEY).fullmatch
_valid_keys: set[str] = set()
"""Field names already matched (a certificate's names recur in every certificate), at most ``_KEYS_KEPT``."""
_KEYS_KEPT = 4096
_HEX32 = r"^0x[0-9a-fA-F]{64}$"


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Yield ``(path, value)`` for every field (scalar, empty object or list) in document order.

    An empty certificate yields ``("", {})``: :func:`seal` refuses it, and in a disclosed
    document it is what is left when every field is withheld. The fields are listed by
    :func:`fields_of` first, so an invalid value is refused before any field is yielded.

    Args:
        value: the JSON value (a certificate's ``to_json()`` output).
        prefix: path of *value* itself.

    Raises:
        SealedDocumentError: a float, an integer beyond 2^53, a non-JSON value, or
            an object key that is empty, not a string, or contains ``.[]`` or NUL.
    """
    yield from fields_of(value, prefix)


def fields_of(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Every ``(path, value)`` field of *value* in document order, as :func:`flatten` yields them (same errors).

    Built into one list by plain recursion rather than nested generators, with the key pattern
    compiled once: sealing flattens every certificate it registers.
    """
    out: list[tuple[str, Any]] = []
    _collect(value, prefix, out)
    return out


# Complexity (radon C): one branch per JSON value kind with its canonical-hashing rule; together they define the leaves
def _collect(value: Any, prefix: str, out: list[tuple[str, Any]]) -> None:
    """Append the fields of *value* (at *prefix*) to *out*; the rules of :func:`flatten`, in its order."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        out.append((prefix, value))
    elif isinstance(value, Mapping):
        if not value:
            out.append((prefix, {}))
        for key, inner in value.items():
            if type(key) is str and (key in _valid_keys or _valid_key(key)):
                _collect(inner, f"{prefix}.{key}" if prefix else key, out)
            else:
                _collect(inner, _checked_path(prefix, key), out)
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append((prefix, []))
        for index, inner in enumerate(value):
            _collect(inner, f"{prefix}[{index}]", out)
    elif isinstance(value, float):
        raise SealedDocumentError(f"{prefix}: floating-point values are not sealed; use a decimal string")
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > _MAX_SAFE_INTEGER:
        raise SealedDocumentError(f"{prefix}: integer beyond 2^53 cannot be hashed canonically; use a string")
    elif isinstance(value, (str, int)):
        out.append((prefix, value))
    else:
        raise SealedDocumentError(f"{prefix}: {type(value).__name__} is not a JSON value")


def _valid_key(key: str) -> bool:
    """Whether *key* is a valid field name (no ``.[]`` or NUL, not empty); remembered when it is."""
    if _key_match(key) is None:
        return False
    if len(_valid_keys) < _KEYS_KEPT:
        _valid_keys.add(key)
    return True


def _checked_path(prefix: str, key: Any) -> str:
    """The path of *key* under *prefix* for a key that is not a plain ``str`` or breaks the pattern (refused)."""
    where = f"{prefix}.{key}" if prefix else str(key)
    if not isinstance(key, str) or not _key_match(key):
        raise SealedDocumentError(f"{prefix or 'certificate'}: invalid field name {key!r}")
    return where


def leaf_hash(salt: bytes, path: str, value: Any) -> bytes:
    """The leaf of one field: ``keccak256(salt ‖ utf8(path) ‖ 0x00 ‖ rfc8785(value))``.

    Args:
        salt: the field's 32-byte salt.
        path: the field's path (no NUL).
        value: the field's JSON value.

    Returns:
        The 32-byte leaf.

    Raises:
        SealedDocumentError: wrong salt length, NUL in *path*, or a value RFC 8785
            cannot canonicalise.
    """
    if len(salt) != SALT_SIZE:
        raise SealedDocumentError(f"{path}: salt must be {SALT_SIZE} bytes")
    if "\x00" in path:
        raise SealedDocumentError(f"{path!r}: a path must not contain NUL")
    try:
        return keccak(salt + path.encode("utf-8") + b"\x00" + canonical_json(value))
    except (rfc8785.CanonicalizationError, UnicodeEncodeError, ValueError, TypeError) as error:
        raise SealedDocumentError(f"{path}: value cannot be canonicalised ({error})") from None


def _field_leaves(fields: Sequence[tuple[str, Any]], salts: Sequence[bytes]) -> list[bytes]:
    """:func:`leaf_hash` of each field :func:`fields_of` listed, under its salt of :func:`fresh_salts`, in order.

    Such a salt has the right length and such a path no NUL, so the checks are skipped; a string,
    boolean, null or safe integer (nearly every field) is serialised by orjson, which writes RFC 8785's
    bytes for exactly these (:mod:`registry.sealing.canonical`), and the preimages are hashed together
    (:func:`keccak_each`). Anything else, or what orjson or UTF-8 refuses (a lone surrogate), takes
    :func:`leaf_hash` itself, which hashes or refuses it.
    """
    preimages: list[bytes] = []
    others: dict[int, bytes] = {}
    for index, ((path, value), salt) in enumerate(zip(fields, salts, strict=True)):
        if plain_scalar(value):
            try:
                preimages.append(salt + path.encode("utf-8") + b"\x00" + orjson.dumps(value))
                continue
            except (orjson.JSONEncodeError, UnicodeEncodeError):
                pass
        others[index] = leaf_hash(salt, path, value)
        preimages.append(b"")
    leaves = keccak_each(preimages)
    for index, leaf in others.items():
        leaves[index] = leaf
    return leaves


def document_hash_of(leaves: Iterable[bytes]) -> bytes:
    """Document hash from the full set of field leaves (order does not matter).

    Raises:
        SealedDocumentError: no leaves at all.
    """
    ordered = sorted(leaves)
    if not ordered:
        raise SealedDocumentError("certificate: no fields at all")
    return keccak(DOMAIN_TAG + merkle_root(ordered))


def fresh_salts(count: int) -> list[bytes]:
    """*count* fresh 256-bit salts from one draw of :func:`registry.entropy.random_bytes` (the kernel's CSPRNG).

    One draw rather than one per field: each ``getrandom`` releases the GIL, and a certificate has
    dozens of fields. The slices are independent uniform values, so distinct but for a 2^-256 chance.
    """
    pool = random_bytes(SALT_SIZE * count)
    return [pool[start:start + SALT_SIZE] for start in range(0, len(pool), SALT_SIZE)]


@dataclass(frozen=True)
class Sealed:
    """A freshly sealed certificate: its hash, per-field salts and leaves (by path), its terms and its
    zero-knowledge commitment (with the opening: :mod:`registry.zk.commitment`)."""

    document_hash: bytes
    salts: dict[str, bytes]
    leaves: dict[str, bytes]
    terms: SealedTerms | None = None
    zk: SealedCommitment | None = None


def seal(certificate: Mapping[str, Any], terms: Terms | None = None, zk: SealedCommitment | None = None) -> Sealed:
    """Salt and hash every field of *certificate* (its JSON form), and its *terms* and *zk* commitment if given.

    Args:
        certificate: JSON-compatible mapping (numbers as strings or safe integers).
        terms: the terms to commit as one more leaf (:mod:`registry.sealing.terms`), so that
            the contract can police utilisation.
        zk: the ``CoO-zk-v1`` commitment (with its opening) to seal as one more leaf
            (:mod:`registry.zk.commitment`), so that proofs about the confidential figures are bound
            to this document. Without it the document hash is what it always was.

    Returns:
        The document hash with a fresh 256-bit salt and the leaf of every field.

    Raises:
        SealedDocumentError: an empty certificate, a float, an unsafe integer, a
            non-JSON value or an invalid field name (the message names the path).
    """
    if not certificate:
        raise SealedDocumentError("certificate: empty, nothing to seal")
    fields = fields_of(certificate)
    *field_salts, terms_salt = fresh_salts(len(fields) + 1)  # one call for every field's salt and the terms'
    salts = {path: salt for (path, _), salt in zip(fields, field_salts, strict=True)}
    leaves = dict(zip(salts, _field_leaves(fields, field_salts), strict=True))
    extra = [zk.leaf()] if zk is not None else []
    if terms is None:
        return Sealed(document_hash_of([*leaves.values(), *extra]), salts, leaves, zk=zk)
    sealed_terms = SealedTerms.of(terms, terms_salt)
    return Sealed(document_hash_of([*leaves.values(), terms.leaf(terms_salt), *extra]), salts, leaves, sealed_terms,
                  zk)


class _Obj(dict[str, Any]):
    """An object under construction."""


class _Arr(dict[int, Any]):
    """A list under construction: index → element."""


_WITHHELD: Any = object()  # a withheld field's place while assembling
_GONE: Any = object()  # what a withheld field or emptied container leaves


def _steps(path: str) -> list[str | int]:
    if not _PATH.fullmatch(path):
        raise SealedDocumentError(f"{path!r}: not a field path")
    return [int(index) if index else key for key, index in _STEP.findall(path)]


def assemble(disclosed: Iterable[tuple[str, Any]], withheld: Iterable[str]) -> dict[str, Any]:
    """The canonical disclosed certificate for these disclosed fields and withheld paths."""
    root: Any = _Obj()
    for path, value in [*disclosed, *((path, _WITHHELD) for path in withheld)]:
        node: Any = root
        *parents, last = _steps(path)
        for step, below in zip(parents, [*parents[1:], last], strict=False):
            kind = _Arr if isinstance(below, int) else _Obj
            if step not in node:
                node[step] = kind()
            node = node[step]
            if type(node) is not kind:
                raise SealedDocumentError(f"{path}: conflicts with another field's path")
        if last in node:
            raise SealedDocumentError(f"{path}: conflicts with another field's path")
        node[last] = value
    finished: dict[str, Any] = _finish(root, "")
    return {} if finished is _GONE else finished


# Complexity (radon C): the inverse of flatten by node kind (withheld, object, list, scalar), case by case
def _finish(node: Any, path: str) -> Any:
    if node is _WITHHELD:
        return _GONE
    if isinstance(node, _Obj):
        out = {key: _finish(inner, f"{path}.{key}" if path else key) for key, inner in node.items()}
        out = {key: inner for key, inner in out.items() if inner is not _GONE}
        return out or _GONE
    if isinstance(node, _Arr):
        if sorted(node) != list(range(len(node))):
            raise SealedDocumentError(f"{path}: list indices have a gap")
        items = [_finish(node[index], f"{path}[{index}]") for index in range(len(node))]
        if all(item is _GONE for item in items):
            return _GONE
        return [None if item is _GONE else item for item in items]
    return node
