"""The value conventions shared across the registry core: 32-byte hashes travel as ``0x`` hex text, accounts
compare case-insensitively."""

from __future__ import annotations


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


def same_account(a: str | None, b: str | None) -> bool:
    """Whether two addresses are the same account (case-insensitive; None is no account)."""
    return a is not None and b is not None and a.lower() == b.lower()
