"""A hostile consortium member attacks other countries' certificates; every attack fails.

The attackers are authorised members of other countries (GB and DE: an authority,
an issuer and a Customs account each) and the exporter, who holds the sealed
document and so its hash, its terms and their salt. After each attack the victim
still verifies VALID through the node (its event projection) and offline (straight
against the chain), and every refusal is asserted by its custom error.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from registry.chain.client import ChainClient, DocumentState
from registry.errors import ValidationError
from registry.pipelines.indexer import ChainIndexer, Follower
from registry.chain.customs import CustomsLedger
from registry.sealing.merkle import MerkleTree
from registry.chain.nodes import NodeProcess
from registry.pipelines.offline import verify_offline
from registry.domain.report import Verdict
from registry.storage.store import Store
from registry.storage.customs import CustomsRecords
from registry.pipelines.verify import Verifier
from tests.support.consortium import Consortium
from tests.contracts.test_customs_registry import UNIT, Issued, issue, register
from tests.support import reverts

NOW = datetime(2026, 11, 20, tzinfo=UTC)  # within the example certificates' validity


@dataclass(frozen=True)
class Member:
    """A country's accounts: its authority, one issuer and one Customs account."""

    country: str
    authority: LocalAccount
    issuer: LocalAccount
    customs: LocalAccount


def admit(chain: ChainClient, people: Consortium, country: str) -> Member:
    """Admit *country* with fresh, funded accounts for every role."""
    member = Member(country, Account.create(), Account.create(), Account.create())
    for account in (member.authority, member.issuer, member.customs):
        chain.fund(account.address)
    chain.admit_country(people.admin, country, member.authority.address)
    chain.authorise_issuer(member.authority, member.issuer.address)
    CustomsLedger(chain).authorise_customs(member.authority, member.customs.address)
    return member


@pytest.fixture
def gb(chain: ChainClient, people: Consortium) -> Member:
    return admit(chain, people, "GB")


@pytest.fixture
def de(chain: ChainClient, people: Consortium) -> Member:
    return admit(chain, people, "DE")


@dataclass
class Node:
    """What a node believes: the chain's events projected into a store, and a verifier over it."""

    store: Store
    follower: Follower


@pytest.fixture
def node(chain: ChainClient, tmp_path: Path) -> Iterator[Node]:
    store = Store(tmp_path / "node.sqlite")
    yield Node(store, Follower(ChainIndexer(store, chain), max_age=3_600))
    store.close()


def hostile_root(chain: ChainClient, attacker: LocalAccount, victim: bytes) -> tuple[bytes, list[bytes]]:
    """The attacker anchors its own batch ``[victim, random]``; returns the root and the victim's proof into it."""
    tree = MerkleTree([victim, os.urandom(32)])
    chain.anchor(attacker, tree.root, 2)
    return tree.root, tree.proof(0)


def assert_still_valid(chain: ChainClient, anvil: NodeProcess, node: Node, victim: Issued) -> None:
    """The victim verifies VALID offline (chain only) and through the node's projection, which agrees."""
    offline = verify_offline(victim.document.model_dump(), rpc_url=anvil.url, contract=chain.address)
    assert offline.verdict is Verdict.VALID, offline
    node.follower.poll()
    indexed, _ = node.follower.inspect(victim.hash, victim.proof)
    assert indexed.state is DocumentState.ACTIVE and indexed.issuer == chain.inspect(victim.hash, victim.proof).issuer
    through_node = Verifier(chain, clock=lambda: NOW, index=node.follower).verify_document(victim.document)
    assert through_node.verdict is Verdict.VALID, through_node


def victim_of(chain: ChainClient, people: Consortium, layout: str) -> Issued:
    """An SG → JP certificate anchored alone or in a batch of four, its terms registered."""
    victim = issue(chain, people, batch_with=0 if layout == "single" else 3)
    register(CustomsLedger(chain), people, victim)
    return victim


# -- 1 and 2: status hijack through the attacker's own root; the node must not believe it ------------------


@pytest.mark.parametrize("layout", ["single", "batch"])
@pytest.mark.parametrize("action", ["revoke", "erase", "supersede"])
def test_a_foreign_issuer_cannot_change_a_certificates_status_through_its_own_root(
        chain: ChainClient, anvil: NodeProcess, people: Consortium, gb: Member, node: Node,
        action: str, layout: str) -> None:
    victim = victim_of(chain, people, layout)
    CustomsRecords(node.store).put_released_key(victim.hash, people.sg_issuer.address, b"wrapped key")
    root, proof = hostile_root(chain, gb.issuer, victim.hash)
    replacement = os.urandom(32)
    chain.anchor(gb.issuer, replacement, 1)

    def attack(through: list[bytes]) -> object:
        if action == "revoke":
            return chain.revoke(gb.issuer, victim.hash, through, 2)
        if action == "erase":
            return chain.erase(gb.issuer, victim.hash, through)
        return chain.supersede(gb.issuer, victim.hash, through, replacement, [])

    with reverts("CertificateRegistryNotIssuer", gb.issuer.address, victim.hash):
        attack(victim.proof)  # straight at the victim's own root
    for who in (gb.authority, gb.customs):
        with reverts("CertificateRegistryNotIssuer", who.address, victim.hash):
            chain.revoke(who, victim.hash, victim.proof, 2)
    attack(proof)  # through its own root: only its own certificate changes
    assert chain.inspect(victim.hash, proof).state is not DocumentState.ACTIVE
    assert_still_valid(chain, anvil, node, victim)
    assert CustomsRecords(node.store).released_key(victim.hash) is not None


def test_the_node_drops_released_keys_only_when_the_genuine_certificate_is_erased(
        chain: ChainClient, people: Consortium, gb: Member, node: Node) -> None:
    victim = victim_of(chain, people, "single")
    records = CustomsRecords(node.store)
    records.put_released_key(victim.hash, people.sg_issuer.address, b"wrapped key")
    _, proof = hostile_root(chain, gb.issuer, victim.hash)
    chain.erase(gb.issuer, victim.hash, proof)
    node.follower.poll()
    assert records.released_key(victim.hash) is not None
    chain.erase(people.sg_issuer, victim.hash, victim.proof)
    node.follower.poll()
    assert records.released_key(victim.hash) is None
    assert node.follower.inspect(victim.hash, victim.proof)[0].state is DocumentState.ERASED


# -- 3: terms, utilisation and verification requests under a foreign root ----------------------------------


def test_terms_registered_under_a_foreign_root_neither_revive_nor_silence_the_genuine_certificate(
        chain: ChainClient, anvil: NodeProcess, people: Consortium, gb: Member, node: Node) -> None:
    ledger = CustomsLedger(chain)
    victim = issue(chain, people)
    root, proof = hostile_root(chain, gb.issuer, victim.hash)
    # the exporter, holding the sealed document, registers its terms under the attacker's root first
    ledger.register_terms(people.stranger, victim.hash, proof, victim.terms, victim.salt, victim.terms_proof)
    assert ledger.terms_of(victim.hash, victim.root) is None
    with reverts("CustomsRegistryTermsNotRegistered", victim.hash):
        ledger.utilise(people.jp_customs, victim.hash, victim.root, os.urandom(32), [(0, 1 * UNIT)])
    register(ledger, people, victim)
    # a verification request on the genuine certificate is answered by its issuer only
    request, _ = ledger.request_verification(people.jp_customs, victim.hash, victim.root, os.urandom(32))
    for who in (gb.issuer, gb.authority):
        with reverts("CertificateRegistryNotIssuer", who.address, victim.hash):
            ledger.answer_verification(who, request, False)
    ledger.answer_verification(people.sg_issuer, request, True)
    # a request under the attacker's root, answered "not confirmed" by the attacker, touches only its certificate
    fooled, _ = ledger.request_verification(people.jp_customs, victim.hash, root, os.urandom(32))
    ledger.answer_verification(gb.issuer, fooled, False)
    assert ledger.utilisation_of(victim.hash, victim.root, 3).open_requests == 0
    assert_still_valid(chain, anvil, node, victim)
    # once the genuine issuer revokes it, no root makes the genuine certificate usable again
    chain.revoke(people.sg_issuer, victim.hash, victim.proof, 2)
    with reverts("CustomsRegistryNotUsable", victim.hash, int(DocumentState.REVOKED)):
        ledger.utilise(people.jp_customs, victim.hash, victim.root, os.urandom(32), [(0, 1 * UNIT)])


# -- 4: back-to-back draw-down by strangers ------------------------------------------------------------------


def back_to_back(exporting: str, importing: str) -> dict[str, object]:
    """Changes that make the example an *exporting* → *importing* back-to-back certificate."""
    return {"back_to_back": True, "parent_reference": "SG-PARENT", "exporting_country": exporting,
            "importing_country": importing, "exporter": {"name": "Re-exporter", "address": "1 Quay", "country": exporting},
            "consignee": {"name": "Buyer", "address": "2 Dock", "country": importing}}


def test_only_a_genuine_back_to_back_child_draws_down_its_parent(
        chain: ChainClient, people: Consortium, gb: Member, de: Member) -> None:
    ledger = CustomsLedger(chain)
    parent = victim_of(chain, people, "batch")  # SG → JP, 1,200 of item 1
    stranger = issue(chain, people, issuer=gb.issuer, parent=parent.hash, **back_to_back("GB", "DE"))
    with reverts("CustomsRegistryNotBackToBack", stranger.hash, b"GB", parent.hash, b"JP"):
        register(ledger, people, stranger, parent)
    with reverts("CustomsRegistryTermsNotRegistered", stranger.hash):
        ledger.utilise(de.customs, stranger.hash, stranger.root, os.urandom(32), [(0, 1_199 * UNIT)])
    # a genuine child is exported from where the parent was imported: JP → DE
    jp_issuer = people.jp_issuer
    child = issue(chain, people, issuer=jp_issuer, parent=parent.hash, **back_to_back("JP", "DE"))
    register(ledger, people, child, parent)
    for who in (people.jp_customs, gb.customs):  # only Customs of the child's importing country draws it
        with reverts("CustomsRegistryNotCustoms", who.address, b"DE"):
            ledger.utilise(who, child.hash, child.root, os.urandom(32), [(0, 1 * UNIT)])
    ledger.utilise(de.customs, child.hash, child.root, os.urandom(32), [(0, 100 * UNIT)])
    assert ledger.utilisation_of(parent.hash, parent.root, 3).drawn[0] == 100 * UNIT
    ledger.utilise(people.jp_customs, parent.hash, parent.root, os.urandom(32), [(0, 1_100 * UNIT)])


# -- 5: authorisation at anchoring is decided by transaction order ---------------------------------------


def test_a_suspension_in_a_later_block_with_the_same_timestamp_does_not_reach_back(
        chain: ChainClient, people: Consortium, node: Node) -> None:
    stamp = chain.block_timestamp() + 100
    root = os.urandom(32)
    chain.w3.provider.make_request("evm_setNextBlockTimestamp", [stamp])  # type: ignore[arg-type]
    anchored = chain.anchor(people.sg_issuer, root, 1)
    chain.w3.provider.make_request("evm_setNextBlockTimestamp", [stamp])  # type: ignore[arg-type]
    suspended = chain.suspend_issuer(people.sg_authority, people.sg_issuer.address)
    assert chain.block_timestamp(suspended.block_number) == chain.block_timestamp(anchored.block_number)
    assert suspended.block_number > anchored.block_number
    assert chain.inspect(root).authorised_at_anchoring
    assert chain.was_authorised_at(people.sg_issuer.address, "SG", anchored.block_number)
    assert not chain.was_authorised_at(people.sg_issuer.address, "SG", suspended.block_number)
    node.follower.poll()
    assert node.follower.inspect(root, [])[0].authorised_at_anchoring
    with reverts("CertificateRegistryIssuerNotAuthorised", people.sg_issuer.address):
        chain.anchor(people.sg_issuer, os.urandom(32), 1)


# -- 6: loose ends -------------------------------------------------------------------------------------------


def test_supersession_refuses_cycles_and_replacements_that_are_not_active(
        chain: ChainClient, people: Consortium) -> None:
    a, b, revoked = os.urandom(32), os.urandom(32), os.urandom(32)
    for document in (a, b, revoked):
        chain.anchor(people.sg_issuer, document, 1)
    chain.supersede(people.sg_issuer, a, [], b, [])
    with reverts("CertificateRegistryReplacementNotActive", a, a, int(DocumentState.SUPERSEDED)):
        chain.supersede(people.sg_issuer, b, [], a, [])
    chain.revoke(people.sg_issuer, revoked, [], 2)
    with reverts("CertificateRegistryReplacementNotActive", revoked, revoked, int(DocumentState.REVOKED)):
        chain.supersede(people.sg_issuer, b, [], revoked, [])


def test_supersession_cannot_take_over_another_issuers_certificate_or_ledger(
        chain: ChainClient, people: Consortium) -> None:
    mine, other, theirs = os.urandom(32), os.urandom(32), os.urandom(32)
    chain.anchor(people.sg_issuer, mine, 1)
    chain.anchor(people.sg_issuer, other, 1)
    chain.anchor(people.sg_issuer_2, theirs, 1)
    with reverts("CertificateRegistryNotIssuer", people.sg_issuer.address, theirs):
        chain.supersede(people.sg_issuer, mine, [], theirs, [])
    chain.supersede(people.sg_issuer, mine, [], other, [])
    replacement = os.urandom(32)
    chain.anchor(people.sg_issuer, replacement, 1)
    chain.supersede(people.sg_issuer, other, [], replacement, [])
    assert chain.inspect(theirs).state is DocumentState.ACTIVE


def test_payloads_are_published_only_for_the_documents_of_the_anchored_root(
        chain: ChainClient, people: Consortium, gb: Member) -> None:
    victims = [os.urandom(32) for _ in range(3)]
    tree = MerkleTree(victims)
    unrelated = [os.urandom(32) for _ in range(4)]
    computed = MerkleTree(unrelated).root
    with reverts("CertificateRegistryPayloadRootMismatch", tree.root, computed):
        chain.anchor_with_payloads(gb.issuer, tree.root, unrelated, [os.urandom(100) for _ in unrelated])
    result = chain.anchor_with_payloads(gb.issuer, tree.root, victims, [b"a", b"b", b"c"])
    assert [e.name for e in result.events] == ["BatchAnchored"] + ["PayloadPublished"] * 3
    for size in (1, 2, 5, 8):  # odd levels promote their last node, as registry.merkle does
        leaves = [os.urandom(32) for _ in range(size)]
        chain.anchor_with_payloads(gb.issuer, MerkleTree(leaves).root, leaves, [b"x"] * size)


def test_the_consortium_admin_never_acts_for_a_country(chain: ChainClient, people: Consortium) -> None:
    with reverts("TrustRegistryAdminNotAllowed", people.admin.address):
        chain.admit_country(people.admin, "GB", people.admin.address)
    with reverts("TrustRegistryAdminNotAllowed", people.admin.address):
        chain.replace_authority(people.admin, "SG", people.admin.address)
    with reverts("TrustRegistryAdminNotAllowed", people.admin.address):
        chain.authorise_issuer(people.sg_authority, people.admin.address)
    admin_role = bytes(32)
    with reverts("TrustRegistryAccountInUse", people.sg_authority.address):
        chain.transact(people.admin, "grantRole", admin_role, people.sg_authority.address)


@pytest.mark.parametrize("country", ["QQ", "XX", "gb"])
def test_a_country_outside_iso_3166_is_refused_before_any_transaction(
        chain: ChainClient, people: Consortium, country: str) -> None:
    head = chain.block_number()
    with pytest.raises(ValidationError) as refused:
        chain.admit_country(people.admin, country, Account.create().address)
    assert refused.value.errors[0]["loc"] == "country" and "ISO 3166-1" in str(refused.value)
    assert chain.block_number() == head
