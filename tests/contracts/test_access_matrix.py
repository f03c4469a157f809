"""Every contract function × every account: exactly the expected callers succeed."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from eth_account import Account

from registry.chain import ChainClient
from registry.errors import ContractRevertError
from tests.conftest import Consortium

ACCOUNTS = ("admin", "sg_authority", "jp_authority", "sg_issuer", "sg_issuer_2", "jp_issuer", "stranger")


def anchored(chain: ChainClient, people: Consortium) -> bytes:
    document = os.urandom(32)
    chain.anchor(people.sg_issuer, document, 1)
    return document


Call = Callable[[ChainClient, Consortium, Any], Any]

# function: (call made by `who`, accounts allowed)
MATRIX: dict[str, tuple[Call, set[str]]] = {
    "admitCountry": (lambda c, p, who: c.admit_country(who, "DE", Account.create().address), {"admin"}),
    "replaceAuthority": (lambda c, p, who: c.replace_authority(who, "SG", Account.create().address), {"admin"}),
    "authoriseIssuer": (lambda c, p, who: c.authorise_issuer(who, Account.create().address),
                        {"sg_authority", "jp_authority"}),
    "suspendIssuer": (lambda c, p, who: c.suspend_issuer(who, p.sg_issuer_2.address), {"sg_authority"}),
    "reinstateIssuer": (lambda c, p, who: c.reinstate_issuer(who, p.sg_issuer_2.address), {"sg_authority"}),
    "anchor": (lambda c, p, who: c.anchor(who, os.urandom(32), 1), {"sg_issuer", "sg_issuer_2", "jp_issuer"}),
    "anchorWithPayloads": (lambda c, p, who: c.anchor_with_payloads(who, os.urandom(32), [os.urandom(32)], [b"x"]),
                           {"sg_issuer", "sg_issuer_2", "jp_issuer"}),
    "revoke": (lambda c, p, who: c.revoke(who, anchored(c, p), [], 1), {"sg_issuer", "sg_authority"}),
    "supersede": (lambda c, p, who: c.supersede(who, anchored(c, p), [], anchored(c, p), []),
                  {"sg_issuer", "sg_authority"}),
    "erase": (lambda c, p, who: c.erase(who, anchored(c, p), []), {"sg_issuer", "sg_authority"}),
    "revokeBatch": (lambda c, p, who: c.revoke_batch(who, anchored(c, p), 4), {"sg_issuer", "sg_authority"}),
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
        assert refused.value.name.startswith(("TrustRegistry", "CertificateRegistry", "AccessControl"))
