"""The zero-knowledge contracts on chain: the generated Groth16 verifiers and ``ZkClaimLog``.

``scripts/build_circuits.py`` generates one Solidity verifier per circuit (snarkjs) and compiles them
with ``contracts/ZkClaimLog.sol``'s sibling ``registry/zk/contracts/ZkClaimLog.sol`` into
``artifacts/ZkContracts.json``. A node deploys them next to its registry the first time it needs them
(from a fresh funded account of its own, as it does its OpenAttestation DocumentStore) and keeps the
addresses in its data directory. ``ZkClaimLog.check`` verifies a claim by ``eth_call``;
``ZkClaimLog.record`` verifies it in a transaction and emits ``ClaimVerified``.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_abi.abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from registry.chain.models import TxResult
from registry.chain.transport import Transport, _error_table, _signature
from registry.types import parse_hex32
from registry.zk.build import CIRCUITS, CONTRACTS_ARTIFACT, contract_name
from registry.zk.bundle import ClaimProof, ProofBundle
from registry.zk.node import ARTIFACTS

if TYPE_CHECKING:
    from web3 import Web3

LOG = "ZkClaimLog"
_DEPLOYING = threading.Lock()
"""One deployment at a time per process."""


@cache
def contracts_artifact() -> dict[str, Any]:
    """The compiled verifiers and claim log (``abi``, ``bytecode`` per contract)."""
    loaded: dict[str, Any] = json.loads((ARTIFACTS / CONTRACTS_ARTIFACT).read_text(encoding="utf-8"))
    return loaded


def calldata_proof(claim: ClaimProof) -> list[int]:
    """A snarkjs proof as the verifier contract takes it: a, b (each pair reversed: the EVM's G2 order), c."""
    a, b, c = claim.proof.pi_a, claim.proof.pi_b, claim.proof.pi_c
    return [int(a[0]), int(a[1]), int(b[0][1]), int(b[0][0]), int(b[1][1]), int(b[1][0]), int(c[0]), int(c[1])]


@dataclass(frozen=True)
class ZkDeployment:
    """Where this node's verifiers and claim log live."""

    chain_id: int
    log: str
    verifiers: dict[str, str]
    deployer: str

    def to_json(self) -> dict[str, Any]:
        return {"chain_id": self.chain_id, "log": self.log, "verifiers": self.verifiers, "deployer": self.deployer}


class ClaimLog(Transport):
    """One ``ZkClaimLog`` (and the verifiers it calls) on the chain of *w3*."""

    def __init__(self, w3: Web3, address: str | None = None, *, receipt_timeout: float = 60.0) -> None:
        super().__init__(w3, None, receipt_timeout=receipt_timeout)
        compiled = contracts_artifact()["contracts"][LOG]
        self._abi = compiled["abi"]
        self._bytecode = compiled["bytecode"]
        self._runtime = b""
        self._errors = _error_table(self._abi)
        self._events = {"0x" + keccak(text=_signature(e)).hex(): e["name"] for e in self._abi if e["type"] == "event"}
        self.contract = self.w3.eth.contract(abi=self._abi)
        if address is not None:
            self.use(address)

    def has_code(self) -> bool:
        """Whether any contract lives at the address."""
        address = self.contract.address
        return address is not None and bool(self._rpc(lambda: bytes(self.w3.eth.get_code(address))))

    def deploy_all(self, deployer: LocalAccount) -> ZkDeployment:
        """Deploy every verifier, then the claim log wired to them, and use it."""
        verifiers: dict[str, str] = {}
        for circuit in CIRCUITS:
            compiled = contracts_artifact()["contracts"][contract_name(circuit)]
            receipt = self._send(deployer, None, compiled["bytecode"], gas=None)
            verifiers[circuit] = str(receipt["contractAddress"])
        data = self._bytecode + abi_encode(["address[5]"], [[verifiers[c] for c in CIRCUITS]]).hex()
        receipt = self._send(deployer, None, data, gas=None)
        self.use(str(receipt["contractAddress"]))
        return ZkDeployment(self.chain_id, self.address, verifiers, deployer.address)

    def arguments(self, bundle: ProofBundle, claim: ClaimProof) -> tuple[Any, ...]:
        """The arguments of `check` and `record` for *claim* of *bundle*."""
        return (parse_hex32(bundle.document_hash), [parse_hex32(p) for p in bundle.commitment.path],
                CIRCUITS.index(claim.circuit), calldata_proof(claim), [int(v) for v in claim.public_inputs])

    @staticmethod
    def inputs_digest(inputs: list[int]) -> bytes:
        """``keccak256(abi.encodePacked(publicInputs))``: how ``ClaimVerified`` names a claim's public inputs."""
        return bytes(keccak(b"".join(int(v).to_bytes(32, "big") for v in inputs)))

    def check(self, bundle: ProofBundle, claim: ClaimProof) -> bool:
        """``check``: whether the chain's verifier accepts *claim* about the commitment in *bundle*'s document.

        Raises:
            ContractRevertError: the commitment is not under the document hash, or the inputs are malformed.
        """
        return bool(self.call("check", *self.arguments(bundle, claim)))

    def record(self, signer: LocalAccount, bundle: ProofBundle, claim: ClaimProof) -> TxResult:
        """``record``: verify *claim* in a transaction and emit ``ClaimVerified``.

        Raises:
            ContractRevertError: ``ZkClaimLogInvalidProof`` and the other refusals of :meth:`check`.
        """
        return self.transact(signer, "record", *self.arguments(bundle, claim))


def load_deployment(path: Path) -> ZkDeployment | None:
    """The deployment recorded at *path*, if any."""
    if not path.exists():
        return None
    return ZkDeployment(**json.loads(path.read_text(encoding="utf-8")))


def save_deployment(path: Path, deployment: ZkDeployment) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(deployment.to_json(), indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


__all__ = ["LOG", "ClaimLog", "ZkDeployment", "calldata_proof", "contracts_artifact", "load_deployment",
           "save_deployment"]
