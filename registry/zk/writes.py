"""Claims recorded on chain as chain writes: ``ZkClaimLog.record`` sent by the node's outbox.

Recording a claim is a transaction signed by the Customs officer's account, so it goes
where every other transaction of the node goes: into the chain-write outbox
(:mod:`registry.pipelines.outbox`), as a write of kind ``zk-claim`` per claim, sent by the
one process that sends the node's transactions (an API worker of ``coo up --workers N``
sends none, :mod:`registry.chain.readonly`). The claim log and its verifiers are deployed
by that process, the first time a claim is sent (:class:`ClaimLogs`).

A write records what ``record`` is called with, and the block its effect can be in no
earlier than (the head when it was recorded, less a reorg margin): after a crash, the
outbox looks for its ``ClaimVerified`` event from there before it sends it again. The
same officer's recording of the same claim within that margin counts as this one: the
chain then shows what the write is for, that this officer had this claim verified.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from registry.chain.client import ChainClient
from registry.chain.models import TxResult
from registry.errors import ChainError
from registry.pipelines.effects import Effect, Found
from registry.storage.writelog import ChainWrite
from registry.types import parse_hex32, same_account
from registry.zk.build import CIRCUITS
from registry.zk.bundle import ClaimProof, ProofBundle
from registry.zk.onchain import ClaimLog, calldata_proof, load_deployment, save_deployment

DEPLOYMENT_FILE = "zk-contracts.json"
REORG_MARGIN = 32
"""Blocks before the head at recording where a claim's event is looked for (a reorg may move the head back)."""
_DEPLOYING = threading.Lock()


def claim_args(bundle: ProofBundle, claim: ClaimProof, head: int) -> dict[str, Any]:
    """A ``zk-claim`` write's arguments: *claim* of *bundle*, recorded when the chain's head was *head*."""
    return {"document_hash": bundle.document_hash, "commitment_path": list(bundle.commitment.path),
            "circuit": CIRCUITS.index(claim.circuit), "proof": [str(v) for v in calldata_proof(claim)],
            "public_inputs": [str(v) for v in claim.public_inputs], "claim": claim.claim,
            "from_block": max(1, head - REORG_MARGIN)}


def _call(args: dict[str, Any]) -> tuple[Any, ...]:
    """``record``'s arguments from a write's."""
    return (parse_hex32(args["document_hash"]), [parse_hex32(p) for p in args["commitment_path"]],
            int(args["circuit"]), [int(v) for v in args["proof"]], [int(v) for v in args["public_inputs"]])


class ClaimLogs:
    """This node's ``ZkClaimLog``: the one its data directory records while it is live on this chain, else a
    new one, deployed (once) from a fresh funded account (*new_account*'s)."""

    def __init__(self, chain: ChainClient, data_dir: Path, new_account: Callable[[], LocalAccount]) -> None:
        self.chain = chain
        self.path = data_dir / DEPLOYMENT_FILE
        self.new_account = new_account

    def current(self) -> ClaimLog | None:
        """The recorded claim log, if it is live on this chain (nothing is deployed)."""
        known = load_deployment(self.path)
        if known is None or known.chain_id != self.chain.chain_id:
            return None
        log = ClaimLog(self.chain.w3, known.log)
        try:
            return log if log.has_code() else None
        except (ChainError, ValueError):
            return None

    def live(self) -> ClaimLog:
        """The claim log, deployed first if there is none on this chain (only the process that sends does this)."""
        with _DEPLOYING:
            log = self.current()
            if log is None:
                log = ClaimLog(self.chain.w3)
                save_deployment(self.path, log.deploy_all(self.new_account()))
            return log


class ClaimWrites:
    """Sends ``zk-claim`` writes and finds their ``ClaimVerified`` events (a write handler of the outbox)."""

    def __init__(self, logs: ClaimLogs) -> None:
        self.logs = logs

    def send(self, write: ChainWrite, signer: LocalAccount, wait: float | None) -> TxResult:
        """Record the claim on chain, signed by *signer*.

        A claim log of its own counts the signer's nonces afresh (read from the chain), and the
        registry's client reads them again afterwards: the officer's other writes go through it.
        """
        try:
            return self.logs.live().transact(signer, "record", *_call(write.args), wait=wait)
        finally:
            self.logs.chain.reset_nonces()

    def find(self, write: ChainWrite) -> Found:
        """Whether a ``ClaimVerified`` of this claim, by this signer, is on chain since the write was recorded."""
        log = self.logs.current()
        if log is None:
            return Found(Effect.ABSENT)
        args = write.args
        document_hash, circuit, inputs = parse_hex32(args["document_hash"]), int(args["circuit"]), _call(args)[4]
        digest = ClaimLog.inputs_digest(inputs)
        for event in log.events(int(args["from_block"]), names={"ClaimVerified"}):
            a = event.args
            if bytes(a["documentHash"]) == document_hash and int(a["circuit"]) == circuit and \
                    bytes(a["publicInputs"]) == digest and same_account(a["verifier"], write.signer):
                return Found(Effect.PRESENT, {"claim_log": log.address, "tx_hash": event.tx_hash,
                                              "block_number": event.block_number})
        return Found(Effect.ABSENT)

    def result_of(self, write: ChainWrite, tx: TxResult) -> dict[str, Any] | None:
        """The claim log the claim is recorded in, and the gas its transaction used."""
        log = self.logs.current()
        return {"claim_log": log.address if log is not None else None, "gas_used": tx.gas_used}


__all__ = ["DEPLOYMENT_FILE", "ClaimLogs", "ClaimWrites", "claim_args"]
