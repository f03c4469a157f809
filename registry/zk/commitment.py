"""The ``CoO-zk-v1`` commitment: the numbers a zero-knowledge proof may speak about, hidden behind one field element.

A certificate with confidential figures (a goods item's ``non_originating_value``) is sealed with one
more leaf of its field tree, next to the salted field leaves and the terms leaf::

    zk_leaf = keccak256(b"CoO-zk-v1" ‖ commitment)            # 9 + 32 = 41 bytes: never an inner node

where ``commitment`` (32 bytes, big-endian) is a Poseidon hash over BN254 (circomlib's constants)::

    item_leaf  = Poseidon(fob, vnm, quantity, hs_digits, hs_length, item_flags)
    items_root = the binary Poseidon tree of depth 10 over the item leaves, goods[i] at position i, empty = 0
    commitment = Poseidon(DOMAIN, salt, issue_day, departure_day, header_flags, items_root)

``DOMAIN`` is the ASCII ``CoO-zk-v1`` read as a big-endian integer, ``salt`` a uniformly random field
element (the commitment hides the values: without the salt no guess can be checked against it).

Encodings (fixed point, all non-negative integers below 2^64):
    ``fob``, ``vnm``: the goods item's FOB value and value of non-originating materials in ten-thousandths of
    its currency (the dataset allows four decimal places); ``quantity``: millionths of its unit (as the
    terms); ``hs_digits``: the HS code right-padded with zeros to ten digits, read as a decimal integer, and
    ``hs_length`` its number of digits; ``issue_day``, ``departure_day``: days since 1900-01-01 (day 0).
    A value that is absent (no FOB value, no non-originating value, no departure date) is 0 with its
    presence bit clear: ``item_flags`` bit 0 FOB, bit 1 non-originating value; ``header_flags`` bit 0
    departure date. A circuit refuses to speak about an absent value.

The *opening* (values and salt) is the holder's: it travels in the full sealed document only, and
:func:`registry.sealing.document.disclose` drops it. The Poseidon arithmetic runs in Node
(:mod:`registry.zk.node`, circomlibjs): no maintained Python package computes circomlib's Poseidon.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from registry.errors import SealedDocumentError
from registry.sealing.merkle import keccak
from registry.types import hex32, parse_hex32

ZK_TAG = b"CoO-zk-v1"
"""Prefix of the commitment leaf's preimage, and (as an integer) the commitment's first input."""
DOMAIN = int.from_bytes(ZK_TAG, "big")
FIELD_PRIME = 21888242871839275222246405745257275088548364400416034343698204186575808495617
"""The BN254 scalar field: every committed value and public input lives below it."""
TREE_DEPTH = 10
MAX_ITEMS = 2**TREE_DEPTH
MONEY_SCALE = 10**4
QUANTITY_SCALE = 10**6
DAY_ZERO = date(1900, 1, 1)
HS_WIDTH = 10
VALUE_LIMIT = 2**64
FOB_PRESENT, VNM_PRESENT = 1, 2
DEPARTURE_PRESENT = 1


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_DIGITS = r"^(0|[1-9][0-9]{0,77})$"


class ItemOpening(_Frozen):
    """One goods item's committed values (decimal strings: they may exceed 2^53)."""

    fob: str = Field(pattern=_DIGITS)
    vnm: str = Field(pattern=_DIGITS)
    quantity: str = Field(pattern=_DIGITS)
    hs_digits: str = Field(pattern=_DIGITS)
    hs_length: int = Field(ge=1, le=HS_WIDTH)
    flags: int = Field(ge=0, le=3)

    def values(self) -> list[int]:
        """The leaf's inputs, in order."""
        return [int(self.fob), int(self.vnm), int(self.quantity), int(self.hs_digits), self.hs_length, self.flags]


class Opening(_Frozen):
    """What opens a commitment: the salt, the certificate's dates and every goods item's values."""

    salt: str = Field(pattern=_DIGITS)
    issue_day: int = Field(ge=0, lt=2**32)
    departure_day: int = Field(ge=0, lt=2**32)
    header_flags: int = Field(ge=0, le=1)
    items: list[ItemOpening] = Field(min_length=1, max_length=MAX_ITEMS)

    def as_input(self) -> dict[str, Any]:
        """The opening as the Node side takes it (every number a decimal string)."""
        return {"salt": self.salt, "issueDay": str(self.issue_day), "departureDay": str(self.departure_day),
                "headerFlags": str(self.header_flags), "items": [[str(v) for v in i.values()] for i in self.items]}


class SealedCommitment(_Frozen):
    """The commitment as it travels in a sealed document (``zk``): the public value and, for its holder, the opening.

    WARNING: the opening carries the confidential figures. Only the full sealed document holds it;
    a disclosed document, a proof bundle and a verification report carry the commitment alone.
    """

    commitment: str = Field(pattern=r"^0x[0-9a-fA-F]{64}$")
    opening: Opening | None = None

    def leaf(self) -> bytes:
        """The commitment leaf of the field tree."""
        return commitment_leaf(parse_hex32(self.commitment))

    def public(self) -> SealedCommitment:
        """The commitment without its opening (what a disclosed document keeps)."""
        return SealedCommitment(commitment=self.commitment)

    @property
    def value(self) -> int:
        """The commitment as a field element (the proofs' first public input)."""
        return int(self.commitment, 16)


def commitment_leaf(commitment: bytes) -> bytes:
    """``keccak256(b"CoO-zk-v1" ‖ commitment)``: the leaf that binds the commitment into the document hash."""
    if len(commitment) != 32:
        raise SealedDocumentError("zk.commitment: must be 32 bytes")
    return keccak(ZK_TAG + commitment)


def has_confidential(confidential: Sequence[Mapping[str, Any]] | None) -> bool:
    """Whether any goods item carries a confidential figure (then the certificate is sealed with a commitment)."""
    return bool(confidential) and any(item for item in confidential or ())


def day_number(value: str | date) -> int:
    """A dataset date as days since 1900-01-01."""
    day = value if isinstance(value, date) else date.fromisoformat(value)
    return (day - DAY_ZERO).days


def scaled(value: str | Decimal, scale: int, what: str) -> int:
    """A non-negative dataset decimal in fixed point (*scale* units per one), below 2^64.

    Raises:
        SealedDocumentError: negative, too precise for *scale*, or too large.
    """
    number = Decimal(value) * scale
    if number != number.to_integral_value() or number < 0 or number >= VALUE_LIMIT:
        raise SealedDocumentError(f"{what}: {value} cannot be committed (non-negative, at most "
                                  f"{len(str(scale)) - 1} decimal places, below 2^64 units)")
    return int(number)


def new_opening(certificate: Mapping[str, Any], confidential: Sequence[Mapping[str, Any]]) -> Opening:
    """The opening of a fresh commitment to *certificate* (its JSON form) and its *confidential* figures.

    Args:
        certificate: the validated certificate's ``to_json()``.
        confidential: one mapping per goods item, in order (``non_originating_value`` as a decimal string
            when the item has one).

    Raises:
        SealedDocumentError: more goods items than the tree holds, or a value the encoding cannot carry.
    """
    goods = certificate["goods"]
    if len(goods) > MAX_ITEMS:
        raise SealedDocumentError(f"goods: at most {MAX_ITEMS} items can carry confidential figures")
    items = [_item_opening(f"goods[{i}]", item, confidential[i] if i < len(confidential) else {})
             for i, item in enumerate(goods)]
    departure = (certificate.get("transport") or {}).get("departure_date")
    return Opening(
        salt=str(secrets.randbelow(FIELD_PRIME)), issue_day=day_number(certificate["issue_date"]),
        departure_day=day_number(departure) if departure else 0,
        header_flags=DEPARTURE_PRESENT if departure else 0, items=items,
    )


def _item_opening(where: str, item: Mapping[str, Any], secret: Mapping[str, Any]) -> ItemOpening:
    fob, vnm = item.get("fob_value"), secret.get("non_originating_value")
    hs = str(item["hs_code"])
    flags = (FOB_PRESENT if fob is not None else 0) | (VNM_PRESENT if vnm is not None else 0)
    return ItemOpening(
        fob=str(scaled(fob, MONEY_SCALE, f"{where}.fob_value") if fob is not None else 0),
        vnm=str(scaled(vnm, MONEY_SCALE, f"{where}.non_originating_value") if vnm is not None else 0),
        quantity=str(scaled(item["quantity"], QUANTITY_SCALE, f"{where}.quantity")),
        hs_digits=str(int(hs.ljust(HS_WIDTH, "0"))), hs_length=len(hs), flags=flags,
    )


def confidential_of(opening: Opening) -> list[dict[str, str]]:
    """The confidential figures an opening carries, per goods item, as the dataset writes them (for a true copy)."""
    out: list[dict[str, str]] = []
    for item in opening.items:
        figures: dict[str, str] = {}
        if item.flags & VNM_PRESENT:
            figures["non_originating_value"] = format(Decimal(item.vnm) / MONEY_SCALE, "f")
        out.append(figures)
    return out


def parse_commitment(text: str) -> bytes:
    """A commitment's 32 bytes from its hex form.

    Raises:
        ValueError: not 32-byte hex, or not below the field prime.
    """
    raw = parse_hex32(text)
    if int.from_bytes(raw, "big") >= FIELD_PRIME:
        raise ValueError("a commitment is a BN254 field element")
    return raw


def commitment_hex(value: int) -> str:
    """A field element as the 32-byte hex a sealed document carries."""
    return hex32(value.to_bytes(32, "big"))


def commit(certificates: Sequence[tuple[Mapping[str, Any], Sequence[Mapping[str, Any]] | None]],
           ) -> list[SealedCommitment | None]:
    """A fresh commitment (with its opening) for each ``(certificate JSON, confidential figures)`` that has
    confidential figures, None for the others; one Node call for all of them.

    Raises:
        SealedDocumentError: a value the encoding cannot carry (see :func:`new_opening`).
        ZkToolError: the Node side could not run.
    """
    from registry.zk.node import poseidon_commitments

    openings = [new_opening(body, figures) if figures and has_confidential(figures) else None
                for body, figures in certificates]
    values = iter(poseidon_commitments([o.as_input() for o in openings if o is not None]))
    return [None if o is None else SealedCommitment(commitment=commitment_hex(next(values)), opening=o)
            for o in openings]
