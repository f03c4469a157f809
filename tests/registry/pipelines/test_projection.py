"""The state rebuilt from indexed events answers exactly what the contract answers."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from registry.custody.apikeys import Principal
from registry.domain.reasons import RevocationReason
from registry.domain.report import Verdict
from registry.runtime import Node
from registry.sealing.merkle import process_proof
from registry.types import parse_hex32
from tests.support import principals
from tests.support.consortium import example


def docs(node: Node, issuer: Principal, n: int) -> list[tuple[bytes, list[bytes], str]]:
    rows = node.issuing.register(issuer, [example() for _ in range(n)])
    node.context.anchorer.flush()
    out = []
    for row in rows:
        fresh = node.context.store.certificate(row.id)
        out.append((fresh.document_hash, [parse_hex32(p) for p in fresh.proof or []], fresh.id))
    return out


def anchored_document(node: Node, issuer: Principal) -> tuple[Any, Any]:
    row = node.issuing.register(issuer, [example()])[0]
    node.context.anchorer.flush()
    return row, node.issuing.sealed_document(issuer, row.id)


def comparable(view: object) -> dict[str, object]:
    data = dataclasses.asdict(view)  # type: ignore[call-overload]
    if data["root"] == data["document_hash"]:  # the contract keeps no date for a batch of one
        data.pop("changed_at"), data.pop("changed_by")
    return data


def test_the_index_agrees_with_the_contract_on_every_lifecycle(
        node: Node, demo_keys: dict[str, dict[str, str]]) -> None:
    service = node.context
    issuer = service.api_keys.authenticate(demo_keys["issuer"]["api_key"])
    single = docs(node, issuer, 1)
    revoked_single = docs(node, issuer, 1)
    batch = docs(node, issuer, 5)
    node.issuing.revoke(issuer, revoked_single[0][2], RevocationReason.FRAUD)
    node.issuing.revoke(issuer, batch[1][2], RevocationReason.ISSUED_IN_ERROR)
    node.issuing.erase(issuer, batch[2][2])
    node.issuing.replace(issuer, batch[3][2], example())
    service.follower.poll()
    assert service.follower.fresh()
    for document_hash, proof, _ in single + revoked_single + batch:
        indexed, _ = service.follower.inspect(document_hash, proof)
        assert comparable(indexed) == comparable(service.chain.inspect(document_hash, proof))
    unknown, _ = service.follower.inspect(b"\x01" * 32, [])
    assert not unknown.anchored


def test_a_fresh_index_answers_verifications_without_touching_the_chain(
    node: Node, demo_keys: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    service = node.context
    row, document = anchored_document(node, service.api_keys.authenticate(demo_keys["issuer"]["api_key"]))
    with node.paused():  # no worker thread may meet the guard below
        service.follower.poll()

        def no_rpc(*_: object) -> None:
            raise AssertionError("the chain was read although the index is fresh")

        for name in ("inspect", "inspect_at_head", "block_number", "call"):
            monkeypatch.setattr(service.chain, name, no_rpc)
        try:
            report, _ = node.verification.verify_document(document)
        finally:
            monkeypatch.undo()  # before the workers restart
    assert report.verdict is Verdict.VALID and report.chain_head == service.follower.head
    assert next(c for c in report.checks if c.name == "utilisation").status.value == "pass"


def test_a_stale_index_falls_back_to_the_chain(
    node: Node, demo_keys: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    service = node.context
    row, document = anchored_document(node, service.api_keys.authenticate(demo_keys["issuer"]["api_key"]))
    reads: list[bytes] = []
    direct = service.chain.inspect_at_head
    with node.paused():
        monkeypatch.setattr(service.chain, "inspect_at_head", lambda h, p=(): reads.append(h) or direct(h, p))
        service.follower.checked_at = 0.0  # as if the follower had lost the chain
        try:
            assert not service.follower.fresh()
            report, _ = node.verification.verify_document(document)
        finally:
            monkeypatch.undo()
    assert report.verdict is Verdict.VALID and reads == [row.document_hash]


def test_the_index_agrees_with_the_contract_on_utilisation_and_requests(
        node: Node, demo_keys: dict[str, dict[str, str]]) -> None:
    from datetime import date
    from decimal import Decimal

    from registry.services.utilisation import Draw

    service = node.context
    issuer, customs = principals(service, demo_keys, "issuer", "customs")
    (first, _, first_id), (second, _, second_id) = docs(node, issuer, 2)
    node.utilisation.utilise(customs, first_id, "IDX-1", date(2026, 11, 23),
                             [Draw(1, Decimal("10")), Draw(3, Decimal("2.5"))])
    node.utilisation.utilise(customs, first_id, "IDX-2", date(2026, 11, 23), [Draw(1, Decimal("5"))])
    _, copy = node.issuing.true_copy(issuer, first_id)  # the copy continues the original's ledger
    node.utilisation.utilise(customs, copy.id, "IDX-3", date(2026, 11, 23), [Draw(2, Decimal("1"))])
    node.requests.open_request(customs, second_id, "index check")
    service.follower.poll()
    roots = {row.document_hash: process_proof(row.document_hash, [parse_hex32(p) for p in row.proof or []])
             for row in (service.store.certificate(i) for i in (first_id, copy.id, second_id))}
    for document_hash, root in roots.items():
        assert (service.follower.utilisation(document_hash, root, 3)
                == node.utilisation.ledger.utilisation_of(document_hash, root, 3))
    assert service.follower.utilisation(copy.document_hash, roots[copy.document_hash], 3).drawn == (
        15_000_000, 1_000_000, 2_500_000)
    assert service.follower.utilisation(second, roots[second], 0).open_requests == 1
