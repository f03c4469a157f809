"""Every contract function × every account: exactly the expected callers succeed."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from eth_account import Account

from registry.chain.client import ChainClient
from registry.errors import ContractRevertError
from registry.chain.customs import CustomsLedger
from tests.support.consortium import Consortium
from tests.contracts.test_customs_registry import Issued, issue, register

ACCOUNTS = ("admin", "sg_authority", "jp_authority", "sg_issuer", "sg_issuer_2", "jp_issuer", "jp_customs",
            "sg_customs", "stranger")


def anchored(chain: ChainClient, people: Consortium) -> bytes:
    document = os.urandom(32)
    chain.anchor(people.sg_issuer, document, 1)
    return document


def registered(chain: ChainClient, people: Consortium) -> Issued:
    certificate = issue(chain, people)
    register(CustomsLedger(chain), people, certificate)
    return certificate


def cert_of(chain: ChainClient, people: Consortium) -> tuple[bytes, bytes]:
    """(document hash, root) of a freshly registered certificate."""
    certificate = registered(chain, people)
    return certificate.hash, certificate.root


def new_customs(chain: ChainClient, people: Consortium) -> str:
    account = Account.create().address
    CustomsLedger(chain).authorise_customs(people.jp_authority, account)
    return account


def open_request(chain: ChainClient, people: Consortium) -> int:
    certificate = registered(chain, people)
    request_id, _ = CustomsLedger(chain).request_verification(people.jp_customs, certificate.hash, certificate.root,
                                                              os.urandom(32))
    return request_id


def terms_registration(chain: ChainClient, people: Consortium, who: Any) -> Any:
    c = issue(chain, people)
    return CustomsLedger(chain).register_terms(who, c.hash, c.proof, c.terms, c.salt, c.terms_proof)


Call = Callable[[ChainClient, Consortium, Any], Any]

# function: (call made by `who`, accounts allowed)
MATRIX: dict[str, tuple[Call, set[str]]] = {
    "admitCountry": (lambda c, p, who: c.admit_country(who, "DE", Account.create().address), {"admin"}),
    "replaceAuthority": (lambda c, p, who: c.replace_authority(who, "SG", Account.create().address), {"admin"}),
    "authoriseIssuer": (lambda c, p, who: c.authorise_issuer(who, Account.create().address),
                        {"sg_authority", "jp_authority"}),
    "nameIssuer": (lambda c, p, who: c.name_issuer(who, p.sg_issuer_2.address, "SG issuing body 2"),
                   {"sg_authority"}),
    "nameAuthority": (lambda c, p, who: c.name_authority(who, "JP", "Japan Customs"), {"admin"}),
    "suspendIssuer": (lambda c, p, who: c.suspend_issuer(who, p.sg_issuer_2.address), {"sg_authority"}),
    "reinstateIssuer": (lambda c, p, who: c.reinstate_issuer(who, p.sg_issuer_2.address), {"sg_authority"}),
    "anchor": (lambda c, p, who: c.anchor(who, os.urandom(32), 1), {"sg_issuer", "sg_issuer_2", "jp_issuer"}),
    "anchorWithPayloads": (lambda c, p, who: c.anchor_with_payloads(who, (leaf := os.urandom(32)), [leaf], [b"x"]),
                           {"sg_issuer", "sg_issuer_2", "jp_issuer"}),
    "revoke": (lambda c, p, who: c.revoke(who, anchored(c, p), [], 1), {"sg_issuer", "sg_authority"}),
    "supersede": (lambda c, p, who: c.supersede(who, anchored(c, p), [], anchored(c, p), []),
                  {"sg_issuer", "sg_authority"}),
    "erase": (lambda c, p, who: c.erase(who, anchored(c, p), []), {"sg_issuer", "sg_authority"}),
    "revokeBatch": (lambda c, p, who: c.revoke_batch(who, anchored(c, p), 4), {"sg_issuer", "sg_authority"}),
    "authoriseCustoms": (lambda c, p, who: CustomsLedger(c).authorise_customs(who, Account.create().address),
                         {"sg_authority", "jp_authority"}),
    "withdrawCustoms": (lambda c, p, who: CustomsLedger(c).withdraw_customs(who, new_customs(c, p)),
                        {"jp_authority"}),
    "registerTerms": (terms_registration, set(ACCOUNTS)),
    "utilise": (lambda c, p, who: CustomsLedger(c).utilise(who, *cert_of(c, p), os.urandom(32), [(0, 1)]),
                {"jp_customs"}),
    "requestVerification": (lambda c, p, who: CustomsLedger(c).request_verification(
        who, *cert_of(c, p), os.urandom(32)), {"jp_customs"}),
    "answerVerification": (lambda c, p, who: CustomsLedger(c).answer_verification(who, open_request(c, p), True),
                           {"sg_issuer", "sg_authority"}),
}


@pytest.mark.parametrize("account", ACCOUNTS)
@pytest.mark.parametrize("function", sorted(MATRIX))
def test_only_the_entitled_accounts_may_call(chain: ChainClient, people: Consortium, function: str, account: str) -> None:
    call, allowed = MATRIX[function]
    who = getattr(people, account)
    if account in allowed:
        call(chain, people, who)
    else:
        with pytest.raises(ContractRevertError) as refused:
            call(chain, people, who)
        assert refused.value.name.startswith(("TrustRegistry", "CertificateRegistry", "CustomsRegistry",
                                              "AccessControl"))


def test_the_matrix_covers_every_state_changing_function(chain: ChainClient) -> None:
    from registry.chain.compiler import load_artifact

    abi = load_artifact("CustomsRegistry")["abi"]
    writers = {e["name"] for e in abi if e["type"] == "function" and e["stateMutability"] not in ("view", "pure")}
    writers -= {"grantRole", "revokeRole", "renounceRole"}  # OpenZeppelin AccessControl, tested by OpenZeppelin
    assert writers == set(MATRIX)
