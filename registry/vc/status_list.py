"""W3C Bitstring Status List v1.0: how the VC path revokes.

A list is a bitstring of at least 131,072 entries (16 KiB), one bit per
credential; index 0 is the left-most (most significant) bit of the first byte
and index ``n - 1`` the right-most bit of the last. It is published as
``encodedList``: GZIP of the bitstring, base64url without padding, with the
multibase prefix ``u``, inside a ``BitstringStatusListCredential`` signed by the
issuer as a ``vc+jwt`` or with a Data Integrity proof (:mod:`registry.vc.securing`).
Indexes are drawn at random (``secrets``) and never reused, so an index says
nothing about when or how many credentials were issued. A ``revocation`` bit,
once set, stays set; a ``suspension`` bit may be cleared.

An empty list compresses to about 50 bytes of GZIP (a 70-character
``encodedList``); a handful of revocations keep it to a few hundred bytes.
"""

from __future__ import annotations

import base64
import secrets
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from registry.vc.errors import (
    CredentialFormatError,
    IrreversibleStatusError,
    StatusListError,
    StatusListFullError,
    StatusListLengthError,
)
from registry.vc.jose import b64url_decode, sign_compact
from registry.vc.keys import IssuerKey

MIN_ENTRIES = 131_072
"""The specification's minimum list length (16 KiB), for herd privacy."""

MAX_BYTES = 16 * 1024 * 1024
"""Largest bitstring :func:`decode_bitstring` will inflate (a GZIP bomb guard)."""

DEFAULT_TTL_MS: int | None = None
"""No default ``ttl``: the Recommendation of 2025-05-15 gives none (its drafts said 300,000 ms). A list
without one is cached as long as the verifier's own policy says (:class:`~registry.vc.status_check.HttpStatusFetcher`
``ttl``), never longer than its ``validUntil`` allows."""

REVERSIBLE = frozenset({"suspension"})
"""Purposes whose bits may be cleared again."""

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
"""The VC Data Model 2.0 base context; first in every credential."""


@dataclass(frozen=True)
class StatusAllocation:
    """One credential's place in a status list: what goes in its ``credentialStatus``.

    Attributes:
        status_list_credential: URL of the status list credential.
        index: the credential's bit.
        purpose: ``revocation`` (default) or ``suspension``.
    """

    status_list_credential: str
    index: int
    purpose: str = "revocation"

    def entry(self) -> dict[str, Any]:
        """The ``BitstringStatusListEntry`` (``statusListIndex`` as a base-10 string)."""
        return {
            "id": f"{self.status_list_credential}#{self.index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": self.purpose,
            "statusListIndex": str(self.index),
            "statusListCredential": self.status_list_credential,
        }


@dataclass(frozen=True)
class SignedCredential:
    """A credential and its ``vc+jwt``."""

    jwt: str
    credential: dict[str, Any]


# -- the bitstring ------------------------------------------------------------------


def encode_bitstring(bits: bytes | bytearray) -> str:
    """``encodedList`` for *bits*: ``u`` + base64url(GZIP(bits)), no padding.

    The GZIP header carries no timestamp, so equal lists encode equally.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    compressed = compressor.compress(bytes(bits)) + compressor.flush()
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")


def decode_bitstring(encoded: str, *, min_entries: int = MIN_ENTRIES, max_bytes: int = MAX_BYTES) -> bytes:
    """Expand an ``encodedList``, validating it on the way.

    Args:
        encoded: the multibase text.
        min_entries: the shortest list accepted.
        max_bytes: the largest bitstring inflated.

    Returns:
        The uncompressed bitstring.

    Raises:
        StatusListLengthError: fewer than *min_entries* bits.
        StatusListError: wrong multibase prefix, bad base64url, not one complete
            GZIP member, trailing data, or larger than *max_bytes*.
    """
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise StatusListError("encodedList must be multibase base64url (prefix 'u')")
    try:
        compressed = b64url_decode(encoded[1:])
    except CredentialFormatError as error:
        raise StatusListError(f"encodedList: {error.message}") from None
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        bits = inflater.decompress(compressed, max_bytes + 1)
    except zlib.error as error:
        raise StatusListError(f"encodedList is not GZIP: {error}") from None
    if len(bits) > max_bytes:
        raise StatusListError(f"encodedList inflates beyond {max_bytes} bytes")
    if not inflater.eof or inflater.unused_data:
        raise StatusListError("encodedList is not exactly one complete GZIP member")
    if len(bits) * 8 < min_entries:
        raise StatusListLengthError(len(bits) * 8, min_entries)
    return bits


# -- the list -------------------------------------------------------------------------


class StatusList:
    """A status bitstring with random, never-reused index assignment.

    Args:
        size: number of entries: at least :data:`MIN_ENTRIES`, a multiple of 8.
        purpose: ``revocation`` (one-way) or ``suspension`` (reversible).
        bits: existing bitstring (its length must match *size*), or ``None`` for all zeros.
        assigned: indexes already handed out.

    Raises:
        StatusListLengthError: *size* is below the minimum.
        StatusListError: *size* is not a multiple of 8, or *bits* has another length.
    """

    def __init__(self, size: int = MIN_ENTRIES, *, purpose: str = "revocation", bits: bytes | None = None,
                 assigned: Iterable[int] = ()) -> None:
        if size < MIN_ENTRIES:
            raise StatusListLengthError(size, MIN_ENTRIES)
        if size % 8:
            raise StatusListError(f"a status list has a whole number of bytes; {size} entries is not a multiple of 8")
        if bits is not None and len(bits) * 8 != size:
            raise StatusListError(f"{len(bits) * 8} bits given for a list of {size}")
        self.size = size
        self.purpose = purpose
        self._bits = bytearray(bits) if bits is not None else bytearray(size // 8)
        self._assigned: set[int] = set()
        self._free: list[int] | None = None  # built once the list is three-quarters full
        for index in assigned:
            self.mark_assigned(index)

    @property
    def assigned(self) -> frozenset[int]:
        """Indexes handed out so far."""
        return frozenset(self._assigned)

    @property
    def full(self) -> bool:
        """Whether every index has been handed out."""
        return len(self._assigned) >= self.size

    def __len__(self) -> int:
        return self.size

    def to_bytes(self) -> bytes:
        """The raw bitstring."""
        return bytes(self._bits)

    def _check(self, index: int) -> None:
        if not 0 <= index < self.size:
            raise StatusListError(f"RANGE_ERROR: status index {index} outside a list of {self.size}")

    def mark_assigned(self, index: int) -> None:
        """Record *index* as taken (when reloading a list).

        Raises:
            StatusListError: out of range.
        """
        self._check(index)
        self._assigned.add(index)
        self._free = None

    def allocate(self) -> int:
        """A fresh random index nobody else holds.

        Raises:
            StatusListFullError: every index is taken.
        """
        taken = len(self._assigned)
        if taken >= self.size:
            raise StatusListFullError(self.size)
        if self._free is None and taken < self.size * 3 // 4:  # rejection sampling is cheap while mostly free
            while (index := secrets.randbelow(self.size)) in self._assigned:
                pass
        else:  # then draw from the remaining free indexes (swap-remove keeps it O(1))
            if self._free is None:
                self._free = [i for i in range(self.size) if i not in self._assigned]
            slot = secrets.randbelow(len(self._free))
            index = self._free[slot]
            self._free[slot] = self._free[-1]
            self._free.pop()
        self._assigned.add(index)
        return index

    def reserve(self, status_list_credential: str) -> StatusAllocation:
        """Allocate an index and describe it for a credential's ``credentialStatus``.

        Args:
            status_list_credential: URL where this list's credential is published.

        Raises:
            StatusListFullError: every index is taken.
        """
        return StatusAllocation(status_list_credential, self.allocate(), self.purpose)

    def release_unissued(self, index: int) -> None:
        """Give back an index whose credential was never issued.

        WARNING: releasing the index of a credential that *was* issued lets a
        later credential share its bit, so revoking one would revoke both.

        Raises:
            StatusListError: out of range.
        """
        self._check(index)
        self._assigned.discard(index)
        self._free = None

    def get(self, index: int) -> bool:
        """Whether entry *index* is set.

        Raises:
            StatusListError: out of range (``RANGE_ERROR``).
        """
        self._check(index)
        return bool(self._bits[index // 8] & (0x80 >> (index % 8)))

    def set(self, index: int, value: bool = True) -> None:
        """Set entry *index* (revoke or suspend), or clear it with ``value=False``.

        Raises:
            StatusListError: out of range.
            IrreversibleStatusError: clearing a set bit of a one-way purpose (revocation).
        """
        self._check(index)
        mask = 0x80 >> (index % 8)
        if value:
            self._bits[index // 8] |= mask
            return
        if self.purpose not in REVERSIBLE and self._bits[index // 8] & mask:
            raise IrreversibleStatusError(index, self.purpose)
        self._bits[index // 8] &= ~mask & 0xFF

    def revoke(self, index: int) -> None:
        """Set entry *index*; for a revocation list this is permanent."""
        self.set(index, True)

    def clear(self, index: int) -> None:
        """Clear entry *index* (lift a suspension).

        Raises:
            IrreversibleStatusError: this is a revocation list.
        """
        self.set(index, False)

    def count(self) -> int:
        """How many entries are set."""
        return sum(bin(byte).count("1") for byte in self._bits)

    def encode(self) -> str:
        """This list's ``encodedList``."""
        return encode_bitstring(self._bits)

    @classmethod
    def decode(cls, encoded: str, *, purpose: str = "revocation", assigned: Iterable[int] = ()) -> StatusList:
        """Rebuild a list from its ``encodedList``.

        Raises:
            StatusListLengthError: shorter than :data:`MIN_ENTRIES`.
            StatusListError: malformed (see :func:`decode_bitstring`).
        """
        bits = decode_bitstring(encoded)
        return cls(len(bits) * 8, purpose=purpose, bits=bits, assigned=assigned)


# -- the status list credential ---------------------------------------------------------


def _stamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_status_list_credential(status: StatusList, *, issuer_did: str, url: str, now: datetime,
                                 valid_for: timedelta | None = timedelta(days=1),
                                 ttl_ms: int | None = None) -> dict[str, Any]:
    """The unsigned ``BitstringStatusListCredential`` publishing *status*.

    Args:
        status: the list.
        issuer_did: who signs it (this profile: the issuer of the credentials it covers).
        url: where it is published; also its ``id``, matching each entry's ``statusListCredential``.
        now: issue time, its ``validFrom``.
        valid_for: how long it stays valid (``validUntil``), which bounds how stale a
            replayed copy can be; ``None`` for no end.
        ttl_ms: the ``ttl`` hint for verifier caches, in milliseconds; ``None`` leaves
            it out (verifiers then apply their own policy: the Recommendation sets no default).

    Returns:
        The credential.
    """
    subject: dict[str, Any] = {"id": f"{url}#list", "type": "BitstringStatusList",
                               "statusPurpose": status.purpose, "encodedList": status.encode()}
    if ttl_ms is not None:
        subject["ttl"] = ttl_ms
    credential: dict[str, Any] = {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_did,
        "validFrom": _stamp(now),
    }
    if valid_for is not None:
        credential["validUntil"] = _stamp(now + valid_for)
    credential["credentialSubject"] = subject
    return credential


def issue_status_list_credential(status: StatusList, issuer: IssuerKey, url: str, now: datetime, *,
                                 valid_for: timedelta | None = timedelta(days=1),
                                 ttl_ms: int | None = None) -> SignedCredential:
    """Build the status list credential and sign it as a ``vc+jwt``.

    Args:
        status: the list.
        issuer: the signing key.
        url: where the credential is published.
        now: issue time.
        valid_for: see :func:`build_status_list_credential`.
        ttl_ms: see :func:`build_status_list_credential`.

    Returns:
        The token and the credential.
    """
    credential = build_status_list_credential(status, issuer_did=issuer.did, url=url, now=now,
                                              valid_for=valid_for, ttl_ms=ttl_ms)
    return SignedCredential(sign_compact(credential, issuer.private_key, kid=issuer.kid), credential)


def read_status_list_credential(credential: Mapping[str, Any], *, purpose: str = "revocation") -> StatusList:
    """Check the shape of a (signature-verified) status list credential and decode its list.

    Args:
        credential: the payload of the status list ``vc+jwt``.
        purpose: the ``statusPurpose`` the credential being checked names.

    Returns:
        The list.

    Raises:
        StatusListLengthError: the list is too short.
        StatusListError: wrong types, a purpose the list does not serve
            (``STATUS_VERIFICATION_ERROR``), or a malformed ``encodedList``.
    """
    types = credential.get("type")
    if not isinstance(types, list) or "BitstringStatusListCredential" not in types:
        raise StatusListError("the status list credential is not a BitstringStatusListCredential")
    subject = credential.get("credentialSubject")
    if not isinstance(subject, Mapping) or subject.get("type") != "BitstringStatusList":
        raise StatusListError("the status list credential's subject is not a BitstringStatusList")
    purposes = subject.get("statusPurpose")
    served = [purposes] if isinstance(purposes, str) else purposes if isinstance(purposes, list) else []
    if purpose not in served:
        raise StatusListError(f"STATUS_VERIFICATION_ERROR: the list serves {served}, not {purpose!r}")
    encoded = subject.get("encodedList")
    if not isinstance(encoded, str):
        raise StatusListError("the status list credential has no encodedList")
    return StatusList.decode(encoded, purpose=purpose)


def list_ttl_seconds(credential: Mapping[str, Any]) -> float | None:
    """The cache lifetime a status list credential asks for (``credentialSubject.ttl``), in seconds.

    ``None`` when it gives none (or an unusable value): the Recommendation sets no default.
    """
    subject = credential.get("credentialSubject")
    ttl = subject.get("ttl") if isinstance(subject, Mapping) else None
    if isinstance(ttl, int) and not isinstance(ttl, bool) and ttl >= 0:
        return ttl / 1000
    return None
