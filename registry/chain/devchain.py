"""Development-chain tricks (Anvil, Ganache, eth-tester): fund accounts, snapshot and revert, move the clock."""

from __future__ import annotations

from typing import Any

from eth_utils.address import to_checksum_address
from web3.types import Wei

from registry.chain.models import DEFAULT_FUNDING_WEI
from registry.chain.transport import Transport
from registry.errors import (
    ChainError,
)


class DevChain(Transport):
    """What only a development chain offers."""


    def fund(self, address: str, wei: int = DEFAULT_FUNDING_WEI) -> int | None:
        """Give *address* gas money on a development chain; the block of the transfer, or None when the
        balance was set outright (no block holds it, none can be replaced).

        Uses ``anvil_setBalance`` / ``evm_setAccountBalance`` where the node has
        it, else a transfer from the node's first unlocked account.

        Raises:
            ChainError: if the node offers no way to fund accounts.
        """
        target = to_checksum_address(address)
        for method in ("anvil_setBalance", "evm_setAccountBalance"):
            answer: Any = self._rpc(lambda m=method: self.w3.provider.make_request(m, [target, hex(wei)]))  # type: ignore[misc]
            if "error" not in answer:
                return None
        accounts = self._rpc(lambda: self.w3.eth.accounts)
        if not accounts:
            raise ChainError("the node has no funded account to pay for gas; fund the node account yourself")
        tx_hash = self._rpc(lambda: self.w3.eth.send_transaction({"from": accounts[0], "to": target,
                                                                  "value": Wei(wei)}))
        receipt = self._rpc(lambda: self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=self.receipt_timeout))
        return int(receipt["blockNumber"])

    def balance(self, address: str) -> int:
        """The balance of *address* at the head, in wei."""
        wei: int = self._rpc(lambda: self.w3.eth.get_balance(to_checksum_address(address)))
        return wei

    def snapshot(self) -> int | str:
        """Take an ``evm_snapshot`` (development chains) and return its id, as the node gives it."""
        snapshot_id: int | str = self._rpc(lambda: self.w3.testing.snapshot())  # type: ignore[attr-defined]
        return snapshot_id

    def revert_to(self, snapshot_id: int | str) -> None:
        """``evm_revert`` to *snapshot_id*; forgets locally tracked nonces."""
        self._rpc(lambda: self.w3.testing.revert(snapshot_id))  # type: ignore[attr-defined]
        self.reset_nonces()

    def unsafe_advance_time(self, seconds: int) -> None:
        """Move a development chain's clock forward and mine a block.

        WARNING: development chains only (``evm_increaseTime``); for tests and demos.
        """
        self._rpc(lambda: self.w3.provider.make_request("evm_increaseTime", [seconds]))  # type: ignore[arg-type]
        self._rpc(lambda: self.w3.provider.make_request("evm_mine", []))  # type: ignore[arg-type]
