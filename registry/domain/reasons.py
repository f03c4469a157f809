"""Revocation reason codes, as stored on chain (``uint8``) and shown to people."""

from __future__ import annotations

from enum import IntEnum


class RevocationReason(IntEnum):
    """Why a certificate was revoked. The on-chain value is the integer."""

    UNSPECIFIED = 0
    ISSUED_IN_ERROR = 1
    FRAUD = 2
    NOT_CONFIRMED = 3
    KEY_COMPROMISE = 4
    GOODS_NOT_EXPORTED = 5
    WITHDRAWN_BY_EXPORTER = 6

    @property
    def slug(self) -> str:
        """The API spelling, e.g. ``issued-in-error``."""
        return self.name.lower().replace("_", "-")

    @property
    def text(self) -> str:
        """Plain words for a verification report."""
        return _TEXT[self]

    @classmethod
    def from_slug(cls, slug: str) -> RevocationReason:
        """Parse the API spelling.

        Raises:
            ValueError: for an unknown reason, listing the known ones.
        """
        for reason in cls:
            if reason.slug == slug:
                return reason
        known = ", ".join(r.slug for r in cls)
        raise ValueError(f"unknown revocation reason {slug!r}; use one of {known}")

    @classmethod
    def describe(cls, code: int) -> str:
        """Plain words for any on-chain code, known or not."""
        try:
            return cls(code).text
        except ValueError:
            return f"reason code {code}"


_TEXT = {
    RevocationReason.UNSPECIFIED: "no reason given",
    RevocationReason.ISSUED_IN_ERROR: "issued in error",
    RevocationReason.FRAUD: "fraud or falsification",
    RevocationReason.NOT_CONFIRMED: "origin not confirmed on verification request",
    RevocationReason.KEY_COMPROMISE: "the issuer's signing key was compromised",
    RevocationReason.GOODS_NOT_EXPORTED: "the goods were not exported",
    RevocationReason.WITHDRAWN_BY_EXPORTER: "withdrawn at the exporter's request",
}
