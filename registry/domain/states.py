"""The lifecycles, as enums: a certificate's status, its anchoring mode, a batch's state.

Each is a ``StrEnum``: stored and shown as its value (``"revoked"``, ``"hash-only"``,
``"sent"``), compared as a member. The database refuses any other value
(:mod:`registry.storage.database` builds its checks from these).
"""

from __future__ import annotations

from enum import StrEnum


class CertificateStatus(StrEnum):
    """Where a certificate stands on this node: ``pending`` → ``anchored`` → one final status."""

    PENDING = "pending"
    """Accepted, waiting in the outbox to be anchored."""
    ANCHORED = "anchored"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"
    ERASED = "erased"
    """Its key is destroyed (crypto-shredded); final, even over revoked or superseded."""

    @property
    def final(self) -> bool:
        """Revoked, superseded or erased: no longer usable, and never active again."""
        return self in (CertificateStatus.REVOKED, CertificateStatus.SUPERSEDED, CertificateStatus.ERASED)


class Mode(StrEnum):
    """How a certificate is anchored: its hash only, or with its record encrypted in the anchoring event."""

    HASH_ONLY = "hash-only"
    ENCRYPTED = "encrypted"


class BatchState(StrEnum):
    """An anchoring batch: ``sending`` (root fixed) → ``sent`` (transaction out) → ``anchored``, or ``failed``."""

    SENDING = "sending"
    SENT = "sent"
    ANCHORED = "anchored"
    FAILED = "failed"


FINAL_STATUSES: tuple[CertificateStatus, ...] = tuple(s for s in CertificateStatus if s.final)
"""The statuses a certificate never leaves for an active one."""

__all__ = ["FINAL_STATUSES", "BatchState", "CertificateStatus", "Mode"]
