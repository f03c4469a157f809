"""W3C Bitstring Status List v1.0: the VC path's revocation mechanism.

A list is a bitstring of at least 131,072 entries (16 KiB), one bit per
credential; bit ``i`` is the most significant bit of byte ``i // 8``... i.e. the
leftmost bit of the first byte is index 0. It is published GZIP-compressed and
multibase base64url-encoded (prefix ``u``, no padding) inside a
``BitstringStatusListCredential``. Indexes are assigned at random, without
reuse, so a credential's index says nothing about when it was issued.
"""

from __future__ import annotations

import base64
import gzip
import secrets
from dataclasses import dataclass, field

from registry.errors import ValidationError

MIN_ENTRIES = 131_072
"""The spec's minimum list length, for herd privacy."""


class StatusListError(ValidationError):
    """A status list is malformed or too short."""

    title = "Invalid status list"


@dataclass
class StatusList:
    """A revocation bitstring with random index assignment."""

    size: int = MIN_ENTRIES
    bits: bytearray = field(default_factory=bytearray)
    assigned: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.size < MIN_ENTRIES or self.size % 8:
            raise StatusListError(f"a status list needs at least {MIN_ENTRIES} entries (a multiple of 8); got {self.size}")
        if not self.bits:
            self.bits = bytearray(self.size // 8)

    def allocate(self) -> int:
        """A fresh random index nobody else holds.

        Raises:
            StatusListError: when the list is full.
        """
        if len(self.assigned) >= self.size:
            raise StatusListError("the status list is full; start a new one")
        while True:
            index = secrets.randbelow(self.size)
            if index not in self.assigned:
                self.assigned.add(index)
                return index

    def set(self, index: int, value: bool = True) -> None:
        """Set (revoke) or clear one entry."""
        self._check(index)
        mask = 0x80 >> (index % 8)
        if value:
            self.bits[index // 8] |= mask
        else:
            self.bits[index // 8] &= ~mask & 0xFF

    def get(self, index: int) -> bool:
        """Whether entry *index* is set."""
        self._check(index)
        return bool(self.bits[index // 8] & (0x80 >> (index % 8)))

    def _check(self, index: int) -> None:
        if not 0 <= index < self.size:
            raise StatusListError(f"status index {index} outside a list of {self.size}")

    def encode(self) -> str:
        """``encodedList``: multibase base64url (``u``) of the GZIP-compressed bitstring."""
        compressed = gzip.compress(bytes(self.bits), compresslevel=9, mtime=0)
        return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode()

    @classmethod
    def decode(cls, encoded: str) -> StatusList:
        """Parse an ``encodedList``.

        Raises:
            StatusListError: wrong multibase prefix, bad encoding, or too short.
        """
        if not encoded.startswith("u"):
            raise StatusListError("encodedList must be multibase base64url (prefix 'u')")
        body = encoded[1:]
        try:
            raw = gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except (ValueError, OSError, EOFError) as error:
            raise StatusListError(f"encodedList is not GZIP in base64url: {error}") from None
        return cls(size=len(raw) * 8, bits=bytearray(raw))
