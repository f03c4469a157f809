"""Contract refusals in words: one sentence for each custom error the deployed contract declares.

A refusal reaches Python as :class:`~registry.errors.ContractRevertError` (the
Solidity error's name and its decoded arguments); :func:`describe` turns it into
a sentence for people, e.g. ``TrustRegistryCountryAlreadyAdmitted(0x5347)`` into
"SG is already admitted". The name stays available for machines (the API
puts it in the problem's ``code``).

Arguments are shown by their name and type in the compiled ABI
(``registry/chain/artifacts``): a country (``bytes2``) as its two letters, an
address checksummed, a document or request state by name, ``validUntil`` as a
date and other times in UTC, on-chain quantities (millionths) in the unit of the
certificate, a goods item index from 1, and the zero role as the consortium admin.
A test checks that every error of the ABI has a sentence here, so a new contract
error cannot reach a user raw.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from eth_utils.address import to_checksum_address

from registry.chain.compiler import load_artifact
from registry.chain.customs import RequestState
from registry.chain.models import CONTRACT_NAME, DocumentState
from registry.errors import ContractRevertError
from registry.sealing.terms import from_units

Shown = Mapping[str, str]
"""An error's arguments, each shown as text, by its ABI name (``0``, ``1``… when the ABI names none)."""

def _customs_of(shown: Shown) -> str:
    country = "any country" if shown["country"] == "0x0000" else shown["country"]
    return f"{shown['account']} is not a Customs account of {country}"


SENTENCES: dict[str, str | Callable[[Shown], str]] = {
    # OpenZeppelin AccessControl and Checkpoints (inherited by TrustRegistry)
    "AccessControlBadConfirmation": "an account can renounce a role only for itself",
    "AccessControlUnauthorizedAccount": "{account} does not hold the {neededRole} role",
    "CheckpointUnorderedInsertion": "an authorisation change cannot be recorded before an earlier one",
    # TrustRegistry
    "TrustRegistryInvalidCountry": "{country} is not a country code (two upper-case letters)",
    "TrustRegistryCountryAlreadyAdmitted": "{country} is already admitted",
    "TrustRegistryCountryNotAdmitted": "{country} has not been admitted",
    "TrustRegistryAccountInUse": "{account} already acts as an authority or an issuing body (or is the zero address)",
    "TrustRegistryAdminNotAllowed": "{account} is the consortium admin, which may not also act for a country",
    "TrustRegistryNotCountryAuthority": "{account} is not the competent authority of {country}",
    "TrustRegistryIssuerAlreadyKnown": "{issuer} is already known to the registry as an issuing body",
    "TrustRegistryUnknownIssuer": "{issuer} has never been authorised as an issuing body",
    "TrustRegistryInvalidName": "a name must be 1 to 128 bytes of UTF-8; this one is {length} bytes",
    # CertificateRegistry
    "CertificateRegistryIssuerNotAuthorised": "{account} is not an authorised issuing body (suspended, or never "
                                              "authorised)",
    "CertificateRegistryEmptyBatch": "an empty batch cannot be anchored (root {root}, {documentCount} documents)",
    "CertificateRegistryAlreadyAnchored": "the batch root {root} was already anchored on {anchoredAt}",
    "CertificateRegistryNotAnchored": "certificate {documentHash} is not anchored under the root {root}",
    "CertificateRegistryNotIssuer": "{account} is neither the issuing body of certificate {documentHash} nor its "
                                    "country's authority",
    "CertificateRegistryInvalidStatusChange": "certificate {documentHash} is {state}, so this change is not allowed",
    "CertificateRegistryInvalidReplacement": "{replacement} cannot replace certificate {documentHash}: a replacement "
                                             "is another anchored certificate of the same country",
    "CertificateRegistryReplacementNotActive": "the replacement {replacement} (root {replacementRoot}) is {state}, "
                                               "not active",
    "CertificateRegistryPayloadMismatch": "{documents} document hashes came with {payloads} payloads",
    "CertificateRegistryPayloadRootMismatch": "the document hashes make the root {computed}, not the anchored root "
                                              "{root}",
    # CustomsRegistry
    "CustomsRegistryNotCustoms": _customs_of,
    "CustomsRegistryUnknownCustoms": "{account} is not a Customs account",
    "CustomsRegistryTermsMismatch": "the terms given are not those sealed into certificate {documentHash}",
    "CustomsRegistryTermsNotRegistered": "no terms are registered for certificate {documentHash}",
    "CustomsRegistryNotUsable": "certificate {documentHash} is {state} and cannot be used",
    "CustomsRegistryExpired": "certificate {documentHash} expired: it was valid until {validUntil}",
    "CustomsRegistryInvalidDraw": "the draw on certificate {documentHash} names an unknown goods item or a zero "
                                  "quantity (goods item {item})",
    "CustomsRegistryOverdrawn": "drawing {requested} of goods item {item} would exceed the quantity certificate "
                                "{documentHash} certifies: {remaining} remain",
    "CustomsRegistryDeclarationRecorded": "declaration {declaration} has already drawn on certificate {documentHash}",
    "CustomsRegistryNotBackToBack": "certificate {documentHash}, exported from {exportingCountry}, cannot draw on "
                                    "{parent}, which was imported into {parentImportingCountry}",
    "CustomsRegistryUnknownRequest": "there is no verification request {id}",
    "CustomsRegistryRequestClosed": "verification request {id} is already answered ({state})",
}
"""A sentence per custom error: a template over the argument names of the ABI, or a function of them."""

SYNTHETIC: dict[str, str] = {
    "UnknownRevert": "the contract refused with an error this node does not know ({0})",
    "Reverted": "the contract refused: {0}",
}
"""Sentences for what :mod:`registry.chain.transport` reports when it cannot name the error."""


@lru_cache(maxsize=1)
def declared_errors() -> dict[str, tuple[tuple[str, str], ...]]:
    """Every custom error of the deployed contract's ABI, with its ``(name, type)`` inputs."""
    abi = load_artifact(CONTRACT_NAME)["abi"]
    return {e["name"]: tuple((i["name"], i["type"]) for i in e["inputs"]) for e in abi if e["type"] == "error"}


def describe(error: ContractRevertError) -> str:
    """*error* as a sentence for people (its name and raw arguments if it has no sentence)."""
    return describe_refusal(error.name, error.args_decoded)


def describe_refusal(name: str, args: Sequence[Any]) -> str:
    """The sentence for the custom error *name* with its decoded *args*."""
    shown = _shown(name, args)
    sentence = SENTENCES.get(name) or SYNTHETIC.get(name)
    try:
        if callable(sentence):
            return sentence(shown)
        if sentence is not None:
            return sentence.format(*shown.values(), **shown)
    except (KeyError, IndexError):
        pass
    return f"the contract refused: {name}({', '.join(shown.values())})"


def _shown(name: str, args: Sequence[Any]) -> dict[str, str]:
    """The arguments of error *name* as text, by their ABI names (by position when the ABI does not match)."""
    inputs = declared_errors().get(name, ())
    if len(inputs) != len(args):
        return {str(i): show(name, str(i), "", v) for i, v in enumerate(args)}
    return {n or str(i): show(name, n, t, v) for i, ((n, t), v) in enumerate(zip(inputs, args, strict=True))}


# Complexity (radon C): one branch per kind of argument the contracts' errors carry
def show(error: str, name: str, kind: str, value: Any) -> str:
    """One argument of *error* as text, by its ABI *name* and *kind* (type)."""
    if isinstance(value, (bytes, bytearray)):
        raw = bytes(value)
        if kind == "bytes2" and len(raw) == 2 and raw.isalpha() and raw.isupper():
            return raw.decode("ascii")
        if name == "neededRole" and raw == bytes(32):
            return "consortium admin"
        return "0x" + raw.hex()
    if kind == "address" and isinstance(value, str):
        return to_checksum_address(value)
    if name == "state" and isinstance(value, int):
        return _state(error, value)
    if kind.startswith("uint40") and isinstance(value, int):
        moment = datetime.fromtimestamp(value, UTC)
        return moment.date().isoformat() if name == "validUntil" else moment.isoformat(sep=" ", timespec="seconds")
    if name in ("requested", "remaining") and isinstance(value, int):
        return str(from_units(value))
    if name == "item" and isinstance(value, int):
        return str(value + 1)
    return str(value)


def _state(error: str, value: int) -> str:
    enum: type[RequestState] | type[DocumentState] = RequestState if error.startswith("CustomsRegistryRequest") \
        else DocumentState
    try:
        return enum(value).name.lower().replace("_", "-")
    except ValueError:
        return f"in state {value}"


__all__ = ["SENTENCES", "SYNTHETIC", "declared_errors", "describe", "describe_refusal", "show"]
