"""Sealing and selective disclosure: known answers, round trips, tampering, disclosure subsets."""

from __future__ import annotations

import copy
import os
import re
from typing import Any

import pytest
import rfc8785
from eth_hash.auto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.errors import SealedDocumentError
from registry.sealing.document import (
    AnchorRef,
    SealedDocument,
    build_batch,
    build_sealed_document,
    check_integrity,
    disclose,
    recompute_document_hash,
)
from registry.sealing.fields import DOMAIN_TAG, document_hash_of, flatten, leaf_hash, seal
from registry.sealing.merkle import hash_pair, merkle_root

CONTRACT = "0x" + "ab" * 20

CERTIFICATE: dict[str, Any] = {
    "certificate_number": "SG-RCEP-2026-000731",
    "certificate_type": "RCEP",
    "exporter": {"name": "Merlion Precision Valves Pte. Ltd.", "address": "8 Tuas Avenue 20, Singapore 638821",
                 "country": "SG"},
    "consignee": {"name": "Yokohama Plant Engineering K.K.", "address": "1-1 Minatomirai, Nishi-ku, Yokohama 220-0012",
                  "country": "JP"},
    "exporting_country": "SG",
    "importing_country": "JP",
    "transport": {"mode": "1", "vessel_or_flight": "OCEAN TRUST 214E", "port_of_loading": "SGSIN",
                  "port_of_discharge": "JPYOK", "departure_date": "2026-03-14"},
    "goods": [
        {"item_number": 1, "marks_and_numbers": "MPV/YPE/1-20", "packages_count": 20, "packages_kind": "wooden cases",
         "description": "Stainless steel ball valves, DN80, flanged", "hs_code": "848180", "origin_country": "SG",
         "origin_criterion": "CTH", "quantity": "800", "unit": "H87", "gross_weight_kg": "3120.5",
         "invoice_number": "MPV-INV-2026-0311", "invoice_date": "2026-03-11", "fob_value": "64000.00",
         "currency": "USD"},
        {"item_number": 2, "marks_and_numbers": "MPV/YPE/21-26", "packages_count": 6, "packages_kind": "cartons",
         "description": "Valve seat rings of PTFE", "hs_code": "392690", "origin_country": "SG",
         "origin_criterion": "RVC40", "quantity": "1500", "unit": "H87", "gross_weight_kg": "212",
         "invoice_number": "MPV-INV-2026-0311", "invoice_date": "2026-03-11", "fob_value": "9750.00",
         "currency": "USD"},
    ],
    "issue_date": "2026-03-12",
    "valid_until": "2027-03-12",
    "issued_retrospectively": False,
    "remarks": "Both items on one invoice.",
    "exporter_declaration": {"place": "Singapore", "date": "2026-03-11", "signatory": "Lim Hui Min, Export Manager"},
    "certification": {"place": "Singapore", "date": "2026-03-12", "signatory": "Singapore Customs"},
}
PATHS = [path for path, _ in flatten(CERTIFICATE)]
PREFIXES = ["goods", "goods[0]", "goods[1]", "exporter", "consignee", "transport", "certification", "nothing.here"]


def sealed_document(certificate: dict[str, Any], batch_size: int = 3) -> SealedDocument:
    """Seal *certificate* as the first of a small batch and assemble its sealed document."""
    sealed = seal(certificate)
    tree = build_batch([sealed.document_hash] + [os.urandom(32) for _ in range(batch_size - 1)])
    anchor = AnchorRef(chain_id=31337, contract=CONTRACT, batch_root="0x" + tree.root.hex())
    return build_sealed_document(certificate, sealed, tree.root, tree.proof_for(sealed.document_hash), anchor)


def round_trip(document: SealedDocument) -> SealedDocument:
    return SealedDocument.model_validate_json(document.model_dump_json())


def edited(document: SealedDocument, **changes: Any) -> SealedDocument:
    """*document* with fields replaced, unvalidated: a forger may send any JSON."""
    return document.model_copy(update=changes)


def steps(path: str) -> list[str | int]:
    return [int(index) if index else key for key, index in re.findall(r"\.?([^.\[\]]+)|\[(\d+)\]", path)]


def value_at(certificate: Any, path: str) -> Any:
    for step in steps(path):
        certificate = certificate[step]
    return certificate


def parent_of(certificate: Any, path: str) -> tuple[Any, str | int]:
    *parents, last = steps(path)
    for step in parents:
        certificate = certificate[step]
    return certificate, last


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**53 - 1), 2**53 - 1), st.text(max_size=20))
json_keys = st.text(min_size=1, max_size=8).filter(lambda key: not set(key) & set(".[]\x00"))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(json_keys, inner, max_size=4)), max_leaves=15)


# Known answers: the conventions written out by hand.

def test_a_leaf_is_keccak_of_salt_path_nul_and_canonical_json() -> None:
    salt = bytes(range(32))
    leaf = leaf_hash(salt, "goods[0].hs_code", "848180")
    assert leaf == keccak(salt + b"goods[0].hs_code" + b"\x00" + b'"848180"')
    assert leaf.hex() == "d4a7caa653cc1746fccf1bf97d8c2de3071e1289b974d165efd33596d77700f6"
    assert leaf_hash(salt, "goods[0].item_number", 1) == keccak(salt + b"goods[0].item_number\x001")
    assert leaf_hash(salt, "x", {"b": 1, "a": "é"}) == keccak(salt + b"x\x00" + '{"a":"é","b":1}'.encode())


def test_the_document_hash_is_the_tagged_root_of_the_sorted_leaves() -> None:
    leaves = [leaf_hash(bytes([i]) * 32, path, value) for i, (path, value) in enumerate(
        [("certificate_number", "SG-RCEP-2026-000001"), ("exporting_country", "SG"), ("goods[0].hs_code", "848180")])]
    low, middle, high = sorted(leaves)
    expected = keccak(b"CoO-document-v1" + hash_pair(hash_pair(low, middle), high))
    assert DOMAIN_TAG == b"CoO-document-v1"
    assert document_hash_of(leaves) == document_hash_of(leaves[::-1]) == expected
    assert expected.hex() == "e1dc5079f9abb6e7b5a9a269306dd7a37699f457ed380a335b8fbcfc6de91735"


def test_sealing_gives_one_salted_leaf_per_field_and_recomputes_the_document_hash() -> None:
    sealed = seal(CERTIFICATE)
    assert set(sealed.salts) == set(sealed.leaves) == set(PATHS)
    assert all(len(salt) == 32 for salt in sealed.salts.values())
    for path, leaf in sealed.leaves.items():
        assert leaf == leaf_hash(sealed.salts[path], path, value_at(CERTIFICATE, path))
    assert sealed.document_hash == keccak(DOMAIN_TAG + merkle_root(sorted(sealed.leaves.values())))


def test_paths_name_nested_fields_and_list_positions() -> None:
    assert {"exporter.name", "transport.port_of_loading", "goods[0].hs_code", "goods[1].item_number",
            "issued_retrospectively"} <= set(PATHS)
    assert dict(flatten({"a": [], "b": {}, "c": None, "d": [[], {"e": True}]})) == {
        "a": [], "b": {}, "c": None, "d[0]": [], "d[1].e": True}


def test_salts_are_fresh_per_field_and_per_sealing() -> None:
    first, second = seal(CERTIFICATE), seal(CERTIFICATE)
    assert len(set(first.salts.values())) == len(first.salts)
    assert first.document_hash != second.document_hash


@pytest.mark.parametrize("certificate, where", [
    ({}, "empty"), ({"quantity": 2**60}, "quantity"), ({"goods": [{"weight": 1.5}]}, r"goods\[0\]\.weight"),
    ({"a": {"b.c": "x"}}, "a: invalid field name"), ({"a": {"x[0]": "x"}}, "a: invalid field name"),
    ({"": "x"}, "invalid field name"), ({"nul\x00": "x"}, "invalid field name"), ({"when": b"raw"}, "when"),
])
def test_values_that_cannot_be_hashed_unambiguously_are_refused_naming_the_path(
        certificate: dict[str, Any], where: str) -> None:
    with pytest.raises(SealedDocumentError, match=where):
        seal(certificate)


# Round trips and tampering.

@settings(max_examples=80, deadline=None)
@given(st.dictionaries(json_keys, json_values, min_size=1, max_size=6))
def test_any_json_certificate_round_trips_through_json_and_keeps_its_integrity(certificate: dict[str, Any]) -> None:
    document = round_trip(sealed_document(certificate))
    assert document.certificate == certificate
    assert check_integrity(document).ok, check_integrity(document).reason
    assert recompute_document_hash(document).hex() == document.document_hash[2:]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(PATHS), json_scalars | st.just({}) | st.just([]))
def test_any_single_field_change_breaks_integrity(path: str, replacement: Any) -> None:
    document = sealed_document(CERTIFICATE)
    certificate = copy.deepcopy(document.certificate)
    if rfc8785.dumps(value_at(certificate, path)) == rfc8785.dumps(replacement):
        replacement = f"changed {replacement}"
    holder, last = parent_of(certificate, path)
    holder[last] = replacement
    result = check_integrity(edited(document, certificate=certificate))
    assert not result.ok and "altered" in result.reason


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(PATHS), min_size=2, max_size=2, unique=True))
def test_any_salt_swap_between_two_fields_breaks_integrity(pair: list[str]) -> None:
    document = sealed_document(CERTIFICATE)
    salts = dict(document.salts)
    salts[pair[0]], salts[pair[1]] = salts[pair[1]], salts[pair[0]]
    result = check_integrity(edited(document, salts=salts))
    assert not result.ok and "altered" in result.reason


def test_reordering_the_goods_breaks_integrity() -> None:
    document = sealed_document(CERTIFICATE)
    certificate = copy.deepcopy(document.certificate)
    certificate["goods"].reverse()
    assert not check_integrity(edited(document, certificate=certificate)).ok


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(PATHS))
def test_dropping_any_field_breaks_integrity_with_or_without_its_salt(path: str) -> None:
    document = sealed_document(CERTIFICATE)
    certificate = copy.deepcopy(document.certificate)
    holder, last = parent_of(certificate, path)
    holder.pop(last)
    kept_salt = check_integrity(edited(document, certificate=certificate))
    salts = {p: s for p, s in document.salts.items() if p != path}
    no_salt = check_integrity(edited(document, certificate=certificate, salts=salts))
    assert not kept_salt.ok and not no_salt.ok


@pytest.mark.parametrize("addition", ["added later", None, {}, [], {"note": "x"}])
def test_adding_a_field_breaks_integrity_whether_salted_or_not(addition: Any) -> None:
    document = sealed_document(CERTIFICATE)
    added = {**document.certificate, "extra": addition}
    unsalted = check_integrity(edited(document, certificate=added))
    extra_salts = {path: "0x" + os.urandom(32).hex() for path, _ in flatten({"extra": addition})}
    salted = check_integrity(edited(document, certificate=added, salts={**document.salts, **extra_salts}))
    assert not unsalted.ok and "extra" in unsalted.reason
    assert not salted.ok and "altered" in salted.reason


def test_a_proof_for_another_root_fails() -> None:
    document, other = sealed_document(CERTIFICATE), sealed_document(CERTIFICATE)
    result = check_integrity(edited(document, proof=other.proof))
    assert not result.ok and "proof" in result.reason


def test_a_proof_to_a_root_other_than_the_anchored_one_fails() -> None:
    document, other = sealed_document(CERTIFICATE), sealed_document(CERTIFICATE)
    result = check_integrity(edited(document, anchor=other.anchor))
    assert not result.ok and "anchor" in result.reason


def test_two_withheld_document_hashes_cannot_pass_as_a_batch_node_thanks_to_the_domain_tag() -> None:
    first, second = seal(CERTIFICATE).document_hash, seal(CERTIFICATE).document_hash
    tree = build_batch([first, second])
    forged = edited(sealed_document(CERTIFICATE), certificate={}, salts={},
                    withheld={"a": "0x" + first.hex(), "b": "0x" + second.hex()})
    computed = recompute_document_hash(forged)
    assert merkle_root(sorted([first, second])) == tree.root  # untagged, the forgery would reach the root
    assert computed == keccak(DOMAIN_TAG + tree.root) != tree.root
    root_hex = "0x" + tree.root.hex()
    forged = edited(forged, document_hash="0x" + computed.hex(),
                    proof=forged.proof.model_copy(update={"batch_root": root_hex, "path": []}),
                    anchor=forged.anchor.model_copy(update={"batch_root": root_hex}))
    assert not check_integrity(forged).ok


@pytest.mark.parametrize("change, message", [
    (lambda d: {"salts": {k: v for k, v in d.salts.items() if k != "exporter.name"}},
     "exporter.name: disclosed without its salt"),
    (lambda d: {"salts": {**d.salts, "goods[1].hs_code": "0x1234"}}, r"salts.goods\[1\].hs_code: not a 32-byte"),
    (lambda d: {"withheld": {"remarks": "0x" + "00" * 32}}, "remarks: both disclosed and withheld"),
    (lambda d: {"withheld": {"gone.field": "0xnothex"}}, "withheld.gone.field: not a 32-byte"),
    (lambda d: {"salts": {**d.salts, "ghost": "0x" + "11" * 32}}, "salts.ghost: salt for a field that is not"),
    (lambda d: {"withheld": {"goods[01].unit": "0x" + "00" * 32}}, r"goods\[01\].unit': not a field path"),
    (lambda d: {"withheld": {"remarks.first": "0x" + "00" * 32}}, "remarks.first: conflicts"),
    (lambda d: {"withheld": {"goods[5].unit": "0x" + "00" * 32}}, "goods: list indices have a gap"),
])
def test_a_malformed_document_is_refused_naming_the_path(change: Any, message: str) -> None:
    document = sealed_document(CERTIFICATE)
    broken = edited(document, **change(document))
    with pytest.raises(SealedDocumentError, match=message):
        recompute_document_hash(broken)
    result = check_integrity(broken)
    assert not result.ok and "malformed" in result.reason


def test_building_a_sealed_document_checks_the_certificate_proof_and_anchor() -> None:
    sealed = seal(CERTIFICATE)
    tree = build_batch([sealed.document_hash, os.urandom(32)])
    proof = tree.proof(0)
    plain = build_sealed_document(CERTIFICATE, sealed, tree.root, proof, chain_id=31337, contract=CONTRACT)
    assert plain.anchor.batch_root == plain.proof.batch_root == "0x" + tree.root.hex()
    assert plain.withheld == {} and set(plain.salts) == set(PATHS) and plain.version == "coo-sealed/1"
    with pytest.raises(SealedDocumentError, match="does not hash"):
        build_sealed_document({**CERTIFICATE, "remarks": "edited"}, sealed, tree.root, proof, plain.anchor)
    with pytest.raises(SealedDocumentError, match="proof"):
        build_sealed_document(CERTIFICATE, sealed, tree.root, [os.urandom(32)], plain.anchor)
    elsewhere = plain.anchor.model_copy(update={"batch_root": "0x" + "22" * 32})
    with pytest.raises(SealedDocumentError, match="anchor"):
        build_sealed_document(CERTIFICATE, sealed, tree.root, proof, elsewhere)
    with pytest.raises(TypeError):
        build_sealed_document(CERTIFICATE, sealed, tree.root, proof)


# Selective disclosure.

@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(PATHS + PREFIXES), max_size=10))
def test_any_disclosure_subset_verifies_and_reveals_only_the_kept_fields_and_their_salts(keep: list[str]) -> None:
    document = sealed_document(CERTIFICATE)
    shown = round_trip(disclose(document, keep))
    assert check_integrity(shown).ok, check_integrity(shown).reason
    assert shown.document_hash == document.document_hash
    kept = {path for path in PATHS if any(path == k or path.startswith((k + ".", k + "[")) for k in keep)}
    revealed = {path: value for path, value in flatten(shown.certificate) if path in shown.salts}
    assert set(revealed) == set(shown.salts) == kept
    assert all(value == value_at(CERTIFICATE, path) for path, value in revealed.items())
    assert set(shown.withheld) == set(PATHS) - kept
    present = dict(flatten(shown.certificate))
    assert not set(shown.withheld) & set(present)
    text = shown.model_dump_json()
    assert not any(document.salts[path] in text for path in shown.withheld)


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(json_keys, json_values, min_size=1, max_size=6), st.data())
def test_any_disclosure_of_any_json_certificate_verifies_and_keeps_what_was_asked(
        certificate: dict[str, Any], data: st.DataObject) -> None:
    paths = [path for path, _ in flatten(certificate)]
    prefixes = sorted({path[:cut] for path in paths for cut in range(1, len(path) + 1)})
    keep = data.draw(st.lists(st.sampled_from(prefixes), max_size=4))
    document = sealed_document(certificate)
    shown = round_trip(disclose(document, keep))
    assert check_integrity(shown).ok, check_integrity(shown).reason
    kept = {path for path in paths if any(path == k or path.startswith((k + ".", k + "[")) for k in keep)}
    assert set(shown.salts) == kept and set(shown.withheld) == set(paths) - kept
    assert all(value_at(shown.certificate, path) == value_at(certificate, path) for path in kept)
    assert check_integrity(round_trip(disclose(shown, keep[:1]))).ok


def test_a_fully_withheld_goods_item_keeps_its_place_as_null() -> None:
    shown = disclose(sealed_document(CERTIFICATE), ["goods[1].hs_code", "certificate_number"])
    assert shown.certificate == {"certificate_number": CERTIFICATE["certificate_number"],
                                 "goods": [None, {"hs_code": "392690"}]}
    assert check_integrity(shown).ok


def test_withholding_everything_leaves_an_empty_certificate_that_still_verifies() -> None:
    shown = disclose(sealed_document(CERTIFICATE), [])
    assert shown.certificate == {} and shown.salts == {} and set(shown.withheld) == set(PATHS)
    assert check_integrity(round_trip(shown)).ok


def test_disclosure_can_be_narrowed_again_but_never_widened() -> None:
    document = sealed_document(CERTIFICATE)
    narrowed = disclose(disclose(document, ["goods", "exporter"]), ["goods[0]", "exporter_declaration"])
    assert narrowed.certificate == {"goods": [CERTIFICATE["goods"][0], None]}
    assert set(narrowed.salts) == {f"goods[0].{key}" for key in CERTIFICATE["goods"][0]}
    assert check_integrity(narrowed).ok


@pytest.mark.parametrize("keep, forgery", [
    (["goods[1]"], lambda c: {**c, "goods": [*c["goods"], None]}),  # a placeholder nobody withheld
    (["goods[1]"], lambda c: {**c, "producer": None}),  # a null that was never sealed
    (["goods[1]"], lambda c: {**c, "consignee": {}}),  # an empty object that was never sealed
    (["certificate_number"], lambda c: {**c, "goods": []}),  # goods shown empty where they were withheld
])
def test_a_disclosed_certificate_must_have_exactly_the_shape_its_fields_give(keep: list[str], forgery: Any) -> None:
    shown = disclose(sealed_document(CERTIFICATE), keep)
    result = check_integrity(edited(shown, certificate=forgery(shown.certificate)))
    assert not result.ok and "shape" in result.reason


def test_a_withheld_value_cannot_be_read_from_the_disclosed_document() -> None:
    shown = disclose(sealed_document(CERTIFICATE), ["certificate_number"])
    text = shown.model_dump_json()
    for secret in ("848180", "Merlion", "SGSIN", "2026-03-14"):
        assert secret not in text
    assert leaf_hash(b"\x00" * 32, "goods[0].hs_code", "848180").hex() not in text
    assert set(shown.certificate) == set(shown.salts) == {"certificate_number"}
