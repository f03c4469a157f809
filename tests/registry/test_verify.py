"""The verifier on a real Anvil, through a running node's service."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from registry.custody.apikeys import Principal
from registry.chain.client import ChainClient
from registry.errors import KeyDestroyedError
from registry.sealing.document import SealedDocument, disclose
from registry.custody.keys import verify_receipt
from registry.chain.nodes import NodeProcess
from registry.domain.reasons import RevocationReason
from registry.domain.report import CheckStatus, Verdict
from registry.runtime import Node
from registry.services.core import RegistryService
from registry.pipelines.verify import Declaration, Verifier
from tests.conftest import example, new_consortium, set_up_consortium


def principal(node: Node, keys: dict[str, dict[str, str]], role: str) -> Principal:
    return node.service.api_keys.authenticate(keys[role]["api_key"])


def issue(service: RegistryService, issuer: Principal, *certificates: dict[str, object]) -> list[SealedDocument]:
    rows = service.register(issuer, list(certificates))
    service.anchorer.flush()
    return [service.sealed_document(issuer, row.id) for row in rows]


@pytest.fixture
def service(node: Node) -> RegistryService:
    return node.service


@pytest.fixture
def issuer(node: Node, demo_keys: dict[str, dict[str, str]]) -> Principal:
    return principal(node, demo_keys, "issuer")


def test_a_batch_of_fifty_verifies_valid_one_by_one(service: RegistryService, issuer: Principal) -> None:
    documents = issue(service, issuer, *(example() for _ in range(50)))
    assert len({d.proof.batch_root for d in documents}) == 1
    for document in documents:
        report, receipt = service.verify_document(document)
        assert report.verdict is Verdict.VALID, report.summary
        assert all(c.status in (CheckStatus.PASS, CheckStatus.SKIPPED) for c in report.checks)
        assert receipt.node_account == service.node_account.address


def test_a_revoked_certificate_says_so_with_reason_and_date(service: RegistryService, issuer: Principal) -> None:
    document = issue(service, issuer, example())[0]
    row = service.store.by_document_hash(bytes.fromhex(document.document_hash[2:]))
    assert row is not None
    service.revoke(issuer, row.id, RevocationReason.FRAUD)
    report, _ = service.verify_document(document)
    assert report.verdict is Verdict.REVOKED
    status = report.check("status")
    assert status.status is CheckStatus.FAIL
    assert "fraud" in status.reason and "REVOKED on 20" in status.reason


def test_a_superseded_certificate_points_at_its_replacement(service: RegistryService, issuer: Principal) -> None:
    original = example()
    document = issue(service, issuer, original)[0]
    row = service.store.by_document_hash(bytes.fromhex(document.document_hash[2:]))
    assert row is not None
    _, new = service.replace(issuer, row.id, example(replaces=original["certificate_number"]))
    report, _ = service.verify_document(document)
    assert report.verdict is Verdict.SUPERSEDED
    assert "0x" + new.document_hash.hex() in report.check("status").reason
    replacement, _ = service.verify_document(service.sealed_document(issuer, new.id))
    assert replacement.verdict is Verdict.VALID


def test_an_erased_certificate_is_unreadable_and_verifies_erased(service: RegistryService, issuer: Principal) -> None:
    document = issue(service, issuer, example())[0]
    row = service.store.by_document_hash(bytes.fromhex(document.document_hash[2:]))
    assert row is not None
    receipt = service.erase(issuer, row.id)
    assert verify_receipt(receipt) and receipt.document_hash == document.document_hash
    assert service.store.wrapped_key(row.id) is None and service.store.sealed_record(row.id) is None
    with pytest.raises(KeyDestroyedError):
        service.vault.decrypt_record(row.id, row.issuer)
    with pytest.raises(KeyDestroyedError):
        service.sealed_document(issuer, row.id)
    report, _ = service.verify_document(document)  # a copy the exporter kept
    assert report.verdict is Verdict.ERASED
    assert report.check("readable").status is CheckStatus.FAIL
    by_hash, _ = service.verify_hash(row.document_hash)
    assert by_hash.verdict is Verdict.ERASED


def test_suspending_the_issuer_leaves_earlier_certificates_valid(
    node: Node, service: RegistryService, issuer: Principal, demo_keys: dict[str, dict[str, str]]
) -> None:
    document = issue(service, issuer, example())[0]
    authority = principal(node, demo_keys, "authority")
    service.chain.unsafe_advance_time(60)
    service.set_issuer_standing(authority, str(issuer.account), active=False)
    try:
        report, _ = service.verify_document(document)
        assert report.verdict is Verdict.VALID
        assert "suspended since" in report.check("issuer_authorised").reason
    finally:
        service.set_issuer_standing(authority, str(issuer.account), active=True)


def test_an_expired_certificate_verifies_expired(service: RegistryService, issuer: Principal) -> None:
    document = issue(service, issuer, example())[0]
    later = Verifier(service.chain, clock=lambda: datetime.now(UTC) + timedelta(days=800))
    report = later.verify_document(document)
    assert report.verdict is Verdict.EXPIRED
    assert "EXPIRED" in report.check("validity").reason


def test_selectively_disclosed_documents_still_verify(service: RegistryService, issuer: Principal) -> None:
    document = issue(service, issuer, example())[0]
    shown = disclose(document, ["certificate_number", "exporting_country", "importing_country", "goods[0].hs_code",
                                "issue_date", "valid_until"])
    report, _ = service.verify_document(shown)
    assert report.verdict is Verdict.VALID
    assert report.disclosed is not None and "exporter" not in report.disclosed
    assert "salts" not in shown.model_dump() or set(shown.salts) <= {
        "certificate_number", "exporting_country", "importing_country", "goods[0].hs_code", "issue_date", "valid_until"}


@pytest.mark.parametrize("attack", ["tampered value", "wrong chain", "wrong contract", "other root", "forged leaf"])
def test_attacker_documents_are_invalid_with_the_reason(service: RegistryService, issuer: Principal, attack: str) -> None:
    document, other = issue(service, issuer, example(), example())
    data = document.model_dump()
    if attack == "tampered value":
        data["certificate"]["goods"][0]["quantity"] = "99999"
    elif attack == "wrong chain":
        data["anchor"]["chain_id"] = 1
    elif attack == "wrong contract":
        data["anchor"]["contract"] = "0x" + "12" * 20
    elif attack == "other root":
        data["proof"] = other.proof.model_dump()
        data["anchor"]["batch_root"] = other.proof.batch_root
    else:
        shown = disclose(document, ["certificate_number"]).model_dump()
        shown["withheld"]["exporter.name"] = "0x" + os.urandom(32).hex()
        data = shown
    report, _ = service.verify_document(SealedDocument.model_validate(data))
    assert report.verdict is Verdict.INVALID
    assert report.check("integrity").status is CheckStatus.FAIL or report.check("anchored").status is CheckStatus.FAIL


def test_a_declaration_is_matched_against_the_certificate(service: RegistryService, issuer: Principal) -> None:
    document = issue(service, issuer, example())[0]
    match = Declaration(hs_code="848180", quantity=None, consignee="Kanto Industrial Trading Co., Ltd.",
                        importing_country="JP")
    report, _ = service.verify_document(document, match)
    assert report.verdict is Verdict.VALID and report.check("declaration_match").status is CheckStatus.PASS
    too_much = Declaration(hs_code="848180", quantity=__import__("decimal").Decimal("5000"), importing_country="JP")
    report, _ = service.verify_document(document, too_much)
    assert report.verdict is Verdict.INVALID and "exceeds" in report.check("declaration_match").reason
    other_name = Declaration(hs_code="848190", consignee="Kanto Trading KK")
    report, _ = service.verify_document(document, other_name)
    assert report.verdict is Verdict.VALID_WITH_WARNINGS


def test_a_stopped_chain_gives_unavailable_never_valid(tmp_path: Path) -> None:
    people = new_consortium()
    with NodeProcess(kind="anvil", state_file=tmp_path / "state.json") as anvil:
        chain = ChainClient.connect(anvil.url)
        set_up_consortium(chain, people)
        document_hash = os.urandom(32)
        chain.anchor(people.sg_issuer, document_hash, 1)
        verifier = Verifier(ChainClient.connect(anvil.url, chain.address, timeout=2))
        assert verifier.verify_hash(document_hash).verdict is Verdict.VALID
    report = verifier.verify_hash(document_hash)
    assert report.verdict is Verdict.UNAVAILABLE
    assert report.check("status").status is CheckStatus.SKIPPED
