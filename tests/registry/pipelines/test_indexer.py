"""The event index follows the chain and answers per-document history."""

from __future__ import annotations

import json

from registry.domain.reasons import RevocationReason
from registry.pipelines.indexer import ChainIndexer
from registry.runtime import Node
from tests.support.consortium import example


def test_the_index_records_anchoring_and_revocation_of_a_document(
        node: Node, demo_keys: dict[str, dict[str, str]]) -> None:
    service = node.context
    issuer = service.api_keys.authenticate(demo_keys["issuer"]["api_key"])
    row = node.issuing.register(issuer, [example()])[0]
    service.anchorer.flush()
    node.issuing.revoke(issuer, row.id, RevocationReason.ISSUED_IN_ERROR)
    indexer = ChainIndexer(service.store, service.chain)
    indexer.sync()
    assert service.store.last_indexed_block() == service.chain.block_number()
    names = [e.name for e in service.store.events_for(row.document_hash)]
    assert names[-2:] == ["BatchAnchored", "CertificateRevoked"] or names[-1] == "CertificateRevoked"
    revoked = service.store.events_for(row.document_hash)[-1]
    assert json.loads(revoked.args)["reason"] == int(RevocationReason.ISSUED_IN_ERROR)
    assert indexer.sync() == 0  # nothing new: idempotent
