"""The node's funding and its registry's deployment count only once they are as deep as a settled write: a
replaced block (Clique) that took either with it is found and the step done again.

The chain is the session's Anvil, through a proxy that refuses Anvil's balance-setting methods (as an
EthereumJS node does), so funding is a real transfer in a real block. A block is "replaced" by an
``evm_revert`` to a snapshot taken just before the step: the step's block and its transaction are gone,
as when a competing Clique block wins. Each head read then seals one more (empty) block.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from registry.chain.bootstrap import TRIES, deploy_settled, fund_settled, wait_for_depth
from registry.chain.client import ChainClient
from registry.errors import ChainError, ChainUnavailableError
from tests.support.lying_rpc import Lie, LyingRpc

DEPTH = 4
"""The Clique depth of four sealers."""


def _no_balance_setting() -> Lie:
    def after(request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        if request.get("method") in ("anvil_setBalance", "evm_setAccountBalance"):
            return {"jsonrpc": "2.0", "id": request.get("id"), "error": {"code": -32601, "message": "no such method"}}
        return answer

    return Lie(after=after)


class ReplacingChain(ChainClient):
    """Anvil whose head moves on by one block at every read, and whose next block can be replaced: after
    :meth:`replace_next`, the first head read goes back to the chain before the step's block."""

    _before: str | None = None
    replaced = 0

    def replace_next(self) -> None:
        self._before = self._raw("evm_snapshot", [])

    def block_number(self) -> int:
        if self._before is not None:
            assert self._raw("evm_revert", [self._before]) is True
            self._before = None
            self.replaced += 1
        self._raw("evm_mine", [])
        return super().block_number()

    def _raw(self, method: str, params: list[Any]) -> Any:  # not through the client's nonce bookkeeping
        return self.w3.provider.make_request(method, params)["result"]  # type: ignore[arg-type]


@pytest.fixture
def replacing(chain: ChainClient) -> Iterator[ReplacingChain]:
    """A :class:`ReplacingChain` on the session's Anvil (rolled back after the test) that cannot set balances."""
    with LyingRpc(str(chain.w3.provider.endpoint_uri)) as rpc:  # type: ignore[attr-defined]
        rpc.lie = _no_balance_setting()
        yield ReplacingChain.connect(rpc.url)


def test_a_funding_whose_block_is_replaced_is_sent_again_and_counted_only_at_depth(
        replacing: ReplacingChain, caplog: pytest.LogCaptureFixture) -> None:
    account = Account.create()
    replacing.replace_next()
    fund_settled(replacing, account.address, DEPTH, timeout=30)
    replacing.block_number()  # the replacement happens whether or not the node looked
    assert replacing.replaced == 1
    assert replacing.balance(account.address) > 0
    assert "left the chain" in caplog.text


def test_a_deployment_whose_block_is_replaced_is_made_again_and_recorded_as_the_one_that_stayed(
        replacing: ReplacingChain, tmp_path: Path) -> None:
    admin = Account.create()
    fund_settled(replacing, admin.address, DEPTH, timeout=30)
    record = tmp_path / "deployment.json"
    replacing.replace_next()
    deployment = deploy_settled(replacing, admin, record, DEPTH, timeout=30)
    replacing.block_number()  # the replacement happens whether or not the node looked
    assert replacing.replaced == 1
    assert replacing.is_deployed()
    assert json.loads(record.read_text())["block_number"] == deployment.block_number
    assert replacing.block_number() >= deployment.block_number + DEPTH - 1


def test_at_depth_one_nothing_is_waited_for(chain: ChainClient, tmp_path: Path) -> None:
    """Anvil and QBFT: a mined block is final; the steps take no more requests than before."""
    admin = Account.create()
    before = chain.block_number()
    fund_settled(chain, admin.address, 1, timeout=0)
    deployment = deploy_settled(ChainClient.connect(str(chain.w3.provider.endpoint_uri)),  # type: ignore[attr-defined]
                                admin, tmp_path / "deployment.json", 1, timeout=0)
    assert deployment.block_number == before + 1


def test_a_deployment_that_never_stays_is_a_clear_error_after_a_few_tries(
        replacing: ReplacingChain, tmp_path: Path) -> None:
    admin = Account.create()
    fund_settled(replacing, admin.address, 1, timeout=30)

    class AlwaysReplaced(ReplacingChain):
        def ensure_deployed(self, *args: Any, **kwargs: Any) -> Any:
            self.replace_next()
            return super().ensure_deployed(*args, **kwargs)

    always = AlwaysReplaced.connect(str(replacing.w3.provider.endpoint_uri))  # type: ignore[attr-defined]
    with pytest.raises(ChainError, match="did not stay on chain"):
        deploy_settled(always, admin, tmp_path / "deployment.json", 2, timeout=30)
    assert always.replaced == TRIES


def test_a_chain_that_does_not_move_is_unavailable_not_a_hang(chain: ChainClient) -> None:
    with pytest.raises(ChainUnavailableError, match="did not reach block"):
        wait_for_depth(chain, chain.block_number(), 3, timeout=0.3)


def test_the_writer_funds_a_signer_with_no_gas_money_at_the_same_depth(replacing: ReplacingChain) -> None:
    """An account created by an API worker is funded by the writer before its first transaction
    (:class:`~registry.pipelines.gas.FundedSigners`); a funding lost with its block is made again there too."""
    from registry.pipelines.gas import FundedSigners

    account = Account.create()
    funded = FundedSigners(replacing, lambda _: account, depth=DEPTH, settle_timeout=30)
    replacing.replace_next()
    assert funded(account.address) is account
    replacing.block_number()  # the replacement happens whether or not the node looked
    assert replacing.replaced == 1
    assert replacing.balance(account.address) > 0


def test_on_a_chain_that_seals_at_a_pace_a_transaction_is_waited_for_only_as_long_as_the_chain_may_stall(
        chain: ChainClient, tmp_path: Path) -> None:
    """A transaction a node dropped (its block replaced) is sent again after the stall bound (20 s for four
    sealers with 1 s blocks), not after the minute a development chain gets: a member's first writes, waiting
    on gas money or a gap in its nonces, settled in time no more."""
    from registry.runtime import NodeConfig, _connect

    config = NodeConfig(data_dir=tmp_path, rpc_url=str(chain.w3.provider.endpoint_uri),  # type: ignore[attr-defined]
                        contract_address=chain.address, max_head_age=20.0)
    client, *_ = _connect(config, Account.create())
    assert client.receipt_timeout == 20.0
    anvil_config = NodeConfig(data_dir=tmp_path, rpc_url=config.rpc_url, contract_address=chain.address)
    assert _connect(anvil_config, Account.create())[0].receipt_timeout == 60.0  # Anvil's head may stand still


def test_a_funding_never_mined_is_sent_again_not_taken_for_a_chain_that_cannot_fund(
        replacing: ReplacingChain) -> None:
    """Every node that sealed the transfer in a block of its own lost that block and dropped it: its receipt
    never comes. That is one lost try, as a replaced block is."""
    from registry.errors import TransactionFailedError

    class DroppedOnce(ReplacingChain):
        dropped = 0

        def fund(self, address: str, wei: int = 10**21) -> int | None:
            if not self.dropped:
                self.dropped += 1
                raise TransactionFailedError("transaction 0xab was not mined: not in the chain after 20 s")
            return super().fund(address, wei)

    client = DroppedOnce.connect(str(replacing.w3.provider.endpoint_uri))  # type: ignore[attr-defined]
    account = Account.create()
    fund_settled(client, account.address, DEPTH, timeout=30)
    assert client.dropped == 1 and client.balance(account.address) > 0
