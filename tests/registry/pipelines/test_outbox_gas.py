"""The writer funds a signer with no gas money before sending its first transaction (anchoring and the
outbox look their signers up through :class:`~registry.pipelines.gas.FundedSigners`): in a node with
several API workers, accounts are created in a worker, which sends nothing and so funds nothing (on a
network without ``anvil_setBalance`` every write of such an account then stayed pending for ever)."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account import Account

from registry.chain.client import ChainClient
from registry.errors import ContractRevertError
from registry.pipelines.gas import RECHECK_S, FundedSigners
from registry.pipelines.outbox import Outbox
from registry.storage.store import Store
from registry.storage.writelog import WriteKind, WriteLog


def test_a_write_from_an_account_nobody_funded_is_sent_not_left_pending(tmp_path: Path) -> None:
    chain = ChainClient.in_process()
    deployer = Account.create()
    chain.fund(deployer.address)
    chain.deploy(deployer)  # and use it
    unfunded = Account.create()  # created where nothing could fund it
    assert chain.balance(unfunded.address) == 0
    store = Store(tmp_path / "registry.db", secure_delete=False)
    log = WriteLog(store)
    lookup = FundedSigners(chain, lambda address: unfunded if address == unfunded.address else None)
    outbox = Outbox(log, chain, lookup, bound=10)
    with pytest.raises(ContractRevertError):  # sent, paid for, and refused: not an authority
        outbox.submit(WriteKind.SUSPEND_ISSUER, unfunded, {"account": "0x" + "11" * 20}, subject="issuer:x")
    assert log.unsettled() == []
    assert chain.balance(unfunded.address) > 0


class _Chain:
    """A chain's balances, and the fundings asked of it."""

    def __init__(self) -> None:
        self.balances: dict[str, int] = {}
        self.fundings: list[str] = []

    def balance(self, address: str) -> int:
        return self.balances.get(address, 0)

    def fund(self, address: str) -> None:
        self.fundings.append(address)
        self.balances[address] = 10**18


def test_a_funding_lost_in_a_replaced_block_is_made_again_before_a_later_transaction() -> None:
    chain, account, now = _Chain(), Account.create(), [0.0]
    funded = FundedSigners(chain, lambda address: account, clock=lambda: now[0])  # type: ignore[arg-type]
    funded(account.address)
    assert chain.fundings == [account.address]
    chain.balances[account.address] = 0  # the block holding the transfer was replaced: the money is gone
    funded(account.address)
    assert len(chain.fundings) == 1  # not read again on every transaction
    now[0] += RECHECK_S + 1
    funded(account.address)
    assert chain.fundings == [account.address] * 2  # looked at again, found empty, funded again
