"""A hybrid credential's registry entry: read strictly, refused when this verifier cannot or may not check it.

The on-chain outcomes (valid, revoked, erased, another registry, another root) run on a real node in
tests/interop/test_hybrid.py; these are the cases decided before the chain answers.
"""

from __future__ import annotations

from typing import Any, cast

import pytest

from registry.domain.report import CheckStatus, Verdict
from registry.errors import ChainUnavailableError
from registry.pipelines.verify import Verifier
from registry.vc.credential import build_credential, secure_credential
from registry.vc.errors import CredentialFormatError
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
