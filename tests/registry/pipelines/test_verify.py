"""The verifier on a real Anvil, through a running node's node.context."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from registry.chain.client import ChainClient
from registry.chain.nodes import NodeProcess
from registry.custody.apikeys import Principal
from registry.custody.keys import verify_receipt
from registry.domain.reasons import RevocationReason
from registry.domain.report import CheckStatus, Verdict
from registry.errors import KeyDestroyedError
from registry.pipelines.offline import OfflineVerifier
from registry.pipelines.verify import Declaration, Verifier
from registry.runtime import Node
from registry.sealing.document import SealedDocument, disclose
from tests.support.consortium import example, new_consortium, set_up_consortium


def principal(node: Node, keys: dict[str, dict[str, str]], role: str) -> Principal:
    return node.context.api_keys.authenticate(keys[role]["api_key"])


def issue(node: Node, issuer: Principal, *certificates: dict[str, object]) -> list[SealedDocument]:
    rows = node.issuing.register(issuer, list(certificates))
    node.context.anchorer.flush()
    return [node.issuing.sealed_document(issuer, row.id) for row in rows]


@pytest.fixture
def issuer(node: Node, demo_keys: dict[str, dict[str, str]]) -> Principal:
    return principal(node, demo_keys, "issuer")


def test_a_batch_of_fifty_verifies_valid_one_by_one(node: Node, issuer: Principal) -> None:
    documents = issue(node, issuer, *(example() for _ in range(50)))
    assert len({d.proof.batch_root for d in documents}) == 1
    for document in documents:
        report, receipt = node.verification.verify_document(document)
        assert report.verdict is Verdict.VALID, report.summary
        assert all(c.status in (CheckStatus.PASS, CheckStatus.SKIPPED) for c in report.checks)
        assert receipt.node_account == node.context.node_account.address


def test_a_revoked_certificate_says_so_with_reason_and_date(node: Node, issuer: Principal) -> None:
    document = issue(node, issuer, example())[0]
    row = node.context.store.by_document_hash(bytes.fromhex(document.document_hash[2:]))
    assert row is not None
    node.issuing.revoke(issuer, row.id, RevocationReason.FRAUD)
    report, _ = node.verification.verify_document(document)
    assert report.verdict is Verdict.REVOKED
    status = report.check("status")
    assert status.status is CheckStatus.FAIL
    assert "fraud" in status.reason and "REVOKED on 20" in status.reason


def test_a_superseded_certificate_points_at_its_replacement(node: Node, issuer: Principal) -> None:
    original = example()
    document = issue(node, issuer, original)[0]
    row = node.context.store.by_document_hash(bytes.fromhex(document.document_hash[2:]))
    assert row is not None
    _, new = node.issuing.replace(issuer, row.id, example(replaces=original["certificate_number"]))
    report, _ = node.verification.verify_document(document)
    assert report.verdict is Verdict.SUPERSEDED
    assert "0x" + new.document_hash.hex() in report.check("status").reason
    replacement, _ = node.verification.verify_document(node.issuing.sealed_document(issuer, new.id))
    assert replacement.verdict is Verdict.VALID


def test_an_erased_certificate_is_unreadable_and_verifies_erased(node: Node, issuer: Principal) -> None:
    document = issue(node, issuer, example())[0]
    row = node.context.store.by_document_hash(bytes.fromhex(document.document_hash[2:]))
    assert row is not None
    receipt = node.issuing.erase(issuer, row.id)
    assert verify_receipt(receipt) and receipt.document_hash == document.document_hash
    assert node.context.store.wrapped_key(row.id) is None and node.context.store.sealed_record(row.id) is None
    with pytest.raises(KeyDestroyedError):
        node.context.vault.decrypt_record(row.id, row.issuer)
    with pytest.raises(KeyDestroyedError):
        node.issuing.sealed_document(issuer, row.id)
    report, _ = node.verification.verify_document(document)  # a copy the exporter kept
    assert report.verdict is Verdict.ERASED
    assert report.check("readable").status is CheckStatus.FAIL
    by_hash, _ = node.verification.verify_hash(row.document_hash)
    assert by_hash.verdict is Verdict.ERASED


def test_suspending_the_issuer_leaves_earlier_certificates_valid(
    node: Node, issuer: Principal, demo_keys: dict[str, dict[str, str]]
) -> None:
    document = issue(node, issuer, example())[0]
    authority = principal(node, demo_keys, "authority")
    node.context.chain.unsafe_advance_time(60)
    node.governance.set_issuer_standing(authority, str(issuer.account), active=False)
    try:
        report, _ = node.verification.verify_document(document)
        assert report.verdict is Verdict.VALID
        assert "suspended since" in report.check("issuer_authorised").reason
    finally:
        node.governance.set_issuer_standing(authority, str(issuer.account), active=True)


def test_an_expired_certificate_verifies_expired(node: Node, issuer: Principal) -> None:
    document = issue(node, issuer, example())[0]
    later = Verifier(node.context.chain, clock=lambda: datetime.now(UTC) + timedelta(days=800))
    report = later.verify_document(document)
    assert report.verdict is Verdict.EXPIRED
    assert "EXPIRED" in report.check("validity").reason


def test_selectively_disclosed_documents_still_verify(node: Node, issuer: Principal) -> None:
    document = issue(node, issuer, example())[0]
    shown = disclose(document, ["certificate_number", "exporting_country", "importing_country", "goods[0].hs_code",
                                "issue_date", "valid_until"])
    report, _ = node.verification.verify_document(shown)
    assert report.verdict is Verdict.VALID
    assert report.disclosed is not None and "exporter" not in report.disclosed
    assert "salts" not in shown.model_dump() or set(shown.salts) <= {
        "certificate_number", "exporting_country", "importing_country", "goods[0].hs_code", "issue_date", "valid_until"}


@pytest.mark.parametrize("attack", ["tampered value", "wrong chain", "wrong contract", "other root", "forged leaf"])
def test_attacker_documents_are_invalid_with_the_reason(node: Node, issuer: Principal, attack: str) -> None:
    document, other = issue(node, issuer, example(), example())
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
    report, _ = node.verification.verify_document(SealedDocument.model_validate(data))
    assert report.verdict is Verdict.INVALID
    assert report.check("integrity").status is CheckStatus.FAIL or report.check("anchored").status is CheckStatus.FAIL


def test_nothing_is_passed_on_the_word_of_a_tampered_document(node: Node, issuer: Principal) -> None:
    """An exporter edits the quantity of a sealed document that is anchored, valid and matches the
    declaration: the only verdict is INVALID, and no check passes on the strength of the edited contents."""
    document = issue(node, issuer, example())[0]
    data = document.model_dump()
    data["certificate"]["goods"][0]["quantity"] = "99999"
    declaration = Declaration(hs_code="848180", importing_country="JP")
    report, _ = node.verification.verify_document(SealedDocument.model_validate(data), declaration)
    assert report.verdict is Verdict.INVALID and report.check("integrity").status is CheckStatus.FAIL
    others = [c for c in report.checks if c.name != "integrity"]
    assert {c.name for c in others} >= {"anchored", "issuer_authorised", "status", "validity", "declaration_match"}
    assert all(c.status is CheckStatus.SKIPPED and "relied on" in c.reason for c in others), others
    assert report.disclosed is None and report.certificate_number is None and report.issuer is None


def test_an_erased_certificate_shows_no_contents_even_from_the_holders_copy(node: Node, issuer: Principal) -> None:
    document = issue(node, issuer, example())[0]
    row = node.context.store.by_document_hash(bytes.fromhex(document.document_hash[2:]))
    assert row is not None
    node.issuing.erase(issuer, row.id)
    report, _ = node.verification.verify_document(document)
    assert report.verdict is Verdict.ERASED and report.disclosed is None and report.withheld is None


def test_withheld_paths_are_reported_as_withheld(node: Node, issuer: Principal) -> None:
    document = issue(node, issuer, example())[0]
    shown = disclose(document, ["certificate_number", "goods"])
    report, _ = node.verification.verify_document(shown)
    assert report.verdict is Verdict.VALID and report.withheld == sorted(shown.withheld)
    assert "exporter.name" in report.withheld


def test_a_declaration_is_matched_against_the_certificate(node: Node, issuer: Principal) -> None:
    document = issue(node, issuer, example())[0]
    match = Declaration(hs_code="848180", quantity=None, consignee="Kanto Industrial Trading Co., Ltd.",
                        importing_country="JP")
    report, _ = node.verification.verify_document(document, match)
    assert report.verdict is Verdict.VALID and report.check("declaration_match").status is CheckStatus.PASS
    too_much = Declaration(hs_code="848180", quantity=__import__("decimal").Decimal("5000"), importing_country="JP")
    report, _ = node.verification.verify_document(document, too_much)
    assert report.verdict is Verdict.INVALID and "exceeds" in report.check("declaration_match").reason
    other_name = Declaration(hs_code="848190", consignee="Kanto Trading KK")
    report, _ = node.verification.verify_document(document, other_name)
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


@pytest.mark.parametrize("status", [502, 503, 429])
def test_an_endpoint_answering_http_errors_gives_unavailable_never_an_exception(status: int) -> None:
    """A proxy in front of a dead node (502), an overloaded provider (503), a rate limit (429: the opencerts
    failure, shown there as "not issued"): the verdict is UNAVAILABLE, not a crash and not INVALID."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Failing(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the http.server hook)
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        verifier = Verifier(ChainClient.connect(url, "0x" + "12" * 20, timeout=2))
        report = verifier.verify_hash(os.urandom(32))
        assert report.verdict is Verdict.UNAVAILABLE, report.summary
        assert str(status) in report.summary
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_a_check_outside_the_known_names_cannot_enter_a_report() -> None:
    from registry.domain.report import CHECK_NAMES, CheckStatus
    from registry.pipelines.verify import _Run

    run = _Run()
    for name in CHECK_NAMES:
        run.add(name, CheckStatus.PASS, "known")
    with pytest.raises(ValueError, match="not a valid CheckName"):
        run.add("made_up", CheckStatus.PASS, "unknown")


def test_a_client_side_verifier_keeps_one_connection_and_asks_the_chain_id_once(
        node: Node, issuer: Principal) -> None:
    documents = issue(node, issuer, *(example() for _ in range(3)))
    url = node.context.chain.w3.provider.endpoint_uri  # type: ignore[attr-defined]
    verifier = OfflineVerifier(url, node.context.chain.address)
    provider = verifier.verifier.reads.chain.w3.provider  # type: ignore[attr-defined]
    asked: list[str] = []
    send = provider._make_request

    def counted(method: str, params: object) -> object:
        asked.append(method)
        return send(method, params)

    provider._make_request = counted
    assert verifier.verify(documents[0].model_dump()).verdict is Verdict.VALID
    first = asked.count("eth_chainId")
    verdicts = [verifier.verify(d.model_dump()).verdict for d in documents[1:]]
    assert verdicts == [Verdict.VALID] * 2
    assert asked.count("eth_chainId") == first, asked  # web3 asked it again before every contract call
    assert asked.count("eth_call") >= 3  # the chain itself is read anew for every document
