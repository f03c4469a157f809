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
from registry.pipelines.gas import FundedSigners
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
