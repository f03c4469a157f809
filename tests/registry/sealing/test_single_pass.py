"""The one-pass integrity check of full documents gives the general check's verdict, tampered or not;
salts come from one random draw yet stay distinct and unpredictable."""

from __future__ import annotations

import os
from typing import Any
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from registry.sealing import document as sealing_document
from registry.sealing.document import (
    AnchorRef,
    SealedDocument,
    build_batch,
    build_sealed_document,
    check_integrity,
    disclose,
)
from registry.sealing.fields import flatten, seal
from registry.sealing.terms import Terms

CONTRACT = "0x" + "cd" * 20
SALT = "0x" + "11" * 32

scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**53 - 1), 2**53 - 1), st.text(max_size=12))
keys = st.text(min_size=1, max_size=6).filter(lambda key: not set(key) & set(".[]\x00"))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=3)), max_leaves=12)
certificates = st.dictionaries(keys, values, min_size=1, max_size=5)
TERMS = Terms(importing_country="JP", valid_until=2_000_000_000, quantities=(5, 7))


def sealed_document(certificate: dict[str, Any], with_terms: bool) -> SealedDocument:
    sealed = seal(certificate, TERMS if with_terms else None)
    tree = build_batch([sealed.document_hash, os.urandom(32)])
    anchor = AnchorRef(chain_id=31337, contract=CONTRACT, batch_root="0x" + tree.root.hex())
    return build_sealed_document(certificate, sealed, tree.root, tree.proof_for(sealed.document_hash), anchor)


def general_check(document: SealedDocument) -> sealing_document.IntegrityResult:
    """The check with the one-pass route closed: every document takes the general path."""
    with mock.patch.object(sealing_document, "_full_document_leaves", return_value=None):
        return check_integrity(document)


def tampered(document: SealedDocument, data: st.DataObject) -> SealedDocument:
    """*document* with one of the edits a forger (or a careless holder) might make, or none."""
    paths = sorted(document.salts)
    path = data.draw(st.sampled_from(paths))
    salts, certificate = dict(document.salts), dict(document.certificate)
    edit = data.draw(st.sampled_from(["none", "value", "drop salt", "stray salt", "swap salts", "bad hex",
                                      "short salt", "unsalted field", "salted field", "withhold", "empty",
                                      "placeholder"]))
    first = path.split(".")[0].split("[")[0]
    if edit == "value":
        certificate[first] = data.draw(values.filter(lambda v: v != certificate[first]))
    elif edit == "drop salt":
        del salts[path]
    elif edit == "stray salt":
        salts["no_such_field"] = SALT
    elif edit == "swap salts" and len(paths) > 1:
        other = data.draw(st.sampled_from([p for p in paths if p != path]))
        salts[path], salts[other] = salts[other], salts[path]
    elif edit == "bad hex":
        salts[path] = "0x" + "zz" * 32
    elif edit == "short salt":
        salts[path] = "0x" + "11" * 31
    elif edit in ("unsalted field", "salted field", "placeholder"):
        certificate["added_field"] = None if edit == "placeholder" else data.draw(scalars)
        if edit == "salted field":
            salts["added_field"] = SALT
    elif edit == "withhold":
        return disclose(document, [p for p in paths if p != path])
    elif edit == "empty":
        certificate, salts = {}, {}
    return document.model_copy(update={"certificate": certificate, "salts": salts})


@settings(max_examples=300, deadline=None)
@given(certificates, st.booleans(), st.data())
def test_the_one_pass_check_gives_the_general_checks_verdict_on_tampered_and_untampered_documents(
        certificate: dict[str, Any], with_terms: bool, data: st.DataObject) -> None:
    document = tampered(sealed_document(certificate, with_terms), data)
    assert check_integrity(document) == general_check(document)


@settings(max_examples=50, deadline=None)
@given(certificates)
def test_an_untampered_full_document_takes_the_one_pass_route_and_passes(certificate: dict[str, Any]) -> None:
    document = sealed_document(certificate, with_terms=False)
    leaves = sealing_document._full_document_leaves(document)
    assert leaves is not None and len(leaves) == len(list(flatten(certificate)))
    assert check_integrity(document).ok


def test_every_salt_of_a_certificate_differs_and_two_sealings_share_none() -> None:
    certificate = {"goods": [{"hs_code": "848180", "quantity": "800"}] * 20, "remarks": "x", "flag": None}
    first, second = seal(certificate, TERMS), seal(certificate, TERMS)
    assert first.terms is not None and second.terms is not None
    salts_of = [[*s.salts.values(), bytes.fromhex(s.terms.salt[2:])] for s in (first, second)]
    for salts in salts_of:
        assert len(salts) == len(list(flatten(certificate))) + 1
        assert len(set(salts)) == len(salts) and all(len(salt) == 32 for salt in salts)
    assert not set(salts_of[0]) & set(salts_of[1])
    for sealed in (first, second):
        tree = build_batch([sealed.document_hash])
        anchor = AnchorRef(chain_id=31337, contract=CONTRACT, batch_root="0x" + tree.root.hex())
        assert check_integrity(build_sealed_document(certificate, sealed, tree.root, [], anchor)).ok
