"""CustomsRegistry on a real Anvil: committed terms, utilisation, back-to-back, verification requests."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest

from registry.domain.certificate import parse_certificate
from registry.chain.client import ChainClient, DocumentState, certificate_key
from registry.sealing.document import SealedDocument, build_sealed_document, terms_claim
from registry.sealing.fields import seal
from registry.chain.customs import CustomsLedger, RequestState
from registry.sealing.merkle import MerkleTree
from registry.sealing.terms import Terms, terms_for
from tests.support.consortium import Consortium, example
from tests.support import event_names, reverts

NOT_CONFIRMED = 3


@dataclass
class Issued:
    document: SealedDocument
    terms: Terms
    salt: bytes
    terms_proof: list[bytes]
    root: bytes

    @property
    def hash(self) -> bytes:
        return bytes.fromhex(self.document.document_hash[2:])

    @property
    def proof(self) -> list[bytes]:
        return [bytes.fromhex(p[2:]) for p in self.document.proof.path]


def issue(chain: ChainClient, people: Consortium, name: str = "rcep-sg-jp", *, parent: bytes | None = None,
          batch_with: int = 0, issuer: Any = None, **changes: Any) -> Issued:
    """Seal an example certificate with its terms and anchor it (alone, or among *batch_with* others)."""
    body = parse_certificate(example(name, **changes)).to_json()
    sealed = seal(body, terms_for(body, parent))
    leaves = [sealed.document_hash, *(os.urandom(32) for _ in range(batch_with))]
    tree = MerkleTree(leaves)
    chain.anchor(issuer or people.sg_issuer, tree.root, len(leaves))
    document = build_sealed_document(body, sealed, tree.root, tree.proof(0), chain_id=chain.chain_id,
                                     contract=chain.address)
    terms, salt, terms_proof = terms_claim(document)
    return Issued(document, terms, salt, terms_proof, tree.root)


def register(ledger: CustomsLedger, people: Consortium, cert: Issued, parent: Issued | None = None) -> None:
    ledger.register_terms(people.stranger, cert.hash, cert.proof, cert.terms, cert.salt, cert.terms_proof,
                          parent.root if parent is not None else bytes(32))


@pytest.fixture
def ledger(chain: ChainClient) -> CustomsLedger:
    return CustomsLedger(chain)


@pytest.fixture
def cert(chain: ChainClient, people: Consortium, ledger: CustomsLedger) -> Issued:
    issued = issue(chain, people, batch_with=3)
    register(ledger, people, issued)
    return issued


UNIT = 10**6


def test_the_contract_recomputes_the_committed_terms(chain: ChainClient, people: Consortium,
                                                     ledger: CustomsLedger) -> None:
    issued = issue(chain, people)
    result = ledger.register_terms(people.stranger, issued.hash, issued.proof, issued.terms, issued.salt,
                                   issued.terms_proof)
    assert event_names(result) == ["TermsRegistered"]
    registration = ledger.terms_of(issued.hash, issued.root)
    assert registration is not None and registration.terms == issued.terms
    assert registration.terms.quantities == (1200 * UNIT, 600 * UNIT, 2400 * UNIT)
    again = ledger.register_terms(people.stranger, issued.hash, issued.proof, issued.terms, issued.salt,
                                  issued.terms_proof)
    assert event_names(again) == []  # idempotent


@pytest.mark.parametrize("change", ["quantity", "country", "validity", "salt"])
def test_terms_other_than_the_committed_ones_are_refused(chain: ChainClient, people: Consortium,
                                                         ledger: CustomsLedger, change: str) -> None:
    issued = issue(chain, people)
    terms, salt = issued.terms, issued.salt
    if change == "quantity":
        terms = Terms(terms.importing_country, terms.valid_until, (9999 * UNIT, *terms.quantities[1:]))
    elif change == "country":
        terms = Terms("KR", terms.valid_until, terms.quantities)
    elif change == "validity":
        terms = Terms(terms.importing_country, terms.valid_until + 86_400, terms.quantities)
    else:
        salt = os.urandom(32)
    with reverts("CustomsRegistryTermsMismatch", issued.hash):
        ledger.register_terms(people.stranger, issued.hash, issued.proof, terms, salt, issued.terms_proof)


def test_terms_of_an_unanchored_document_are_refused(chain: ChainClient, people: Consortium,
                                                     ledger: CustomsLedger) -> None:
    issued = issue(chain, people)
    with reverts("CertificateRegistryNotAnchored"):
        ledger.register_terms(people.stranger, os.urandom(32), [], issued.terms, issued.salt, issued.terms_proof)


def test_importing_customs_draws_and_the_remaining_quantity_shrinks(ledger: CustomsLedger, people: Consortium,
                                                                    cert: Issued) -> None:
    result = ledger.utilise(people.jp_customs, cert.hash, cert.root, os.urandom(32), [(0, 200 * UNIT), (2, 400 * UNIT)])
    assert event_names(result) == ["CertificateUtilised"]
    assert result.events[0].args["customs"] == people.jp_customs.address
    assert ledger.utilisation_of(cert.hash, cert.root, 3).drawn == (200 * UNIT, 0, 400 * UNIT)


def test_a_draw_beyond_the_certified_quantity_is_refused(ledger: CustomsLedger, people: Consortium,
                                                         cert: Issued) -> None:
    with reverts("CustomsRegistryOverdrawn", cert.hash, 1, 601 * UNIT, 600 * UNIT):
        ledger.utilise(people.jp_customs, cert.hash, cert.root, os.urandom(32), [(1, 601 * UNIT)])
    assert ledger.utilisation_of(cert.hash, cert.root, 3).drawn == (0, 0, 0)


def test_two_declarations_may_not_sum_beyond_the_quantity(ledger: CustomsLedger, people: Consortium,
                                                          cert: Issued) -> None:
    ledger.utilise(people.jp_customs, cert.hash, cert.root, os.urandom(32), [(1, 400 * UNIT)])
    with reverts("CustomsRegistryOverdrawn", cert.hash, 1, 300 * UNIT, 200 * UNIT):
        ledger.utilise(people.jp_customs, cert.hash, cert.root, os.urandom(32), [(1, 300 * UNIT)])
    ledger.utilise(people.jp_customs, cert.hash, cert.root, os.urandom(32), [(1, 200 * UNIT)])
    assert ledger.utilisation_of(cert.hash, cert.root, 3).drawn[1] == 600 * UNIT


def test_one_declaration_draws_once(ledger: CustomsLedger, people: Consortium, cert: Issued) -> None:
    declaration = os.urandom(32)
    ledger.utilise(people.jp_customs, cert.hash, cert.root, declaration, [(0, 1 * UNIT)])
    with reverts("CustomsRegistryDeclarationRecorded", cert.hash, declaration):
        ledger.utilise(people.jp_customs, cert.hash, cert.root, declaration, [(0, 1 * UNIT)])


@pytest.mark.parametrize("who", ["sg_customs", "jp_authority", "jp_issuer", "stranger"])
def test_only_customs_of_the_importing_country_draws(ledger: CustomsLedger, people: Consortium, cert: Issued,
                                                     who: str) -> None:
    with reverts("CustomsRegistryNotCustoms"):
        ledger.utilise(getattr(people, who), cert.hash, cert.root, os.urandom(32), [(0, 1 * UNIT)])


@pytest.mark.parametrize("draws", [[], [(3, 1)], [(0, 0)]])
def test_malformed_draws_are_refused(ledger: CustomsLedger, people: Consortium, cert: Issued,
                                     draws: list[tuple[int, int]]) -> None:
    with reverts("CustomsRegistryInvalidDraw"):
        ledger.utilise(people.jp_customs, cert.hash, cert.root, os.urandom(32), draws)


def test_an_unregistered_certificate_cannot_be_drawn(chain: ChainClient, ledger: CustomsLedger,
                                                     people: Consortium) -> None:
    issued = issue(chain, people)
    with reverts("CustomsRegistryTermsNotRegistered", issued.hash):
        ledger.utilise(people.jp_customs, issued.hash, issued.root, os.urandom(32), [(0, 1)])


@pytest.mark.parametrize("action", ["revoke", "erase", "revokeBatch"])
def test_a_revoked_or_erased_certificate_cannot_be_used(chain: ChainClient, ledger: CustomsLedger,
                                                        people: Consortium, cert: Issued, action: str) -> None:
    if action == "revoke":
        chain.revoke(people.sg_issuer, cert.hash, cert.proof, 2)
        state = DocumentState.REVOKED
    elif action == "erase":
        chain.erase(people.sg_issuer, cert.hash, cert.proof)
        state = DocumentState.ERASED
    else:
        chain.revoke_batch(people.sg_issuer, bytes.fromhex(cert.document.proof.batch_root[2:]), 2)
        state = DocumentState.REVOKED
    with reverts("CustomsRegistryNotUsable", cert.hash, int(state)):
        ledger.utilise(people.jp_customs, cert.hash, cert.root, os.urandom(32), [(0, 1 * UNIT)])


def test_an_expired_certificate_cannot_be_used(chain: ChainClient, ledger: CustomsLedger, people: Consortium) -> None:
    issued = issue(chain, people, valid_until="2026-11-30")
    register(ledger, people, issued)
    chain.unsafe_advance_time(40 * 86_400)
    with reverts("CustomsRegistryExpired", issued.hash, issued.terms.valid_until):
        ledger.utilise(people.jp_customs, issued.hash, issued.root, os.urandom(32), [(0, 1 * UNIT)])


def test_a_true_copy_supersedes_the_original_and_continues_its_ledger(
        chain: ChainClient, ledger: CustomsLedger, people: Consortium, cert: Issued) -> None:
    ledger.utilise(people.jp_customs, cert.hash, cert.root, os.urandom(32), [(0, 1000 * UNIT)])
    number = cert.document.certificate["certificate_number"]
    copy = issue(chain, people, certificate_number=number, certified_true_copy=True,
                 original_reference=number + "-ORIG")
    chain.supersede(people.sg_issuer, cert.hash, cert.proof, copy.hash, copy.proof)
    register(ledger, people, copy)
    with reverts("CustomsRegistryNotUsable", cert.hash, int(DocumentState.SUPERSEDED)):
        ledger.utilise(people.jp_customs, cert.hash, cert.root, os.urandom(32), [(0, 1 * UNIT)])
    assert ledger.utilisation_of(copy.hash, copy.root, 3).ledger == certificate_key(cert.root, cert.hash)
    with reverts("CustomsRegistryOverdrawn", copy.hash, 0, 201 * UNIT, 200 * UNIT):
        ledger.utilise(people.jp_customs, copy.hash, copy.root, os.urandom(32), [(0, 201 * UNIT)])
    ledger.utilise(people.jp_customs, copy.hash, copy.root, os.urandom(32), [(0, 200 * UNIT)])


def test_a_back_to_back_certificate_draws_down_its_parent(chain: ChainClient, ledger: CustomsLedger,
                                                          people: Consortium) -> None:
    # The parent: JP → SG (issued by JP, imported by SG); two back-to-back children SG → JP share it.
    parent = issue(chain, people, issuer=people.jp_issuer, exporting_country="JP", importing_country="SG",
                   exporter={"name": "Kobe Trading K.K.", "address": "1-1 Kobe", "country": "JP"},
                   consignee={"name": "Lion City Pte. Ltd.", "address": "1 Raffles Place", "country": "SG"})
    register(ledger, people, parent)
    children = [issue(chain, people, parent=parent.hash, back_to_back=True, parent_reference="JP-PARENT-1")
                for _ in range(2)]
    for child in children:
        register(ledger, people, child, parent)
    ledger.utilise(people.jp_customs, children[0].hash, children[0].root, os.urandom(32), [(0, 800 * UNIT)])
    assert ledger.utilisation_of(parent.hash, parent.root, 3).drawn[0] == 800 * UNIT
    with reverts("CustomsRegistryOverdrawn", parent.hash, 0, 500 * UNIT, 400 * UNIT):
        ledger.utilise(people.jp_customs, children[1].hash, children[1].root, os.urandom(32), [(0, 500 * UNIT)])
    chain.revoke(people.jp_issuer, parent.hash, parent.proof, 2)
    with reverts("CustomsRegistryNotUsable", parent.hash, int(DocumentState.REVOKED)):
        ledger.utilise(people.jp_customs, children[1].hash, children[1].root, os.urandom(32), [(0, 1 * UNIT)])


def test_a_child_of_an_unregistered_parent_cannot_be_registered_nor_drawn(chain: ChainClient, ledger: CustomsLedger,
                                                           people: Consortium) -> None:
    parent = os.urandom(32)
    child = issue(chain, people, parent=parent, back_to_back=True, parent_reference="JP-PARENT-2")
    with reverts("CustomsRegistryTermsNotRegistered", parent):
        ledger.register_terms(people.stranger, child.hash, child.proof, child.terms, child.salt, child.terms_proof,
                              os.urandom(32))
    with reverts("CustomsRegistryTermsNotRegistered", child.hash):
        ledger.utilise(people.jp_customs, child.hash, child.root, os.urandom(32), [(0, 1 * UNIT)])


def test_a_verification_request_is_opened_and_confirmed(ledger: CustomsLedger, people: Consortium,
                                                        cert: Issued) -> None:
    reason = os.urandom(32)
    request_id, result = ledger.request_verification(people.jp_customs, cert.hash, cert.root, reason)
    assert event_names(result) == ["VerificationRequested"]
    assert ledger.utilisation_of(cert.hash, cert.root, 0).open_requests == 1
    request = ledger.request_of(request_id)
    assert request is not None and request.state is RequestState.OPEN and request.reason_hash == reason
    with reverts("CertificateRegistryNotIssuer"):
        ledger.answer_verification(people.jp_issuer, request_id, True)
    answer = ledger.answer_verification(people.sg_issuer, request_id, True)
    assert event_names(answer) == ["VerificationAnswered"]
    assert ledger.utilisation_of(cert.hash, cert.root, 0).open_requests == 0
    with reverts("CustomsRegistryRequestClosed", request_id, int(RequestState.CONFIRMED)):
        ledger.answer_verification(people.sg_issuer, request_id, False)


def test_a_not_confirmed_answer_revokes_the_certificate(chain: ChainClient, ledger: CustomsLedger,
                                                        people: Consortium, cert: Issued) -> None:
    request_id, _ = ledger.request_verification(people.jp_customs, cert.hash, cert.root, os.urandom(32))
    answer = ledger.answer_verification(people.sg_authority, request_id, False)
    assert event_names(answer) == ["CertificateRevoked", "VerificationAnswered"]
    view = chain.inspect(cert.hash, cert.proof)
    assert view.state is DocumentState.REVOKED and view.reason == NOT_CONFIRMED
    with reverts("CustomsRegistryNotUsable"):
        ledger.utilise(people.jp_customs, cert.hash, cert.root, os.urandom(32), [(0, 1 * UNIT)])


@pytest.mark.parametrize("who", ["sg_customs", "jp_authority", "jp_issuer", "stranger"])
def test_only_importing_customs_open_verification_requests(ledger: CustomsLedger, people: Consortium,
                                                           cert: Issued, who: str) -> None:
    with reverts("CustomsRegistryNotCustoms"):
        ledger.request_verification(getattr(people, who), cert.hash, cert.root, os.urandom(32))


def test_unknown_requests_and_documents(ledger: CustomsLedger, people: Consortium) -> None:
    with reverts("CustomsRegistryUnknownRequest", 10_000):
        ledger.answer_verification(people.sg_issuer, 10_000, True)
    unknown = os.urandom(32)
    with reverts("CustomsRegistryTermsNotRegistered", unknown):
        ledger.request_verification(people.jp_customs, unknown, unknown, os.urandom(32))


def test_customs_accounts_are_governed_by_their_own_authority(chain: ChainClient, ledger: CustomsLedger,
                                                              people: Consortium) -> None:
    assert ledger.customs_country(people.jp_customs.address) == "JP"
    with reverts("TrustRegistryNotCountryAuthority"):
        ledger.withdraw_customs(people.sg_authority, people.jp_customs.address)
    with reverts("TrustRegistryAccountInUse"):
        ledger.authorise_customs(people.sg_authority, people.jp_customs.address)
    with reverts("TrustRegistryAccountInUse"):
        chain.authorise_issuer(people.jp_authority, people.jp_customs.address)
    result = ledger.withdraw_customs(people.jp_authority, people.jp_customs.address)
    assert event_names(result) == ["CustomsWithdrawn"]
    assert ledger.customs_country(people.jp_customs.address) is None


def test_gas_of_utilisation(ledger: CustomsLedger, people: Consortium, chain: ChainClient) -> None:
    issued = issue(chain, people)
    registered = ledger.register_terms(people.stranger, issued.hash, issued.proof, issued.terms, issued.salt,
                                       issued.terms_proof)
    print(f"\ngas used: registerTerms={registered.gas_used:,}", end="")
    first = ledger.utilise(people.jp_customs, issued.hash, issued.root, os.urandom(32), [(0, 1 * UNIT)])
    second = ledger.utilise(people.jp_customs, issued.hash, issued.root, os.urandom(32), [(0, 1 * UNIT)])
    assert registered.gas_used < 200_000  # three items: a few slots, once per certificate
    assert second.gas_used < first.gas_used < 100_000
