"""Small value types shared across the registry core."""

from __future__ import annotations

from typing import NewType

CertificateId = NewType("CertificateId", str)
"""Opaque identifier the node gives a registered certificate (UUID4 text)."""

DocumentHash = NewType("DocumentHash", bytes)
"""32-byte document hash: the Merkle root of a certificate's salted field leaves."""

BatchRoot = NewType("BatchRoot", bytes)
"""32-byte Merkle root over the document hashes of one anchoring batch."""

Address = NewType("Address", str)
"""Checksummed 0x-prefixed Ethereum account address."""

CountryCode = NewType("CountryCode", str)
"""ISO 3166-1 alpha-2 country code, upper case."""


def hex32(value: bytes) -> str:
    """Return a 32-byte value as ``0x``-prefixed lower-case hex.

    Raises:
        ValueError: if *value* is not exactly 32 bytes.
    """
    if len(value) != 32:
        raise ValueError(f"expected 32 bytes, got {len(value)}")
    return "0x" + value.hex()


def parse_hex32(text: str) -> bytes:
    """Parse ``0x``-prefixed (or bare) 64-digit hex into 32 bytes.

    Raises:
        ValueError: if *text* is not 64 hex digits.
    """
    digits = text[2:] if text[:2] in ("0x", "0X") else text
    if len(digits) != 64:
        raise ValueError("expected 32 bytes as 64 hex digits")
    return bytes.fromhex(digits)
