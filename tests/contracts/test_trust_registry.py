"""TrustRegistry on a real Anvil: who governs whom, and authorisation over time."""

from __future__ import annotations

import os

from eth_account import Account

from registry.chain.client import ChainClient
from tests.support.consortium import Consortium
from tests.support import event_names, reverts

ADMIN_ROLE = b"\x00" * 32


def test_admin_admits_a_country_with_its_authority(chain: ChainClient, people: Consortium) -> None:
    authority = Account.create()
    result = chain.admit_country(people.admin, "DE", authority.address)
    assert event_names(result) == ["CountryAdmitted"]
    assert result.events[0].args == {"country": b"DE", "authority": authority.address}
    assert chain.authority_of("DE") == authority.address
    assert chain.country_of_authority(authority.address) == "DE"


def test_only_the_consortium_admin_admits_countries(chain: ChainClient, people: Consortium) -> None:
    with reverts("AccessControlUnauthorizedAccount", people.sg_authority.address, ADMIN_ROLE):
        chain.admit_country(people.sg_authority, "DE", Account.create().address)


def test_a_country_code_must_be_two_upper_case_letters(chain: ChainClient, people: Consortium) -> None:
    with reverts("TrustRegistryInvalidCountry", b"s1"):
        chain.transact(people.admin, "admitCountry", b"s1", Account.create().address)


def test_a_country_is_admitted_only_once(chain: ChainClient, people: Consortium) -> None:
    with reverts("TrustRegistryCountryAlreadyAdmitted", b"SG"):
        chain.admit_country(people.admin, "SG", Account.create().address)


def test_an_account_cannot_be_authority_and_issuer(chain: ChainClient, people: Consortium) -> None:
    with reverts("TrustRegistryAccountInUse", people.sg_issuer.address):
        chain.admit_country(people.admin, "DE", people.sg_issuer.address)


def test_replacing_an_authority_hands_over_governance(chain: ChainClient, people: Consortium) -> None:
    successor = Account.create()
    chain.fund(successor.address)
    result = chain.replace_authority(people.admin, "SG", successor.address)
    assert event_names(result) == ["AuthorityReplaced"]
    assert chain.authority_of("SG") == successor.address
    newcomer = Account.create().address
    chain.authorise_issuer(successor, newcomer)
    assert chain.is_authorised(newcomer)
    with reverts("TrustRegistryNotCountryAuthority", people.sg_authority.address, b"\x00\x00"):
        chain.authorise_issuer(people.sg_authority, Account.create().address)


def test_replacing_the_authority_of_an_unknown_country_fails(chain: ChainClient, people: Consortium) -> None:
    with reverts("TrustRegistryCountryNotAdmitted", b"FR"):
        chain.replace_authority(people.admin, "FR", Account.create().address)


def test_an_authority_authorises_issuers_for_its_own_country(chain: ChainClient, people: Consortium) -> None:
    issuer = Account.create().address
    result = chain.authorise_issuer(people.jp_authority, issuer)
    assert result.events[0].name == "IssuerAuthorised"
    assert result.events[0].args == {"issuer": issuer, "country": b"JP", "authority": people.jp_authority.address}
    assert chain.issuer_country(issuer) == "JP"
    assert chain.is_authorised(issuer)


def test_only_authorities_authorise_issuers(chain: ChainClient, people: Consortium) -> None:
    with reverts("TrustRegistryNotCountryAuthority", people.stranger.address, b"\x00\x00"):
        chain.authorise_issuer(people.stranger, Account.create().address)


def test_an_issuer_belongs_to_one_country_only(chain: ChainClient, people: Consortium) -> None:
    with reverts("TrustRegistryIssuerAlreadyKnown", people.sg_issuer.address):
        chain.authorise_issuer(people.jp_authority, people.sg_issuer.address)


def test_an_authority_cannot_suspend_another_countrys_issuer(chain: ChainClient, people: Consortium) -> None:
    with reverts("TrustRegistryNotCountryAuthority", people.jp_authority.address, b"SG"):
        chain.suspend_issuer(people.jp_authority, people.sg_issuer.address)


def test_suspending_an_unknown_issuer_fails(chain: ChainClient, people: Consortium) -> None:
    unknown = Account.create().address
    with reverts("TrustRegistryUnknownIssuer", unknown):
        chain.suspend_issuer(people.sg_authority, unknown)


def test_suspension_and_reinstatement_emit_only_on_change(chain: ChainClient, people: Consortium) -> None:
    assert event_names(chain.suspend_issuer(people.sg_authority, people.sg_issuer.address)) == ["IssuerSuspended"]
    assert event_names(chain.suspend_issuer(people.sg_authority, people.sg_issuer.address)) == []
    assert not chain.is_authorised(people.sg_issuer.address)
    assert event_names(chain.reinstate_issuer(people.sg_authority, people.sg_issuer.address)) == ["IssuerReinstated"]
    assert event_names(chain.reinstate_issuer(people.sg_authority, people.sg_issuer.address)) == []
    assert chain.is_authorised(people.sg_issuer.address)


def test_a_suspension_does_not_reach_back_before_it_was_made(chain: ChainClient, people: Consortium) -> None:
    root = os.urandom(32)
    anchored = chain.anchor(people.sg_issuer, root, 1)
    chain.unsafe_advance_time(3600)
    suspended = chain.suspend_issuer(people.sg_authority, people.sg_issuer.address)

    assert anchored.block_number < suspended.block_number
    assert chain.was_authorised_at(people.sg_issuer.address, "SG", anchored.block_number)
    assert not chain.was_authorised_at(people.sg_issuer.address, "SG", suspended.block_number)
    assert not chain.was_authorised_at(people.sg_issuer.address, "JP", anchored.block_number)
    view = chain.inspect(root)
    assert view.authorised_at_anchoring and not view.issuer_active
    with reverts("CertificateRegistryIssuerNotAuthorised", people.sg_issuer.address):
        chain.anchor(people.sg_issuer, os.urandom(32), 1)


def test_a_reinstated_issuer_anchors_again(chain: ChainClient, people: Consortium) -> None:
    chain.suspend_issuer(people.sg_authority, people.sg_issuer.address)
    chain.unsafe_advance_time(60)
    chain.reinstate_issuer(people.sg_authority, people.sg_issuer.address)
    root = os.urandom(32)
    chain.anchor(people.sg_issuer, root, 1)
    assert chain.inspect(root).authorised_at_anchoring
