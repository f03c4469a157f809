"""Zero-knowledge claims end to end on the session's node: every predicate proven and verified, every forgery
named by its check, the status rule first. Proofs are made once, in module fixtures (proving takes seconds)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from registry.domain.reasons import RevocationReason
from registry.domain.report import VerificationReport
from registry.errors import ValidationError
from registry.runtime import Node
from registry.sealing.document import SealedDocument, disclose
from registry.zk.bundle import ClaimProof, ProofBundle
from registry.zk.prover import prove
from registry.zk.verifier import verify_bundle
from tests.support import principals
from tests.support.consortium import example

TRUE: dict[str, str] = {
    "rvc_at_least": "goods[1].rvc >= 40",
    "hs_prefix": "goods[0].hs_code startswith 8481",
    "value_at_most": "goods[0].fob_value <= 100000",
    "value_at_least": "goods[2].quantity >= 2000",
    "days_between_at_most": "issue_date - transport.departure_date <= 365",
}
"""A true claim per predicate about :func:`confidential` (RVC of item 1: (21300 − 9000) / 21300 = 57.7 %)."""
FALSE: dict[str, str] = {
    "rvc_at_least": "goods[1].rvc >= 60",
    "hs_prefix": "goods[0].hs_code startswith 8482",
    "value_at_most": "goods[0].fob_value <= 80000",
    "value_at_least": "goods[2].quantity >= 3000",
    "days_between_at_most": "transport.departure_date - issue_date <= 1",
}
"""A false claim per predicate about the same certificate."""
HIGHER: dict[str, str] = {
    "rvc_at_least": "goods[1].rvc >= 41",
    "hs_prefix": "goods[0].hs_code startswith 8480",
    "value_at_most": "goods[0].fob_value <= 99999",
    "value_at_least": "goods[2].quantity >= 2001",
    "days_between_at_most": "issue_date - transport.departure_date <= 364",
}
"""Each true claim with other parameters (what a replayed proof would be made to claim)."""
PREDICATES = tuple(TRUE)
VNM = "9000.00"


def confidential() -> dict[str, Any]:
    """The example certificate with a confidential non-originating value on its RVC item."""
    body = example()
    goods: list[dict[str, Any]] = body["goods"]  # type: ignore[assignment]
    goods[1] = {**goods[1], "non_originating_value": VNM}
    return body


@pytest.fixture(scope="module")
def issued(node: Node, demo_keys: dict[str, dict[str, str]]) -> dict[str, SealedDocument]:
    """Four anchored certificates with confidential figures: one to prove, one other, one to revoke, one to erase."""
    issuer, = principals(node.context, demo_keys, "issuer")
    rows = node.issuing.register(issuer, [confidential() for _ in range(4)])
    node.context.anchorer.flush()
    names = ("main", "other", "revoked", "erased")
    return {name: node.issuing.sealed_document(issuer, row.id) for name, row in zip(names, rows, strict=True)}


@pytest.fixture(scope="module")
def bundles(issued: dict[str, SealedDocument]) -> dict[str, ProofBundle]:
    """Every true claim proven about the main certificate; one claim about each of the others."""
    return {"main": prove(issued["main"], list(TRUE.values())),
            "other": prove(issued["other"], list(TRUE.values())),
            "revoked": prove(issued["revoked"], [TRUE["rvc_at_least"]]),
            "erased": prove(issued["erased"], [TRUE["rvc_at_least"]])}


def verify(node: Node, bundle: ProofBundle) -> VerificationReport:
    return node.verification.verify_bundle(bundle)[0]


def claim_checks(report: VerificationReport) -> list[dict[str, Any]]:
    return [c.model_dump() for c in report.checks if c.name == "claim"]


def with_claims(bundle: ProofBundle, change: Callable[[str, ClaimProof], ClaimProof]) -> ProofBundle:
    """*bundle* with each claim proof changed by *change* (given the claim's predicate)."""
    return bundle.model_copy(update={"claims": [change(c.circuit, c) for c in bundle.claims]})


def test_every_true_claim_verifies_and_nothing_committed_is_disclosed(
        node: Node, bundles: dict[str, ProofBundle], issued: dict[str, SealedDocument]) -> None:
    report = verify(node, bundles["main"])
    assert report.verdict == "VALID", report.summary
    checks = claim_checks(report)
    assert [c["details"]["circuit"] for c in checks] == list(PREDICATES)
    assert all(c["status"] == "pass" and "proven, value not disclosed" in c["reason"] for c in checks)
    assert report.check("commitment").status == "pass"
    assert report.disclosed is None
    opening = issued["main"].zk.opening  # type: ignore[union-attr]
    assert opening is not None
    text = report.model_dump_json() + bundles["main"].model_dump_json()
    assert opening.salt not in text and "90000000" not in text  # the salt, VNM in fixed point
    assert VNM not in text


@pytest.mark.parametrize("predicate", PREDICATES)
def test_a_false_claim_cannot_be_proven(issued: dict[str, SealedDocument], predicate: str) -> None:
    with pytest.raises(ValidationError, match=r"claims\[0\]: .* cannot be proven") as refused:
        prove(issued["main"], [FALSE[predicate]])
    assert VNM not in str(refused.value) and "90000000" not in str(refused.value)


def test_a_proof_about_another_certificates_commitment_fails_the_claim_check(
        node: Node, bundles: dict[str, ProofBundle]) -> None:
    others = {c.circuit: c for c in bundles["other"].claims}
    report = verify(node, with_claims(bundles["main"], lambda predicate, _: others[predicate]))
    assert report.verdict == "INVALID"
    assert report.check("commitment").status == "pass"
    for check in claim_checks(report):
        assert check["status"] == "fail" and "another commitment" in check["reason"], check


def test_a_proof_about_another_commitment_relabelled_as_this_ones_does_not_verify(
        node: Node, bundles: dict[str, ProofBundle]) -> None:
    others = {c.circuit: c for c in bundles["other"].claims}

    def relabelled(predicate: str, mine: ClaimProof) -> ClaimProof:
        return others[predicate].model_copy(update={"public_inputs": mine.public_inputs})

    report = verify(node, with_claims(bundles["main"], relabelled))
    assert report.verdict == "INVALID"
    for check in claim_checks(report):
        assert check["status"] == "fail" and "does not verify" in check["reason"], check


def test_a_tampered_public_input_is_refused(node: Node, bundles: dict[str, ProofBundle]) -> None:
    def tampered(_: str, mine: ClaimProof) -> ClaimProof:
        inputs = [*mine.public_inputs]
        inputs[-1] = str(int(inputs[-1]) + 1)
        return mine.model_copy(update={"public_inputs": inputs})

    report = verify(node, with_claims(bundles["main"], tampered))
    assert report.verdict == "INVALID"
    for check in claim_checks(report):
        assert check["status"] == "fail" and "other parameters" in check["reason"], check


def test_a_proof_replayed_for_other_parameters_fails_whether_or_not_its_inputs_follow(
        node: Node, bundles: dict[str, ProofBundle]) -> None:
    commitment = int(bundles["main"].commitment.value, 16)
    from registry.zk.claims import parse_claim

    def replayed(predicate: str, mine: ClaimProof) -> ClaimProof:
        return mine.model_copy(update={"claim": HIGHER[predicate]})

    def replayed_with_inputs(predicate: str, mine: ClaimProof) -> ClaimProof:
        return mine.model_copy(update={"claim": HIGHER[predicate],
                                       "public_inputs": parse_claim(HIGHER[predicate]).public_inputs(commitment)})

    report = verify(node, with_claims(bundles["main"], replayed))
    assert report.verdict == "INVALID"
    assert all(c["status"] == "fail" and "other parameters" in c["reason"] for c in claim_checks(report))
    report = verify(node, with_claims(bundles["main"], replayed_with_inputs))
    assert report.verdict == "INVALID"
    assert all(c["status"] == "fail" and "does not verify" in c["reason"] for c in claim_checks(report))


def test_a_commitment_leaf_not_under_the_anchored_root_fails_the_commitment_check(
        node: Node, bundles: dict[str, ProofBundle]) -> None:
    main, other = bundles["main"], bundles["other"]
    swapped = main.model_copy(update={"commitment": other.commitment})
    bent = main.model_copy(update={"commitment": main.commitment.model_copy(
        update={"path": [other.commitment.path[0], *main.commitment.path[1:]]})})
    moved = main.model_copy(update={"document_hash": other.document_hash, "proof": other.proof,
                                    "anchor": other.anchor})
    for forged in (swapped, bent, moved):
        report = verify(node, forged)
        assert report.verdict == "INVALID", report.summary
        assert report.check("commitment").status == "fail"
        assert "not the commitment sealed in this certificate" in report.check("commitment").reason
        assert all(c["status"] == "skipped" for c in claim_checks(report))


def test_claims_of_a_revoked_or_erased_certificate_verify_as_revoked_or_erased(
        node: Node, demo_keys: dict[str, dict[str, str]], issued: dict[str, SealedDocument],
        bundles: dict[str, ProofBundle]) -> None:
    issuer, = principals(node.context, demo_keys, "issuer")
    revoked = node.context.store.by_document_hash(bytes.fromhex(issued["revoked"].document_hash[2:]))
    erased = node.context.store.by_document_hash(bytes.fromhex(issued["erased"].document_hash[2:]))
    assert revoked is not None and erased is not None
    node.issuing.revoke(issuer, revoked.id, RevocationReason.FRAUD)
    node.issuing.erase(issuer, erased.id)
    for name, verdict in (("revoked", "REVOKED"), ("erased", "ERASED")):
        report = verify(node, bundles[name])
        assert report.verdict == verdict, report.summary
        assert report.check("status").status == "fail"
        assert [c["status"] for c in claim_checks(report)] == ["skipped"]
        # the holder keeps the opening and can still prove offline: the status rule still comes first
        again = verify_bundle(node.verification.verifier, prove(issued[name], [TRUE["value_at_most"]]))
        assert again.verdict == verdict


def test_only_the_full_sealed_document_proves(issued: dict[str, SealedDocument]) -> None:
    partial = disclose(issued["main"], ["goods"])
    assert partial.zk is not None and partial.zk.opening is None
    assert "opening" not in partial.model_dump_json(exclude_none=True)
    with pytest.raises(ValidationError, match="only the full sealed document can prove"):
        prove(partial, [TRUE["rvc_at_least"]])
    with pytest.raises(ValidationError, match=r"claims\[0\]: goods\[7\]: the certificate has 3"):
        prove(issued["main"], ["goods[7].rvc >= 1"])


def test_a_released_key_opens_the_commitment_but_not_its_opening(
        node: Node, demo_keys: dict[str, dict[str, str]]) -> None:
    issuer, = principals(node.context, demo_keys, "issuer")
    row = node.issuing.register(issuer, [confidential()], "encrypted")[0]
    node.context.anchorer.flush()
    held = node.issuing.sealed_document(issuer, row.id)
    assert held.zk is not None and held.zk.opening is not None  # the issuer's (and the holder's) copy
    key = node.context.vault.data_key(row.id).unsafe_bytes()
    opened = node.documents.open_on_chain(row.document_hash, key)  # what importing Customs reads after release
    assert opened.document_hash == held.document_hash
    assert opened.zk is not None and opened.zk.opening is None and opened.zk.commitment == held.zk.commitment
    assert held.zk.opening.salt not in opened.model_dump_json()
    with pytest.raises(ValidationError, match="only the full sealed document can prove"):
        prove(opened, [TRUE["rvc_at_least"]])
