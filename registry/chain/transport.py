"""The transaction engine under every contract binding: JSON-RPC transport, nonces, fees, events, reverts.

The only place in the core that imports web3 (with :mod:`registry.chain.bindings`,
:mod:`registry.chain.devchain` and :mod:`registry.chain.models`, all under it). It
works the same against a managed Anvil, any external JSON-RPC URL (Ganache, Besu,
Geth) and an in-process py-evm chain (eth-tester). Transactions are signed locally
with eth-account (``coincurve`` makes that fast) and nonces are tracked locally per
account. Every revert is decoded into :class:`~registry.errors.ContractRevertError`
carrying the Solidity custom error's name and arguments; an unreachable node becomes
:class:`~registry.errors.ChainUnavailableError` so callers can fail closed.
"""

from __future__ import annotations

import ast
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, Self, TypeVar

import requests
from eth_abi.abi import decode as abi_decode
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    TimeExhausted,
    TransactionNotFound,
    Web3Exception,
    Web3RPCError,
)
from web3.types import RPCEndpoint

from registry.chain.compiler import load_artifact
from registry.chain.models import CONTRACT_NAME, FEE_CACHE_SECONDS, ChainEvent, TxResult
from registry.errors import (
    ChainError,
    ChainUnavailableError,
    ContractNotDeployedError,
    ContractRevertError,
    TransactionFailedError,
)

T = TypeVar("T")


_CHAIN_ID_ONCE: dict[str, Any] = {"cache_allowed_requests": True, "cacheable_requests": {RPCEndpoint("eth_chainId")}}
"""web3's request cache, for the chain id only (blocks, logs and calls are always asked anew)."""


class Transport:
    """Client for one deployed registry contract (``CustomsRegistry``) on one chain.

    Args:
        w3: a connected :class:`~web3.Web3`.
        address: the contract address; ``None`` until :meth:`deploy` or :meth:`use`.
        receipt_timeout: seconds to wait for a transaction to be mined.
    """

    def __init__(self, w3: Web3, address: str | None = None, *, receipt_timeout: float = 60.0) -> None:
        self.w3 = w3
        self.receipt_timeout = receipt_timeout
        artifact = load_artifact(CONTRACT_NAME)
        self._abi: list[dict[str, Any]] = artifact["abi"]
        self._bytecode: str = artifact["bytecode"]
        self._runtime: bytes = bytes.fromhex(artifact["deployedBytecode"][2:])
        self._errors = _error_table(self._abi)
        self._nonces: dict[str, int] = {}
        self._nonce_lock = threading.Lock()
        self._chain_id: int | None = None
        self._fee_cache: tuple[float, dict[str, int]] | None = None
        self.contract: Contract | type[Contract] = self.w3.eth.contract(abi=self._abi)
        self._events = {
            "0x" + keccak(text=_signature(e)).hex(): e["name"]
            for e in self._abi if e["type"] == "event"
        }
        if address is not None:
            self.use(address)

    # -- construction ---------------------------------------------------------------

    @classmethod
    def connect(cls, rpc_url: str, address: str | None = None, *, timeout: float = 5.0) -> Self:
        """Client over HTTP JSON-RPC at *rpc_url* (Anvil, Ganache, Besu, Geth...).

        Every request gives up after *timeout* seconds and is not retried by the
        provider (web3's default retries a failed request with back-off, which
        turned one hung endpoint into a minute-long stall); callers that must
        retry (the workers) do so with their own back-off.

        The endpoint's chain id is asked once per client: web3 asks it again before every contract
        call otherwise, one round trip of every two a verification makes.
        """
        provider = Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout},
                                     exception_retry_configuration=None, **_CHAIN_ID_ONCE)
        return cls(Web3(provider), address)

    @classmethod
    def in_process(cls) -> Self:
        """Client over an in-process py-evm chain (eth-tester), for fast tests."""
        from web3.providers.eth_tester import EthereumTesterProvider

        return cls(Web3(EthereumTesterProvider()))

    def use(self, address: str) -> None:
        """Point the client at an existing contract *address*."""
        self.contract = self.w3.eth.contract(address=to_checksum_address(address), abi=self._abi)

    @property
    def address(self) -> str:
        """The contract address.

        Raises:
            ContractNotDeployedError: before :meth:`deploy` or :meth:`use`.
        """
        if self.contract.address is None:
            raise ContractNotDeployedError("no registry contract address configured")
        return str(self.contract.address)

    # -- node ----------------------------------------------------------------------------

    @property
    def chain_id(self) -> int:
        """The chain id (cached after the first call)."""
        if self._chain_id is None:
            self._chain_id = self._rpc(lambda: int(self.w3.eth.chain_id))
        return self._chain_id

    def block_number(self) -> int:
        """The current chain head: one ``eth_blockNumber`` straight through the provider (web3's method and
        middleware layers cost more CPU than the request itself, and the followers ask ten times a second).

        Raises:
            ChainUnavailableError: the node could not be reached.
            ChainError: it refused, or answered something that is not a block number.
        """
        return self._rpc(lambda: _quantity(self.w3.provider.make_request(RPCEndpoint("eth_blockNumber"), [])))

    def head(self) -> tuple[int, bytes]:
        """The number and hash of the head block, in one request."""
        found = self._rpc(lambda: self.w3.eth.get_block("latest"))
        return int(found["number"]), bytes(found["hash"])

    def block_hash(self, block: int) -> bytes | None:
        """Hash of block *block*, or None past the head."""
        try:
            found = self._rpc(lambda: self.w3.eth.get_block(block))
        except ChainUnavailableError:
            raise
        except ChainError:
            return None
        return bytes(found["hash"])

    def mined_in(self, tx_hash: str) -> int | None:
        """The block a transaction was mined in, or None when the chain does not have it (any more).

        Raises:
            ChainUnavailableError: the node could not be reached.
        """
        try:
            receipt = self._rpc(lambda: self.w3.eth.get_transaction_receipt(HexBytes(tx_hash)))
        except ChainUnavailableError:
            raise
        except ChainError:
            return None
        return int(receipt["blockNumber"])

    def block_timestamp(self, block: int | str = "latest") -> int:
        """Timestamp of *block*."""
        return self._rpc(lambda: int(self.w3.eth.get_block(block)["timestamp"]))  # type: ignore[arg-type]

    def is_reachable(self) -> bool:
        """True when the node answers."""
        try:
            self.block_number()
        except ChainError:
            return False
        return True

    def is_deployed(self) -> bool:
        """True when the configured address holds exactly our runtime bytecode."""
        if self.contract.address is None:
            return False
        code = self._rpc(lambda: bytes(self.w3.eth.get_code(self.contract.address)))
        return code == self._runtime

    def deployed_since(self) -> int:
        """The first block whose state holds the registry's code, by bisection (about log2(head) reads of
        ``eth_getCode``): where a first scan of its events starts. 1 when an earlier state cannot be read
        (a node that keeps no history) or there is no address yet.
        """
        if self.contract.address is None:
            return 1
        address = self.contract.address
        try:
            low, high = 1, max(1, self.block_number())
            while low < high:
                middle = (low + high) // 2
                if self._rpc(lambda block=middle: bytes(self.w3.eth.get_code(address, block))):  # type: ignore[misc]
                    high = middle
                else:
                    low = middle + 1
        except ChainError:
            return 1
        return low

    def reset_nonces(self) -> None:
        """Forget locally tracked nonces (re-read from the node on next use)."""
        with self._nonce_lock:
            self._nonces.clear()

    # -- generic --------------------------------------------------------------------------------

    def call(self, function: str, *args: Any) -> Any:
        """Call a view *function* of the contract at the latest block."""
        self._require_address()
        return self._rpc(lambda: self.contract.functions[function](*args).call())

    def call_at(self, block: int, function: str, *args: Any) -> tuple[bytes, Any]:
        """The hash of block number *block* and the view *function* called at that block, in one
        JSON-RPC batch (two requests on providers without batching).

        Raises:
            ChainError: the node does not have the block, or refused.
            ChainUnavailableError: the node could not be reached.
        """
        self._require_address()
        return self._with_block_hash(block, lambda: self.contract.functions[function](*args).call(
            block_identifier=block))

    def events_at(self, from_block: int, block: int, *, names: set[str] | None = None,
                  topics: list[Any] | None = None) -> tuple[bytes, list[ChainEvent]]:
        """The hash of block number *block* and the decoded events of ``[from_block, block]`` (as
        :meth:`events`), in one JSON-RPC batch (two requests on providers without batching).

        Raises:
            ChainError: the node does not have the block, or refused.
            ChainUnavailableError: the node could not be reached.
        """
        self._require_address()
        query: dict[str, Any] = {"address": self.address, "fromBlock": from_block, "toBlock": block}
        if topics is not None:
            query["topics"] = topics
        block_hash, logs = self._with_block_hash(block, lambda: self.w3.eth.get_logs(query))  # type: ignore[arg-type]
        return block_hash, [e for e in self._decode_logs(logs) if names is None or e.name in names]

    def transact(self, signer: LocalAccount, function: str, *args: Any, gas: int | None = None,
                 wait: float | None = None) -> TxResult:
        """Sign and send a call of *function* and wait until it is mined (at most *wait* seconds when given,
        else :attr:`receipt_timeout`).

        Raises:
            ContractRevertError: the contract refused (custom error decoded).
            TransactionFailedError: mined with status 0, or never mined.
            ChainUnavailableError: the node could not be reached.
        """
        self._require_address()
        data = self.contract.encode_abi(function, args=list(args))
        receipt = self._send(signer, self.address, data, gas=gas, wait=wait)
        return TxResult(
            tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
            block_number=int(receipt["blockNumber"]),
            gas_used=int(receipt["gasUsed"]),
            events=tuple(self._decode_logs(receipt["logs"])),
        )

    def events(
        self, from_block: int = 0, to_block: int | str = "latest", *,
        names: set[str] | None = None, topics: list[Any] | None = None,
    ) -> list[ChainEvent]:
        """Decoded contract events in ``[from_block, to_block]``, in chain order."""
        self._require_address()
        query: dict[str, Any] = {"address": self.address, "fromBlock": from_block, "toBlock": to_block}
        if topics is not None:
            query["topics"] = topics
        logs = self._rpc(lambda: self.w3.eth.get_logs(query))  # type: ignore[arg-type]
        decoded = self._decode_logs(logs)
        return [e for e in decoded if names is None or e.name in names]

    def event_topic(self, name: str) -> str:
        """The topic-0 (signature hash) of event *name*, for :meth:`events` filters.

        Raises:
            KeyError: the contract has no such event.
        """
        for topic, event in self._events.items():
            if event == name:
                return topic
        raise KeyError(name)

    def decode_revert(self, data: str | bytes) -> ContractRevertError:
        """Turn raw revert data into a named :class:`ContractRevertError`."""
        raw = bytes.fromhex(data.removeprefix("0x")) if isinstance(data, str) else bytes(data)
        entry = self._errors.get(raw[:4])
        if entry is None:
            return ContractRevertError("UnknownRevert", ("0x" + raw.hex(),))
        name, types = entry
        values = abi_decode(types, raw[4:])
        return ContractRevertError(name, tuple(_plain(v) for v in values))

    # -- internals --------------------------------------------------------------------------------

    def _with_block_hash(self, block: int, request: Callable[[], T]) -> tuple[bytes, T]:
        """``eth_getBlockByNumber(block)`` and *request* (a read pinned to that block) in one batch."""

        def batched() -> list[Any]:
            with self.w3.batch_requests() as batch:
                batch.add(self.w3.eth.get_block(block))
                batch.add(request())
                return list(batch.execute())

        try:
            found, answer = self._rpc(batched)
        except ChainUnavailableError:
            raise
        except (NotImplementedError, TypeError, ValueError):  # no batching (the in-process chain)
            found, answer = self._rpc(lambda: self.w3.eth.get_block(block)), self._rpc(request)
        return bytes(found["hash"]), answer

    def _require_address(self) -> None:
        if self.contract.address is None:
            raise ContractNotDeployedError("no registry contract address configured")

    def _decode_logs(self, logs: Sequence[Any]) -> list[ChainEvent]:
        out = []
        for log in logs:
            topics = log["topics"]
            if not topics:
                continue
            name = self._events.get("0x" + bytes(topics[0]).hex())
            if name is None:
                continue
            event = self.contract.events[name]().process_log(log)
            out.append(ChainEvent(
                name=name,
                block_number=int(log["blockNumber"]),
                log_index=int(log["logIndex"]),
                tx_hash="0x" + bytes(log["transactionHash"]).hex(),
                args={k: _plain(v) for k, v in event["args"].items()},
                block_time=_int_or_none(log.get("blockTimestamp")),
            ))
        return out

    @contextmanager
    def _nonce(self, address: str) -> Iterator[int]:
        """The next nonce of *address*: counted here, and read from the node at first use and after a failure.

        Read as the count of *mined* transactions (``latest``), not ``pending``: only this process sends for its
        accounts, and a node may count in ``pending`` a transaction that will never be mined. EthereumJS drops a
        transaction whose block (one it sealed itself) was replaced, and then counts the later ones still in its
        pool: a nonce read from ``pending`` lands past the gap, and that transaction, and every later one, waits
        forever. From ``latest``, the next attempt fills the gap. A transaction of ours that is merely slow is
        met with "replacement underpriced" or "already known" instead, and the write is tried again once it is
        mined.
        """
        with self._nonce_lock:
            if address not in self._nonces:
                self._nonces[address] = self._rpc(
                    lambda: int(self.w3.eth.get_transaction_count(to_checksum_address(address), "latest")))
            nonce = self._nonces[address]
            try:
                yield nonce
            except BaseException:
                self._nonces.pop(address, None)  # resynchronise from the node next time
                raise
            self._nonces[address] = nonce + 1

    def _fees(self) -> dict[str, int]:
        """EIP-1559 fees from the latest base fee, cached briefly (2x headroom covers the drift)."""
        now = time.monotonic()
        if self._fee_cache is not None and now - self._fee_cache[0] < FEE_CACHE_SECONDS:
            return self._fee_cache[1]
        block = self._rpc(lambda: self.w3.eth.get_block("latest"))
        base = int(block.get("baseFeePerGas", 0) or 0)
        tip = 10**9
        fees = {"maxFeePerGas": 2 * base + tip, "maxPriorityFeePerGas": tip}
        self._fee_cache = (now, fees)
        return fees

    def _send(self, signer: LocalAccount, to: str | None, data: str, gas: int | None,
              wait: float | None = None) -> Any:
        tx: dict[str, Any] = {"from": signer.address, "data": data, "value": 0, "chainId": self.chain_id}
        if to is not None:
            tx["to"] = to
        if gas is None:
            estimate = self._rpc(lambda: int(self.w3.eth.estimate_gas(tx)))  # type: ignore[arg-type]
            # generous: state can differ between estimation and inclusion (e.g. a checkpoint appended
            # rather than updated when the block timestamp moves on); unused gas is not charged
            gas = estimate + estimate // 2 + 30_000
        tx.update(self._fees(), gas=gas)
        sender = tx.pop("from")
        with self._nonce(signer.address) as nonce:
            tx["nonce"] = nonce
            signed = signer.sign_transaction(tx)
            tx_hash = self._submit(signed.raw_transaction, bytes(signed.hash))
        try:
            receipt = self._rpc(lambda: self.w3.eth.wait_for_transaction_receipt(
                HexBytes(tx_hash), timeout=self.receipt_timeout if wait is None else wait, poll_latency=0.02))
        except (TimeExhausted, TransactionNotFound) as error:
            raise TransactionFailedError(f"transaction {bytes(tx_hash).hex()} was not mined: {error}") from error
        if receipt["status"] != 1:
            self._explain_failure({**tx, "from": sender}, int(receipt["blockNumber"]))
            raise TransactionFailedError(f"transaction 0x{bytes(tx_hash).hex()} reverted "
                                         f"in block {receipt['blockNumber']}")
        return receipt

    def _submit(self, raw: bytes, tx_hash: bytes) -> bytes:
        """Send a signed transaction, once more if the connection dropped (a pooled keep-alive
        connection the node closed); a node that already has it counts as sent."""
        for attempt in (1, 2):
            try:
                self._rpc(lambda: self.w3.eth.send_raw_transaction(raw))
                return tx_hash
            except ChainUnavailableError:
                if attempt == 2:
                    raise
            except ChainError as error:
                if "already known" in str(error).lower():
                    return tx_hash
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _explain_failure(self, tx: dict[str, Any], block: int) -> None:
        """Replay a reverted transaction as a call to surface its custom error (raises it if found)."""
        call = {"to": tx.get("to"), "data": tx["data"], "from": tx.get("from")}
        self._rpc(lambda: self.w3.eth.call(call, block))  # type: ignore[arg-type]

    # Complexity (radon C): one except per family of node and transport errors, translated in one place
    def _rpc(self, thunk: Callable[[], T]) -> T:
        """Run one node interaction, translating web3/transport errors into ours."""
        try:
            return thunk()
        except ContractCustomError as error:
            raise self.decode_revert(str(error.data)) from None
        except ContractLogicError as error:
            raise self._logic_error(error.data, str(error.message)) from None
        except (requests.ConnectionError, requests.Timeout, ConnectionError, TimeoutError) as error:
            raise ChainUnavailableError(f"chain node unreachable: {type(error).__name__}") from None
        except requests.HTTPError as error:  # a proxy before a dead node (502), overload (503), a rate limit (429)
            code = error.response.status_code if error.response is not None else "error"
            raise ChainUnavailableError(f"chain endpoint answered HTTP {code}") from None
        except requests.RequestException as error:  # a garbled or cut answer
            raise ChainUnavailableError(f"chain endpoint failed: {type(error).__name__}") from None
        except Web3RPCError as error:
            raise ChainError(f"node refused the request: {error.message}") from None
        except Web3Exception as error:
            raise ChainError(f"chain error: {error}") from None
        except Exception as error:
            if type(error).__name__ == "TransactionFailed":  # eth-tester's in-process revert
                raise self._logic_error(_tester_revert_data(error), str(error)) from None
            raise

    def _logic_error(self, data: Any, message: str) -> ContractRevertError:
        """Decode revert data in the shapes Anvil, Ganache and eth-tester report it."""
        if isinstance(data, dict):
            data = data.get("result") or data.get("data")
        if isinstance(data, (str, bytes)) and len(data) >= 4 and data not in ("0x", b""):
            return self.decode_revert(data)
        return ContractRevertError("Reverted", (message,))


class _Clock(Protocol):
    def block_number(self) -> int: ...

    def block_timestamp(self, block: int | str = ...) -> int: ...


def first_block_at(chain: _Clock, timestamp: int) -> int:
    """The first block (never the genesis block, which holds no transaction) whose time is *timestamp* or later,
    by bisection (about log2(head) block reads): where a scan for what happened at *timestamp* or later starts.
    The head when no block is that late."""
    low, high = 1, max(1, chain.block_number())
    while low < high:
        middle = (low + high) // 2
        if chain.block_timestamp(middle) >= timestamp:
            high = middle
        else:
            low = middle + 1
    return low


def _quantity(answer: Any) -> int:
    """The non-negative integer of a JSON-RPC answer (a hex quantity, or an int from an in-process provider).

    Raises:
        ChainError: an error answer, or anything else than a quantity.
    """
    if not isinstance(answer, dict):
        raise ChainError(f"the node's answer is not a block number: {str(answer)[:40]!r}")
    if answer.get("error"):
        raise ChainError(f"node refused the request: {answer['error']}"[:200])
    value = answer.get("result")
    if isinstance(value, str) and _QUANTITY.fullmatch(value):
        return int(value, 16)
    if type(value) is int and value >= 0:
        return value
    raise ChainError(f"the node's answer is not a block number: {str(value)[:40]!r}")


_QUANTITY = re.compile(r"0x[0-9a-fA-F]{1,64}")
"""A JSON-RPC quantity (hex digits after ``0x``, at most 256 bits)."""


def _int_or_none(value: Any) -> int | None:
    if value is None:
        return None
    return int(value, 16) if isinstance(value, str) else int(value)


def _tester_revert_data(error: Exception) -> bytes | None:
    """eth-tester raises ``TransactionFailed("execution reverted: b'...'")``."""
    text = str(error.args[0]) if error.args else ""
    _, _, literal = text.partition("execution reverted: ")
    try:
        value = ast.literal_eval(literal)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, bytes) else None


def _signature(entry: dict[str, Any]) -> str:
    return f"{entry['name']}({','.join(_abi_type(i) for i in entry['inputs'])})"


def _abi_type(item: dict[str, Any]) -> str:
    kind: str = item["type"]
    if kind.startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in item["components"]) + ")" + kind[5:]
    return kind


def _error_table(abi: list[dict[str, Any]]) -> dict[bytes, tuple[str, list[str]]]:
    table = {}
    for entry in abi:
        if entry["type"] == "error":
            table[keccak(text=_signature(entry))[:4]] = (entry["name"], [_abi_type(i) for i in entry["inputs"]])
    return table


def _plain(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return to_checksum_address(value)
    return value
