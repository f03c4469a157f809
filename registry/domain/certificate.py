"""The certificate-of-origin dataset (DESIGN §6) as strict, frozen pydantic models.

Aligned with the ICC certificate-of-origin guidelines, the UN/CEFACT eCO and the
WCO data model: parties, transport, goods items with HS code, origin criterion,
quantity in UN/ECE Rec 20 units and invoice data, issue and validity dates, and
the flags that change how a certificate is handled (issued retrospectively,
third-party invoicing, back-to-back, certified true copy, replacement).

:func:`parse_certificate` is the way in: every rejection is a
:class:`~registry.errors.CertificateValidationError` naming the field path
(``goods[0].hs_code``). Input is taken as submitted, never repaired: codes are
not case-folded, numbers are not rounded; only surrounding whitespace of free
text is trimmed. Quantities and money are :class:`~decimal.Decimal`; they accept
JSON numbers or strings and serialise as plain-notation strings, so the sealed
JSON (and its hash) never meets a float.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    StrictInt,
    StringConstraints,
    model_validator,
)
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from registry.domain import codes
from registry.domain.codes import (
    CertificateNumber,
    CertificateType,
    Country,
    Currency,
    HsCode,
    LoCode,
    OriginCriterion,
    TransportMode,
    Unit,
)
from registry.errors import CertificateValidationError

MAX_GOODS_ITEMS = 999
"""Upper bound on goods items per certificate (paper forms carry far fewer)."""

VALIDITY_MONTHS = 12
"""Default validity: ``valid_until`` is the issue date plus this many months."""

RETROSPECTIVE_GRACE = timedelta(days=3)
"""A certificate issued more than this after departure must be marked ``issued_retrospectively``."""

RETROSPECTIVE_LIMIT_MONTHS = 12
"""A retrospective certificate is issued at most this many months after departure."""

EARLIEST_DATE, LATEST_DATE = date(1900, 1, 1), date(2999, 12, 31)
"""Sanity bounds for every date in a certificate (keeps date arithmetic in range)."""

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PLAIN_DECIMAL = re.compile(r"-?[0-9]{1,30}(\.[0-9]{1,30})?")
_FLOAT_DIGITS = 15  # every decimal of at most 15 significant digits survives a trip through a float


# -- field types ------------------------------------------------------------------------


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
"""C0 and C1 control characters (DEL included)."""
_CONTROL_BUT_BREAKS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""The same, line feeds and tabs excepted."""


def _printable(multiline: bool) -> AfterValidator:
    """Refuse control characters (but line feeds and tabs when *multiline*), with one regex search per text."""
    control = _CONTROL_BUT_BREAKS if multiline else _CONTROL
    message = "text must not contain control characters" + (" (line breaks and tabs are fine)" if multiline else "")

    def run(value: str) -> str:
        if control.search(value) is not None:
            raise PydanticCustomError("text_characters", message)
        return value

    return AfterValidator(run)


def _decimal_input(value: object) -> Decimal:
    """Accept a JSON number or a plain decimal string; refuse what would lose precision. ``-0`` becomes ``0``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise PydanticCustomError("decimal_type", "expected a decimal number as a JSON number or a string, "
                                  f"not {type(value).__name__}")
    if isinstance(value, str) and _PLAIN_DECIMAL.fullmatch(value) is None:
        raise PydanticCustomError("decimal_format", "expected a plain decimal number such as 1200 or 5400.50")
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise PydanticCustomError("decimal_finite", "expected a finite decimal number")
    if isinstance(value, float) and len(number.as_tuple().digits) > _FLOAT_DIGITS:
        raise PydanticCustomError("decimal_precision", "number has more digits than a JSON number carries exactly; "
                                  "send it as a string")
    return number.copy_abs() if number.is_zero() else number


def _date_input(value: object) -> object:
    """Accept a ``date`` or a ``YYYY-MM-DD`` string within the sanity bounds."""
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            value = date.fromisoformat(value)
        except ValueError as error:
            raise PydanticCustomError("date_value", f"{value!r} is not a valid date: {error}") from None
    if not isinstance(value, date) or isinstance(value, datetime):
        raise PydanticCustomError("date_format", "expected a date written YYYY-MM-DD")
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise PydanticCustomError("date_range", f"date must lie between {EARLIEST_DATE} and {LATEST_DATE}")
    return value


def _trimmed(max_length: int) -> StringConstraints:
    return StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=max_length)


_ONE_LINE, _MULTI_LINE = _printable(multiline=False), _printable(multiline=True)
_DECIMAL = BeforeValidator(_decimal_input)
_PLAIN_STRING = PlainSerializer(lambda value: format(value, "f"), return_type=str, when_used="json")

ShortText = Annotated[str, _trimmed(120), _ONE_LINE]
Name = Annotated[str, _trimmed(200), _ONE_LINE]
Address = Annotated[str, _trimmed(500), _ONE_LINE]
Description = Annotated[str, _trimmed(1000), _MULTI_LINE]
Remarks = Annotated[str, _trimmed(2000), _MULTI_LINE]
Day = Annotated[date, BeforeValidator(_date_input)]
Quantity = Annotated[Decimal, _DECIMAL, Field(gt=0, max_digits=18, decimal_places=6), _PLAIN_STRING]
Weight = Annotated[Decimal, _DECIMAL, Field(ge=0, max_digits=18, decimal_places=6), _PLAIN_STRING]
Money = Annotated[Decimal, _DECIMAL, Field(ge=0, max_digits=18, decimal_places=4), _PLAIN_STRING]


def add_months(day: date, months: int) -> date:
    """*day* moved by whole *months*, clamped to the month's last day (29 Feb + 12 months = 28 Feb)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _default_validity(fields: dict[str, Any]) -> date:
    """``issue_date`` plus :data:`VALIDITY_MONTHS` (an invalid issue date fails validation anyway)."""
    return add_months(fields.get("issue_date", EARLIEST_DATE), VALIDITY_MONTHS)


# -- models ------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Party(_Model):
    """An exporter, consignee, producer or invoicing party."""

    name: Name
    address: Address
    country: Country


class Transport(_Model):
    """Means of transport and route, as far as known when the certificate is issued."""

    mode: TransportMode
    vessel_or_flight: ShortText | None = None
    port_of_loading: LoCode | None = None
    port_of_discharge: LoCode | None = None
    departure_date: Day | None = None


class GoodsItem(_Model):
    """One line of goods: what it is, where it originates, how much, and its invoice."""

    item_number: Annotated[StrictInt, Field(ge=1, le=MAX_GOODS_ITEMS)]
    marks_and_numbers: ShortText = "N/M"
    packages_count: Annotated[StrictInt, Field(ge=0, le=10**9)]
    packages_kind: ShortText
    description: Description
    hs_code: HsCode
    origin_country: Country
    origin_criterion: OriginCriterion
    quantity: Quantity
    unit: Unit
    gross_weight_kg: Weight
    invoice_number: ShortText
    invoice_date: Day
    fob_value: Money | None = None
    currency: Currency | None = None
    non_originating_value: Annotated[Money | None, Field(exclude=True)] = None
    """Confidential: the value of the item's non-originating materials (in ``currency``), for a regional value
    content proven in zero knowledge. Never sealed as a field nor disclosed: :meth:`Certificate.to_json`
    leaves it out, and the sealed document carries it only inside the holder's commitment opening
    (:mod:`registry.zk.commitment`)."""


class Attestation(_Model):
    """The exporter's declaration or the issuing body's certification."""

    place: ShortText
    date: Day
    signatory: Name


class Certificate(_Model):
    """A certificate of origin.

    Construct it through :func:`parse_certificate`, which reports failures as
    :class:`~registry.errors.CertificateValidationError`; validating the model
    directly raises that error for the cross-field rules and pydantic's own
    error for malformed fields. ``valid_until`` defaults to the issue date plus
    :data:`VALIDITY_MONTHS` months. The cross-field rules are listed on
    :func:`rule_violations`.
    """

    certificate_number: CertificateNumber
    certificate_type: CertificateType
    exporter: Party
    consignee: Party
    producer: Party | None = None
    exporting_country: Country
    importing_country: Country
    transport: Transport
    goods: Annotated[list[GoodsItem], Field(min_length=1, max_length=MAX_GOODS_ITEMS)]
    issue_date: Day
    valid_until: Day = Field(default_factory=_default_validity)
    issued_retrospectively: StrictBool = False
    third_party_invoicing: StrictBool = False
    invoicing_party: Party | None = None
    back_to_back: StrictBool = False
    parent_reference: CertificateNumber | None = None
    certified_true_copy: StrictBool = False
    original_reference: CertificateNumber | None = None
    replaces: CertificateNumber | None = None
    remarks: Remarks | None = None
    exporter_declaration: Attestation | None = None
    certification: Attestation | None = None

    @model_validator(mode="after")
    def _apply_rules(self) -> Certificate:
        problems = rule_violations(self)
        if problems:
            raise _validation_error(problems)
        return self

    @property
    def is_preferential(self) -> bool:
        """Whether the certificate was issued under a trade agreement."""
        return self.certificate_type != codes.NON_PREFERENTIAL

    @property
    def agreement_name(self) -> str | None:
        """Full name of the trade agreement, or ``None`` for a non-preferential certificate."""
        return codes.agreements().get(self.certificate_type)

    def to_json(self) -> dict[str, Any]:
        """JSON-compatible dict: dates and decimals as strings, absent fields left out (no nulls).

        The confidential figures are not in it: see :meth:`confidential`."""
        data: dict[str, Any] = self.model_dump(mode="json", exclude_none=True)
        return data

    def confidential(self) -> list[dict[str, str]] | None:
        """The confidential figures per goods item (``non_originating_value`` as a decimal string), or None
        when no item has any (then the certificate is sealed exactly as without this feature)."""
        figures = [{} if item.non_originating_value is None
                   else {"non_originating_value": format(item.non_originating_value, "f")} for item in self.goods]
        return figures if any(figures) else None

    def goods_item(self, item_number: int) -> GoodsItem:
        """The goods item with *item_number*.

        Raises:
            KeyError: if the certificate has no such item.
        """
        for item in self.goods:
            if item.item_number == item_number:
                return item
        raise KeyError(item_number)

    def total_quantity_by_item(self) -> dict[int, tuple[Decimal, str]]:
        """Certified quantity and its unit per goods item number."""
        return {item.item_number: (item.quantity, item.unit) for item in self.goods}

    def total_quantity_by_subheading(self) -> dict[tuple[str, str], Decimal]:
        """Certified quantity summed per HS subheading (first six digits) and unit."""
        totals: dict[tuple[str, str], Decimal] = {}
        for item in self.goods:
            key = (item.hs_code[:6], item.unit)
            totals[key] = totals.get(key, Decimal(0)) + item.quantity
        return totals

    def total_fob_by_currency(self) -> dict[str, Decimal]:
        """Summed FOB value per currency over the goods items that state one."""
        totals: dict[str, Decimal] = {}
        for item in self.goods:
            if item.fob_value is not None and item.currency is not None:
                totals[item.currency] = totals.get(item.currency, Decimal(0)) + item.fob_value
        return totals


# -- cross-field rules ---------------------------------------------------------------------


# Complexity (radon C): one branch per numbered cross-field rule of the docstring; splitting would scatter them
def rule_violations(c: Certificate) -> list[tuple[str, str]]:
    """Check the rules that span fields; return ``(path, message)`` per violation.

    1. ``importing_country`` differs from ``exporting_country``.
    2. ``valid_until`` is not before ``issue_date``.
    3. Goods item numbers are unique.
    4. Unless ``issued_retrospectively``: no ``invoice_date`` after ``issue_date``, and
       ``issue_date`` at most :data:`RETROSPECTIVE_GRACE` (3 days) after the
       departure date. Retrospective issue is itself limited to
       :data:`RETROSPECTIVE_LIMIT_MONTHS` months after departure. Marking a timely
       certificate retrospective is harmless and allowed.
    5. Each flag has its reference, and only then: ``third_party_invoicing`` ⇔
       ``invoicing_party``, ``back_to_back`` ⇔ ``parent_reference``,
       ``certified_true_copy`` ⇔ ``original_reference``.
    6. Neither ``replaces`` nor ``parent_reference`` names the certificate itself
       (a certified true copy keeps its original's number, so ``original_reference`` may).
    7. Back-to-back certificates exist only under a trade agreement.
    8. ``fob_value`` and ``currency`` come together; an ``RVC`` criterion needs an FOB value; a
       (confidential) ``non_originating_value`` needs an FOB value and is at most that.
    9. When the quantity is a mass (GRM, KGM, DTN, TNE, KTN) and a gross weight
       is given (> 0), the gross weight is at least the net quantity.
    10. Ports of loading and discharge differ.
    11. The exporter declares no later than the issue date; the issuing body
        certifies on the issue date.
    """
    problems: list[tuple[str, str]] = []
    add = problems.append
    if c.exporting_country == c.importing_country:
        add(("importing_country", "must differ from exporting_country"))
    if c.valid_until < c.issue_date:
        add(("valid_until", f"{c.valid_until} is before issue_date {c.issue_date}"))
    first_index: dict[int, int] = {}
    for index, item in enumerate(c.goods):
        if item.item_number in first_index:
            add((f"goods[{index}].item_number", f"item number {item.item_number} is used twice "
                 f"(also goods[{first_index[item.item_number]}])"))
        first_index.setdefault(item.item_number, index)
    problems.extend(_timing(c))
    for flag, field in (("third_party_invoicing", "invoicing_party"), ("back_to_back", "parent_reference"),
                        ("certified_true_copy", "original_reference")):
        if getattr(c, flag) and getattr(c, field) is None:
            add((field, f"required when {flag} is true"))
        elif not getattr(c, flag) and getattr(c, field) is not None:
            add((field, f"only allowed when {flag} is true"))
    for field in ("replaces", "parent_reference"):  # a certified true copy keeps the original's number
        if getattr(c, field) == c.certificate_number:
            add((field, "must not be the certificate's own number"))
    if c.back_to_back and not c.is_preferential:
        add(("back_to_back", "back-to-back certificates exist only under a trade agreement, not non-preferential"))
    problems.extend(_goods_values(c))
    ports = c.transport
    if ports.port_of_loading is not None and ports.port_of_loading == ports.port_of_discharge:
        add(("transport.port_of_discharge", "must differ from port_of_loading"))
    if c.exporter_declaration is not None and c.exporter_declaration.date > c.issue_date:
        add(("exporter_declaration.date", f"the exporter must declare no later than issue_date {c.issue_date}"))
    if c.certification is not None and c.certification.date != c.issue_date:
        add(("certification.date", f"the issuing body certifies on issue_date {c.issue_date}"))
    return problems


def _timing(c: Certificate) -> Iterator[tuple[str, str]]:
    departure = c.transport.departure_date
    if c.issued_retrospectively:
        if departure is not None and c.issue_date > add_months(departure, RETROSPECTIVE_LIMIT_MONTHS):
            yield ("issue_date", f"a retrospective certificate is issued within {RETROSPECTIVE_LIMIT_MONTHS} "
                   f"months of departure ({departure})")
        return
    for index, item in enumerate(c.goods):
        if item.invoice_date > c.issue_date:
            yield (f"goods[{index}].invoice_date", f"{item.invoice_date} is after issue_date {c.issue_date} "
                   "(mark the certificate issued_retrospectively)")
    if departure is not None and c.issue_date > departure + RETROSPECTIVE_GRACE:
        yield ("issue_date", f"more than {RETROSPECTIVE_GRACE.days} days after departure on {departure} "
               "(mark the certificate issued_retrospectively)")


# Complexity (radon C): the per-item value rules (FOB with currency, value content needs FOB, gross vs net)
def _goods_values(c: Certificate) -> Iterator[tuple[str, str]]:
    for index, item in enumerate(c.goods):
        where = f"goods[{index}]"
        if item.fob_value is not None and item.currency is None:
            yield (f"{where}.currency", "required when fob_value is given")
        if item.currency is not None and item.fob_value is None:
            yield (f"{where}.fob_value", "required when currency is given")
        if item.fob_value is None and codes.uses_value_content(item.origin_criterion):
            yield (f"{where}.fob_value", f"required for the value-content criterion {item.origin_criterion}")
        if item.non_originating_value is not None and (item.fob_value is None
                                                       or item.non_originating_value > item.fob_value):
            yield (f"{where}.non_originating_value", "needs an FOB value, and is at most the FOB value")
        per_unit = codes.MASS_UNITS_IN_KG.get(item.unit)
        if per_unit is not None and item.gross_weight_kg > 0 and item.gross_weight_kg < item.quantity * per_unit:
            yield (f"{where}.gross_weight_kg", f"gross weight {item.gross_weight_kg} kg is less than the net "
                   f"quantity {item.quantity} {item.unit}")


# -- the way in ------------------------------------------------------------------------------


def parse_certificate(data: Mapping[str, Any]) -> Certificate:
    """Validate *data* (a decoded JSON object) into a :class:`Certificate`.

    Args:
        data: the certificate as submitted; decimals may be JSON numbers or strings.

    Returns:
        The frozen, validated certificate, ``valid_until`` filled in.

    Raises:
        CertificateValidationError: listing every failing field as ``{"loc", "msg"}``
            with a dotted, indexed path (``goods[0].hs_code``); the message names
            the first. Cross-field rules are checked once every field is well-formed.
    """
    if not isinstance(data, Mapping):
        raise _validation_error([("certificate", "expected a JSON object")])
    try:
        return Certificate.model_validate(dict(data))
    except PydanticValidationError as error:
        raise _validation_error([_located(e) for e in error.errors(include_url=False)]) from None


def _located(error: Any) -> tuple[str, str]:
    path = ""
    for part in error["loc"]:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not str(part).startswith("function-"):
            path += f".{part}" if path else str(part)
    message = str(error["msg"]).removeprefix("Value error, ")
    return path or "certificate", message


def _validation_error(problems: list[tuple[str, str]]) -> CertificateValidationError:
    loc, msg = problems[0]
    return CertificateValidationError(f"{loc}: {msg}", [{"loc": p, "msg": m} for p, m in problems])
