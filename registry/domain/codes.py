"""Code lists and code checks for the certificate dataset (DESIGN §6).

Countries and currencies come from :mod:`pycountry` (ISO 3166-1 alpha-2 and
ISO 4217). The UN/ECE lists ship with the package under ``registry/domain/data``:

* ``unece_rec20.txt``: Recommendation 20 units of measure (a trade selection);
* ``unece_rec19.txt``: Recommendation 19 modes of transport, ``0`` to ``9``;
* ``agreements.txt``: the agreement codes accepted as ``certificate_type``.

Every ``check_*`` function returns its (unchanged) argument when it is a valid
code and raises :class:`ValueError` with a message meant for the person who
filled in the form otherwise. Codes are never case-folded or trimmed: ``jp`` is
refused, not corrected, so what is sealed is exactly what was submitted. The
annotated types at the end (:data:`Country`, :data:`Unit`, ...) apply the checks
to strict-string pydantic fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Annotated

import pycountry
from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

NON_PREFERENTIAL = "non-preferential"
"""The ``certificate_type`` of a certificate issued under no trade agreement."""

ORIGIN_CRITERIA: Mapping[str, str] = MappingProxyType({
    "WO": "wholly obtained or produced",
    "PE": "produced exclusively from originating materials",
    "PSR": "product-specific rule",
    "CTC": "change in tariff classification",
    "CC": "change of chapter",
    "CTH": "change of tariff heading",
    "CTSH": "change of tariff subheading",
    "DMI": "de minimis",
    "ACU": "accumulation",
    "A": "criterion A (CPTPP, USMCA): wholly obtained or produced",
    "B": "criterion B (CPTPP: exclusively from originating materials; USMCA: product-specific rule)",
    "C": "criterion C (CPTPP: product-specific rule; USMCA: exclusively from originating materials)",
    "P": "GSP Form A: wholly obtained",
    "W": "GSP Form A: sufficiently worked or processed",
})
"""Origin criterion tokens; ``RVC`` with a two-digit threshold (``RVC40``) is allowed too."""

MASS_UNITS_IN_KG: Mapping[str, Decimal] = MappingProxyType({
    "GRM": Decimal("0.001"), "KGM": Decimal(1), "DTN": Decimal(100), "TNE": Decimal(1000), "KTN": Decimal(1000000),
})
"""Rec 20 units of mass and their size in kilograms (for comparing net quantity and gross weight)."""

_CERTIFICATE_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9/._-]{0,63}")
_LOCODE = re.compile(r"([A-Z]{2})([A-Z2-9]{3})")
_HS_CODE = re.compile(r"[0-9]{6,10}")
_VALUE_CONTENT = re.compile(r"RVC[0-9]{2}")
_NOT_MONEY = frozenset({
    "XXX",  # no currency
    "XTS",  # reserved for testing
    "XAU", "XAG", "XPT", "XPD",  # precious metals
    "XBA", "XBB", "XBC", "XBD",  # European bond-market units
    "XDR", "XSU", "XUA",  # accounting units
})


@cache
def _table(name: str) -> Mapping[str, str]:
    """Load a shipped ``code<TAB>name`` table (``#`` comments, blank lines ignored)."""
    text = resources.files("registry.domain").joinpath("data", name).read_text(encoding="utf-8")
    rows: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        code, _, label = line.partition("\t")
        if code in rows:
            raise RuntimeError(f"code list {name} repeats code {code!r}")
        rows[code] = label.strip()
    return MappingProxyType(rows)


def unit_codes() -> Mapping[str, str]:
    """UN/ECE Recommendation 20 unit codes shipped with the registry, code to name."""
    return _table("unece_rec20.txt")


def transport_modes() -> Mapping[str, str]:
    """UN/ECE Recommendation 19 transport mode codes (``"0"`` to ``"9"``), code to name."""
    return _table("unece_rec19.txt")


def agreements() -> Mapping[str, str]:
    """Agreement codes accepted as a preferential ``certificate_type``, code to name."""
    return _table("agreements.txt")


def check_country(value: str) -> str:
    """Accept an existing ISO 3166-1 alpha-2 code in upper case (``SG``, ``JP``)."""
    if len(value) != 2 or not value.isascii() or not value.isupper() \
            or pycountry.countries.get(alpha_2=value) is None:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code (e.g. SG, JP, DE)")
    return value


def check_currency(value: str) -> str:
    """Accept an ISO 4217 currency code in upper case; metals and test codes are refused."""
    if len(value) != 3 or not value.isascii() or not value.isupper() or value in _NOT_MONEY \
            or pycountry.currencies.get(alpha_3=value) is None:
        raise ValueError(f"{value!r} is not an ISO 4217 currency code (e.g. USD, EUR, JPY)")
    return value


def check_unit(value: str) -> str:
    """Accept a UN/ECE Recommendation 20 unit code from the shipped list."""
    if value not in unit_codes():
        raise ValueError(f"{value!r} is not a UN/ECE Recommendation 20 unit code (e.g. KGM, TNE, LTR, MTK, C62, H87)")
    return value


def check_transport_mode(value: str) -> str:
    """Accept a UN/ECE Recommendation 19 transport mode code, a single digit as text."""
    if value not in transport_modes():
        raise ValueError(f"{value!r} is not a UN/ECE Recommendation 19 transport mode code "
                         "(a digit 0-9 as text, e.g. '1' maritime, '4' air)")
    return value


def check_locode(value: str) -> str:
    """Accept a UN/LOCODE: an ISO 3166-1 country and three characters from ``A-Z2-9``.

    Only the shape and the country are checked; the registry ships no location list.
    """
    match = _LOCODE.fullmatch(value)
    if match is None:
        raise ValueError(f"{value!r} is not a UN/LOCODE (country code and three characters A-Z or 2-9, e.g. SGSIN)")
    try:
        check_country(match.group(1))
    except ValueError:
        raise ValueError(f"{value!r} is not a UN/LOCODE: {match.group(1)!r} is not an ISO 3166-1 country") from None
    return value


def check_hs_code(value: str) -> str:
    """Accept 6 to 10 digits (no dots) whose first two name an HS chapter, 01 to 97 but not 77."""
    if _HS_CODE.fullmatch(value) is None:
        raise ValueError("HS code must be 6 to 10 digits, without dots or spaces")
    chapter = int(value[:2])
    if not 1 <= chapter <= 97 or chapter == 77:
        raise ValueError(f"HS code {value} names chapter {value[:2]}, which is not an HS chapter (01-97, 77 reserved)")
    return value


def check_origin_criterion(value: str) -> str:
    """Accept origin criterion tokens joined by ``+`` (both met) or ``/`` (either met).

    Tokens are those of :data:`ORIGIN_CRITERIA`, plus ``RVC`` with a two-digit
    threshold: ``WO``, ``CTH``, ``RVC40``, ``CTH+RVC35``, ``CTSH/RVC40``.
    """
    tokens = re.split(r"[+/]", value)
    for token in tokens:
        if token not in ORIGIN_CRITERIA and _VALUE_CONTENT.fullmatch(token) is None:
            raise ValueError(f"{value!r} is not an origin criterion (e.g. WO, PE, CTH, CTSH, CC, RVC40, PSR, "
                             "or combinations such as CTH+RVC40)")
    return value


def uses_value_content(criterion: str) -> bool:
    """Whether an origin criterion relies on a regional value content (so needs an FOB value)."""
    return any(_VALUE_CONTENT.fullmatch(token) for token in re.split(r"[+/]", criterion))


def check_certificate_type(value: str) -> str:
    """Accept ``non-preferential`` or an agreement code from :func:`agreements`."""
    if value != NON_PREFERENTIAL and value not in agreements():
        known = ", ".join(sorted(agreements()))
        raise ValueError(f"{value!r} is not a certificate type: use {NON_PREFERENTIAL!r} or one of {known}")
    return value


def check_certificate_number(value: str) -> str:
    """Accept 1 to 64 letters, digits and ``/ . _ -``, starting with a letter or digit."""
    if _CERTIFICATE_NUMBER.fullmatch(value) is None:
        raise ValueError("a certificate number is 1 to 64 letters, digits or / . _ -, "
                         "starting with a letter or digit")
    return value


# -- pydantic field types -------------------------------------------------------------------


def _code(check: Callable[[str], str], kind: str) -> AfterValidator:
    """Run *check* as a pydantic validator whose error message is the check's own."""

    def run(value: str) -> str:
        try:
            return check(value)
        except ValueError as error:
            raise PydanticCustomError(kind, str(error)) from None

    return AfterValidator(run)


Country = Annotated[str, Field(strict=True), _code(check_country, "country_code")]
Currency = Annotated[str, Field(strict=True), _code(check_currency, "currency_code")]
Unit = Annotated[str, Field(strict=True), _code(check_unit, "unit_code")]
TransportMode = Annotated[str, Field(strict=True), _code(check_transport_mode, "transport_mode")]
LoCode = Annotated[str, Field(strict=True), _code(check_locode, "locode")]
HsCode = Annotated[str, Field(strict=True), _code(check_hs_code, "hs_code")]
OriginCriterion = Annotated[str, Field(strict=True), _code(check_origin_criterion, "origin_criterion")]
CertificateType = Annotated[str, Field(strict=True), _code(check_certificate_type, "certificate_type")]
CertificateNumber = Annotated[str, Field(strict=True), _code(check_certificate_number, "certificate_number")]


# -- the code lists with their names, for display ---------------------------------------------

VALUE_CONTENT_NAME = "regional value content of at least {percent} %"
"""How an ``RVC`` criterion token reads, ``{percent}`` being its two-digit threshold (``RVC40``: 40 %)."""


@cache
def code_list_names() -> Mapping[str, Mapping[str, str]]:
    """Every code list of the dataset with the name of each code, for showing a certificate to people.

    Returns:
        A read-only mapping of list name to ``{code: name}``: ``countries`` (ISO 3166-1
        short names), ``currencies`` (ISO 4217, money only), ``units`` (Rec 20),
        ``transport_modes`` (Rec 19), ``origin_criteria`` (the tokens of
        :data:`ORIGIN_CRITERIA`; ``RVC`` thresholds read as :data:`VALUE_CONTENT_NAME`)
        and ``certificate_types`` (the agreements and ``non-preferential``). The same
        tables the checks accept, so every valid code has a name.
    """
    countries = {c.alpha_2: c.name for c in pycountry.countries}
    currencies = {c.alpha_3: c.name for c in pycountry.currencies if c.alpha_3 not in _NOT_MONEY}
    types = {NON_PREFERENTIAL: "non-preferential (issued under no trade agreement)", **agreements()}
    tables = {"countries": countries, "currencies": currencies, "units": unit_codes(),
              "transport_modes": transport_modes(), "origin_criteria": ORIGIN_CRITERIA, "certificate_types": types}
    return MappingProxyType({name: MappingProxyType(dict(sorted(table.items()))) for name, table in tables.items()})
