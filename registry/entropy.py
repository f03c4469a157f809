"""Fresh random bytes for the hot paths: the kernel's CSPRNG read in blocks, one block per thread.

Registering a certificate draws a dozen small random values (its id, its data key, the nonces of the
key's wrap and of each ciphertext, its terms salt), and every verification one (its receipt id). Each
``os.urandom`` is a ``getrandom`` system call that releases the GIL, so under load each hands the
interpreter to another thread and then waits to get it back. :func:`random_bytes` serves them from a
block read with one call instead, and so are the salts of a certificate's fields
(:func:`registry.sealing.fields.fresh_salts`).

What keeps the bytes as good as ``secrets`` gives them:

* they are the kernel's, read with ``os.urandom`` as :mod:`secrets` reads them;
* each thread has its own block (``threading.local``), so two callers never get the same bytes;
* a byte is handed out once: the offset only moves forward, and the bytes handed out are wiped
  from the block at once, so a key drawn here does not stay behind in it;
* a forked child forgets its parent's blocks (``os.register_at_fork``), so parent and child never
  hand out the same bytes (one nonce used twice under an AES-GCM key gives its authentication away).
"""

from __future__ import annotations

import os
import threading
import uuid

BLOCK = 64 << 10
"""Bytes read from the kernel at a time, per thread."""
DIRECT = 8 << 10
"""Draws larger than this are read from the kernel directly (a certificate's salts, 32 bytes a field, are not)."""


class _Block(threading.local):
    """This thread's unread random bytes: ``data[offset:]``."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.offset = 0


_block = _Block()


def _forget_in_child() -> None:
    global _block
    _block = _Block()


os.register_at_fork(after_in_child=_forget_in_child)


def random_bytes(count: int) -> bytes:
    """*count* random bytes from the kernel's CSPRNG, never handed out before by this process."""
    if count > DIRECT:
        return os.urandom(count)
    block = _block
    start = block.offset
    end = start + count
    if end > len(block.data):
        block.data = bytearray(os.urandom(BLOCK))
        start, end = 0, count
    taken = bytes(block.data[start:end])
    block.data[start:end] = bytes(count)  # wiped: what was handed out is not kept here
    block.offset = end
    return taken


def random_uuid() -> uuid.UUID:
    """A random (version 4) UUID, from :func:`random_bytes`."""
    return uuid.UUID(bytes=random_bytes(16), version=4)


__all__ = ["BLOCK", "DIRECT", "random_bytes", "random_uuid"]
