"""The certificate-of-origin dataset (DESIGN §6) as strict pydantic models.

Aligned with the ICC certificate-of-origin guidelines, the UN/CEFACT eCO and the
WCO data model: parties, transport, goods items with HS code, origin criterion,
quantity in UN/ECE Rec 20 units and invoice data, issue and validity dates, and
the flags that change how a certificate is handled (issued retrospectively,
third-party invoicing, back-to-back, certified true copy, replacement).

Every rejection names the field path (``goods[0].hs_code``), through
:func:`parse_certificate`. Quantities and money are :class:`~decimal.Decimal` and
serialise as strings, so hashing never meets a float.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Annotated, Any

import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticValidationError

from registry.errors import CertificateValidationError

MAX_GOODS_ITEMS = 999
"""Upper bound on goods items per certificate (forms carry far fewer)."""

RETROSPECTIVE_GRACE = timedelta(days=3)
"""A certificate issued more than this after departure must be marked issued retrospectively."""


@cache
def _code_list(name: str) -> frozenset[str]:
    text = resources.files("registry").joinpath("data", name).read_text(encoding="utf-8")
    return frozenset(line.split("\t", 1)[0] for line in text.splitlines() if line and not line.startswith("#"))


def _country(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{2}", value) or pycountry.countries.get(alpha_2=value) is None:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
    return value


def _currency(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{3}", value) or pycountry.currencies.get(alpha_3=value) is None:
        raise ValueError(f"{value!r} is not an ISO 4217 currency code")
    return value


def _unit(value: str) -> str:
    if value not in _code_list("unece_rec20.txt"):
        raise ValueError(f"{value!r} is not a UN/ECE Recommendation 20 unit code (e.g. KGM, TNE, LTR, C62)")
    return value


def _transport_mode(value: str) -> str:
    if value not in _code_list("unece_rec19.txt"):
        raise ValueError(f"{value!r} is not a UN/ECE Recommendation 19 transport mode code (0-9)")
    return value


def _locode(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{2}[A-Z2-9]{3}", value):
        raise ValueError(f"{value!r} is not a UN/LOCODE (two-letter country and three characters, e.g. SGSIN)")
    _country(value[:2])
    return value


def _hs_code(value: str) -> str:
    if not re.fullmatch(r"\d{6,10}", value):
        raise ValueError("HS code must be 6 to 10 digits, without dots")
    return value


Country = Annotated[str, AfterValidator(_country)]
Currency = Annotated[str, AfterValidator(_currency)]
Unit = Annotated[str, AfterValidator(_unit)]
LoCode = Annotated[str, AfterValidator(_locode)]
HsCode = Annotated[str, AfterValidator(_hs_code)]
Text = Annotated[str, Field(min_length=1, max_length=500)]
ShortText = Annotated[str, Field(min_length=1, max_length=120)]
Money = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=4)]
Amount = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=6)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Party(_Model):
    """An exporter, consignee, producer or invoicing party."""

    name: Text
    address: Text
    country: Country


class Transport(_Model):
    """Means of transport and route, as far as known."""

    mode: Annotated[str, AfterValidator(_transport_mode)]
    vessel_or_flight: ShortText | None = None
    port_of_loading: LoCode | None = None
    port_of_discharge: LoCode | None = None
    departure_date: date | None = None


class GoodsItem(_Model):
    """One line of goods and its origin."""

    item_number: Annotated[int, Field(ge=1, le=MAX_GOODS_ITEMS)]
    marks_and_numbers: ShortText = "N/M"
    packages_count: Annotated[int, Field(ge=0, le=10**9)]
    packages_kind: ShortText
    description: Annotated[str, Field(min_length=1, max_length=1000)]
    hs_code: HsCode
    origin_country: Country
    origin_criterion: Annotated[str, Field(pattern=r"^(WO|PE|PSR|CTC|CC|CTH|CTSH|DMI|ACU|RVC\d{2}|[A-Z]{1,4}\d{0,3})$")]
    quantity: Amount
    unit: Unit
    gross_weight_kg: Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6)]
    invoice_number: ShortText
    invoice_date: date
    fob_value: Money | None = None
    currency: Currency | None = None

    @model_validator(mode="after")
    def _value_has_currency(self) -> GoodsItem:
        if self.fob_value is not None and self.currency is None:
            raise ValueError("currency: required when fob_value is given")
        return self


class Attestation(_Model):
    """The exporter's declaration or the issuing body's certification."""

    place: ShortText
    date: date
    signatory: ShortText


class Certificate(_Model):
    """A certificate of origin."""

    certificate_number: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9/._-]{0,63}$")]
    certificate_type: Annotated[str, Field(pattern=r"^(non-preferential|[A-Z][A-Z0-9.-]{1,15})$")]
    exporter: Party
    consignee: Party
    producer: Party | None = None
    exporting_country: Country
    importing_country: Country
    transport: Transport
    goods: Annotated[list[GoodsItem], Field(min_length=1, max_length=MAX_GOODS_ITEMS)]
    issue_date: date
    valid_until: date | None = None
    issued_retrospectively: bool = False
    third_party_invoicing: bool = False
    invoicing_party: Party | None = None
    back_to_back: bool = False
    parent_reference: ShortText | None = None
    certified_true_copy: bool = False
    original_reference: ShortText | None = None
    replaces: ShortText | None = None
    remarks: Annotated[str, Field(max_length=2000)] | None = None
    exporter_declaration: Attestation | None = None
    certification: Attestation | None = None

    @model_validator(mode="after")
    def _rules(self) -> Certificate:
        problems = list(_rule_problems(self))
        if problems:
            raise ValueError("; ".join(problems))
        if self.valid_until is None:
            object.__setattr__(self, "valid_until", _add_months(self.issue_date, 12))
        return self

    def to_json(self) -> dict[str, Any]:
        """JSON-compatible dict (decimals and dates as strings, no nulls)."""
        data: dict[str, Any] = self.model_dump(mode="json", exclude_none=True)
        return data

    def quantities(self) -> dict[int, Decimal]:
        """Certified quantity per goods item number."""
        return {item.item_number: item.quantity for item in self.goods}


def _rule_problems(c: Certificate) -> list[str]:
    """Cross-field rules, each as ``path: message``."""
    problems = []
    if c.exporting_country == c.importing_country:
        problems.append("importing_country: must differ from exporting_country")
    if c.valid_until is not None and c.valid_until < c.issue_date:
        problems.append("valid_until: must not be before issue_date")
    numbers = [item.item_number for item in c.goods]
    for index, number in enumerate(numbers):
        if numbers.index(number) != index:
            problems.append(f"goods[{index}].item_number: item number {number} is used twice")
    if not c.issued_retrospectively:
        for index, item in enumerate(c.goods):
            if item.invoice_date > c.issue_date:
                problems.append(f"goods[{index}].invoice_date: after issue_date (mark the certificate issued_retrospectively)")
        departure = c.transport.departure_date
        if departure is not None and c.issue_date > departure + RETROSPECTIVE_GRACE:
            problems.append("issue_date: more than 3 days after departure (mark the certificate issued_retrospectively)")
    for flag, field in (("third_party_invoicing", "invoicing_party"), ("back_to_back", "parent_reference"),
                        ("certified_true_copy", "original_reference")):
        if getattr(c, flag) and getattr(c, field) is None:
            problems.append(f"{field}: required when {flag} is true")
    return problems


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


_PATH_MESSAGE = re.compile(r"^(?:Value error, )?([A-Za-z_][\w.\[\]]*): (.+)$")


def _path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def parse_certificate(data: Mapping[str, Any]) -> Certificate:
    """Validate *data* into a :class:`Certificate`.

    Raises:
        CertificateValidationError: naming every failing field path; the message
            names the first.
    """
    if not isinstance(data, Mapping):
        raise CertificateValidationError("certificate: expected a JSON object", [{"loc": "", "msg": "expected an object"}])
    try:
        return Certificate.model_validate(dict(data))
    except PydanticValidationError as error:
        found: list[dict[str, str]] = []
        for item in error.errors(include_url=False):
            base = _path(tuple(p for p in item["loc"] if not (isinstance(p, str) and p.startswith("function-"))))
            for message in str(item["msg"]).removeprefix("Value error, ").split("; "):
                match = _PATH_MESSAGE.match(message)
                if match:
                    sub, text = match.groups()
                    loc = f"{base}.{sub}" if base and not sub.startswith(base) else sub
                    found.append({"loc": loc, "msg": text})
                else:
                    found.append({"loc": base, "msg": message})
        first = found[0]
        raise CertificateValidationError(f"{first['loc'] or 'certificate'}: {first['msg']}", found) from None
