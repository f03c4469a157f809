"""Contract client over web3.py: deploy, every contract function, reads, events.

The only module of the core that imports web3. It works the same against a
managed Anvil, any external JSON-RPC URL (Ganache, Besu, Geth) and an in-process
py-evm chain (eth-tester). Transactions are signed locally with eth-account
(``coincurve`` makes that fast) and nonces are tracked locally per account.

Every revert is decoded into :class:`~registry.errors.ContractRevertError` carrying
the Solidity custom error's name and arguments; an unreachable node becomes
:class:`~registry.errors.ChainUnavailableError` so callers can fail closed.
"""

from __future__ import annotations

import ast
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any, TypeVar

import requests
from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
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
from web3.types import Wei

from registry.chain.compiler import load_artifact
from registry.domain.codes import check_country
from registry.errors import (
    ChainError,
    ChainUnavailableError,
    ContractNotDeployedError,
    ContractRevertError,
    TransactionFailedError,
    ValidationError,
)

T = TypeVar("T")

CONTRACT_NAME = "CustomsRegistry"
DEFAULT_FUNDING_WEI = 10**21  # 1,000 ether on a development chain
ANCHOR_GAS_LIMIT = 120_000  # a single anchoring uses about 49,300
FEE_CACHE_SECONDS = 2.0


class DocumentState(IntEnum):
    """On-chain lifecycle of one document (mirrors ``ICertificateRegistry.DocumentState``)."""

    ACTIVE = 0
    REVOKED = 1
    SUPERSEDED = 2
    ERASED = 3


@dataclass(frozen=True)
class Deployment:
    """Where the registry contract lives on one chain."""

    chain_id: int
    address: str
    block_number: int
    tx_hash: str

    def to_json(self) -> dict[str, Any]:
        """Return the record stored in the data directory."""
        return {"chain_id": self.chain_id, "address": self.address,
                "block_number": self.block_number, "tx_hash": self.tx_hash}


@dataclass(frozen=True)
class ChainEvent:
    """One decoded contract event."""

    name: str
    block_number: int
    log_index: int
    tx_hash: str
    args: dict[str, Any]
    block_time: int | None = None


@dataclass(frozen=True)
class TxResult:
    """A mined, successful transaction and the events it emitted."""

    tx_hash: str
    block_number: int
    gas_used: int
    events: tuple[ChainEvent, ...]


@dataclass(frozen=True)
class BatchRecord:
    """An anchored batch (``issuer`` is None when the root was never anchored).

    ``state`` is the batch-wide status, which for a batch of one document is that
    document's own status.
    """

    root: bytes
    issuer: str | None
    anchored_at: int
    document_count: int
    state: DocumentState
    reason: int


@dataclass(frozen=True)
class DocumentView:
    """Everything the chain knows about one document, read in a single call."""

    document_hash: bytes
    root: bytes
    issuer: str | None
    country: str | None
    anchored_at: int
    document_count: int
    authorised_at_anchoring: bool
    issuer_active: bool
    state: DocumentState
    reason: int
    changed_at: int
    changed_by: str | None
    replacement: bytes | None
    replacement_root: bytes | None = None

    @property
    def anchored(self) -> bool:
        """True when the proof leads to an anchored root."""
        return self.issuer is not None


_ZERO32 = b"\x00" * 32


def _address_or_none(value: str) -> str | None:
    return None if int(value, 16) == 0 else to_checksum_address(value)


def _country(value: bytes) -> str | None:
    return None if value == b"\x00\x00" else value.decode("ascii")


def _b2(country: str) -> bytes:
    return country.upper().encode("ascii")


def iso_country(country: str) -> str:
    """*country* once it is an ISO 3166-1 alpha-2 code (the contract only checks ``A-Z``).

    Raises:
        ValidationError: not an ISO 3166-1 code (nothing is sent).
    """
    try:
        return check_country(country)
    except ValueError as error:
        raise ValidationError(f"country: {error}", [{"loc": "country", "msg": str(error)}]) from None


def _iso_country(country: str) -> bytes:
    return iso_country(country).encode("ascii")


class ChainClient:
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
    def connect(cls, rpc_url: str, address: str | None = None, *, timeout: float = 5.0) -> ChainClient:
        """Client over HTTP JSON-RPC at *rpc_url* (Anvil, Ganache, Besu, Geth...).

        Every request gives up after *timeout* seconds and is not retried by the
        provider (web3's default retries a failed request with back-off, which
        turned one hung endpoint into a minute-long stall); callers that must
        retry (the workers) do so with their own back-off.
        """
        provider = Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout},
                                     exception_retry_configuration=None)
        return cls(Web3(provider), address)

    @classmethod
    def in_process(cls) -> ChainClient:
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
        """The current chain head."""
        return self._rpc(lambda: int(self.w3.eth.block_number))

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

    def fund(self, address: str, wei: int = DEFAULT_FUNDING_WEI) -> None:
        """Give *address* gas money on a development chain.

        Uses ``anvil_setBalance`` / ``evm_setAccountBalance`` where the node has
        it, else a transfer from the node's first unlocked account.

        Raises:
            ChainError: if the node offers no way to fund accounts.
        """
        target = to_checksum_address(address)
        for method in ("anvil_setBalance", "evm_setAccountBalance"):
            answer: Any = self._rpc(lambda m=method: self.w3.provider.make_request(m, [target, hex(wei)]))  # type: ignore[misc]
            if "error" not in answer:
                return
        accounts = self._rpc(lambda: self.w3.eth.accounts)
        if not accounts:
            raise ChainError("the node has no funded account to pay for gas; fund the node account yourself")
        tx_hash = self._rpc(lambda: self.w3.eth.send_transaction({"from": accounts[0], "to": target,
                                                                  "value": Wei(wei)}))
        self._rpc(lambda: self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=self.receipt_timeout))

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

    def reset_nonces(self) -> None:
        """Forget locally tracked nonces (re-read from the node on next use)."""
        with self._nonce_lock:
            self._nonces.clear()

    # -- deployment -----------------------------------------------------------------------

    def deploy(self, admin: LocalAccount) -> Deployment:
        """Deploy a fresh registry with *admin* as consortium admin and use it."""
        data = self._bytecode + abi_encode(["address"], [admin.address]).hex()
        receipt = self._send(admin, None, data, gas=None)
        address = receipt["contractAddress"]
        self.use(address)
        return Deployment(self.chain_id, str(address), int(receipt["blockNumber"]),
                          "0x" + bytes(receipt["transactionHash"]).hex())

    def ensure_deployed(self, admin: LocalAccount, record: Path) -> Deployment:
        """Reuse the deployment recorded in *record* if it is live on this chain, else deploy.

        Idempotent: a node restarted against the same chain (or Anvil state file)
        keeps its contract and every anchored root.
        """
        if record.exists():
            known = json.loads(record.read_text(encoding="utf-8"))
            if known.get("chain_id") == self.chain_id:
                self.use(known["address"])
                if self.is_deployed():
                    return Deployment(**known)
        deployment = self.deploy(admin)
        record.parent.mkdir(parents=True, exist_ok=True)
        tmp = record.with_suffix(".tmp")
        tmp.write_text(json.dumps(deployment.to_json(), indent=2) + "\n", encoding="utf-8")
        tmp.replace(record)
        return deployment

    # -- trust registry ---------------------------------------------------------------------

    def admit_country(self, admin: LocalAccount, country: str, authority: str) -> TxResult:
        """Admit *country* with its competent *authority* (consortium admin only).

        Raises:
            ValidationError: *country* is not an ISO 3166-1 alpha-2 code (checked before sending).
        """
        return self.transact(admin, "admitCountry", _iso_country(country), to_checksum_address(authority))

    def replace_authority(self, admin: LocalAccount, country: str, authority: str) -> TxResult:
        """Replace the competent authority of *country* (consortium admin only).

        Raises:
            ValidationError: *country* is not an ISO 3166-1 alpha-2 code (checked before sending).
        """
        return self.transact(admin, "replaceAuthority", _iso_country(country), to_checksum_address(authority))

    def authorise_issuer(self, authority: LocalAccount, issuer: str) -> TxResult:
        """Authorise *issuer* for the authority's country."""
        return self.transact(authority, "authoriseIssuer", to_checksum_address(issuer))

    def suspend_issuer(self, authority: LocalAccount, issuer: str) -> TxResult:
        """Suspend *issuer* (its country's authority only)."""
        return self.transact(authority, "suspendIssuer", to_checksum_address(issuer))

    def reinstate_issuer(self, authority: LocalAccount, issuer: str) -> TxResult:
        """Reinstate a suspended *issuer* (its country's authority only)."""
        return self.transact(authority, "reinstateIssuer", to_checksum_address(issuer))

    def authority_of(self, country: str) -> str | None:
        """The competent authority of *country*, or None."""
        return _address_or_none(self.call("authorityOf", _b2(country)))

    def country_of_authority(self, authority: str) -> str | None:
        """The country *authority* speaks for, or None."""
        return _country(self.call("countryOfAuthority", to_checksum_address(authority)))

    def issuer_country(self, issuer: str) -> str | None:
        """The country *issuer* issues for, or None if unknown."""
        return _country(self.call("issuerCountry", to_checksum_address(issuer)))

    def is_authorised(self, issuer: str) -> bool:
        """Whether *issuer* may anchor now."""
        return bool(self.call("isAuthorised", to_checksum_address(issuer)))

    def was_authorised_at(self, issuer: str, country: str, block: int) -> bool:
        """Whether *issuer* was authorised for *country* at the end of block number *block*."""
        return bool(self.call("wasAuthorisedAt", to_checksum_address(issuer), _b2(country), block))

    # -- certificates -------------------------------------------------------------------------

    def anchor(self, issuer: LocalAccount, root: bytes, document_count: int) -> TxResult:
        """Anchor a batch *root* of *document_count* documents (hash-only mode).

        Sent with a fixed gas limit (no ``eth_estimateGas`` round trip): the cost
        does not depend on the batch size. A refusal still surfaces as the decoded
        custom error, read back with ``eth_call``.
        """
        return self.transact(issuer, "anchor", root, document_count, gas=ANCHOR_GAS_LIMIT)

    def anchor_with_payloads(
        self, issuer: LocalAccount, root: bytes, document_hashes: Sequence[bytes], payloads: Sequence[bytes]
    ) -> TxResult:
        """Anchor *root* and publish each document's ciphertext in the event log."""
        return self.transact(issuer, "anchorWithPayloads", root, list(document_hashes), list(payloads))

    def revoke(self, signer: LocalAccount, document_hash: bytes, proof: Sequence[bytes], reason: int) -> TxResult:
        """Revoke one document with a *reason* code (issuer or its authority)."""
        return self.transact(signer, "revoke", document_hash, list(proof), reason)

    def supersede(
        self, signer: LocalAccount, document_hash: bytes, proof: Sequence[bytes],
        replacement: bytes, replacement_proof: Sequence[bytes],
    ) -> TxResult:
        """Mark one document superseded by the anchored *replacement*."""
        return self.transact(signer, "supersede", document_hash, list(proof), replacement, list(replacement_proof))

    def erase(self, signer: LocalAccount, document_hash: bytes, proof: Sequence[bytes]) -> TxResult:
        """Record on chain that the key of one document was destroyed (terminal)."""
        return self.transact(signer, "erase", document_hash, list(proof))

    def revoke_batch(self, signer: LocalAccount, root: bytes, reason: int) -> TxResult:
        """Revoke every document of the batch *root* at once."""
        return self.transact(signer, "revokeBatch", root, reason)

    def batch_of(self, root: bytes) -> BatchRecord:
        """The anchoring record of *root*."""
        issuer, anchored_at, count, state, reason = self.call("batchOf", root)
        return BatchRecord(root, _address_or_none(issuer), int(anchored_at), int(count),
                           DocumentState(int(state)), int(reason))

    def inspect(self, document_hash: bytes, proof: Sequence[bytes] = ()) -> DocumentView:
        """Anchoring, authorisation and status of *document_hash* in one call."""
        raw = self.call("inspect", document_hash, list(proof))
        return _document_view(document_hash, raw)

    def status_change(self, document_hash: bytes, root: bytes) -> tuple[int, str] | None:
        """Block time and sender of the latest status event of the certificate (*root*, *document_hash*), if any.

        Needed for documents anchored alone, whose status lives in the batch slot
        without a timestamp (see ``CertificateRegistry``). Events under another root
        (another certificate with the same hash) are ignored.
        """
        topic0 = [sig for sig, name in self._events.items()
                  if name in ("CertificateRevoked", "CertificateSuperseded", "KeyDestroyed", "BatchRevoked")]
        found = [e for e in self.events(0, topics=[topic0, "0x" + document_hash.hex()])
                 if bytes(e.args["root"]) == root]
        if not found:
            return None
        last = found[-1]
        return self.block_timestamp(last.block_number), str(last.args.get("by"))

    def inspect_at_head(self, document_hash: bytes, proof: Sequence[bytes] = ()) -> tuple[DocumentView, int]:
        """:meth:`inspect` and the block number in one JSON-RPC batch (one round trip).

        Falls back to two requests on providers without batching (the in-process chain).
        """
        self._require_address()

        def batched() -> list[Any]:
            with self.w3.batch_requests() as batch:
                batch.add(self.contract.functions.inspect(document_hash, list(proof)))
                batch.add(self.w3.eth.get_block_number())
                return list(batch.execute())

        try:
            raw, head = self._rpc(batched)
        except ChainUnavailableError:
            raise
        except (ChainError, NotImplementedError, TypeError, ValueError):
            return self.inspect(document_hash, proof), self.block_number()
        return _document_view(document_hash, raw), int(head)

    def payloads(self, root: bytes, from_block: int = 0) -> dict[bytes, bytes]:
        """Ciphertexts published with *root* in encrypted-payload mode, by document hash."""
        events = self.events(from_block, names={"PayloadPublished"}, topics=[None, None, "0x" + root.hex()])
        return {bytes(e.args["documentHash"]): bytes(e.args["ciphertext"]) for e in events}

    # -- generic --------------------------------------------------------------------------------

    def call(self, function: str, *args: Any) -> Any:
        """Call a view *function* of the contract at the latest block."""
        self._require_address()
        return self._rpc(lambda: self.contract.functions[function](*args).call())

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
        with self._nonce_lock:
            if address not in self._nonces:
                self._nonces[address] = self._rpc(
                    lambda: int(self.w3.eth.get_transaction_count(to_checksum_address(address), "pending")))
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


def certificate_key(root: bytes, document_hash: bytes) -> bytes:
    """``CertificateRegistry.certificateKey``: where the certificate (*root*, *document_hash*) keeps its state."""
    return keccak(root + document_hash)


def _document_view(document_hash: bytes, raw: Sequence[Any]) -> DocumentView:
    (root, issuer, country, anchored_at, count, authorised, active,
     state, reason, changed_at, changed_by, replacement, replacement_root) = raw
    return DocumentView(
        document_hash=document_hash,
        root=bytes(root),
        issuer=_address_or_none(issuer),
        country=_country(bytes(country)),
        anchored_at=int(anchored_at),
        document_count=int(count),
        authorised_at_anchoring=bool(authorised),
        issuer_active=bool(active),
        state=DocumentState(int(state)),
        reason=int(reason),
        changed_at=int(changed_at),
        changed_by=_address_or_none(changed_by),
        replacement=None if bytes(replacement) == _ZERO32 else bytes(replacement),
        replacement_root=None if bytes(replacement_root) == _ZERO32 else bytes(replacement_root),
    )


__all__ = [
    "BatchRecord", "ChainClient", "ChainEvent", "Deployment", "DocumentState", "DocumentView", "TxResult",
    "certificate_key", "iso_country",
]

