"""The contract refusals the node acts on, by name: one table instead of string literals in each service.

A refusal reaches Python as :class:`~registry.errors.ContractRevertError` whose
``name`` is the Solidity custom error; compare it with these members (a ``StrEnum``,
so ``error.name == Refusal.OVERDRAWN`` holds). A test checks every member against
the compiled ABI, so a renamed error in the contracts cannot silently stop matching.
What a refusal says to people is in :mod:`registry.chain.messages` (a sentence for
every error of the ABI, not only these).
"""

from __future__ import annotations

from enum import StrEnum


class Refusal(StrEnum):
    """Custom errors of ``CertificateRegistry``, ``CustomsRegistry`` and ``TrustRegistry`` the node handles."""

    ALREADY_ANCHORED = "CertificateRegistryAlreadyAnchored"
    NOT_ISSUER = "CertificateRegistryNotIssuer"
    INVALID_STATUS_CHANGE = "CertificateRegistryInvalidStatusChange"
    OVERDRAWN = "CustomsRegistryOverdrawn"
    NOT_USABLE = "CustomsRegistryNotUsable"
    EXPIRED = "CustomsRegistryExpired"
    DECLARATION_RECORDED = "CustomsRegistryDeclarationRecorded"
    NOT_CUSTOMS = "CustomsRegistryNotCustoms"
    TERMS_NOT_REGISTERED = "CustomsRegistryTermsNotRegistered"
    REQUEST_CLOSED = "CustomsRegistryRequestClosed"
    COUNTRY_ALREADY_ADMITTED = "TrustRegistryCountryAlreadyAdmitted"
    ISSUER_ALREADY_KNOWN = "TrustRegistryIssuerAlreadyKnown"
    ACCOUNT_IN_USE = "TrustRegistryAccountInUse"


__all__ = ["Refusal"]
