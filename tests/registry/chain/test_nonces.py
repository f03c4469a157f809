"""A signer's nonce is read from the count of mined transactions, so a gap the node hides behind ``pending`` is
filled, not jumped over.

EthereumJS drops a transaction whose block (one it sealed itself, out of turn) is replaced, and still counts the
account's later transactions in its pool under ``pending``. The proxy here answers ``pending`` as such a node
does (its pool holds the account's transaction at nonce 1 while nonce 0 was lost); Anvil behind it is honest
about what is mined and keeps that transaction queued until the gap is filled.
"""

from __future__ import annotations

from typing import Any

from eth_account import Account

from registry.chain.client import ChainClient
from tests.support.lying_rpc import Lie, LyingRpc

WAIT_S = 5.0


def _pending_counts_the_queued(address: str, queued: int) -> Lie:
    def after(request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        params = request.get("params") or []
        if (request.get("method") == "eth_getTransactionCount" and len(params) == 2 and params[1] == "pending"
                and str(params[0]).lower() == address.lower() and "result" in answer):
            return {**answer, "result": hex(int(answer["result"], 16) + 1 + queued)}  # the lost one and the queued
        return answer

    return Lie(after=after)


def test_a_transaction_after_a_lost_one_fills_the_gap_and_the_queued_one_is_mined_behind_it(
        chain: ChainClient) -> None:
    account = Account.create()
    chain.fund(account.address)
    fees = {"maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9, "chainId": chain.chain_id}
    queued = account.sign_transaction({"to": account.address, "value": 1, "gas": 21_000, "nonce": 1, **fees})
    chain.w3.eth.send_raw_transaction(queued.raw_transaction)  # nonce 0 was lost with its block
    assert chain.w3.eth.get_transaction_count(account.address, "latest") == 0
    with LyingRpc(str(chain.w3.provider.endpoint_uri)) as rpc:  # type: ignore[attr-defined]
        rpc.lie = _pending_counts_the_queued(account.address, queued=1)
        client = ChainClient.connect(rpc.url, chain.address)
        receipt = client._send(account, account.address, "0x", gas=21_000, wait=WAIT_S)
    assert receipt["status"] == 1
    assert chain.w3.eth.get_transaction_count(account.address, "latest") == 2  # and the queued one behind it
