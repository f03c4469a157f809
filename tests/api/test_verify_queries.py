"""A status-only verification reads the store in few statements, each by index: its cost does not grow with
the number of certificates stored (issue #20). The statements are not listed by hand: one ``verify_hash``
runs while SQLite's trace callback records them, and each is planned with ``EXPLAIN QUERY PLAN``."""

from __future__ import annotations

import time
from typing import Any

import httpx

from registry.domain.report import CheckStatus, Verdict
from registry.runtime import Node
from registry.types import parse_hex32
from tests.support.consortium import example
from tests.support.http import anchored, auth
from tests.support.plans import PLANNED, full_scans, traced

MOST_STATEMENTS = 8
"""The row with its key and sealed terms, the pending change, the index's mark, its view, the utilisation,
and the receipt's transaction (BEGIN, INSERT, COMMIT)."""


def _indexed(node: Node, digest: bytes) -> None:
    """Wait (at most 30 s) for the index to be at the chain head and to hold the certificate's anchoring."""
    follower, held = node.context.follower, node.context.store.by_document_hash(digest)
    assert follower is not None and held is not None
    proof = [parse_hex32(p) for p in held.proof or []]
    deadline = time.monotonic() + 30
    while not (follower.fresh() and follower.inspect(digest, proof)[0].anchored) and time.monotonic() < deadline:
        time.sleep(0.05)  # polling the follower's own state


async def _anchored_hash(client: httpx.AsyncClient, keys: dict[str, Any], node: Node) -> bytes:
    """The document hash of a fresh certificate, once anchored and in the index."""
    made = await client.post("/v1/certificates", json=example(), headers=auth(keys, "issuer"))
    assert made.status_code == 202, made.text
    cert = await anchored(client, auth(keys, "issuer"), made.json()["id"])
    digest = parse_hex32(cert["document_hash"])
    _indexed(node, digest)
    return digest


async def test_a_verification_by_hash_runs_a_few_statements_each_by_index(
        client: httpx.AsyncClient, keys: dict[str, Any], node: Node) -> None:
    digest = await _anchored_hash(client, keys, node)
    store = node.context.store
    with traced(store) as statements:
        report, _ = node.verification.verify_hash(digest)
    assert report.verdict is Verdict.VALID
    assert any("onchain_batches" in s for s in statements), statements  # answered from the index, not the chain
    assert any("INSERT INTO verification_receipts" in s for s in statements)  # and its receipt filed
    assert len(statements) <= MOST_STATEMENTS, "\n".join(statements)
    planned = [s for s in statements if s.lstrip().upper().startswith(PLANNED)]
    assert {s: found for s in planned if (found := full_scans(store.connection(), s))} == {}


async def test_the_terms_are_sealed_apart_at_registration_and_the_first_verification_writes_nothing_but_its_receipt(
        client: httpx.AsyncClient, keys: dict[str, Any], node: Node) -> None:
    digest = await _anchored_hash(client, keys, node)
    store = node.context.store
    registered = store.held_certificate(digest, with_record=True)
    assert registered is not None and registered.sealed_terms is not None  # as registered: apart already
    assert registered.sealed_record is None  # so the sealed document is not even read
    with traced(store) as statements:
        first, _ = node.verification.verify_hash(digest)
    written = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert written and all("verification_receipts" in s for s in written), written  # no write on the read path
    utilisation = next(c for c in first.checks if c.name == "utilisation")
    assert utilisation.status is CheckStatus.PASS and utilisation.details["remaining"], utilisation  # terms in hand


async def test_a_certificate_registered_without_its_terms_apart_gets_them_at_its_first_verification(
        client: httpx.AsyncClient, keys: dict[str, Any], node: Node) -> None:
    """A certificate registered before the terms were sealed apart at registration (schema version 14)."""
    digest = await _anchored_hash(client, keys, node)
    store = node.context.store
    with store.transaction() as conn:
        conn.execute("UPDATE sealed_documents SET terms = NULL WHERE certificate_id ="
                     " (SELECT id FROM certificates WHERE document_hash = ?)", (digest,))
    before = store.held_certificate(digest, with_record=True)
    assert before is not None and before.sealed_terms is None and before.sealed_record is not None
    first, _ = node.verification.verify_hash(digest)
    after = store.held_certificate(digest, with_record=True)
    assert after is not None and after.sealed_terms is not None and after.sealed_record is None
    second, _ = node.verification.verify_hash(digest)
    assert [c.model_dump() for c in second.checks] == [c.model_dump() for c in first.checks]
    utilisation = next(c for c in second.checks if c.name == "utilisation")
    assert utilisation.status is CheckStatus.PASS and utilisation.details["remaining"], utilisation  # terms in hand
