"""The anchoring pipeline: outbox → Merkle batch → one transaction → anchored.

Accepted certificates wait in the store's durable outbox. One worker thread
takes everything pending for an (issuer, mode), builds one batch tree, sends one
transaction signed by that issuer's account, and marks the batch anchored from
the receipt. A batch flushes when it reaches ``max_size`` certificates or its
oldest entry has waited ``max_wait`` seconds.

Exactly once, across crashes and chain faults: a batch is claimed in one
transaction and its root is recorded (``sent``) *before* its transaction goes
out. A ``sent`` batch is never given back to the outbox: each round settles it
from the chain (anchored: marked so; not anchored: the *same* root is sent
again), so its certificates can never end up under two roots. Only batches that
never got a root are released. A certificate is reported ``anchored`` once its
transaction has ``confirmations`` blocks; batches anchored within the last
``reorg_window`` blocks are re-checked every round, and one whose root left the
canonical chain (a reorg) goes back to the outbox to be anchored again. Every
other chain write goes through :mod:`registry.pipelines.outbox`.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from registry.chain.client import BatchRecord, ChainClient
from registry.chain.refusals import Refusal
from registry.custody.keys import DataKey, decrypt, encrypt
from registry.custody.vault import KeyVault
from registry.domain.states import BatchState, Mode
from registry.errors import ChainError, ContractRevertError
from registry.pipelines.worker import Worker
from registry.sealing.document import build_batch
from registry.sealing.merkle import MerkleTree
from registry.sealing.record import published_record
from registry.storage.store import BatchRow, CertificateRow, Store
from registry.types import hex32

log = logging.getLogger("coo.anchoring")


def chain_payload(data_key: DataKey | bytes, record: bytes, document_hash: bytes, issuer: str) -> bytes:
    """The sealed record, DEFLATE-compressed, then AES-GCM under the certificate's data key.

    Bound (AAD) to the document hash and the issuer, so any member node holding the
    data key can open it from the event log, and only for that document.
    """
    return encrypt(data_key, zlib.compress(record, 9), hex32(document_hash), issuer)


def open_chain_payload(data_key: DataKey | bytes, payload: bytes, document_hash: bytes, issuer: str) -> bytes:
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
    max_encrypted_size: int = 24
    """Encrypted-payload batches carry ~4.4 KB of ciphertext (~200,000 gas) per certificate: 24 keep one
    anchoring transaction (~108 KB) under the 128 KiB that geth-family transaction pools (geth, Besu) accept,
    and well inside a 30M block gas limit. (64 made a ~293 KB transaction, which those pools drop.)"""
    confirmations: int = 1
    """Blocks a transaction needs (itself included) before its certificates count as anchored."""
    reorg_window: int = 32
    """How many recent blocks of anchored batches are re-checked for a reorg each round."""
    reorg_every: float = 1.0
    """Seconds between two looks for a reorg (each one request while the head block is unchanged)."""


class Anchorer(Worker):
    """Background worker that anchors the outbox.

    Args:
        store: the node's store.
        chain: the registry contract client.
        vault: to encrypt payloads in encrypted mode.
        signer_for: the issuer's signing account, by address.
        policy: flush thresholds, confirmations, reorg window.
    """

    def __init__(self, store: Store, chain: ChainClient, vault: KeyVault,
                 signer_for: Callable[[str], LocalAccount | None], policy: BatchPolicy | None = None) -> None:
        super().__init__("coo-anchorer", backoff=0.5, max_backoff=2.0)
        self.store = store
        self.chain = chain
        self.vault = vault
        self.signer_for = signer_for
        self.policy = policy or BatchPolicy()
        self._wake = threading.Event()
        self._lock = threading.RLock()
        self._recovered = False
        self._watched_at = 0.0
        self._head: int | None = None
        self._watched: tuple[int, bytes, tuple[int, ...]] | None = None

    # -- lifecycle (start / stop / running from Worker; a stopped worker leaves
    #    pending entries in the durable outbox, and a started one settles what a
    #    crash left unfinished first) ---------------------------------------------

    def _interrupt(self) -> None:
        self._wake.set()

    def wake(self) -> None:
        """Tell the worker new entries arrived."""
        self._wake.set()

    def round(self) -> None:
        """Settle what a crash left unfinished (first round only), flush what is due, watch for reorgs."""
        if not self._recovered:
            self.recover()
            self._recovered = True
        self.flush(force=False)
        self.watch_reorgs()

    def _idle(self) -> None:
        self._wake.wait(self.policy.max_wait / 2)
        self._wake.clear()

    def _failed(self, error: Exception) -> None:
        if isinstance(error, ChainError):
            self.chain.reset_nonces()  # a transaction may or may not have gone out

    # -- work ------------------------------------------------------------------------------

    def flush(self, force: bool = True) -> int:
        """Settle sent batches, then anchor what is due (everything pending when *force*).

        Returns:
            How many certificates were anchored or settled.

        Raises:
            ChainError: the chain failed; what was sent stays ``sent`` and is settled later.
        """
        done = 0
        with self._lock:
            done += self.settle_sent()
            age = self.store.oldest_pending_age()
            for issuer, mode, count in self.store.pending_groups():
                if not force and count < self.policy.max_size and (age is None or age < self.policy.max_wait):
                    continue
                limit = self.policy.max_encrypted_size if mode == Mode.ENCRYPTED else self.policy.max_size
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
        # the root is fixed before anything goes out, and the head it went out after
        self.store.mark_batch_sent(batch.id, tree.root, "", sent_block=self._floor())
        return self._send(batch.id, batch.issuer, batch.mode, signer, members, tree)

    # Complexity (radon C): one send per mode; the AlreadyAnchored revert settles, any other revert releases
    def _send(self, batch_id: int, issuer: str, mode: str, signer: LocalAccount, members: list[CertificateRow],
              tree: MerkleTree) -> int:
        try:
            if mode == Mode.ENCRYPTED:
                payloads = [self._payload(m) for m in members]
                result = self.chain.anchor_with_payloads(signer, tree.root, [m.document_hash for m in members],
                                                         payloads)
            else:
                result = self.chain.anchor(signer, tree.root, len(members))
        except ContractRevertError as error:
            if error.name == Refusal.ALREADY_ANCHORED:
                return self._settle(batch_id, issuer, members, tree)
            self.store.release_batch(batch_id, error.name)
            raise ChainError(f"anchoring refused by the contract: {error}") from error
        if self.policy.confirmations > 1:
            self.store.mark_batch_sent(batch_id, tree.root, result.tx_hash)
            return 0  # settled by a later round once deep enough
        # settled at once: the transaction is recorded with the anchored mark, in one store write (a crash before
        # it leaves the batch `sent` with its root, which the next round settles from the chain)
        anchored_at = next((e.block_time for e in result.events if e.name == "BatchAnchored" and e.block_time), None) \
            or self.chain.batch_of(tree.root).anchored_at
        self._mark(batch_id, members, tree, result.block_number, anchored_at, tx_hash=result.tx_hash)
        log.info("anchored batch %s: %d certificate(s) in block %d", batch_id, len(members), result.block_number)
        return len(members)

    def _mark(self, batch_id: int, members: list[CertificateRow], tree: MerkleTree,
              block: int, anchored_at: int, *, tx_hash: str | None = None) -> None:
        proofs = {m.id: [hex32(p) for p in tree.proof(i)] for i, m in enumerate(members)}
        self.store.mark_batch_anchored(batch_id, block, anchored_at, proofs, root=tree.root, tx_hash=tx_hash)

    def _payload(self, member: CertificateRow) -> bytes:
        """Ciphertext published on chain for one certificate (see :func:`chain_payload`): its record without the
        zero-knowledge opening, which stays with the issuer and the holder (a released key opens no confidential
        figure)."""
        plaintext = published_record(self.vault.decrypt_record(member.id, member.issuer))
        return chain_payload(self.vault.data_key(member.id), plaintext, member.document_hash, member.issuer)

    def _floor(self) -> int:
        """A block no later than any transaction sent from now on can be mined in (the last head seen, less
        the reorg window; never the genesis block): where scans for its events start."""
        if self._head is None:
            self._head = self.chain.block_number()
        return max(1, self._head - self.policy.reorg_window)

    def settle_sent(self) -> int:
        """Settle every ``sent`` batch from the chain: mark it anchored, or send the same root again."""
        done = 0
        for batch in self.store.unfinished_batches():
            if batch.state != BatchState.SENT or batch.root is None:
                continue
            members = self.store.batch_members(batch.id)
            tree = build_batch([m.document_hash for m in members])
            record = self.chain.batch_of(batch.root)
            if record.issuer is None:
                signer = self.signer_for(batch.issuer)
                if signer is not None:
                    done += self._send(batch.id, batch.issuer, batch.mode, signer, members, tree)
                continue
            done += self._settle(batch.id, batch.issuer, members, tree, record)
        return done

    def _settle(self, batch_id: int, issuer: str, members: list[CertificateRow], tree: MerkleTree,
                record: BatchRecord | None = None) -> int:
        record = record or self.chain.batch_of(tree.root)
        if record.issuer is None or record.issuer.lower() != issuer.lower():
            return 0
        events = self.chain.anchorings(tree.root, self.store.anchoring_block(tree.root))
        block = events[-1].block_number if events else 0
        if block and self.chain.block_number() - block + 1 < self.policy.confirmations:
            return 0
        self._mark(batch_id, members, tree, block, record.anchored_at)
        return len(members)

    def watch_reorgs(self, *, force: bool = False) -> int:
        """Return to the outbox every recently anchored batch whose root is no longer on chain
        (at most once a second).

        One request per round while nothing changed (the head block, whose hash changes with any reorg
        that could undo an anchoring), and one JSON-RPC batch of ``batchOf`` for every recently anchored
        batch when the head block or the batches to watch changed: never one request per batch.
        """
        now = time.monotonic()
        if not force and now - self._watched_at < self.policy.reorg_every:
            return 0
        self._watched_at = now
        head, head_hash = self.chain.head()
        self._head = head
        batches = [b for b in self.store.anchored_since(head - self.policy.reorg_window) if b.root is not None]
        seen = (head, head_hash, tuple(b.id for b in batches))
        if not force and seen == self._watched:
            return 0
        moved = self._unanchor_gone(batches)
        self._watched = None if moved else seen
        if moved:
            self.wake()
        return moved

    def _unanchor_gone(self, batches: list[BatchRow]) -> int:
        """Return to the outbox each of *batches* whose root is no longer on chain (one batched read); how many."""
        moved = 0
        records = self.chain.batches_of([b.root for b in batches if b.root is not None])
        for batch, record in zip(batches, records, strict=True):
            if record.issuer is None:
                log.warning("batch %s left the canonical chain (reorg): anchoring it again", batch.id)
                self.store.unanchor_batch(batch.id, "reorg")
                self.chain.reset_nonces()
                moved += 1
        return moved

    def recover(self) -> None:
        """After a crash: release batches that never got a root; settle the ``sent`` ones."""
        with self._lock:
            for batch in self.store.unfinished_batches():
                if batch.state == BatchState.SENDING or batch.root is None:
                    self.store.release_batch(batch.id, "interrupted before sending")
                    log.info("released batch %s (never sent)", batch.id)
            self.settle_sent()
