"""Admitting the certificates of one registration request: every item checked, every refusal kept.

A batch is all or nothing, so the caller needs to know every item that stops it,
not only the first: :class:`Admission` collects each refusal with the item's
index and the field path (``certificates[2].goods[0].hs_code``, the format of
request validation errors in :mod:`api.problems`), and raises them together once
every item has been looked at, before anything is stored.

A single certificate (``POST /v1/certificates``) keeps the error of its one
refusal (422 invalid, 403 another country's export, 409 a number clash). A batch
answers one error listing every refused item, whatever the reasons: a
:class:`BatchForbidden` (403) when any item is an export this issuer may not
certify (the key may not do that at all, as for a single certificate), else a
:class:`~registry.errors.CertificateValidationError` (422).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from registry.domain.certificate import Certificate
from registry.errors import CertificateValidationError, ConflictError, PermissionDenied, RegistryError, ValidationError


class BatchForbidden(PermissionDenied):
    """A batch holds exports the issuer may not certify; ``errors`` lists every refused item, as a
    :class:`~registry.errors.ValidationError` does."""

    def __init__(self, message: str, errors: list[Mapping[str, Any]]) -> None:
        super().__init__(message)
        self.errors = errors


@dataclass(frozen=True)
class Refused:
    """Why one item of a request is refused."""

    index: int
    field: str
    """Path inside the certificate (``goods[0].hs_code``); empty for the certificate as a whole."""
    msg: str
    error: RegistryError
    """What a single certificate raises for it."""


def _joined(prefix: str, field: str) -> str:
    if not field or field == "certificate":
        return prefix
    if not prefix:
        return field
    return prefix + field if field.startswith("[") else f"{prefix}.{field}"


class Admission:
    """The refusals of one request's certificates, in request order."""

    def __init__(self, batch: bool) -> None:
        self.batch = batch
        self.refused: list[Refused] = []
        self._numbers: dict[str, int] = {}

    def loc(self, index: int, field: str) -> str:
        """Where a field of item *index* is, as the API names it."""
        return _joined(f"certificates[{index}]" if self.batch else "", field) or "certificate"

    def invalid(self, index: int, error: ValidationError) -> None:
        """Item *index* failed validation: keep each failing field."""
        listed = error.errors or [{"loc": "", "msg": str(error)}]
        for entry in listed:
            self.refused.append(Refused(index, str(entry.get("loc", "")), str(entry.get("msg", "")), error))

    def refuse(self, index: int, field: str, error: RegistryError) -> None:
        """Item *index* breaks a rule about *field*."""
        self.refused.append(Refused(index, field, error.message, error))

    def check(self, index: int, certificate: Certificate, country: str | None) -> None:
        """The rules an item must meet within the request: the issuer's country, one number once."""
        if certificate.exporting_country != country:
            self.refuse(index, "exporting_country", PermissionDenied(
                f"this issuer certifies exports from {country}, not from {certificate.exporting_country}"))
        number = certificate.certificate_number
        first = self._numbers.setdefault(number, index)
        if first != index:
            self.refuse(index, "certificate_number", ConflictError(
                f"certificate number {number} appears twice in the batch (first at certificates[{first}])"))

    def raise_refused(self, total: int) -> None:
        """Raise the refusals, if any: a single certificate's own error, or one error listing a batch's.

        Raises:
            BatchForbidden: a batch with an export the issuer may not certify (every refused item listed).
            CertificateValidationError: a batch with other refused items (every one listed, with its index).
            RegistryError: a single certificate's refusal, as its rule raised it.
        """
        if not self.refused:
            return
        if not self.batch:
            raise self.refused[0].error
        errors: list[Mapping[str, Any]] = [{"loc": self.loc(r.index, r.field), "msg": r.msg} for r in self.refused]
        items = len({r.index for r in self.refused})
        message = (f"{items} of {total} certificates refused, none registered; "
                   f"first {errors[0]['loc']}: {errors[0]['msg']}")
        if any(isinstance(r.error, PermissionDenied) for r in self.refused):
            raise BatchForbidden(message, errors)
        raise CertificateValidationError(message, errors)


__all__ = ["Admission", "BatchForbidden", "Refused"]
