"""The anchoring pipeline: outbox → Merkle batch → one transaction → anchored.

Accepted certificates wait in the store's durable outbox. One worker thread
takes everything pending for an (issuer, mode), builds one batch tree, sends one
transaction signed by that issuer's account, and marks the batch anchored from
the receipt. A batch flushes when it reaches ``max_size`` certificates or its
oldest entry has waited ``max_wait`` seconds.

Crash safety: a batch is claimed in one transaction, its root and tx hash are
recorded before waiting for the receipt, and on start :meth:`Anchorer.recover`
settles every unfinished batch: anchored on chain → marked so; otherwise given
back to the outbox. A root is never anchored twice (the contract refuses it).
"""

from __future__ import annotations

import json
import logging
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from registry.chain import ChainClient
from registry.errors import ChainError, ContractRevertError, RegistryError
from registry.hashing import build_batch
from registry.keys import KeyVault, decrypt, encrypt
from registry.store import BatchRow, CertificateRow, Store
from registry.types import hex32

log = logging.getLogger("coo.anchoring")


def chain_payload(data_key: bytes, record: bytes, document_hash: bytes, issuer: str) -> bytes:
    """The sealed record, DEFLATE-compressed, then AES-GCM under the certificate's data key.

    Bound (AAD) to the document hash and the issuer, so any member node holding the
    data key can open it from the event log, and only for that document.
    """
    return encrypt(data_key, zlib.compress(record, 9), hex32(document_hash), issuer)


def open_chain_payload(data_key: bytes, payload: bytes, document_hash: bytes, issuer: str) -> bytes:
    """Reverse :func:`chain_payload`.

    Raises:
        DecryptionError: wrong key, document or issuer, or tampering.
    """
    return zlib.decompress(decrypt(data_key, payload, hex32(document_hash), issuer))


@dataclass(frozen=True)
class BatchPolicy:
    """When a batch is flushed."""

    max_size: int = 1024
    max_wait: float = 0.25
    max_encrypted_size: int = 64
    """Encrypted-payload batches carry ~3.6 KB of ciphertext (~150,000 gas) per certificate:
    64 keep one anchoring well inside a 30M block gas limit."""


class Anchorer:
    """Background worker that anchors the outbox.

    Args:
        store: the node's store.
        chain: the registry contract client.
        vault: to encrypt payloads in encrypted mode.
        signer_for: the issuer's signing account, by address.
        policy: flush thresholds.
    """

    def __init__(self, store: Store, chain: ChainClient, vault: KeyVault,
                 signer_for: Callable[[str], LocalAccount | None], policy: BatchPolicy | None = None) -> None:
        self.store = store
        self.chain = chain
        self.vault = vault
        self.signer_for = signer_for
        self.policy = policy or BatchPolicy()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Settle unfinished batches, then run the worker thread."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="coo-anchorer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the worker (pending entries stay in the durable outbox)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wake(self) -> None:
        """Tell the worker new entries arrived."""
        self._wake.set()

    def _run(self) -> None:
        recovered = False
        while not self._stop.is_set():
            try:
                if not recovered:
                    self.recover()
                    recovered = True
                self.flush(force=False)
                self.last_error = None
            except ChainError as error:
                self.last_error = str(error)
                log.warning("anchoring paused: %s", error)
                self._stop.wait(1.0)
            except RegistryError as error:  # pragma: no cover - defensive: keep the worker alive
                self.last_error = str(error)
                log.error("anchoring error: %s", error)
                self._stop.wait(1.0)
            self._wake.wait(self.policy.max_wait / 2)
            self._wake.clear()

    # -- work ------------------------------------------------------------------------------

    def flush(self, force: bool = True) -> int:
        """Anchor what is due (everything pending when *force*); return how many certificates."""
        done = 0
        with self._lock:
            age = self.store.oldest_pending_age()
            for issuer, mode, count in self.store.pending_groups():
                if not force and count < self.policy.max_size and (age is None or age < self.policy.max_wait):
                    continue
                limit = self.policy.max_encrypted_size if mode == "encrypted" else self.policy.max_size
                while True:
                    claimed = self.store.claim_batch(issuer, mode, limit)
                    if claimed is None:
                        break
                    batch, members = claimed
                    done += self._anchor(batch, members)
        return done

    def _anchor(self, batch: BatchRow, members: list[CertificateRow]) -> int:
        signer = self.signer_for(batch.issuer)
        if signer is None:
            self.store.release_batch(batch.id, "no key for issuer")
            raise ChainError(f"this node holds no key for issuer {batch.issuer}")
        tree = build_batch([m.document_hash for m in members])
        try:
            if batch.mode == "encrypted":
                payloads = [self._payload(m) for m in members]
                result = self.chain.anchor_with_payloads(signer, tree.root, [m.document_hash for m in members], payloads)
            else:
                result = self.chain.anchor(signer, tree.root, len(members))
        except ContractRevertError as error:
            if error.name == "CertificateRegistryAlreadyAnchored":
                # sent before a crash and mined: settle from the chain
                self._settle_from_chain(batch, members)
                return len(members)
            self.store.release_batch(batch.id, error.name)
            raise ChainError(f"anchoring refused by the contract: {error}") from error
        except ChainError:
            self.store.release_batch(batch.id, "chain error")
            raise
        self.store.mark_batch_sent(batch.id, tree.root, result.tx_hash)
        anchored_at = next((e.block_time for e in result.events if e.name == "BatchAnchored" and e.block_time), None) \
            or self.chain.batch_of(tree.root).anchored_at
        proofs = {m.id: [hex32(p) for p in tree.proof(i)] for i, m in enumerate(members)}
        self.store.mark_batch_anchored(batch.id, result.block_number, anchored_at, proofs)
        log.info("anchored batch %s: %d certificate(s) in block %d", batch.id, len(members), result.block_number)
        return len(members)

    def _payload(self, member: CertificateRow) -> bytes:
        """Ciphertext published on chain for one certificate (see :func:`chain_payload`)."""
        plaintext = self.vault.decrypt_record(member.id, member.issuer)
        return chain_payload(self.vault.data_key(member.id), plaintext, member.document_hash, member.issuer)

    def _settle_from_chain(self, batch: BatchRow, members: list[CertificateRow]) -> None:
        tree = build_batch([m.document_hash for m in members])
        record = self.chain.batch_of(tree.root)
        if record.issuer is None or record.issuer.lower() != batch.issuer.lower():
            self.store.release_batch(batch.id, "root not anchored by this issuer")
            return
        proofs = {m.id: [hex32(p) for p in tree.proof(i)] for i, m in enumerate(members)}
        self.store.mark_batch_anchored(batch.id, 0, record.anchored_at, proofs, root=tree.root)

    def recover(self) -> None:
        """Settle batches left unfinished by a crash: anchored ones are marked, the rest released."""
        with self._lock:
            for batch in self.store.unfinished_batches():
                members = self.store.batch_members(batch.id)
                if not members:
                    self.store.release_batch(batch.id, "empty")
                    continue
                self._settle_from_chain(batch, members)
                log.info("recovered batch %s (%s)", batch.id, json.dumps(batch.state))
