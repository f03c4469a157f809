"""Sealing and selective disclosure: round trips, tampering, disclosure subsets."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.errors import SealedDocumentError
from registry.hashing import (
    SealedDocument,
    build_batch,
    build_sealed_document,
    check_integrity,
    disclose,
    flatten,
    leaf_hash,
    seal,
)

CERTIFICATE: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[2] / "examples" / "rcep-sg-jp.json").read_text())
PATHS = [path for path, _ in flatten(CERTIFICATE)]


def sealed_document(certificate: dict[str, Any], batch_size: int = 3) -> SealedDocument:
    sealed = seal(certificate)
    tree = build_batch([sealed.document_hash] + [os.urandom(32) for _ in range(batch_size - 1)])
    return build_sealed_document(certificate, sealed, tree.root, tree.proof(0), chain_id=31337, contract="0x" + "ab" * 20)


json_scalars = st.one_of(st.text(max_size=30), st.integers(-(2**53 - 1), 2**53 - 1), st.booleans())
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(min_size=1, max_size=8).filter(lambda k: "\x00" not in k),
                                                 inner, max_size=4)), max_leaves=12)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.from_regex(r"[a-z_]{1,10}", fullmatch=True), json_values, min_size=1, max_size=6))
def test_any_json_certificate_round_trips(certificate: dict[str, Any]) -> None:
    document = sealed_document(certificate)
    again = SealedDocument.model_validate_json(document.model_dump_json())
    assert check_integrity(again).ok


def test_numbers_beyond_float_precision_are_refused_cleanly() -> None:
    with pytest.raises(SealedDocumentError, match="quantity"):
        seal({"quantity": 2**60})
    with pytest.raises(SealedDocumentError, match="weight"):
        seal({"weight": 1.5})


def test_salts_are_fresh_per_field_and_per_sealing() -> None:
    first, second = seal(CERTIFICATE), seal(CERTIFICATE)
    assert len(set(first.salts.values())) == len(first.salts)
    assert first.document_hash != second.document_hash


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(PATHS), st.text(min_size=1, max_size=12))
def test_any_single_field_change_breaks_integrity(path: str, replacement: str) -> None:
    document = sealed_document(CERTIFICATE)
    data = document.model_dump()
    target: Any = data["certificate"]
    steps = path.replace("]", "").replace("[", ".").split(".")
    for step in steps[:-1]:
        target = target[int(step)] if step.isdigit() else target[step]
    last: Any = int(steps[-1]) if steps[-1].isdigit() else steps[-1]
    if target[last] == replacement:
        replacement += "x"
    target[last] = replacement
    result = check_integrity(SealedDocument.model_validate(data))
    assert not result.ok and "altered" in result.reason


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(PATHS), min_size=2, max_size=2, unique=True))
def test_any_salt_swap_breaks_integrity(pair: list[str]) -> None:
    document = sealed_document(CERTIFICATE)
    salts = dict(document.salts)
    salts[pair[0]], salts[pair[1]] = salts[pair[1]], salts[pair[0]]
    assert not check_integrity(document.model_copy(update={"salts": salts})).ok


def test_reordering_goods_breaks_integrity() -> None:
    document = sealed_document(CERTIFICATE)
    certificate = json.loads(json.dumps(document.certificate))
    certificate["goods"].reverse()
    assert not check_integrity(document.model_copy(update={"certificate": certificate})).ok


def test_dropping_or_adding_a_field_breaks_integrity() -> None:
    document = sealed_document(CERTIFICATE)
    dropped = json.loads(json.dumps(document.certificate))
    del dropped["remarks" if "remarks" in dropped else "issue_date"]
    assert not check_integrity(document.model_copy(update={"certificate": dropped})).ok
    added = {**document.certificate, "remarks": "added later"}
    salts = {**document.salts, "remarks": "0x" + os.urandom(32).hex()}
    assert not check_integrity(document.model_copy(update={"certificate": added, "salts": salts})).ok


def test_a_proof_for_another_root_fails() -> None:
    document, other = sealed_document(CERTIFICATE), sealed_document(CERTIFICATE)
    forged = document.model_copy(update={"proof": other.proof})
    result = check_integrity(forged)
    assert not result.ok and "proof" in result.reason


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(PATHS + ["goods", "exporter", "transport", "goods[1]"]), max_size=10))
def test_any_disclosure_subset_verifies_and_reveals_only_what_was_kept(keep: list[str]) -> None:
    document = sealed_document(CERTIFICATE)
    shown = disclose(document, keep)
    assert check_integrity(shown).ok
    again = SealedDocument.model_validate_json(shown.model_dump_json())
    assert check_integrity(again).ok
    revealed = {path for path, _ in flatten(shown.certificate) if path}  # "" is the empty root when nothing is kept
    for path in revealed:
        assert any(path == k or path.startswith(k + ".") or path.startswith(k + "[") for k in keep), path
    assert set(shown.salts) == revealed
    assert set(shown.withheld) | revealed == set(PATHS)


def test_a_withheld_value_cannot_be_read_from_its_leaf_without_the_salt() -> None:
    document = sealed_document(CERTIFICATE)
    shown = disclose(document, ["certificate_number"])
    guess = leaf_hash(b"\x00" * 32, "exporting_country", "SG")
    assert guess.hex() not in json.dumps(shown.withheld)
    assert set(shown.certificate) == {"certificate_number"} and set(shown.salts) == {"certificate_number"}
