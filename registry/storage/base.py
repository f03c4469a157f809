"""What every table of certificates shares: reading a certificate row, its number sealed or not."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from typing import Protocol

from registry.domain.states import CertificateStatus
from registry.storage.database import Database
from registry.storage.rows import (
    CERTIFICATE_COLUMNS,
    CertificateRow,
    certificate_row,
)

_SELECT_CERT = f"SELECT {CERTIFICATE_COLUMNS}, number_sealed FROM certificates"


class NumberSealer(Protocol):
    """What keeps certificate numbers out of the database in clear (the key vault).

    The ``certificate_number`` column then holds a keyed tag of (issuer, number),
    and ``number_sealed`` the number encrypted under the certificate's data key.
    """

    def number_tag(self, issuer: str, number: str) -> str:
        """The lookup tag of (issuer, number) under the current epoch."""

    def reveal_number(self, certificate_id: str, issuer: str, sealed: bytes) -> str:
        """The certificate number, decrypted ("" when the key is gone)."""


class CertificateRows(Database):
    """A database whose certificate rows keep their numbers sealed once a sealer (the key vault) is attached."""

    _sealer: NumberSealer | None = None

    def attach_sealer(self, sealer: NumberSealer) -> None:
        """From now on keep certificate numbers only sealed and tagged by *sealer* (the key vault)."""
        self._sealer = sealer

    def _number_key(self, issuer: str, certificate_number: str) -> str:
        return certificate_number if self._sealer is None else self._sealer.number_tag(issuer, certificate_number)

    def _row(self, row: sqlite3.Row | None, *, reveal: bool = True) -> CertificateRow | None:
        """A certificate row with its number revealed (sealed numbers are decrypted; erased ones are ""), or,
        without *reveal*, left out ("": revealing a sealed number unwraps the certificate's data key)."""
        if row is None:
            return None
        data = dict(row)
        sealed = data.pop("number_sealed", None)
        found = certificate_row(data)  # type: ignore[arg-type]
        assert found is not None
        if not reveal:
            return replace(found, certificate_number="")
        if sealed is not None and self._sealer is not None:
            return replace(found, certificate_number=self._sealer.reveal_number(found.id, found.issuer, bytes(sealed)))
        if found.status == CertificateStatus.ERASED:
            return replace(found, certificate_number="")
        return found


__all__ = ["CertificateRows", "NumberSealer"]
