"""CertificateRegistry on a real Anvil: anchoring, lifecycle, who may change what, gas."""

from __future__ import annotations

import os

import pytest

from registry.chain.client import ChainClient, DocumentState
from registry.sealing.merkle import merkle_proof, merkle_root
from tests.support.consortium import Consortium
from tests.support import event_names, reverts

REASON_ISSUED_IN_ERROR = 1
REASON_FRAUD = 2


def hashes(n: int) -> list[bytes]:
    return [os.urandom(32) for _ in range(n)]


def anchor_batch(chain: ChainClient, people: Consortium, n: int) -> tuple[bytes, list[bytes]]:
    leaves = hashes(n)
    root = merkle_root(leaves)
    chain.anchor(people.sg_issuer, root, n)
    return root, leaves


def test_an_authorised_issuer_anchors_a_single_document(chain: ChainClient, people: Consortium) -> None:
    document = os.urandom(32)
    result = chain.anchor(people.sg_issuer, document, 1)
    assert event_names(result) == ["BatchAnchored"]
    assert result.events[0].args == {"root": document, "issuer": people.sg_issuer.address, "documentCount": 1}
    view = chain.inspect(document)
    assert view.anchored and view.issuer == people.sg_issuer.address and view.country == "SG"
    assert view.state is DocumentState.ACTIVE and view.authorised_at_anchoring


@pytest.mark.parametrize("who", ["stranger", "sg_authority", "admin"])
def test_only_authorised_issuers_anchor(chain: ChainClient, people: Consortium, who: str) -> None:
    account = getattr(people, who)
    with reverts("CertificateRegistryIssuerNotAuthorised", account.address):
        chain.anchor(account, os.urandom(32), 1)


def test_a_root_is_anchored_only_once(chain: ChainClient, people: Consortium) -> None:
    root = os.urandom(32)
    chain.anchor(people.sg_issuer, root, 1)
    anchored_at = chain.batch_of(root).anchored_at
    with reverts("CertificateRegistryAlreadyAnchored", root, anchored_at):
        chain.anchor(people.jp_issuer, root, 1)


def test_an_empty_batch_is_refused(chain: ChainClient, people: Consortium) -> None:
    with reverts("CertificateRegistryEmptyBatch"):
        chain.anchor(people.sg_issuer, os.urandom(32), 0)
    with reverts("CertificateRegistryEmptyBatch"):
        chain.anchor(people.sg_issuer, b"\x00" * 32, 1)


def test_every_document_of_a_batch_is_found_by_its_proof(chain: ChainClient, people: Consortium) -> None:
    root, leaves = anchor_batch(chain, people, 13)
    for index, leaf in enumerate(leaves):
        view = chain.inspect(leaf, merkle_proof(leaves, index))
        assert view.anchored and view.root == root and view.document_count == 13
    assert not chain.inspect(leaves[0], merkle_proof(leaves, 1)).anchored
    assert not chain.inspect(os.urandom(32)).anchored


def test_the_root_of_a_larger_batch_is_not_a_document(chain: ChainClient, people: Consortium) -> None:
    root, _ = anchor_batch(chain, people, 4)
    assert not chain.inspect(root).anchored
    with reverts("CertificateRegistryNotAnchored", root, root):
        chain.revoke(people.sg_issuer, root, [], REASON_FRAUD)


def test_the_issuer_revokes_its_document_with_a_reason(chain: ChainClient, people: Consortium) -> None:
    document = os.urandom(32)
    chain.anchor(people.sg_issuer, document, 1)
    result = chain.revoke(people.sg_issuer, document, [], REASON_FRAUD)
    assert result.events[0].name == "CertificateRevoked"
    assert result.events[0].args == {"documentHash": document, "root": document, "by": people.sg_issuer.address,
                                     "reason": REASON_FRAUD}
    view = chain.inspect(document)
    assert view.state is DocumentState.REVOKED and view.reason == REASON_FRAUD


def test_the_issuers_authority_may_revoke_too(chain: ChainClient, people: Consortium) -> None:
    root, leaves = anchor_batch(chain, people, 5)
    proof = merkle_proof(leaves, 2)
    chain.revoke(people.sg_authority, leaves[2], proof, REASON_ISSUED_IN_ERROR)
    view = chain.inspect(leaves[2], proof)
    assert view.state is DocumentState.REVOKED
    assert view.changed_by == people.sg_authority.address and view.changed_at > 0
    assert chain.inspect(leaves[3], merkle_proof(leaves, 3)).state is DocumentState.ACTIVE


@pytest.mark.parametrize("who", ["stranger", "sg_issuer_2", "jp_authority", "jp_issuer", "admin"])
def test_nobody_else_changes_a_documents_status(chain: ChainClient, people: Consortium, who: str) -> None:
    document = os.urandom(32)
    chain.anchor(people.sg_issuer, document, 1)
    account = getattr(people, who)
    with reverts("CertificateRegistryNotIssuer", account.address, document):
        chain.revoke(account, document, [], REASON_FRAUD)
    with reverts("CertificateRegistryNotIssuer", account.address, document):
        chain.erase(account, document, [])


def test_an_unanchored_document_cannot_be_revoked(chain: ChainClient, people: Consortium) -> None:
    document = os.urandom(32)
    with reverts("CertificateRegistryNotAnchored", document, document):
        chain.revoke(people.sg_issuer, document, [], REASON_FRAUD)


def test_a_revoked_document_cannot_be_revoked_again(chain: ChainClient, people: Consortium) -> None:
    document = os.urandom(32)
    chain.anchor(people.sg_issuer, document, 1)
    chain.revoke(people.sg_issuer, document, [], REASON_FRAUD)
    with reverts("CertificateRegistryInvalidStatusChange", document, int(DocumentState.REVOKED)):
        chain.revoke(people.sg_issuer, document, [], REASON_FRAUD)


@pytest.mark.parametrize("batch_size", [1, 6])
def test_an_erased_document_admits_no_further_change(chain: ChainClient, people: Consortium, batch_size: int) -> None:
    root, leaves = anchor_batch(chain, people, batch_size)
    proof = merkle_proof(leaves, 0)
    assert event_names(chain.erase(people.sg_issuer, leaves[0], proof)) == ["KeyDestroyed"]
    assert chain.inspect(leaves[0], proof).state is DocumentState.ERASED
    erased = int(DocumentState.ERASED)
    with reverts("CertificateRegistryInvalidStatusChange", leaves[0], erased):
        chain.revoke(people.sg_issuer, leaves[0], proof, REASON_FRAUD)
    with reverts("CertificateRegistryInvalidStatusChange", leaves[0], erased):
        chain.erase(people.sg_authority, leaves[0], proof)
    replacement = os.urandom(32)
    chain.anchor(people.sg_issuer, replacement, 1)
    with reverts("CertificateRegistryInvalidStatusChange", leaves[0], erased):
        chain.supersede(people.sg_issuer, leaves[0], proof, replacement, [])


def test_a_revoked_document_can_still_be_erased(chain: ChainClient, people: Consortium) -> None:
    document = os.urandom(32)
    chain.anchor(people.sg_issuer, document, 1)
    chain.revoke(people.sg_issuer, document, [], REASON_FRAUD)
    chain.erase(people.sg_issuer, document, [])
    assert chain.inspect(document).state is DocumentState.ERASED


def test_supersession_links_to_the_replacement_and_its_root(chain: ChainClient, people: Consortium) -> None:
    root, leaves = anchor_batch(chain, people, 3)
    replacement = os.urandom(32)
    chain.anchor(people.sg_issuer_2, replacement, 1)
    proof = merkle_proof(leaves, 1)
    with reverts("CertificateRegistryNotIssuer", people.sg_issuer.address, replacement):
        chain.supersede(people.sg_issuer, leaves[1], proof, replacement, [])  # another issuer's certificate
    result = chain.supersede(people.sg_authority, leaves[1], proof, replacement, [])
    assert result.events[0].name == "CertificateSuperseded"
    assert result.events[0].args == {"documentHash": leaves[1], "root": root, "replacement": replacement,
                                     "replacementRoot": replacement, "by": people.sg_authority.address}
    view = chain.inspect(leaves[1], proof)
    assert view.state is DocumentState.SUPERSEDED and view.replacement == replacement
    assert view.replacement_root == replacement


def test_a_replacement_must_be_anchored_in_the_same_country(chain: ChainClient, people: Consortium) -> None:
    document, foreign, missing = os.urandom(32), os.urandom(32), os.urandom(32)
    chain.anchor(people.sg_issuer, document, 1)
    chain.anchor(people.jp_issuer, foreign, 1)
    with reverts("CertificateRegistryInvalidReplacement", document, missing):
        chain.supersede(people.sg_issuer, document, [], missing, [])
    with reverts("CertificateRegistryInvalidReplacement", document, foreign):
        chain.supersede(people.sg_issuer, document, [], foreign, [])
    with reverts("CertificateRegistryInvalidReplacement", document, document):
        chain.supersede(people.sg_issuer, document, [], document, [])


def test_an_authority_revokes_a_whole_batch_once(chain: ChainClient, people: Consortium) -> None:
    root, leaves = anchor_batch(chain, people, 4)
    assert event_names(chain.revoke_batch(people.sg_authority, root, REASON_FRAUD)) == ["BatchRevoked"]
    assert event_names(chain.revoke_batch(people.sg_authority, root, REASON_FRAUD)) == []
    for index, leaf in enumerate(leaves):
        assert chain.inspect(leaf, merkle_proof(leaves, index)).state is DocumentState.REVOKED
    with reverts("CertificateRegistryNotIssuer", people.jp_authority.address, root):
        chain.revoke_batch(people.jp_authority, root, REASON_FRAUD)
    with reverts("CertificateRegistryInvalidStatusChange", leaves[0], int(DocumentState.REVOKED)):
        chain.revoke(people.sg_issuer, leaves[0], merkle_proof(leaves, 0), REASON_FRAUD)


def test_encrypted_payloads_are_published_with_the_anchor(chain: ChainClient, people: Consortium) -> None:
    leaves = hashes(3)
    payloads = [os.urandom(200 + i) for i in range(3)]
    root = merkle_root(leaves)
    result = chain.anchor_with_payloads(people.sg_issuer, root, leaves, payloads)
    assert event_names(result) == ["BatchAnchored"] + ["PayloadPublished"] * 3
    assert chain.payloads(root, 1) == dict(zip(leaves, payloads, strict=True))
    with reverts("CertificateRegistryPayloadMismatch", 2, 1):
        chain.anchor_with_payloads(people.sg_issuer, os.urandom(32), hashes(2), payloads[:1])


def test_gas_stays_within_the_document_store_budget(chain: ChainClient, people: Consortium) -> None:
    """Single anchor ≤ 50,000, per-document revoke ≤ 48,000 (OpenAttestation: 47,886 / 47,980), and the
    revocation of one document of a batch of 1,024 ≤ 57,800 (OpenAttestation's DocumentStore: 47,968)."""
    document = os.urandom(32)
    single = chain.anchor(people.sg_issuer, document, 1).gas_used
    revoke = chain.revoke(people.sg_issuer, document, [], REASON_FRAUD).gas_used
    other = os.urandom(32)
    chain.anchor(people.sg_issuer, other, 1)
    erase = chain.erase(people.sg_issuer, other, []).gas_used
    figures = {"anchor(1)": single, "revoke(single)": revoke, "erase(single)": erase}
    for size in (16, 256, 1024):
        leaves = hashes(size)
        gas = chain.anchor(people.sg_issuer, merkle_root(leaves), size).gas_used
        figures[f"anchor({size}) per certificate"] = gas // size
        if size == 1024:
            proof = merkle_proof(leaves, 7)
            figures["revoke(in batch of 1024)"] = chain.revoke(people.sg_issuer, leaves[7], proof, 1).gas_used
    print("\ngas used:", ", ".join(f"{k}={v:,}" for k, v in figures.items()))
    assert single <= 50_000
    assert revoke <= 48_000
    assert erase <= 48_000
    assert figures["anchor(1024) per certificate"] <= 100
    assert figures["revoke(in batch of 1024)"] <= 57_800


def test_the_certificate_key_is_the_same_on_chain_and_in_python(chain: ChainClient) -> None:
    from registry.chain.client import certificate_key

    root, document = os.urandom(32), os.urandom(32)
    assert bytes(chain.call("certificateKey", root, document)) == certificate_key(root, document)
    assert certificate_key(root, document) != certificate_key(document, root)
