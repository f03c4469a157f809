"""One durable outbox for every chain write other than anchoring.

A write is recorded (:class:`~registry.storage.writelog.WriteLog`) before anything is
sent, then driven to the chain by :class:`Outbox`:

1. **Submit.** The API thread records the write and tries to settle it at once,
   within ``bound`` seconds (default 5): it sends every earlier unsettled write
   first (writes reach the chain in the order they were made) and then its own.
   Settled in time, the caller answers as done; otherwise it raises
   :class:`~registry.errors.WritePending` and the API answers ``202`` with the
   write's status URL. The background worker takes over from there.
2. **Send, idempotently.** The attempt counter is bumped *before* a transaction
   goes out. A write that was ever attempted is sent again only after the chain
   was asked whether its effect is already there (:mod:`registry.pipelines.effects`), so a
   crash between sending and recording never doubles it. A refusal by the
   contract is checked the same way: "already revoked" by this very write counts
   as done, anything else marks the write ``refused`` (never sent again).
3. **Settle** when mined at the confirmation depth (a write found on chain after
   an earlier attempt too: from the block its event names, else from the head it
   was found at); then, exactly once, the
   node's own bookkeeping for it runs (an *applier* registered per kind: mark the
   certificate revoked, shred its key, keep the declaration, …).
4. **Watch.** A settled write the chain later loses (a reorg; a managed chain
   killed within its state-dump interval and restarted from an older state
   file) goes back to ``pending`` and is sent again. The check is cheap each
   second (is the newest transaction this node sent still mined?) and complete at
   start and once a minute (every write settled within ``window``).

A write blocks later writes on the same certificate or subject until it settles
(terms before the draw that needs them), not writes about anything else.

What services see is a :class:`WriteQueue`: :class:`Outbox` is the one that sends, and runs in
exactly one process of a node (the chain writer); an API worker process of ``coo up --workers N``
gets a :class:`~registry.pipelines.relay.StoreOutbox` instead, which records the write and waits
for the writer to settle it (:mod:`registry.pipelines.relay`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from eth_account.signers.local import LocalAccount

from registry.chain.client import ChainClient, TxResult
from registry.chain.messages import describe
from registry.errors import ChainError, ConflictError, ContractRevertError, WritePending
from registry.pipelines.effects import ALREADY, ChainEffects, Effect, Found, WriteHandler
from registry.pipelines.worker import Worker
from registry.storage.writelog import ChainWrite, WriteKind, WriteLog, WriteState

log = logging.getLogger("coo.outbox")

Applier = Callable[[ChainWrite], None]
"""The node's own bookkeeping for a settled write (must be idempotent: it may run again after a crash)."""

FULL_CHECK_EVERY = 60.0
"""Seconds between complete checks of the settled writes."""


class WriteQueue:
    """What the services submit chain writes to: the write log, the appliers per kind, and :meth:`submit`.

    Args:
        log_: the write log (the node's store).
        bound: seconds a submitting request may wait for its write.
    """

    def __init__(self, log_: WriteLog, bound: float) -> None:
        self.log = log_
        self.bound = bound
        self._appliers: dict[WriteKind, Applier] = {}
        self._handlers: dict[WriteKind, WriteHandler] = {}

    def handle(self, kind: WriteKind, handler: WriteHandler) -> None:
        """Have *handler* send writes of *kind*, a contract other than the registry's, and find their effect (in
        the process that sends them)."""
        self._handlers[kind] = handler

    def record(self, kind: WriteKind, signer: LocalAccount, args: Mapping[str, Any], *,
               subject: str | None = None) -> ChainWrite:
        """Record a write without waiting for it: a write submitted after it on the same certificate waits for it
        too (one certificate's writes are sent in order, :func:`_lane`)."""
        return self.log.add(kind, signer.address, args, subject=subject)

    def on_settled(self, kind: WriteKind, applier: Applier) -> None:
        """Run *applier* once a write of *kind* settles (in the process that sends it)."""
        self._appliers[kind] = applier

    def applier_for(self, kind: WriteKind) -> Applier | None:
        """What runs once a write of *kind* settles (for a wider applier that runs it first), or None."""
        return self._appliers.get(kind)

    def pending_for(self, subject: str) -> list[ChainWrite]:
        """Unsettled writes about *subject* (e.g. ``status:<document hash>``)."""
        return self.log.open_for(subject)

    def submit(self, kind: WriteKind, signer: LocalAccount, args: Mapping[str, Any], *,
               subject: str | None = None, local: Mapping[str, Any] | None = None) -> ChainWrite:
        """Record a write and wait at most :attr:`bound` seconds for it to settle.

        Returns:
            The settled write (its applier has run).

        Raises:
            WritePending: recorded, not settled yet; it will be.
            ConflictError: the chain refused it.
            ContractRevertError: the contract refuses it (recorded as refused).
        """
        raise NotImplementedError  # pragma: no cover - abstract

    def wake(self) -> None:
        """Tell whoever sends the writes that a new one was recorded."""


class Outbox(WriteQueue, Worker):
    """Record, send, settle and watch chain writes (the one sender of a node's writes).

    Args:
        log_: the write log (the node's store).
        chain: the registry contract client.
        signer_for: the signing account this node holds for an address, or None.
        confirmations: blocks a write's transaction needs (1: mined).
        bound: seconds a submitting request may wait for its write.
        window: how long (seconds) settled writes are watched for loss.
        anchoring_block: the block the store records for an anchoring, where effect scans start.
    """

    def __init__(self, log_: WriteLog, chain: ChainClient, signer_for: Callable[[str], LocalAccount | None], *,
                 confirmations: int = 1, bound: float = 5.0, window: float = 3600.0,
                 anchoring_block: Callable[[bytes], int | None] | None = None) -> None:
        Worker.__init__(self, "coo-outbox", backoff=0.25, max_backoff=2.0)
        WriteQueue.__init__(self, log_, bound)
        self.chain = chain
        self.signer_for = signer_for
        self.confirmations = max(1, confirmations)
        self.window = window
        self.effects = ChainEffects(chain, lambda: self.log.claimed_results(WriteKind.REQUEST, "request_id"),
                                    anchoring_block, self._handlers)
        self._lock = threading.Lock()
        self._guard = threading.Lock()
        self._submitting: set[int] = set()
        """Writes whose submitting request drives them itself (concurrent with the rest: no order among them)."""
        self._wake = threading.Event()
        self._checked_fully_at = 0.0
        self._watched_at = 0.0
        self._chain_down = False

    def wake(self) -> None:
        """Start a round now (a write was recorded by another process: an API worker)."""
        self._wake.set()

    # -- submitting ------------------------------------------------------------------------------

    def submit(self, kind: WriteKind, signer: LocalAccount, args: Mapping[str, Any], *,
               subject: str | None = None, local: Mapping[str, Any] | None = None) -> ChainWrite:
        """Record a write and try to settle it within :attr:`bound` seconds.

        Returns:
            The settled write (its applier has run).

        Raises:
            WritePending: recorded, not settled yet; it will be (the worker sends it).
            ContractRevertError: the contract refuses it (recorded as refused).
        """
        write = self.log.add(kind, signer.address, args, subject=subject, local=local)
        deadline = time.monotonic() + self.bound
        with self._guard:
            self._submitting.add(write.id)
        try:
            if self.failures and self._chain_down:  # the worker's last round could not reach the chain
                raise WritePending(write.id, kind.value, "the chain is not answering; it will be sent when it does")
            if not self._lock.acquire(timeout=self.bound / 2):
                raise WritePending(write.id, kind.value, "earlier writes are still being sent")
            try:
                self._drain(until=write.id, deadline=deadline, wait=self.bound)
            except ContractRevertError:
                raise
            except ChainError as error:
                raise WritePending(write.id, kind.value, str(error)) from error
            finally:
                self._lock.release()
        finally:
            with self._guard:
                self._submitting.discard(write.id)
        done = self.log.get(write.id)
        if done.state is WriteState.REFUSED:
            raise ConflictError(f"the chain refuses this {kind.value}: {done.error}")
        if done.state is not WriteState.SETTLED:
            self._wake.set()
            raise WritePending(write.id, kind.value, done.error or "not on chain yet")
        return done

    # -- the worker --------------------------------------------------------------------------------

    def _interrupt(self) -> None:
        self._wake.set()

    def _idle(self) -> None:
        self._wake.wait(0.5)
        self._wake.clear()

    def _failed(self, error: Exception) -> None:
        self._chain_down = isinstance(error, ChainError)
        if isinstance(error, ChainError):
            self.chain.reset_nonces()  # a transaction may or may not have gone out

    def round(self) -> None:
        """Send what is unsettled; put back what the chain lost."""
        with self._lock:
            for write in self.log.unapplied():  # settled just before a crash
                self._apply(write)
            self._drain()
        self._watch()  # its reads hold no lock: a request's write is not kept waiting behind them

    def _drain(self, until: int | None = None, deadline: float | None = None, wait: float | None = None) -> None:
        """Drive unsettled writes (up to write *until*) towards settlement, in order, per lane.

        Raises:
            ChainError: the chain failed (the write stays pending).
            ContractRevertError: write *until* itself was refused.
        """
        blocked: set[str] = set()
        with self._guard:
            others = self._submitting - {until}
        for write in self.log.unsettled():
            if until is not None and write.id > until:
                break
            if write.id in others:
                continue
            lane = _lane(write)
            if lane in blocked:
                continue
            if deadline is not None and time.monotonic() > deadline:
                raise ChainError("the bound on waiting for the chain was reached")
            if not self._advance(write, raise_refusal=write.id == until, wait=wait):
                blocked.add(lane)

    def _advance(self, write: ChainWrite, *, raise_refusal: bool, wait: float | None) -> bool:
        """Move one write on; True when it no longer holds up its lane."""
        if write.state is WriteState.SENT:
            return self._confirm(write)
        if write.attempts > 0:  # it may be on chain already: never send it blindly twice
            found = self.effects.find(write)
            if found.effect is not Effect.ABSENT:
                return self._take(write, found)
        signer = self.signer_for(write.signer)
        if signer is None:
            self._refuse(write, f"this node holds no signing key for {write.signer}")
            return True
        self.log.mark(write.id, WriteState.PENDING, attempted=True, error=write.error)  # the last failure stays shown
        try:
            tx = self.effects.send(write, signer, wait)
        except ContractRevertError as error:
            return self._refused_on_send(write, error, raise_refusal=raise_refusal)
        except Exception as error:  # the chain (or anything under it) failed: the write stays pending, and says why
            self.log.mark(write.id, WriteState.PENDING, error=f"the last attempt failed: {_reason(error)}")
            raise
        return self._sent(write, tx)

    def _refused_on_send(self, write: ChainWrite, error: ContractRevertError, *, raise_refusal: bool) -> bool:
        """A send the contract refused: the write's own effect if this very write made it before, else final.

        Raises:
            ContractRevertError: *error*, when *raise_refusal*.
        """
        found = self.effects.find(write) if error.name in ALREADY.get(write.kind, ()) else Found(Effect.ABSENT)
        if found.effect is Effect.PRESENT:  # e.g. "declaration recorded": by this very write, before a crash
            return self._take(write, Found(Effect.PRESENT, {**(found.result or {}), "already_on_chain": True}))
        self._refuse(write, f"{describe(error)} ({error.name})")  # for people, and the name for machines
        if raise_refusal:
            raise error
        return True

    def _sent(self, write: ChainWrite, tx: TxResult) -> bool:
        result = self.effects.result_of(write, tx)
        sent = self.log.mark(write.id, WriteState.SENT, tx_hash=tx.tx_hash, block_number=tx.block_number,
                             result=result)
        if self.confirmations > 1:
            return self._confirm(sent)
        self._settle(sent, result)  # mined with status 1: the effect is there
        return True

    def _confirm(self, write: ChainWrite) -> bool:
        """Settle a mined write once it has its confirmations (and its effect is still there)."""
        if write.block_number is not None and self.confirmations > 1 and \
                self.chain.block_number() - write.block_number + 1 < self.confirmations:
            return False
        found = self.effects.find(write)
        if found.effect is not Effect.PRESENT:
            self.log.mark(write.id, WriteState.PENDING, error="its transaction left the chain before settling")
            return False
        self._settle(write, {**(write.result or {}), **(found.result or {})} or None)  # what the send said too
        return True

    def _take(self, write: ChainWrite, found: Found) -> bool:
        """Act on what the chain shows of a write that was attempted before."""
        if found.effect is Effect.PRESENT:
            if self.confirmations > 1:  # on chain is not yet settled: it settles at the depth, as a sent write does
                return self._confirm(self._seen(write, found))
            self._settle(write, found.result)
            return True
        if found.effect is Effect.PRECLUDED:
            self._refuse(write, found.why or "can no longer happen")
            return True
        if write.error != found.why:
            self.log.mark(write.id, WriteState.PENDING, error=found.why)
        return False  # WAIT

    def _seen(self, write: ChainWrite, found: Found) -> ChainWrite:
        """Record a write found on chain as ``sent``: in the block its event names or, for an effect read from
        the chain's state, in the head block now (no earlier block is known to hold it)."""
        result = found.result or {}
        block = result.get("block_number")
        return self.log.mark(write.id, WriteState.SENT, tx_hash=result.get("tx_hash"),
                             block_number=self.chain.block_number() if block is None else int(block),
                             result=found.result)

    def _settle(self, write: ChainWrite, result: Mapping[str, Any] | None) -> None:
        tx = result or {}
        settled = self.log.mark(write.id, WriteState.SETTLED, tx_hash=tx.get("tx_hash"),
                                block_number=tx.get("block_number"), result=result)
        if settled.attempts > 1 or write.error:
            log.warning("chain write %s (%s) is on chain after %s attempts", write.id, write.kind, settled.attempts)
        if not settled.applied:
            self._apply(settled)

    def _apply(self, write: ChainWrite) -> None:
        applier = self._appliers.get(write.kind)
        if applier is not None:
            applier(write)
        self.log.applied(write.id)

    def _refuse(self, write: ChainWrite, why: str) -> None:
        log.error("chain write %s (%s) refused: %s", write.id, write.kind, why)
        self.log.mark(write.id, WriteState.REFUSED, error=why)

    def _watch(self) -> None:
        """Put back to pending the settled writes whose effect the chain no longer shows (at most once a second)."""
        now = time.monotonic()
        if now - self._watched_at < 1.0:
            return
        self._watched_at = now
        settled = self.log.settled_since(time.time() - self.window)
        if not settled:
            return
        if now - self._checked_fully_at < FULL_CHECK_EVERY and not self._newest_lost(settled):
            return
        self._checked_fully_at = now
        suspects = [w for w in settled if self.effects.find(w).effect is not Effect.PRESENT]
        if suspects and self._put_back(suspects):
            self._wake.set()

    def _put_back(self, suspects: list[ChainWrite]) -> bool:
        """Mark pending again the *suspects* still lost when looked at under the lock (a write settled
        meanwhile may have made one moot); True if any was."""
        with self._lock:
            standing = {w.id for w in self.log.settled_since(time.time() - self.window)}
            lost = [w for w in suspects if w.id in standing and self.effects.find(w).effect is not Effect.PRESENT]
            if lost:
                self.chain.reset_nonces()  # the chain lost blocks: nonces counted locally are ahead of it
            for write in lost:
                log.warning("chain write %s (%s) is no longer on chain (reorg or chain restart): sending it again",
                            write.id, write.kind)
                self.log.mark(write.id, WriteState.PENDING, error="lost from the chain; sent again")
        return bool(lost)

    def _newest_lost(self, settled: list[ChainWrite]) -> bool:
        """Whether the newest transaction among *settled* is no longer mined (the cheap per-second check)."""
        mined = [w for w in settled if w.tx_hash is not None]
        if not mined:
            return False
        newest = max(mined, key=lambda w: (w.block_number or 0, w.id))
        return self.chain.mined_in(str(newest.tx_hash)) is None


def _lane(write: ChainWrite) -> str:
    """What a write must wait for: earlier writes on the same certificate, else those of the lane it names
    (a name waits for the authorisation it names), else on the same subject."""
    document_hash = write.args.get("document_hash")
    if document_hash:
        return f"document:{document_hash}"
    return str(write.args.get("lane") or write.subject or f"write:{write.id}")


def _reason(error: Exception) -> str:
    """What a failed attempt shows on the write's status: a registry error's message, else the error's type too."""
    return str(error) if isinstance(error, ChainError) else f"{type(error).__name__}: {error}"


__all__ = ["Applier", "Outbox", "WriteQueue"]
