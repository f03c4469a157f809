"""Withholding named fields of a sealed document: the complement of disclose, and nothing of a withheld field left."""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.errors import SealedDocumentError, ValidationError
from registry.sealing.document import (
    SealedDocument,
    build_batch,
    build_sealed_document,
    check_integrity,
    disclose,
    withhold,
)
from registry.sealing.fields import flatten, seal
from tests.support.consortium import example

SECRETS = {"exporter.address": "SECRET-ADDRESS-7f3a", "goods[1].description": "SECRET-GOODS-91c2"}


def certificate() -> dict[str, Any]:
    body = example()
    body["exporter"] = {**body["exporter"], "address": SECRETS["exporter.address"]}  # type: ignore[dict-item]
    goods: list[dict[str, Any]] = body["goods"]  # type: ignore[assignment]
    goods[1] = {**goods[1], "description": SECRETS["goods[1].description"]}
    return body


def sealed_document(body: dict[str, Any]) -> SealedDocument:
    sealed = seal(body)
    tree = build_batch([sealed.document_hash, os.urandom(32)])
    return build_sealed_document(body, sealed, tree.root, tree.proof_for(sealed.document_hash),
                                 chain_id=31337, contract="0x" + "ab" * 20)


@pytest.fixture(scope="module")
def full() -> SealedDocument:
    return sealed_document(certificate())


PATHS = [path for path, _ in flatten(certificate())]


def test_withheld_fields_lose_value_and_salt_and_the_document_still_verifies(full: SealedDocument) -> None:
    partial = withhold(full, ["exporter.address", "goods[1]"])
    assert check_integrity(partial).ok and partial.document_hash == full.document_hash
    text = partial.model_dump_json()
    for path, value in SECRETS.items():
        assert value not in text and full.salts[path] not in text
    gone = [p for p in full.salts if p == "exporter.address" or p.startswith("goods[1].")]
    assert gone and set(partial.withheld) == set(gone) and not set(partial.salts) & set(gone)
    assert partial.certificate["exporter"]["name"] == full.certificate["exporter"]["name"]
    assert partial.certificate["goods"][1] is None and partial.certificate["goods"][2] == full.certificate["goods"][2]


def test_withhold_is_disclose_of_the_complement(full: SealedDocument) -> None:
    keep = [p for p in full.salts if not p.startswith(("goods", "exporter.address"))]
    assert withhold(full, ["goods", "exporter.address"]) == disclose(full, keep)


def test_a_prefix_is_a_whole_path_step_not_a_string_prefix() -> None:
    document = sealed_document({"goods": [{"n": i} for i in range(12)], "note": "gone", "notes": "kept"})
    partial = withhold(document, ["goods[1]", "note"])
    assert set(partial.withheld) == {"goods[1].n", "note"}
    assert partial.certificate["goods"][10] == {"n": 10} and partial.certificate["goods"][11] == {"n": 11}
    assert partial.certificate["notes"] == "kept"
    for near_miss in ("goods[1", "good", "goods[1].", "goods[12]", "not"):
        with pytest.raises(ValidationError, match="names no field"):
            withhold(document, [near_miss])


@pytest.mark.parametrize("paths, index", [(["exporter.adress"], 0), (["goods[0]", "goods[9]"], 1),
                                          (["terms"], 0), (["exporter.name", ""], 1)])
def test_an_unknown_path_is_an_error_naming_it_and_its_place(full: SealedDocument, paths: list[str],
                                                             index: int) -> None:
    with pytest.raises(ValidationError) as raised:
        withhold(full, paths)
    assert str(raised.value).startswith(f"withhold[{index}]: {paths[index]!r}")
    assert raised.value.errors[0]["loc"] == f"withhold[{index}]"


def test_withholding_again_what_is_withheld_is_fine_but_everything_or_nothing_is_refused(
        full: SealedDocument) -> None:
    once = withhold(full, ["goods[1]"])
    assert withhold(once, ["goods[1]", "goods[1].hs_code"]) == once
    top = sorted({path.split(".")[0].split("[")[0] for path in PATHS})
    with pytest.raises(ValidationError, match="nothing to disclose"):
        withhold(full, top)
    with pytest.raises(ValidationError, match="at least one path"):
        withhold(full, [])


def test_a_malformed_document_is_refused(full: SealedDocument) -> None:
    salts = dict(full.salts)
    del salts["exporter.name"]
    with pytest.raises(SealedDocumentError, match=r"exporter\.name"):
        withhold(full.model_copy(update={"salts": salts}), ["goods"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(PATHS + ["goods", "goods[0]", "goods[2]", "exporter", "transport"]),
                min_size=1, max_size=8))
def test_any_withholding_verifies_and_leaves_no_salt_of_a_withheld_field(paths: list[str]) -> None:
    document = sealed_document(certificate())
    try:
        partial = withhold(document, paths)
    except ValidationError as refused:
        assert "nothing to disclose" in str(refused)
        return
    assert check_integrity(partial).ok
    text = partial.model_dump_json()
    for path in partial.withheld:
        assert path not in partial.salts and document.salts[path] not in text
    assert not any(p in partial.salts for p in document.salts for w in paths
                   if p == w or p.startswith((w + ".", w + "[")))
