"""A hybrid credential's registry entry: read strictly, refused when this verifier cannot or may not check it.

The on-chain outcomes (valid, revoked, erased, another registry, another root) run on a real node in
tests/interop/test_hybrid.py; these are the cases decided before the chain answers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from registry.custody.keys import load_or_create_kek
from registry.domain.report import CheckStatus, Verdict
from registry.errors import ChainError, ChainUnavailableError
from registry.pipelines.verify import Verifier
from registry.sealing.document import AnchorRef, BatchProof, SealedDocument
from registry.vc.credential import build_credential, secure_credential
from registry.vc.errors import CredentialFormatError
from registry.vc.issuer import VcIssuer
from registry.vc.keys import did_web
from registry.vc.registry_status import REGISTRY_STATUS_TYPE, RegistryStatus, check_registry_status
from tests.registry.vc.support import CERTIFICATE, ISSUED_AT, make_world

ENTRY = RegistryStatus(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3", "0x" + "9c" * 32, "0x" + "41" * 32,
                       ("0x" + "aa" * 32,))


def test_an_entry_reads_back_as_it_was_written() -> None:
    assert RegistryStatus.parse(ENTRY.entry()) == ENTRY
    assert ENTRY.entry()["type"] == REGISTRY_STATUS_TYPE


@pytest.mark.parametrize(("change", "member"), [
    ({"chainId": "31337"}, "chainId"), ({"chainId": True}, "chainId"), ({"chainId": 0}, "chainId"),
    ({"registry": "0x1234"}, "registry"), ({"registry": None}, "registry"),
    ({"documentHash": "0x" + "9c" * 31}, "documentHash"), ({"batchRoot": 42}, "batchRoot"),
    ({"batchProof": "0x" + "aa" * 32}, "batchProof"), ({"batchProof": ["0x" + "aa" * 32] * 65}, "batchProof"),
    ({"batchProof": ["aa" * 32]}, "batchProof"),
])
def test_a_malformed_entry_is_refused_naming_the_member(change: dict[str, Any], member: str) -> None:
    with pytest.raises(CredentialFormatError, match=member):
        RegistryStatus.parse(ENTRY.entry() | change)


class _DeadChain:
    address = ENTRY.registry

    @property
    def chain_id(self) -> int:
        raise ChainUnavailableError("connection refused")


class _Unreachable:
    """A verifier whose chain cannot be reached."""

    chain = _DeadChain()


def test_without_a_registry_or_a_reachable_chain_the_status_is_unknown_never_valid() -> None:
    for verifier in (None, cast(Verifier, _Unreachable())):
        outcome = check_registry_status(ENTRY.entry(), verifier, "SG")
        assert outcome.status.status is CheckStatus.SKIPPED and outcome.status.verdict is Verdict.UNAVAILABLE


def test_a_hybrid_credential_is_unavailable_to_a_verifier_that_reads_no_chain() -> None:
    world = make_world()
    credential = build_credential(CERTIFICATE, issuer_did=world.issuer.did, status=ENTRY, now=ISSUED_AT)
    report = world.verify(secure_credential(credential, world.issuer))
    assert report.verdict is Verdict.UNAVAILABLE and "no registry" in report.summary
    broken = build_credential(CERTIFICATE, issuer_did=world.issuer.did, now=ISSUED_AT,
                              status=RegistryStatus(1, "0x12", "0x00", "0x00"))
    report = world.verify(secure_credential(broken, world.issuer))
    assert report.verdict is Verdict.INVALID and "registry" in report.check("status").reason


class _FailingChain:
    chain_id = ENTRY.chain_id
    address = ENTRY.registry


class _Failing:
    """A verifier on the right registry whose chain answers with an error."""

    chain = _FailingChain()

    def verify_hash(self, document_hash: bytes, proof: list[bytes]) -> Any:
        raise ChainError("the node answered an RPC error")


def test_a_chain_that_answers_with_an_error_leaves_the_status_unknown() -> None:
    outcome = check_registry_status(ENTRY.entry(), cast(Verifier, _Failing()), "SG")
    assert outcome.status.verdict is Verdict.UNAVAILABLE and "did not answer" in outcome.status.reason


def test_a_sealed_document_with_withheld_fields_is_not_issued_as_a_hybrid_credential(tmp_path: Path) -> None:
    issuer = VcIssuer(tmp_path, load_or_create_kek(tmp_path / "kek"), did_web("coo.customs.gov.sg"),
                      "https://coo.customs.gov.sg")
    partial = SealedDocument(certificate=CERTIFICATE, withheld={"goods": "0x" + "33" * 32},
                             document_hash=ENTRY.document_hash,
                             proof=BatchProof(batch_root=ENTRY.batch_root, path=list(ENTRY.batch_proof)),
                             anchor=AnchorRef(chain_id=ENTRY.chain_id, contract=ENTRY.registry,
                                              batch_root=ENTRY.batch_root))
    with pytest.raises(CredentialFormatError, match="withholds goods"):
        issuer.issue_hybrid(partial, "vc+jwt", ISSUED_AT)
    whole = partial.model_copy(update={"withheld": {}})
    secured = issuer.issue_hybrid(whole, "di", ISSUED_AT)
    assert RegistryStatus.parse(secured.credential["credentialStatus"]) == ENTRY
