"""The CoO-zk-v1 commitment: the encoding the docstring states, the leaf in the document hash only when there are
confidential figures, and the opening nowhere but in the holder's full sealed document."""

from __future__ import annotations

from typing import Any

import pytest

from registry.domain.certificate import parse_certificate
from registry.errors import CertificateValidationError
from registry.sealing.document import build_sealed_document, check_integrity, disclose, withhold
from registry.sealing.fields import document_hash_of, leaf_hash, seal
from registry.sealing.merkle import MerkleTree
from registry.sealing.terms import terms_for
from registry.zk import node
from registry.zk.commitment import DOMAIN, Opening, commit, commitment_hex
from tests.support.consortium import example

POSEIDON_1_2 = 0x115CC0F5E7D690413DF64C6B9662E9CF2A3617F2743245519E19607A4417189A
"""circomlib's published test vector: Poseidon([1, 2])."""


def with_vnm(value: str = "9000.00", index: int = 1) -> dict[str, Any]:
    body = example()
    goods: list[dict[str, Any]] = body["goods"]  # type: ignore[assignment]
    goods[index] = {**goods[index], "non_originating_value": value}
    return body


def test_the_confidential_figure_is_never_a_field_of_the_certificate() -> None:
    body = with_vnm()
    certificate = parse_certificate(body)
    plain = parse_certificate({**body, "goods": [{k: v for k, v in g.items() if k != "non_originating_value"}
                                                 for g in body["goods"]]})  # type: ignore[attr-defined]
    assert certificate.to_json() == plain.to_json()
    assert "non_originating_value" not in str(certificate.to_json())
    assert certificate.confidential() == [{}, {"non_originating_value": "9000.00"}, {}]
    assert plain.confidential() is None


@pytest.mark.parametrize(("value", "fob"), [("21300.01", "21300.00"), ("1", None)])
def test_a_non_originating_value_needs_an_fob_value_it_does_not_exceed(value: str, fob: str | None) -> None:
    body = with_vnm(value)
    item = body["goods"][1]  # type: ignore[index]
    if fob is None:
        item.pop("fob_value")
        item.pop("currency")
        item["origin_criterion"] = "CTH"
    with pytest.raises(CertificateValidationError) as refused:
        parse_certificate(body)
    assert any(e["loc"] == "goods[1].non_originating_value" for e in refused.value.errors)


def test_a_certificate_without_confidential_figures_keeps_exactly_its_document_hash() -> None:
    body = parse_certificate(example()).to_json()
    terms = terms_for(body)
    sealed = seal(body, terms)
    assert sealed.zk is None and commit([(body, None)]) == [None]
    field_leaves = [leaf_hash(sealed.salts[path], path, value) for path, value in _fields(body)]
    assert sealed.terms is not None
    assert sealed.document_hash == document_hash_of([*field_leaves, sealed.terms.leaf()])


def _fields(body: dict[str, Any]) -> list[tuple[str, Any]]:
    from registry.sealing.fields import flatten

    return list(flatten(body))


def test_the_commitment_is_one_more_leaf_and_disclosure_drops_its_opening() -> None:
    certificate = parse_certificate(with_vnm())
    body = certificate.to_json()
    zk = commit([(body, certificate.confidential())])[0]
    assert zk is not None and zk.opening is not None
    sealed = seal(body, terms_for(body), zk)
    assert sealed.terms is not None
    without = document_hash_of([*sealed.leaves.values(), sealed.terms.leaf()])
    assert sealed.document_hash == document_hash_of([*sealed.leaves.values(), sealed.terms.leaf(), zk.leaf()])
    assert sealed.document_hash != without
    tree = MerkleTree([sealed.document_hash])
    document = build_sealed_document(body, sealed, tree.root, [], chain_id=1, contract="0x" + "11" * 20)
    for partial in (disclose(document, ["goods"]), withhold(document, ["exporter"])):
        assert partial.zk is not None and partial.zk.opening is None and partial.zk.commitment == zk.commitment
        assert zk.opening.salt not in partial.model_dump_json()
        assert check_integrity(partial).ok
    forged = document.model_copy(update={"zk": zk.model_copy(update={"commitment": commitment_hex(1)})})
    assert not check_integrity(forged).ok


def test_the_commitment_is_the_poseidon_composition_the_docstring_states() -> None:
    assert node.poseidon([[1, 2]]) == [POSEIDON_1_2]
    certificate = parse_certificate(with_vnm())
    zk = commit([(certificate.to_json(), certificate.confidential())])[0]
    assert zk is not None and zk.opening is not None
    assert zk.value == _recomputed(zk.opening)
    assert zk.opening.items[1].model_dump() == {"fob": "213000000", "vnm": "90000000", "quantity": "600000000",
                                                "hs_digits": "8481900000", "hs_length": 6, "flags": 3}
    assert zk.opening.items[0].flags == 1  # an FOB value, no non-originating value
    assert (zk.opening.issue_day, zk.opening.departure_day, zk.opening.header_flags) == (46334, 46336, 1)


def _recomputed(opening: Opening) -> int:
    """The commitment from plain Poseidon calls over the item leaves and the header, as the docstring states
    it (the tree between them is the circuits' own: a proof verifies only against the root they compute)."""
    opened = node.run({"op": "open", "opening": opening.as_input()})
    assert [int(v) for v in opened["leaves"]] == node.poseidon([item.values() for item in opening.items])
    header = [DOMAIN, int(opening.salt), opening.issue_day, opening.departure_day, opening.header_flags,
              int(opened["root"])]
    assert int(opened["commitment"]) == node.poseidon([header])[0]
    return int(opened["commitment"])
