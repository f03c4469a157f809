"""The key vault: per-certificate data keys under epoch KEKs, and erasure that closes the epoch.

Hierarchy (see :mod:`registry.custody.epochs`): the root KEK wraps epoch KEKs (files);
the current epoch KEK wraps every live data key (``wrapped_keys``, and
``released_keys`` for keys other nodes released to this one); a data key
encrypts its certificate's sealed document, number and audit contents. A wrapped
key is stored as ``"E" ‖ epoch (4 bytes) ‖ nonce ‖ ciphertext ‖ tag``; the older
60-byte form was wrapped under the root KEK and is re-wrapped at start.

What the database holds of a certificate in clear: its id, issuer, countries,
mode, status, document hash and batch (all on chain or derived from it). The
number is kept sealed under the data key, with a lookup tag keyed by the
current epoch; the idempotency fingerprint is an HMAC under the data key.

Erasure (:meth:`KeyVault.destroy_key`, :meth:`KeyVault.forget_released`):

1. one transaction deletes the wrapped key and sealed document (or the released
   key), drops the receipts' sealed contents and the number tag, and records the
   erasure as ``erasing``;
2. :meth:`KeyVault.close_epoch` opens a new epoch, re-wraps every live key and
   re-tags every number under it in one transaction that also marks erasures
   ``erased``, then destroys the old epoch files;
3. a crash between the steps leaves ``erasing`` rows (or two epoch files); the
   next start finishes step 2 before serving.

Copies SQLite keeps of deleted rows (WAL frames pinned by a reader, free pages,
a journal) are then wrapped under an epoch key that no longer exists.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

from registry.custody.epochs import EpochKeyring
from registry.custody.keys import KEK, DataKey, DestructionReceipt, decrypt, encrypt, record_aad
from registry.errors import ConflictError, KeyDestroyedError, KeyVaultError, NotFoundError
from registry.pipelines.worker import Worker
from registry.storage.customs import CustomsRecords
from registry.storage.store import Store
from registry.types import hex32

log = logging.getLogger("coo.vault")

_LEGACY_WRAPPED = 60
_EPOCH_MARK = b"E"
UNDER_GIL = 2047
"""Bytes per update of a MAC that keep it under the GIL (:mod:`hashlib` releases it from 2,048 on)."""


class _SharedLock:
    """Many holders of the shared side, or one of the exclusive side; shared holds may nest.

    Shared: whoever wraps a new key and stores it. Exclusive: closing an epoch.
    Never take the shared side while holding a store write transaction.

    Held across the node's processes too (``coo up --workers N``): each hold also takes
    an ``flock`` of the same kind on *path*, on a descriptor of its own (flock locks
    belong to an open file, so threads of one process do not release each other's).
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._cond = threading.Condition()
        self._shared = 0
        self._exclusive = False

    @contextmanager
    def _file_lock(self, kind: int) -> Iterator[None]:
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            fcntl.flock(fd, kind)
            yield
        finally:
            os.close(fd)  # releases the flock

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._exclusive)
            self._shared += 1
        try:
            with self._file_lock(fcntl.LOCK_SH):
                yield
        finally:
            with self._cond:
                self._shared -= 1
                self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._exclusive and self._shared == 0)
            self._exclusive = True
        try:
            with self._file_lock(fcntl.LOCK_EX):
                yield
        finally:
            with self._cond:
                self._exclusive = False
                self._cond.notify_all()


def _tag_secret(kek: KEK) -> bytes:
    """The key of the number tags under an epoch's KEK."""
    return kek.derive("number-tag")


def _tag_with(secret: bytes, issuer: str, number: str) -> str:
    """The lookup tag of (issuer, number) under *secret* (:func:`_tag_secret`): an HMAC, never the number."""
    message = issuer.lower().encode() + b"\x00" + number.encode()
    return "t:" + hmac.new(secret, message, "sha256").hexdigest()


def released_ref(document_hash: bytes) -> str:
    """The name a released key is bound to when wrapped (its AAD)."""
    return "released:" + hex32(document_hash)


class KeyVault:
    """Data keys over the store; the only code that sees them unwrapped.

    Args:
        store: where wrapped keys, sealed documents and receipts live.
        kek: the node's root key-encryption key.
        keyring: the epoch KEKs (default: ``keys/`` beside the database).

    On construction the vault attaches itself to the store (certificate numbers are
    kept sealed from then on) and finishes any erasure a crash interrupted.
    """

    def __init__(self, store: Store, kek: KEK, keyring: EpochKeyring | None = None) -> None:
        self._store = store
        self._root = kek
        self._ring = keyring or EpochKeyring(store.path.parent / "keys", kek)
        self._released = CustomsRecords(store)
        self._lock = _SharedLock(store.path.parent / "keys.lock")
        self._rotation = threading.Lock()
        self._pinned = threading.local()  # per thread: (epoch, KEK) read when its wrapping() hold began
        store.attach_sealer(self)
        if len(self._ring.epochs()) > 1 or store.erasing() or self._has_legacy():
            self.close_epoch()

    def __repr__(self) -> str:
        return f"KeyVault(store={self._store.path!s})"

    # -- wrapping -------------------------------------------------------------------------

    def _wrap(self, key: DataKey, ref: str, epoch: int | None = None) -> bytes:
        epoch, kek = self._current() if epoch is None else (epoch, self._ring.key(epoch))
        return _EPOCH_MARK + epoch.to_bytes(4, "big") + kek.wrap(key, ref)

    def _current(self) -> tuple[int, KEK]:
        """The current epoch and its KEK: those this thread's :meth:`wrapping` hold read, else the keyring's now."""
        pinned: tuple[int, KEK] | None = getattr(self._pinned, "current", None)
        if pinned is not None:
            return pinned
        epoch = self._ring.current
        return epoch, self._ring.key(epoch)

    def _unwrap(self, wrapped: bytes, ref: str) -> DataKey:
        if len(wrapped) == _LEGACY_WRAPPED:
            return self._root.unwrap(wrapped, ref)
        if wrapped[:1] != _EPOCH_MARK:
            raise KeyVaultError(f"the wrapped key of {ref} has an unknown format")
        return self._ring.key(int.from_bytes(wrapped[1:5], "big")).unwrap(wrapped[5:], ref)

    def _has_legacy(self) -> bool:
        return self._store.has_legacy_wrapping(_LEGACY_WRAPPED)

    @contextmanager
    def wrapping(self) -> Iterator[None]:
        """Hold while wrapping new keys and storing them: no epoch closes in between.

        No process opens or destroys an epoch while any holds this (:meth:`close_epoch` takes the
        exclusive side), so the current epoch and its KEK are read once as the hold begins and every
        key wrapped or number tagged inside uses them, without looking at the key directory again.
        """
        with self._lock.shared():
            outer = getattr(self._pinned, "current", None)
            self._pinned.current = self._current()
            try:
                yield
            finally:
                self._pinned.current = outer

    def new_wrapped_key(self, certificate_id: str) -> tuple[DataKey, bytes]:
        """A fresh data key and its wrapped form, for :meth:`registry.storage.store.Store.insert_certificates`.

        Nothing is stored: the caller writes the wrapped key in the same transaction
        as the certificate, inside :meth:`wrapping` so the epoch cannot close first.
        """
        key = DataKey.generate()
        return key, self._wrap(key, certificate_id)

    def create_key(self, certificate_id: str, issuer: str) -> DataKey:
        """Create, wrap and store the data key of an already recorded certificate.

        Raises:
            NotFoundError: unknown certificate.
            ConflictError: *issuer* is not the certificate's issuer, it already has a key,
                or its key was destroyed (an erased certificate is never re-keyed).
        """
        row = self._store.certificate(certificate_id)
        if row.issuer.lower() != issuer.lower():
            raise ConflictError(f"certificate {certificate_id} belongs to another issuer")
        key = DataKey.generate()
        with self._lock.shared():
            self._store.put_wrapped_key(certificate_id, self._wrap(key, certificate_id))
        return key

    def data_key(self, certificate_id: str, wrapped: bytes | None = None) -> DataKey:
        """The unwrapped data key of *certificate_id*; from *wrapped* when the caller already read it
        (:meth:`registry.storage.store.Store.held_certificate`), else read from the store.

        Nothing is cached: every call unwraps again, so an erasure takes effect at once in every process.

        Raises:
            KeyDestroyedError: after :meth:`destroy_key`.
            NotFoundError: the certificate has no key.
            DecryptionError: the wrapped key fails authentication (wrong KEK, tampering).
        """
        wrapped = self._store.wrapped_key(certificate_id) if wrapped is None else wrapped
        if wrapped is None:
            if self._store.destruction_receipt(certificate_id) is not None:
                raise KeyDestroyedError(certificate_id)
            raise NotFoundError("data key", certificate_id)
        return self._unwrap_fresh(wrapped, certificate_id, lambda: self._store.wrapped_key(certificate_id))

    def _unwrap_fresh(self, wrapped: bytes, ref: str, reread: Callable[[], bytes | None]) -> DataKey:
        """Unwrap; if an epoch closed between reading and unwrapping, read the re-wrapped key once more.

        Reads take no lock (a reader inside a store transaction must never wait for
        :meth:`close_epoch`, which needs that transaction's write lock).
        """
        try:
            return self._unwrap(wrapped, ref)
        except KeyVaultError:
            again = reread()
            if again is None or again == wrapped:
                raise
            return self._unwrap(again, ref)

    def export_key(self, certificate_id: str) -> bytes:
        """The raw data key, for key release to a party entitled to the contents.

        WARNING: an exported key is out of the vault's reach: destroying the key
        later does not destroy the copy. Release it only to an entitled party.

        Raises:
            KeyDestroyedError: after :meth:`destroy_key`.
            NotFoundError: the certificate has no key.
        """
        return self.data_key(certificate_id).unsafe_bytes()

    def encrypt_for(self, certificate_id: str, issuer: str, plaintext: bytes) -> bytes:
        """Encrypt *plaintext* under the certificate's data key, bound to certificate id and issuer.

        Raises:
            KeyDestroyedError: after :meth:`destroy_key`.
            NotFoundError: the certificate has no key.
        """
        return encrypt(self.data_key(certificate_id), plaintext, certificate_id, issuer)

    def decrypt_for(self, certificate_id: str, issuer: str, ciphertext: bytes) -> bytes:
        """Decrypt a record of the certificate.

        Raises:
            KeyDestroyedError: after :meth:`destroy_key`.
            NotFoundError: the certificate has no key.
            DecryptionError: wrong certificate or issuer, or tampered ciphertext.
        """
        return decrypt(self.data_key(certificate_id), ciphertext, certificate_id, issuer)

    def decrypt_record(self, certificate_id: str, issuer: str, key: DataKey | None = None,
                       blob: bytes | None = None) -> bytes:
        """Decrypt the stored sealed document (certificate and salts) of a certificate; under *key* and
        from *blob* when the caller already holds them (one unwrap and one read per verification).

        Raises:
            KeyDestroyedError: the key and the document were destroyed.
            NotFoundError: nothing stored for the certificate.
            DecryptionError: the document failed authentication.
        """
        key = self.data_key(certificate_id) if key is None else key
        blob = self._store.sealed_record(certificate_id) if blob is None else blob
        if blob is None:
            raise NotFoundError("sealed document", certificate_id)
        return decrypt(key, blob, certificate_id, issuer)

    # -- numbers and fingerprints (what would otherwise be in clear) -----------------------

    def number_tag(self, issuer: str, number: str) -> str:
        """The lookup tag of (issuer, number) under the current epoch (an HMAC, never the number).

        Holds the shared side, so an epoch cannot close between computing the tag and using
        it: call it outside store transactions, or inside :meth:`wrapping`.
        """
        return self.number_tags(issuer, [number])[number]

    def number_tags(self, issuer: str, numbers: Iterable[str]) -> dict[str, str]:
        """:meth:`number_tag` of each of *numbers* (by number), with one key derivation for them all.

        Holds the shared side as :meth:`number_tag` does.
        """
        with self._lock.shared():
            secret = _tag_secret(self._current()[1])
            return {number: _tag_with(secret, issuer, number) for number in numbers}

    def _tag(self, epoch: int, issuer: str, number: str) -> str:
        return _tag_with(_tag_secret(self._ring.key(epoch)), issuer, number)

    @staticmethod
    def seal_number(key: DataKey, certificate_id: str, issuer: str, number: str) -> bytes:
        """The certificate number encrypted under its data key (for ``NewCertificate.number_sealed``)."""
        return key.encrypt(number.encode(), b"coo-number/1|" + record_aad(certificate_id, issuer))

    @staticmethod
    def seal_terms(key: DataKey, certificate_id: str, issuer: str, plain: bytes) -> bytes:
        """A certificate's committed terms (:func:`~registry.sealing.terms.terms_plain`) encrypted under its data
        key, apart from its sealed document, so a verification by hash opens a few hundred bytes, not the document."""
        return key.encrypt(plain, _terms_aad(certificate_id, issuer))

    @staticmethod
    def open_terms(key: DataKey, certificate_id: str, issuer: str, sealed: bytes) -> bytes:
        """What :meth:`seal_terms` sealed.

        Raises:
            DecryptionError: *sealed* is not the terms of this certificate under *key*.
        """
        return key.decrypt(sealed, _terms_aad(certificate_id, issuer))

    def reveal_number(self, certificate_id: str, issuer: str, sealed: bytes) -> str:
        """The certificate number ("" once the key is destroyed)."""
        try:
            key = self.data_key(certificate_id)
        except (KeyDestroyedError, NotFoundError):
            return ""
        return key.decrypt(sealed, b"coo-number/1|" + record_aad(certificate_id, issuer)).decode()

    @staticmethod
    def fingerprint(key: DataKey, canonical_body: bytes) -> bytes:
        """The idempotency fingerprint of a request body: an HMAC under the certificate's data key.

        Once the key is destroyed, nothing kept confirms a guessed body. The body (about 2.3 KB) is fed in
        pieces shorter than :data:`UNDER_GIL`: OpenSSL's HMAC in :mod:`hashlib` releases the GIL for an
        update of 2,048 bytes or more, and under load each release hands the interpreter to another
        thread (the same digest as one update of the whole: ``tests/registry/custody/test_vault.py``).
        """
        mac = hmac.new(key.unsafe_bytes(), b"coo-fingerprint/1|", "sha256")
        view = memoryview(canonical_body)
        for start in range(0, len(view), UNDER_GIL):
            mac.update(view[start:start + UNDER_GIL])
        return mac.digest()

    def same_body(self, certificate_id: str, fingerprint: bytes, canonical_body: bytes) -> bool:
        """True when *canonical_body* is the body *fingerprint* was made of (constant-time); False once erased."""
        try:
            key = self.data_key(certificate_id)
        except (KeyDestroyedError, NotFoundError):
            return False
        legacy = hashlib.sha256(canonical_body).digest()  # unkeyed, by versions before the key epochs
        return hmac.compare_digest(self.fingerprint(key, canonical_body), fingerprint) or hmac.compare_digest(
            legacy, fingerprint)

    # -- released keys (other nodes' certificates) -------------------------------------------

    def keep_released(self, document_hash: bytes, issuer: str, key: bytes) -> None:
        """Keep a data key another node released to this one, wrapped under the current epoch."""
        with self._lock.shared():
            self._released.put_released_key(document_hash, issuer,
                                            self._wrap(DataKey(key), released_ref(document_hash)))

    def released_key(self, document_hash: bytes) -> DataKey | None:
        """The released data key of *document_hash*, or None if this node holds none."""
        held = self._released.released_key(document_hash)
        if held is None:
            return None

        def reread() -> bytes | None:
            again = self._released.released_key(document_hash)
            return None if again is None else again[1]

        return self._unwrap_fresh(held[1], released_ref(document_hash), reread)

    def forget_released(self, document_hash: bytes, issuer: str) -> bool:
        """Crypto-shred the key *issuer* released (its certificate was erased) and close the key epoch.

        WARNING: irreversible.

        Returns:
            True if this node held the key.
        """
        held = self._released.forget_released_key(document_hash, issuer)
        self.finish_erasures()
        return held

    def finish_erasures(self) -> int:
        """Close the key epoch if an erasure is waiting for it (e.g. a released key the chain index dropped).

        Returns:
            How many erasures this completed.
        """
        return self.close_epoch() if self._store.erasing() else 0

    def key_for_document(self, document_hash: bytes) -> tuple[str, DataKey] | None:
        """(binding name, data key) this node holds for *document_hash*: its own, or a released one."""
        row = self._store.by_document_hash(document_hash)
        if row is not None:
            try:
                return row.id, self.data_key(row.id)
            except (KeyDestroyedError, NotFoundError):
                return None
        key = self.released_key(document_hash)
        return None if key is None else (released_ref(document_hash), key)

    # -- erasure ----------------------------------------------------------------------------

    def close_epoch(self) -> int:
        """Re-wrap every live key under a new epoch KEK, then destroy the older epoch KEKs.

        WARNING: destroys key material: whatever is still wrapped under an older
        epoch (the keys of erased certificates, wherever SQLite kept them) is gone.

        Returns:
            How many erasures this completed.
        """
        with self._rotation, self._lock.exclusive():
            old = self._ring.epochs()
            new = self._ring.open_new()

            def retag(cid: str, issuer: str, number: str, sealed: bytes | None,
                      wrapped: bytes) -> tuple[str, bytes]:
                key = self._unwrap(wrapped, cid)
                if sealed is None:
                    sealed = self.seal_number(key, cid, issuer, number)
                clear = key.decrypt(sealed, b"coo-number/1|" + record_aad(cid, issuer)).decode()
                return self._tag(new, issuer, clear), sealed

            done = self._store.rekey(
                lambda cid, wrapped: self._wrap(self._unwrap(wrapped, cid), cid, new),
                lambda digest, wrapped: self._wrap(self._unwrap(wrapped, released_ref(digest)),
                                                   released_ref(digest), new),
                retag)
            for epoch in old:
                self._ring.unsafe_destroy(epoch)
        self._store.try_truncate_wal()  # housekeeping only: nothing relies on it
        return done

    def destroy_key(self, certificate_id: str, document_hash: bytes, signer: LocalAccount) -> DestructionReceipt:
        """Crypto-shred a certificate: delete its data key and sealed document, close the epoch, sign a receipt.

        WARNING: irreversible. Afterwards nobody, this node included, can read the
        certificate's contents or salts, on this node or (encrypted mode) on chain.
        The caller records the erasure on chain.

        Args:
            certificate_id: the certificate to erase.
            document_hash: its 32-byte document hash (must match the record).
            signer: the node's account; it signs the receipt (EIP-191).

        Returns:
            The signed receipt (also kept in the store); the erasure is ``erased`` when this returns.

        Raises:
            NotFoundError: unknown certificate.
            ConflictError: *document_hash* is not the certificate's.
            KeyDestroyedError: the key was already destroyed.
        """
        row = self._store.certificate(certificate_id)
        if not hmac.compare_digest(row.document_hash, document_hash):
            raise ConflictError(f"0x{document_hash.hex()} is not the document hash of certificate {certificate_id}")
        unsigned = DestructionReceipt(
            certificate_id=certificate_id,
            document_hash="0x" + document_hash.hex(),
            destroyed_at=datetime.now(UTC).isoformat(timespec="seconds"),
            node_account=signer.address,
        )
        signature = signer.sign_message(encode_defunct(unsigned.body())).signature
        receipt = replace(unsigned, signature="0x" + bytes(signature).hex())
        if not self._store.shred(certificate_id, receipt.to_json()):
            raise KeyDestroyedError(certificate_id)
        self.close_epoch()
        return receipt


class Shredder(Worker):
    """Finishes erasures that begin outside a request: a key released to this node is dropped
    by the chain index when the certificate is erased on chain; this closes the epoch soon after.

    Args:
        vault: the node's key vault.
        after: called after each check (e.g. to send acknowledgements to the issuing node).
        interval: seconds between checks (one indexed query).
    """

    def __init__(self, vault: KeyVault, after: Callable[[], object] | None = None, interval: float = 0.2) -> None:
        super().__init__("coo-shredder", backoff=interval, max_backoff=5.0)
        self.vault = vault
        self.after = after
        self.interval = interval

    def run_once(self) -> int:
        """Finish waiting erasures, then run *after*; how many completed."""
        done = self.vault.finish_erasures()
        if self.after is not None:
            self.after()
        return done

    def round(self) -> None:
        """One check (see :meth:`run_once`)."""
        self.run_once()

    def _idle(self) -> None:
        self._stop.wait(self.interval)


def _terms_aad(certificate_id: str, issuer: str) -> bytes:
    """What binds a certificate's sealed terms to it (as its sealed document is bound)."""
    return b"coo-terms/1|" + record_aad(certificate_id, issuer)
