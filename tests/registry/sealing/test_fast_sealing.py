"""The faster sealing code gives what the code it replaced gave, byte for byte, error for error.

The reference implementations below are the previous versions of :func:`flatten` (nested
generators, the key pattern matched uncompiled), the leaf of :func:`seal` (:func:`leaf_hash` for
every field) and :func:`merkle_root` (a whole :class:`MerkleTree` built for its root). The document
hash, the salts and the leaves other nodes check must not move.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.errors import SealedDocumentError, ValidationError
from registry.sealing import fields as sealing_fields
from registry.sealing.fields import DOMAIN_TAG, fields_of, flatten, fresh_salts, leaf_hash, seal
from registry.sealing.merkle import NODE_SIZE, MerkleTree, hash_pair, keccak, merkle_root
from registry.sealing.record import sealed_record
from registry.sealing.terms import SealedTerms, Terms
from registry.zk.commitment import SealedCommitment

_KEY = r"[^.\[\]\x00]+"


def reference_flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """:func:`flatten` as it was."""
    if isinstance(value, Mapping):
        if not value:
            yield prefix, {}
        for key, inner in value.items():
            where = f"{prefix}.{key}" if prefix else str(key)
            if not isinstance(key, str) or not re.fullmatch(_KEY, key):
                raise SealedDocumentError(f"{prefix or 'certificate'}: invalid field name {key!r}")
            yield from reference_flatten(inner, where)
    elif isinstance(value, (list, tuple)):
        if not value:
            yield prefix, []
        for index, inner in enumerate(value):
            yield from reference_flatten(inner, f"{prefix}[{index}]")
    elif isinstance(value, float):
        raise SealedDocumentError(f"{prefix}: floating-point values are not sealed; use a decimal string")
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53 - 1:
        raise SealedDocumentError(f"{prefix}: integer beyond 2^53 cannot be hashed canonically; use a string")
    elif value is None or isinstance(value, (str, int)):
        yield prefix, value
    else:
        raise SealedDocumentError(f"{prefix}: {type(value).__name__} is not a JSON value")


def reference_root(leaves: list[bytes]) -> bytes:
    """:func:`merkle_root` as :class:`MerkleTree` built it: pairs hashed level by level, an odd node promoted."""
    level = tuple(leaves)
    while len(level) > 1:
        above = [hash_pair(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            above.append(level[-1])
        level = tuple(above)
    return level[0]


def reference_seal(certificate: Mapping[str, Any], terms: Terms | None) -> sealing_fields.Sealed:
    """:func:`seal` as it was (without a zero-knowledge commitment)."""
    fields = list(reference_flatten(certificate))
    *field_salts, terms_salt = fresh_salts(len(fields) + 1)
    salts = {path: salt for (path, _), salt in zip(fields, field_salts, strict=True)}
    leaves = {path: leaf_hash(salts[path], path, value) for path, value in fields}
    extra = [] if terms is None else [terms.leaf(terms_salt)]
    root = reference_root(sorted([*leaves.values(), *extra]))
    sealed_terms = None if terms is None else SealedTerms.of(terms, terms_salt)
    return sealing_fields.Sealed(keccak(DOMAIN_TAG + root), salts, leaves, sealed_terms)


def outcome(run: Any) -> tuple[str, Any]:
    """What *run()* gives: its value, or its error's type and message."""
    try:
        return "value", run()
    except Exception as error:  # noqa: BLE001 - the comparison is of whatever either raises
        return "error", (type(error), str(error))


class Tagged(str):
    """A subclass of ``str`` (an enum member is one): keys and values of it take the general path."""


texts = st.text(max_size=8) | st.sampled_from(["\ud800", "é", "a.b", "a[0]", "x\x00", "", "\u2028"])
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**60), 2**60), st.integers(-5, 5), texts,
                    st.floats(allow_nan=False, width=32), texts.map(Tagged), st.just(b"raw"))
keys = st.one_of(texts, texts.map(Tagged), st.integers(0, 3), st.sampled_from(["goods", "hs_code", "a b"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.lists(inner, max_size=2).map(tuple), st.dictionaries(keys, inner, max_size=3)),
    max_leaves=14)
valid_keys = st.text(min_size=1, max_size=6).filter(lambda key: not set(key) & set(".[]\x00"))
valid_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**53 - 1), 2**53 - 1), st.text(max_size=10)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(valid_keys, inner, max_size=3)),
    max_leaves=16)


@settings(max_examples=400, deadline=None)
@given(values, st.sampled_from(["", "goods[0]", "a"]))
def test_flatten_lists_the_fields_and_refuses_what_the_previous_flatten_did(value: Any, prefix: str) -> None:
    expected = outcome(lambda: list(reference_flatten(value, prefix)))
    assert outcome(lambda: fields_of(value, prefix)) == expected
    assert outcome(lambda: list(flatten(value, prefix))) == expected


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.binary(min_size=32, max_size=32), st.text(max_size=10) | st.just("a\ud800"),
                          scalars | st.just({}) | st.just([]) | st.lists(st.integers(0, 3), max_size=2)), max_size=6))
def test_the_field_leaves_are_leaf_hash_of_each_or_its_first_refusal(fields: list[tuple[bytes, str, Any]]) -> None:
    salts = [salt for salt, _, _ in fields]
    listed = [(path.replace("\x00", ""), value) for _, path, value in fields]
    assert outcome(lambda: sealing_fields._field_leaves(listed, salts)) == outcome(
        lambda: [leaf_hash(salt, path, value) for salt, (path, value) in zip(salts, listed, strict=True)])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(min_size=NODE_SIZE, max_size=NODE_SIZE), min_size=1, max_size=70))
def test_the_merkle_root_is_the_trees_root(leaves: list[bytes]) -> None:
    expected = reference_root(leaves)
    assert merkle_root(leaves) == MerkleTree(leaves).root == expected
    assert merkle_root(tuple(leaves)) == expected


@pytest.mark.parametrize("leaves", [[], [b"short"], [bytes(32), bytes(31)], [bytes(32), "x" * 32]])
def test_the_merkle_root_refuses_what_the_tree_refuses(leaves: list[Any]) -> None:
    with pytest.raises(ValidationError) as root_error:
        merkle_root(leaves)
    with pytest.raises(ValidationError) as tree_error:
        MerkleTree(leaves)
    assert str(root_error.value) == str(tree_error.value)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(valid_keys, valid_values, min_size=1, max_size=6), st.booleans(), st.binary(min_size=8))
def test_sealing_gives_the_previous_hash_salts_leaves_and_terms_for_the_same_random_bytes(
        certificate: dict[str, Any], with_terms: bool, seed: bytes) -> None:
    terms = Terms(importing_country="JP", valid_until=2_000_000_000, quantities=(5, 7)) if with_terms else None

    def random_bytes(size: int) -> bytes:
        return (seed * (size // len(seed) + 1))[:size]

    with mock.patch.object(sealing_fields, "random_bytes", random_bytes):
        expected = reference_seal(certificate, terms)
        sealed = seal(certificate, terms)
    assert sealed == expected


def reference_sealed_record(certificate: Mapping[str, Any], sealed: sealing_fields.Sealed) -> bytes:
    """:func:`sealed_record` as it was: one ``json.dumps`` of the whole record."""
    record: dict[str, Any] = {"certificate": dict(certificate), "salts": {p: s.hex() for p, s in sealed.salts.items()}}
    if sealed.terms is not None:
        record["terms"] = sealed.terms.model_dump()
    if sealed.zk is not None:
        record["zk"] = sealed.zk.model_dump()
    return json.dumps(record).encode()


class Formatted(str):
    """A path that formats itself otherwise than its text (json.dumps writes the text)."""

    def __format__(self, spec: str) -> str:
        return "formatted"


paths = (st.text(max_size=8) | st.sampled_from(['a"b', "a\\b", "é", "\x7f", "goods[0].hs_code", " ~!#[]"])
         | st.text(max_size=3).map(Formatted))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(valid_keys, valid_values, min_size=1, max_size=6),
       st.dictionaries(paths, st.binary(min_size=32, max_size=32), max_size=8), st.booleans())
def test_the_sealed_record_is_the_bytes_one_json_dumps_gave(certificate: dict[str, Any], salts: dict[str, bytes],
                                                             with_terms: bool) -> None:
    terms = SealedTerms.of(Terms(importing_country="JP", valid_until=2_000_000_000, quantities=(5,)), bytes(32))
    sealed = sealing_fields.Sealed(bytes(32), salts, {}, terms if with_terms else None)
    assert sealed_record(certificate, sealed) == reference_sealed_record(certificate, sealed)
    assert sealed_record(certificate, seal(certificate)) is not None


def test_a_sealed_record_with_a_commitment_is_the_bytes_one_json_dumps_gave() -> None:
    certificate = {"certificate_number": "N-1", "goods": [{"quantity": "5"}]}
    zk = SealedCommitment(commitment="0x" + "ab" * 32)
    sealed = seal(certificate, Terms(importing_country="JP", valid_until=2_000_000_000, quantities=(5,)), zk)
    assert sealed_record(certificate, sealed) == reference_sealed_record(certificate, sealed)
