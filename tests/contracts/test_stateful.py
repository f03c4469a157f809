"""Stateful property test: honest and hostile members act in random order on a real Anvil.

Three countries (SG, JP, GB), each with an authority, issuers and Customs, anchor,
copy other countries' document hashes into their own batches, revoke, erase,
supersede, register terms, utilise, request and answer verifications, and suspend
and reinstate issuers. A small pure-Python model says what the contract's rules
allow; after every step, for every certificate (batch root, document hash), the
contract's view, the node's event projection and the model agree. The model only
changes a certificate when its own issuer or that issuer's authority acts, so the
agreement proves nobody else changed it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from registry.chain.client import ChainClient, DocumentState
from registry.errors import ContractRevertError
from registry.pipelines.indexer import ChainIndexer, Follower
from registry.chain.customs import CustomsLedger
from registry.sealing.merkle import MerkleTree
from registry.storage.store import Store
from tests.support.consortium import Consortium
from tests.contracts.test_adversarial import back_to_back
from tests.contracts.test_customs_registry import UNIT, Issued, issue

COUNTRIES = ("SG", "JP", "GB")
CERTIFIED = 1200 * UNIT  # item 1 of the example certificate
NOT_CONFIRMED = 3


@dataclass
class Cert:
    """The model of one certificate."""

    hash: bytes
    root: bytes
    proof: list[bytes]
    issuer: str
    country: str
    importing: str
    issued: Issued | None
    state: DocumentState = DocumentState.ACTIVE
    registered: bool = False
    ledger: tuple[bytes, bytes] | None = None  # (root, hash) whose quantities it draws; None: its own
    continued: bool = False  # already continues another certificate's ledger
    open_requests: int = 0

    @property
    def key(self) -> tuple[bytes, bytes]:
        return self.root, self.hash


@dataclass
class World:
    """The accounts of the three countries."""

    chain: ChainClient
    people: Consortium
    authorities: dict[str, LocalAccount]
    issuers: list[tuple[LocalAccount, str]]
    customs: list[tuple[LocalAccount, str]]
    others: list[LocalAccount] = field(default_factory=list)

    @property
    def actors(self) -> list[LocalAccount]:
        return [*self.authorities.values(), *(a for a, _ in self.issuers), *(a for a, _ in self.customs), *self.others]


def expect(error: str | None, action: Callable[[], Any]) -> Any:
    """Run *action*; it must succeed when *error* is None, else revert with that custom error."""
    if error is None:
        return action()
    with pytest.raises(ContractRevertError) as refused:
        action()
    assert refused.value.name == error, f"expected {error}, got {refused.value}"
    return None


def make_machine(world: World) -> type[RuleBasedStateMachine]:
    chain, ledger = world.chain, CustomsLedger(world.chain)
    country_of = {a.address: c for a, c in world.issuers}
    customs_country = {a.address: c for a, c in world.customs}

    class Registry(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.snapshot = chain.snapshot()
            self.folder = tempfile.TemporaryDirectory()
            self.store = Store(Path(self.folder.name) / "node.sqlite")
            self.follower = Follower(ChainIndexer(self.store, chain), max_age=3_600)
            self.certs: list[Cert] = []
            self.suspended: set[str] = set()
            self.drawn: dict[tuple[bytes, bytes], int] = {}
            self.requests: list[tuple[int, Cert, bool]] = []  # (id, certificate, still open)

        def teardown(self) -> None:
            self.store.close()
            self.folder.cleanup()
            chain.revert_to(self.snapshot)

        def may_change(self, actor: LocalAccount, cert: Cert) -> bool:
            return actor.address == cert.issuer or actor.address == world.authorities[cert.country].address

        def ledger_of(self, cert: Cert) -> tuple[bytes, bytes]:
            return cert.ledger or cert.key

        # -- anchoring ------------------------------------------------------------------------------

        @rule(issuer=st.integers(0, len(world.issuers) - 1), batch=st.booleans(), importing=st.integers(1, 2))
        def anchor(self, issuer: int, batch: bool, importing: int) -> None:
            account, country = world.issuers[issuer]
            to = COUNTRIES[(COUNTRIES.index(country) + importing) % 3]
            if account.address in self.suspended:
                expect("CertificateRegistryIssuerNotAuthorised", lambda: chain.anchor(account, os.urandom(32), 1))
                return
            changes = {k: v for k, v in back_to_back(country, to).items()
                       if k not in ("back_to_back", "parent_reference")}
            made = issue(chain, world.people, issuer=account, batch_with=2 if batch else 0, **changes)
            self.certs.append(Cert(made.hash, made.root, made.proof, account.address, country, to, made))

        @precondition(lambda self: self.certs)
        @rule(attacker=st.integers(0, len(world.issuers) - 1), victim=st.data())
        def copy_into_own_batch(self, attacker: int, victim: st.DataObject) -> None:
            """A hostile issuer anchors a batch of its own holding another certificate's hash."""
            target = victim.draw(st.sampled_from(self.certs))
            account, country = world.issuers[attacker]
            tree = MerkleTree([target.hash, os.urandom(32)])
            if account.address in self.suspended:
                expect("CertificateRegistryIssuerNotAuthorised", lambda: chain.anchor(account, tree.root, 2))
                return
            chain.anchor(account, tree.root, 2)
            self.certs.append(Cert(target.hash, tree.root, tree.proof(0), account.address, country, target.importing,
                                   target.issued))

        # -- status -------------------------------------------------------------------------------------

        def status_error(self, actor: LocalAccount, cert: Cert, erase: bool) -> str | None:
            if not self.may_change(actor, cert):
                return "CertificateRegistryNotIssuer"
            allowed = cert.state is not DocumentState.ERASED if erase else cert.state is DocumentState.ACTIVE
            return None if allowed else "CertificateRegistryInvalidStatusChange"

        @precondition(lambda self: self.certs)
        @rule(who=st.integers(0, 20), data=st.data())
        def revoke(self, who: int, data: st.DataObject) -> None:
            cert, actor = data.draw(st.sampled_from(self.certs)), world.actors[who % len(world.actors)]
            if expect(self.status_error(actor, cert, False),
                      lambda: chain.revoke(actor, cert.hash, cert.proof, 2)) is not None:
                cert.state = DocumentState.REVOKED

        @precondition(lambda self: self.certs)
        @rule(who=st.integers(0, 20), data=st.data())
        def erase(self, who: int, data: st.DataObject) -> None:
            cert, actor = data.draw(st.sampled_from(self.certs)), world.actors[who % len(world.actors)]
            if expect(self.status_error(actor, cert, True), lambda: chain.erase(actor, cert.hash, cert.proof)) is not None:
                cert.state = DocumentState.ERASED

        @precondition(lambda self: len(self.certs) > 1)
        @rule(who=st.integers(0, 20), data=st.data())
        def supersede(self, who: int, data: st.DataObject) -> None:
            cert, by = data.draw(st.sampled_from(self.certs)), data.draw(st.sampled_from(self.certs))
            actor = world.actors[who % len(world.actors)]
            error = self.status_error(actor, cert, False)
            if error is None and (by.hash == cert.hash or by.country != cert.country):
                error = "CertificateRegistryInvalidReplacement"
            elif error is None and by.state is not DocumentState.ACTIVE:
                error = "CertificateRegistryReplacementNotActive"
            elif error is None and not self.may_change(actor, by):
                error = "CertificateRegistryNotIssuer"
            elif error is None and by.continued:
                error = "CertificateRegistryInvalidReplacement"
            if expect(error, lambda: chain.supersede(actor, cert.hash, cert.proof, by.hash, by.proof)) is not None:
                cert.state = DocumentState.SUPERSEDED
                by.ledger, by.continued = self.ledger_of(cert), True

        # -- Customs ----------------------------------------------------------------------------------

        @precondition(lambda self: self.certs)
        @rule(data=st.data())
        def register_terms(self, data: st.DataObject) -> None:
            cert = data.draw(st.sampled_from(self.certs))
            assert cert.issued is not None
            made = cert.issued  # anyone holding the sealed document, under whichever root its proof names
            ledger.register_terms(world.people.stranger, cert.hash, cert.proof, made.terms, made.salt, made.terms_proof)
            cert.registered = True

        @precondition(lambda self: self.certs)
        @rule(who=st.integers(0, 2), quantity=st.integers(1, 700), data=st.data())
        def utilise(self, who: int, quantity: int, data: st.DataObject) -> None:
            cert, (customs, country) = data.draw(st.sampled_from(self.certs)), world.customs[who]
            drawn = self.drawn.get(self.ledger_of(cert), 0)
            error = None
            if not cert.registered:
                error = "CustomsRegistryTermsNotRegistered"
            elif cert.state is not DocumentState.ACTIVE:
                error = "CustomsRegistryNotUsable"
            elif country != cert.importing:
                error = "CustomsRegistryNotCustoms"
            elif drawn + quantity * UNIT > CERTIFIED:
                error = "CustomsRegistryOverdrawn"
            if expect(error, lambda: ledger.utilise(customs, cert.hash, cert.root, os.urandom(32),
                                                    [(0, quantity * UNIT)])) is not None:
                self.drawn[self.ledger_of(cert)] = drawn + quantity * UNIT

        @precondition(lambda self: self.certs)
        @rule(who=st.integers(0, 2), data=st.data())
        def request_verification(self, who: int, data: st.DataObject) -> None:
            cert, (customs, country) = data.draw(st.sampled_from(self.certs)), world.customs[who]
            error = None
            if not cert.registered:
                error = "CustomsRegistryTermsNotRegistered"
            elif country != cert.importing:
                error = "CustomsRegistryNotCustoms"
            opened = expect(error, lambda: ledger.request_verification(customs, cert.hash, cert.root, os.urandom(32)))
            if opened is not None:
                self.requests.append((opened[0], cert, True))
                cert.open_requests += 1

        @precondition(lambda self: self.requests)
        @rule(who=st.integers(0, 20), confirmed=st.booleans(), data=st.data())
        def answer_verification(self, who: int, confirmed: bool, data: st.DataObject) -> None:
            index = data.draw(st.integers(0, len(self.requests) - 1))
            request_id, cert, is_open = self.requests[index]
            actor = world.actors[who % len(world.actors)]
            error = None
            if not is_open:
                error = "CustomsRegistryRequestClosed"
            elif not self.may_change(actor, cert):
                error = "CertificateRegistryNotIssuer"
            if expect(error, lambda: ledger.answer_verification(actor, request_id, confirmed)) is not None:
                self.requests[index] = (request_id, cert, False)
                cert.open_requests -= 1
                if not confirmed and cert.state is DocumentState.ACTIVE:
                    cert.state = DocumentState.REVOKED

        # -- governance --------------------------------------------------------------------------------

        @rule(who=st.integers(0, 20), issuer=st.integers(0, len(world.issuers) - 1), reinstate=st.booleans())
        def suspend_or_reinstate(self, who: int, issuer: int, reinstate: bool) -> None:
            account, country = world.issuers[issuer]
            actor = world.actors[who % len(world.actors)]
            error = None if actor.address == world.authorities[country].address else "TrustRegistryNotCountryAuthority"
            change = chain.reinstate_issuer if reinstate else chain.suspend_issuer
            if expect(error, lambda: change(actor, account.address)) is not None:
                (self.suspended.discard if reinstate else self.suspended.add)(account.address)

        # -- the three views agree ----------------------------------------------------------------------

        @invariant()
        def contract_projection_and_model_agree(self) -> None:
            self.follower.poll()
            for cert in self.certs:
                on_chain = chain.inspect(cert.hash, cert.proof)
                indexed, _ = self.follower.inspect(cert.hash, cert.proof)
                assert on_chain.issuer == indexed.issuer and on_chain.issuer is not None
                assert on_chain.issuer.lower() == cert.issuer.lower() and on_chain.country == cert.country
                assert on_chain.state is indexed.state is cert.state, (on_chain, indexed, cert)
                assert on_chain.authorised_at_anchoring and indexed.authorised_at_anchoring
                used = ledger.utilisation_of(cert.hash, cert.root, 1)
                assert used == self.follower.utilisation(cert.hash, cert.root, 1)
                assert used.drawn[0] == self.drawn.get(self.ledger_of(cert), 0)
                assert used.open_requests == cert.open_requests
                assert (ledger.terms_of(cert.hash, cert.root) is not None) is cert.registered
            for account, _ in world.issuers:
                assert chain.is_authorised(account.address) is (account.address not in self.suspended)

    return Registry


def test_hostile_and_honest_members_in_random_order_never_change_each_others_certificates(
        session_chain: ChainClient, people: Consortium) -> None:
    chain = session_chain
    outer = chain.snapshot()
    try:
        gb_authority, gb_issuer, gb_customs = (Account.create() for _ in range(3))
        for account in (gb_authority, gb_issuer, gb_customs):
            chain.fund(account.address)
        chain.admit_country(people.admin, "GB", gb_authority.address)
        chain.authorise_issuer(gb_authority, gb_issuer.address)
        CustomsLedger(chain).authorise_customs(gb_authority, gb_customs.address)
        world = World(
            chain, people,
            authorities={"SG": people.sg_authority, "JP": people.jp_authority, "GB": gb_authority},
            issuers=[(people.sg_issuer, "SG"), (people.sg_issuer_2, "SG"), (people.jp_issuer, "JP"), (gb_issuer, "GB")],
            customs=[(people.sg_customs, "SG"), (people.jp_customs, "JP"), (gb_customs, "GB")],
            others=[people.admin, people.stranger],
        )
        run_state_machine_as_test(make_machine(world), settings=settings(
            max_examples=8, stateful_step_count=12, deadline=None, derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
    finally:
        chain.revert_to(outer)
