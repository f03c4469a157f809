"""A certificate's terms: what the contract must know to police its use.

The importing country, the end of validity, the certified quantity of each goods
item and, for a back-to-back certificate, its parent are sealed into the document
hash as one more leaf of the field tree (the *terms leaf*), next to the salted
field leaves::

    terms_leaf = keccak256(abi.encode(TERMS_TYPEHASH, salt, importingCountry, validUntil, parent,
                                      keccak256(abi.encodePacked(quantities)),
                                      keccak256(abi.encodePacked(parentItems))))

The contract (``CustomsRegistry.registerTerms``) recomputes it from the terms a
holder presents and a proof to the document's field root, so anchoring stays one
32-byte root per batch. The preimage is 224 bytes: never mistaken for an inner
node (64 bytes) nor for a field leaf (which begins with its own salt and path).

Units: quantities are integers in millionths of the item's unit (the dataset
allows six decimal places); ``valid_until`` is the last second (UTC) of the
certificate's ``valid_until`` day.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from registry.entropy import random_bytes
from registry.errors import SealedDocumentError
from registry.sealing.merkle import keccak
from registry.types import hex32, parse_hex32

TERMS_TYPEHASH = keccak(
    b"CoO-terms-v1(bytes32 salt,bytes2 importingCountry,uint40 validUntil,bytes32 parent,"
    b"uint256[] quantities,uint16[] parentItems)"
)
"""Type tag of the terms leaf (``CustomsRegistry.TERMS_TYPEHASH``)."""
QUANTITY_SCALE = 10**6
"""On-chain quantities are in millionths of the unit."""
NO_PARENT = bytes(32)
_MAX_ITEMS = 2**16


@dataclass(frozen=True)
class Terms:
    """The committed terms of one certificate (see the module docstring for units)."""

    importing_country: str
    valid_until: int
    quantities: tuple[int, ...]
    parent: bytes = NO_PARENT
    parent_items: tuple[int, ...] = ()

    def leaf(self, salt: bytes) -> bytes:
        """The terms leaf under *salt* (what ``CustomsRegistry`` recomputes)."""
        return keccak(
            TERMS_TYPEHASH + salt + self.importing_country.encode("ascii").ljust(32, b"\0")
            + self.valid_until.to_bytes(32, "big") + self.parent
            + keccak(b"".join(q.to_bytes(32, "big") for q in self.quantities))
            + keccak(b"".join(i.to_bytes(32, "big") for i in self.parent_items))
        )

    def as_abi(self) -> tuple[bytes, int, bytes, list[int], list[int]]:
        """The ``Terms`` struct as a contract argument."""
        return (self.importing_country.encode("ascii"), self.valid_until, self.parent,
                list(self.quantities), list(self.parent_items))

    @property
    def has_parent(self) -> bool:
        """Whether this is a back-to-back certificate drawing down a parent."""
        return self.parent != NO_PARENT


def end_of_day(day: date) -> int:
    """Unix time of the last second of *day* (UTC)."""
    return int(datetime.combine(day + timedelta(days=1), time(), UTC).timestamp()) - 1


def to_units(quantity: Decimal | str) -> int:
    """A dataset quantity (≤ 6 decimal places) in millionths of its unit."""
    scaled = Decimal(quantity) * QUANTITY_SCALE
    if scaled != scaled.to_integral_value() or scaled <= 0:
        raise SealedDocumentError(f"quantity {quantity}: must be positive with at most six decimal places")
    return int(scaled)


def from_units(units: int) -> Decimal:
    """Inverse of :func:`to_units`, normalised (``1500000`` → ``1.5``)."""
    value = Decimal(units) / QUANTITY_SCALE
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def terms_for(certificate: Mapping[str, Any], parent: bytes | None = None,
              parent_items: Sequence[int] | None = None) -> Terms:
    """The terms of a certificate in its JSON form.

    Args:
        certificate: the validated certificate's ``to_json()``.
        parent: document hash of a back-to-back certificate's parent, if known.
        parent_items: for each goods item, the parent's item index it draws down;
            by default the item at the same position.

    Raises:
        SealedDocumentError: more goods items than the contract can index, or a
            parent item list of the wrong length.
    """
    goods = certificate["goods"]
    if len(goods) >= _MAX_ITEMS:
        raise SealedDocumentError(f"goods: at most {_MAX_ITEMS - 1} items can be utilised on chain")
    quantities = tuple(to_units(item["quantity"]) for item in goods)
    items: tuple[int, ...] = ()
    if parent is not None and parent != NO_PARENT:
        items = tuple(parent_items) if parent_items is not None else tuple(range(len(goods)))
        if len(items) != len(goods) or any(not 0 <= i < _MAX_ITEMS for i in items):
            raise SealedDocumentError("parent_items: one parent item index (0-based) per goods item")
    return Terms(
        importing_country=str(certificate["importing_country"]),
        valid_until=end_of_day(date.fromisoformat(str(certificate["valid_until"]))),
        quantities=quantities,
        parent=parent if parent is not None else NO_PARENT,
        parent_items=items,
    )


def new_salt() -> bytes:
    """A fresh 256-bit salt for a terms leaf."""
    return random_bytes(32)


class SealedTerms(BaseModel):
    """The terms as they travel in a sealed document (``terms``): values, salt and nothing else.

    Quantities are decimal strings (millionths), as they can exceed 2^53.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    importing_country: str = Field(pattern=r"^[A-Z]{2}$")
    valid_until: int = Field(ge=0, lt=2**40)
    quantities: list[str] = Field(min_length=1, max_length=_MAX_ITEMS - 1)
    parent: str = Field(default=hex32(NO_PARENT), pattern=r"^0x[0-9a-fA-F]{64}$")
    parent_items: list[int] = Field(default_factory=list, max_length=_MAX_ITEMS - 1)
    salt: str = Field(pattern=r"^0x[0-9a-fA-F]{64}$")

    @classmethod
    def of(cls, terms: Terms, salt: bytes) -> SealedTerms:
        """Package *terms* and their *salt*."""
        return cls(importing_country=terms.importing_country, valid_until=terms.valid_until,
                   quantities=[str(q) for q in terms.quantities], parent=hex32(terms.parent),
                   parent_items=list(terms.parent_items), salt=hex32(salt))

    def unpack(self) -> tuple[Terms, bytes]:
        """The terms and salt.

        Raises:
            SealedDocumentError: a quantity that is not a positive integer below 2^256.
        """
        try:
            quantities = tuple(int(q) for q in self.quantities)
        except ValueError:
            raise SealedDocumentError("terms.quantities: not integers") from None
        if any(not 0 < q < 2**256 for q in quantities) or any(not 0 <= i < _MAX_ITEMS for i in self.parent_items):
            raise SealedDocumentError("terms: a quantity or parent item is out of range")
        terms = Terms(self.importing_country, self.valid_until, quantities, parse_hex32(self.parent),
                      tuple(self.parent_items))
        return terms, parse_hex32(self.salt)

    def leaf(self) -> bytes:
        """The terms leaf these values and salt give."""
        terms, salt = self.unpack()
        return terms.leaf(salt)


# Complexity (radon C): one comparison per committed term (country, validity, each quantity) with its parse error
def terms_disagreement(terms: Terms, certificate: Mapping[str, Any]) -> str | None:
    """Why the committed *terms* disagree with the disclosed *certificate*, or None.

    Only disclosed fields are compared: a withheld field cannot be checked.
    """
    country = certificate.get("importing_country")
    if country is not None and country != terms.importing_country:
        return f"terms name importing country {terms.importing_country}, the certificate {country}"
    valid = certificate.get("valid_until")
    if valid is not None:
        try:
            if end_of_day(date.fromisoformat(str(valid))) != terms.valid_until:
                return f"terms end validity at another time than valid_until {valid}"
        except ValueError:
            return f"valid_until {valid!r} is not a date"
    goods = certificate.get("goods")
    if isinstance(goods, list):
        if len(goods) != len(terms.quantities):
            return f"terms certify {len(terms.quantities)} goods items, the certificate lists {len(goods)}"
        for index, item in enumerate(goods):
            if isinstance(item, dict) and "quantity" in item:
                try:
                    if to_units(item["quantity"]) != terms.quantities[index]:
                        return f"goods[{index}]: terms certify another quantity than {item['quantity']}"
                except (SealedDocumentError, ArithmeticError, ValueError, TypeError):
                    return f"goods[{index}].quantity {item['quantity']!r} is not a quantity"
    return None


def terms_plain(terms: SealedTerms | None) -> bytes:
    """The bytes a certificate's terms are kept sealed apart as (under its data key): their JSON, or ``null``."""
    return json.dumps(terms.model_dump() if terms is not None else None).encode()


def terms_from_plain(plain: bytes) -> SealedTerms | None:
    """The terms :func:`terms_plain` gave *plain* for."""
    data = json.loads(plain)
    return SealedTerms(**data) if data else None
