"""Epoch key-encryption keys: the middle layer of the key hierarchy, kept outside SQLite.

::

    root KEK (COO_KEK or <data>/kek)        derives the node's other secrets; wraps epoch KEKs
      └── epoch KEK n (<data>/keys/epoch-<n>.key)   wraps every live data key
            └── data key (one per certificate)      encrypts the sealed document, the
                                                    number, the audit contents

Why a middle layer: SQLite cannot be trusted to forget. A deleted row survives in
the WAL while any reader holds a snapshot, in free pages unless ``secure_delete``
is compiled or switched on, and in the journal after a crash. So a destroyed data
key is assumed to survive *somewhere* in the database, still wrapped. Erasure
therefore also retires the key that wrapped it: every live data key is re-wrapped
under a fresh epoch KEK in one transaction, and only then is the old epoch's file
overwritten, synced and unlinked (:meth:`EpochKeyring.unsafe_destroy`). Whatever
old copies SQLite keeps are then wrapped under a key that no longer exists
(cryptographic erase, NIST SP 800-88).

Each epoch file holds the epoch KEK wrapped (AES-256-GCM) under the root KEK, AAD
``coo-epoch/1|<n>``; files are 0600 in a 0700 directory. The current epoch is the
highest-numbered file. Limits: overwriting a file does not reach blocks a
copy-on-write filesystem or an SSD's flash translation layer keeps elsewhere;
see ``docs/security.md``.

Several processes of one node (``coo up --workers N``) share the directory: each
keyring notices when the directory changed (its modification time) and reloads,
so a process picks up the epoch another opened and forgets the ones another
destroyed before it next uses a key.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
from pathlib import Path

from registry.custody.keys import KEK, KEY_BYTES, DataKey
from registry.errors import DecryptionError, KeyVaultError

_NAME = re.compile(r"^epoch-(\d{1,12})\.key$")


class EpochKeyring:
    """The epoch KEKs of one node, one file each under *directory*.

    Args:
        directory: where the epoch files live (created 0700).
        root: the node's root KEK, which wraps each epoch KEK.

    Raises:
        KeyVaultError: an epoch file is unreadable, or was wrapped under another root KEK.
    """

    def __init__(self, directory: Path, root: KEK) -> None:
        self._directory = directory
        self._root = DataKey(root.derive("epoch-keys"))
        self._lock = threading.Lock()
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(directory, 0o700)
        self._seen = self._stamp()
        self._keys: dict[int, KEK] = {n: self._read(n) for n in self._on_disk()}
        if not self._keys:
            self.open_new()

    def _stamp(self) -> int:
        return os.stat(self._directory).st_mtime_ns

    def _reload_if_changed(self) -> None:
        """Take in the epochs another process opened and drop those it destroyed (directory changed)."""
        stamp = self._stamp()
        with self._lock:
            if stamp == self._seen:
                return
            on_disk = set(self._on_disk())
            for gone in set(self._keys) - on_disk:
                del self._keys[gone]
            try:
                for new in sorted(on_disk - set(self._keys)):
                    self._keys[new] = self._read(new)
            except (OSError, KeyVaultError):
                return  # being written by another process: read again next time
            self._seen = stamp

    def __repr__(self) -> str:
        return f"EpochKeyring(epochs={sorted(self._keys)})"

    def _path(self, epoch: int) -> Path:
        return self._directory / f"epoch-{epoch}.key"

    def _on_disk(self) -> list[int]:
        return sorted(int(m.group(1)) for p in self._directory.iterdir() if (m := _NAME.match(p.name)))

    def _aad(self, epoch: int) -> bytes:
        return f"coo-epoch/1|{epoch}".encode()

    def _read(self, epoch: int) -> KEK:
        try:
            raw = self._root.decrypt(self._path(epoch).read_bytes(), self._aad(epoch))
        except DecryptionError:
            raise KeyVaultError(f"epoch key {epoch} was not wrapped under this node's key-encryption key") from None
        return KEK(raw)

    @property
    def current(self) -> int:
        """The epoch new data keys are wrapped under (the highest one)."""
        self._reload_if_changed()
        with self._lock:
            return max(self._keys)

    def epochs(self) -> list[int]:
        """Every epoch whose key still exists, oldest first."""
        self._reload_if_changed()
        with self._lock:
            return sorted(self._keys)

    def key(self, epoch: int) -> KEK:
        """The KEK of *epoch*.

        Raises:
            KeyVaultError: the epoch was destroyed (or never existed).
        """
        self._reload_if_changed()
        with self._lock:
            found = self._keys.get(epoch)
        if found is None:
            raise KeyVaultError(f"epoch key {epoch} no longer exists")
        return found

    def open_new(self) -> int:
        """Create the next epoch's KEK, durably (file and directory synced), and make it current.

        Returns:
            The new epoch number.
        """
        with self._lock:
            epoch = max(self._keys, default=0) + 1
            raw = secrets.token_bytes(KEY_BYTES)
            path = self._path(epoch)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            try:
                os.fchmod(fd, 0o600)
                os.write(fd, self._root.encrypt(raw, self._aad(epoch)))
                os.fsync(fd)
            finally:
                os.close(fd)
            self._sync_directory()
            self._keys[epoch] = KEK(raw)
            return epoch

    def unsafe_destroy(self, epoch: int) -> None:
        """Destroy an epoch KEK: overwrite its file with random bytes, sync, unlink, sync the directory.

        WARNING: irreversible. Every data key still wrapped under *epoch* becomes
        unreadable for good; call only once nothing live is wrapped under it.

        Raises:
            KeyVaultError: *epoch* is the current epoch.
        """
        with self._lock:
            if epoch == max(self._keys, default=None):
                raise KeyVaultError("the current epoch key cannot be destroyed; open a new epoch first")
            self._keys.pop(epoch, None)
            path = self._path(epoch)
            try:
                fd = os.open(path, os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0))
            except FileNotFoundError:
                return
            try:
                size = os.fstat(fd).st_size
                os.write(fd, secrets.token_bytes(size))
                os.fsync(fd)
            finally:
                os.close(fd)
            path.unlink()
            self._sync_directory()

    def _sync_directory(self) -> None:
        fd = os.open(self._directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
