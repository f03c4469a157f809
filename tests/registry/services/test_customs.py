"""The Customs desk uses a certificate only under the batch its own issuing country anchored."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from eth_account import Account

from registry.custody.apikeys import Role
from registry.errors import ConflictError
from registry.runtime import Node
from registry.sealing.document import BatchProof
from registry.sealing.merkle import MerkleTree
from registry.services.utilisation import Draw
from registry.types import hex32, parse_hex32
from tests.support import principals
from tests.support.consortium import example


def test_a_document_whose_proof_leads_into_another_countrys_batch_is_neither_used_nor_questioned(
        node: Node, demo_keys: dict[str, dict[str, str]]) -> None:
    service = node.context
    issuer, customs, authority = principals(service, demo_keys, "issuer", "customs", "authority_jp")
    jp_authority = node.context.signer_for(authority, Role.AUTHORITY)
    row = node.issuing.register(issuer, [example()])[0]
    service.anchorer.flush()
    genuine = node.issuing.sealed_document(issuer, row.id)
    # a hostile JP issuer anchors the SG certificate's hash in a batch of its own; the exporter swaps the proof
    hostile = Account.create()
    service.chain.fund(hostile.address)
    service.chain.authorise_issuer(jp_authority, hostile.address)
    tree = MerkleTree([parse_hex32(genuine.document_hash), b"\x07" * 32])
    service.chain.anchor(hostile, tree.root, 2)
    forged = genuine.model_copy(update={
        "proof": BatchProof(batch_root=hex32(tree.root), path=[hex32(p) for p in tree.proof(0)]),
        "anchor": genuine.anchor.model_copy(update={"batch_root": hex32(tree.root)}),
    })
    with pytest.raises(ConflictError, match="anchored by an issuer of JP"):
        node.utilisation.utilise(customs, genuine.document_hash, "FORGED-1", date(2026, 11, 23),
                                 [Draw(1, Decimal("1"))],
                     document=forged)
    with pytest.raises(ConflictError, match="anchored by an issuer of JP"):
        node.requests.open_request(customs, genuine.document_hash, "forged proof", document=forged)
    record, new, _ = node.utilisation.utilise(customs, genuine.document_hash, "GENUINE-1", date(2026, 11, 23),
                                  [Draw(1, Decimal("1"))], document=genuine)
    assert new and record["declaration_reference"] == "GENUINE-1"
