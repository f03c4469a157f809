"""The OpenAttestation ``DocumentStore`` contract: read a store's word on a document, deploy ours, issue, revoke.

The contract is the one ``@govtechsg/document-store`` ships (``DocumentStore``, ABI and creation
bytecode from its typechain factory, kept in ``artifacts/DocumentStore.json`` with the package
version; ``tests/interop`` checks it still matches the package). A document is issued when
``isIssued(merkleRoot)``; it is revoked when ``isRevoked`` holds for its target hash, any hash on
its proof's path or its Merkle root (as ``oa-verify`` asks a store that is not batchable).

The binding rides on :class:`~registry.chain.transport.Transport` (JSON-RPC, fees, nonces, error
translation), so a store that cannot be reached raises
:class:`~registry.errors.ChainUnavailableError` and a refusal a
:class:`~registry.errors.ContractRevertError` named ``DocumentStoreRefused`` with the contract's own
sentence (the store reverts with ``Error(string)``, not custom errors).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from registry.chain.models import TxResult
from registry.chain.transport import Transport
from registry.errors import ContractNotDeployedError, ContractRevertError

if TYPE_CHECKING:
    from web3 import Web3

ARTIFACT = Path(__file__).resolve().parent / "artifacts" / "DocumentStore.json"
REFUSED = "DocumentStoreRefused"
"""The name a store's refusal (``Error(string)``) carries as a :class:`ContractRevertError`."""
_ERROR_STRING = bytes.fromhex("08c379a0")


@cache
def artifact() -> dict[str, Any]:
    """The DocumentStore artifact (``abi``, ``bytecode``, ``source``: the npm package it came from)."""
    loaded: dict[str, Any] = json.loads(ARTIFACT.read_text(encoding="utf-8"))
    return loaded


@dataclass(frozen=True)
class StoreDeployment:
    """Where this node's DocumentStore lives, and which account issues and revokes on it."""

    chain_id: int
    address: str
    operator: str
    block_number: int
    tx_hash: str
    source: str

    def to_json(self) -> dict[str, Any]:
        """The record kept in the data directory."""
        return {"chain_id": self.chain_id, "address": self.address, "operator": self.operator,
                "block_number": self.block_number, "tx_hash": self.tx_hash, "source": self.source}


class DocumentStore(Transport):
    """One DocumentStore contract on one chain (the chain of *w3*).

    Args:
        w3: a connected :class:`~web3.Web3` (the node's, so reads go where the registry's go).
        address: the store; None until :meth:`deploy`.
    """

    def __init__(self, w3: Web3, address: str | None = None, *, receipt_timeout: float = 60.0) -> None:
        super().__init__(w3, None, receipt_timeout=receipt_timeout)
        loaded = artifact()
        self._abi = loaded["abi"]
        self._bytecode = loaded["bytecode"]
        self._runtime = b""
        self._errors = {}
        self._events = {}
        self.contract = self.w3.eth.contract(abi=self._abi)
        if address is not None:
            self.use(address)

    # -- reads --------------------------------------------------------------------------------

    def has_code(self) -> bool:
        """Whether any contract lives at the address (an empty account answers every call with nothing)."""
        self._require_address()
        return bool(self._rpc(lambda: bytes(self.w3.eth.get_code(self.contract.address))))

    def is_deployed(self) -> bool:
        """Whether a contract answering as a DocumentStore lives at the address."""
        if self.contract.address is None or not self.has_code():
            return False
        try:
            self.call("isIssued", bytes(32))
        except ContractRevertError:
            return False
        return True

    def is_issued(self, merkle_root: bytes) -> bool:
        """``isIssued(merkleRoot)``."""
        return bool(self.call("isIssued", merkle_root))

    def is_revoked(self, document_hash: bytes) -> bool:
        """``isRevoked(hash)``."""
        return bool(self.call("isRevoked", document_hash))

    def revoked_among(self, hashes: Sequence[bytes]) -> list[bytes]:
        """The hashes among *hashes* the store revoked."""
        return [h for h in hashes if self.is_revoked(h)]

    # -- writes -------------------------------------------------------------------------------

    def deploy(self, owner: LocalAccount, name: str) -> StoreDeployment:
        """Deploy a DocumentStore called *name*, *owner* holding every role (issuer, revoker, admin), and use it."""
        data = self._bytecode + abi_encode(["string", "address"], [name, owner.address]).hex()
        receipt = self._send(owner, None, data, gas=None)
        self.use(str(receipt["contractAddress"]))
        return StoreDeployment(self.chain_id, self.address, owner.address, int(receipt["blockNumber"]),
                               "0x" + bytes(receipt["transactionHash"]).hex(), str(artifact()["source"]))

    def issue(self, signer: LocalAccount, merkle_root: bytes, wait: float | None = None) -> TxResult:
        """``issue(merkleRoot)`` (the store refuses a root issued before)."""
        return self.transact(signer, "issue", merkle_root, wait=wait)

    def revoke(self, signer: LocalAccount, document_hash: bytes, wait: float | None = None) -> TxResult:
        """``revoke(hash)`` (the store refuses a hash revoked before)."""
        return self.transact(signer, "revoke", document_hash, wait=wait)

    def decode_revert(self, data: str | bytes) -> ContractRevertError:
        """A store's ``Error(string)`` refusal as ``DocumentStoreRefused(<its sentence>)``."""
        raw = bytes.fromhex(data.removeprefix("0x")) if isinstance(data, str) else bytes(data)
        if raw[:4] == _ERROR_STRING:
            try:
                (sentence,) = abi_decode(["string"], raw[4:])
            except Exception:  # malformed revert data is reported raw below
                sentence = None
            if isinstance(sentence, str):
                return ContractRevertError(REFUSED, (sentence,))
        return ContractRevertError(REFUSED, ("0x" + raw.hex(),))

    def _require_address(self) -> None:
        if self.contract.address is None:
            raise ContractNotDeployedError("no DocumentStore address given")


def checksum(address: str) -> str:
    """*address* in EIP-55 form.

    Raises:
        ValueError: not an address.
    """
    return str(to_checksum_address(address))


__all__ = ["ARTIFACT", "REFUSED", "DocumentStore", "StoreDeployment", "artifact", "checksum"]
