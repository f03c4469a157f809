"""The certificate dataset: every rule rejects bad input and names the field."""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal
from pathlib import Path
from typing import Any

import pycountry
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError as PydanticValidationError

from registry.domain import codes
from registry.domain.certificate import Certificate, add_months, parse_certificate
from registry.errors import CertificateValidationError

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
_DELETE = object()


def example(name: str = "rcep-sg-jp") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set (or with ``_DELETE`` remove) the value at a dotted path such as ``goods.0.hs_code``."""
    *parents, last = path.split(".")
    target: Any = data
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    key: Any = int(last) if last.isdigit() else last
    if value is _DELETE:
        del target[key]
    else:
        target[key] = value


def rejection(data: Any) -> CertificateValidationError:
    with pytest.raises(CertificateValidationError) as caught:
        parse_certificate(data)
    return caught.value


# -- the shipped examples ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["rcep-sg-jp", "non-preferential-chamber", "back-to-back-rcep"])
def test_every_shipped_example_is_a_valid_certificate(name: str) -> None:
    certificate = parse_certificate(example(name))
    assert certificate.goods
    assert certificate.issue_date <= date(2026, 11, 23) <= certificate.valid_until


def test_the_examples_cover_preferential_non_preferential_and_back_to_back() -> None:
    rcep, chamber, b2b = (parse_certificate(example(n)) for n in
                          ("rcep-sg-jp", "non-preferential-chamber", "back-to-back-rcep"))
    assert rcep.is_preferential and rcep.agreement_name and "Regional" in rcep.agreement_name
    assert not chamber.is_preferential and chamber.agreement_name is None
    assert b2b.back_to_back and b2b.parent_reference and {g.origin_country for g in b2b.goods} == {"TH"}


# -- every rule rejects bad input, naming the field --------------------------------------------

BAD_INPUTS: list[tuple[str, Any, str, str]] = [
    # identity and type
    ("certificate_number", "", "certificate_number", "1 to 64"),
    ("certificate_number", "-SG-01", "certificate_number", "starting with a letter or digit"),
    ("certificate_number", "SG 01", "certificate_number", "letters, digits"),
    ("certificate_number", "A" * 65, "certificate_number", "1 to 64"),
    ("certificate_type", "rcep", "certificate_type", "not a certificate type"),
    ("certificate_type", "FTA", "certificate_type", "non-preferential"),
    # parties and countries
    ("exporter", _DELETE, "exporter", "field required"),
    ("exporter.country", "ZZ", "exporter.country", "ISO 3166"),
    ("exporter.name", "   ", "exporter.name", "at least 1 character"),
    ("exporter.name", "Lion\x00City", "exporter.name", "control characters"),
    ("consignee.address", "x" * 501, "consignee.address", "at most 500"),
    ("producer.country", "jp", "producer.country", "ISO 3166"),
    ("exporting_country", "XX", "exporting_country", "ISO 3166"),
    ("exporting_country", " SG", "exporting_country", "ISO 3166"),
    ("importing_country", "jp", "importing_country", "ISO 3166"),
    ("importing_country", 392, "importing_country", "valid string"),
    ("importing_country", "SG", "importing_country", "differ from exporting_country"),
    # transport
    ("transport.mode", "12", "transport.mode", "Recommendation 19"),
    ("transport.mode", 1, "transport.mode", "valid string"),
    ("transport.port_of_loading", "SG-SIN", "transport.port_of_loading", "UN/LOCODE"),
    ("transport.port_of_loading", "sgsin", "transport.port_of_loading", "UN/LOCODE"),
    ("transport.port_of_loading", "SGS1N", "transport.port_of_loading", "A-Z or 2-9"),
    ("transport.port_of_discharge", "QQTYO", "transport.port_of_discharge", "not an ISO 3166-1 country"),
    ("transport.port_of_discharge", "SGSIN", "transport.port_of_discharge", "differ from port_of_loading"),
    ("transport.departure_date", "12/11/2026", "transport.departure_date", "YYYY-MM-DD"),
    ("transport.speed", "fast", "transport.speed", "not permitted"),
    # goods
    ("goods", [], "goods", "at least 1"),
    ("goods", _DELETE, "goods", "field required"),
    ("goods.1.item_number", 1, "goods[1].item_number", "used twice"),
    ("goods.0.item_number", 0, "goods[0].item_number", "greater than or equal to 1"),
    ("goods.0.item_number", "1", "goods[0].item_number", "valid integer"),
    ("goods.0.item_number", True, "goods[0].item_number", "valid integer"),
    ("goods.0.packages_count", -1, "goods[0].packages_count", "greater than or equal to 0"),
    ("goods.0.packages_count", 1.5, "goods[0].packages_count", "valid integer"),
    ("goods.0.packages_kind", "", "goods[0].packages_kind", "at least 1"),
    ("goods.0.description", "x" * 1001, "goods[0].description", "at most 1000"),
    ("goods.0.hs_code", "8481.80", "goods[0].hs_code", "6 to 10 digits"),
    ("goods.1.hs_code", "84818", "goods[1].hs_code", "6 to 10 digits"),
    ("goods.0.hs_code", "84818000001", "goods[0].hs_code", "6 to 10 digits"),
    ("goods.0.hs_code", 848180, "goods[0].hs_code", "valid string"),
    ("goods.0.hs_code", "\u0668\u0664\u0668\u0661\u0668\u0660", "goods[0].hs_code", "6 to 10 digits"),
    ("goods.0.hs_code", "990000", "goods[0].hs_code", "not an HS chapter"),
    ("goods.0.hs_code", "770100", "goods[0].hs_code", "not an HS chapter"),
    ("goods.0.origin_country", "EU", "goods[0].origin_country", "ISO 3166"),
    ("goods.0.origin_criterion", "whatever", "goods[0].origin_criterion", "origin criterion"),
    ("goods.0.origin_criterion", "RVC", "goods[0].origin_criterion", "origin criterion"),
    ("goods.0.origin_criterion", "RVC4", "goods[0].origin_criterion", "origin criterion"),
    ("goods.0.origin_criterion", "RVC\u0664\u0660", "goods[0].origin_criterion", "origin criterion"),
    ("goods.0.origin_criterion", "CTH+", "goods[0].origin_criterion", "origin criterion"),
    ("goods.0.origin_criterion", "cth", "goods[0].origin_criterion", "origin criterion"),
    ("goods.0.quantity", "0", "goods[0].quantity", "greater than 0"),
    ("goods.0.quantity", "-5", "goods[0].quantity", "greater than 0"),
    ("goods.0.quantity", "1e3", "goods[0].quantity", "plain decimal"),
    ("goods.0.quantity", "twelve", "goods[0].quantity", "plain decimal"),
    ("goods.0.quantity", "\u0661\u0662", "goods[0].quantity", "plain decimal"),
    ("goods.0.quantity", True, "goods[0].quantity", "not bool"),
    ("goods.0.quantity", float("nan"), "goods[0].quantity", "finite"),
    ("goods.0.quantity", Decimal("sNaN"), "goods[0].quantity", "finite"),
    ("goods.0.quantity", Decimal("1E+999999"), "goods[0].quantity", "18 digits"),
    ("goods.0.quantity", 0.1 + 0.2, "goods[0].quantity", "send it as a string"),
    ("goods.0.quantity", "1.1234567", "goods[0].quantity", "6 decimal places"),
    ("goods.0.quantity", "1" * 19, "goods[0].quantity", "18 digits"),
    ("goods.0.quantity", None, "goods[0].quantity", "not NoneType"),
    ("goods.0.quantity", [1], "goods[0].quantity", "not list"),
    ("goods.0.unit", "PCS", "goods[0].unit", "Recommendation 20"),
    ("goods.0.unit", "PCE", "goods[0].unit", "Recommendation 20"),
    ("goods.0.unit", "CT", "goods[0].unit", "Recommendation 20"),
    ("goods.0.unit", "kgm", "goods[0].unit", "Recommendation 20"),
    ("goods.0.gross_weight_kg", "-1", "goods[0].gross_weight_kg", "greater than or equal to 0"),
    ("goods.0.fob_value", "-1", "goods[0].fob_value", "greater than or equal to 0"),
    ("goods.0.fob_value", "1.23456", "goods[0].fob_value", "4 decimal places"),
    ("goods.0.currency", "XYZ", "goods[0].currency", "ISO 4217"),
    ("goods.0.currency", "usd", "goods[0].currency", "ISO 4217"),
    ("goods.0.currency", "XAU", "goods[0].currency", "ISO 4217"),
    ("goods.0.invoice_date", "2026-02-30", "goods[0].invoice_date", "not a valid date"),
    ("goods.0.invoice_date", "2026-11-20", "goods[0].invoice_date", "issued_retrospectively"),
    ("goods.0.colour", "blue", "goods[0].colour", "not permitted"),
    # dates and flags
    ("issue_date", "10/11/2026", "issue_date", "YYYY-MM-DD"),
    ("issue_date", "2026-11-10T00:00:00", "issue_date", "YYYY-MM-DD"),
    ("issue_date", 20261110, "issue_date", "YYYY-MM-DD"),
    ("issue_date", "0999-01-01", "issue_date", "between 1900-01-01"),
    ("valid_until", "2026-01-01", "valid_until", "before issue_date"),
    ("valid_until", None, "valid_until", "YYYY-MM-DD"),
    ("transport.departure_date", "2026-10-01", "issue_date", "issued_retrospectively"),
    ("issued_retrospectively", "yes", "issued_retrospectively", "valid boolean"),
    ("back_to_back", True, "parent_reference", "required when back_to_back"),
    ("parent_reference", "TH-RCEP-2026-1", "parent_reference", "only allowed when back_to_back"),
    ("certified_true_copy", True, "original_reference", "required when certified_true_copy"),
    ("original_reference", "SG-RCEP-2026-000001", "original_reference", "only allowed when certified_true_copy"),
    ("third_party_invoicing", True, "invoicing_party", "required when third_party_invoicing"),
    ("invoicing_party", {"name": "HK Trader", "address": "Central, Hong Kong", "country": "HK"},
     "invoicing_party", "only allowed when third_party_invoicing"),
    ("replaces", "SG-RCEP-2026-004211", "replaces", "own number"),
    ("replaces", "SG RCEP", "replaces", "letters, digits"),
    ("remarks", "x" * 2001, "remarks", "at most 2000"),
    ("remarks", "half a pair \ud800 of surrogates", "remarks", "valid string"),
    ("remarks", "bell \x07", "remarks", "control characters"),
    ("exporter_declaration.date", "2026-11-11", "exporter_declaration.date", "no later than issue_date"),
    ("certification.date", "2026-11-09", "certification.date", "certifies on issue_date"),
    ("certification.signatory", "", "certification.signatory", "at least 1"),
    ("surprise", "field", "surprise", "not permitted"),
]


@pytest.mark.parametrize(("path", "value", "loc", "words"), BAD_INPUTS,
                         ids=[f"{path}={str(value)[:16]!r}" for path, value, _, _ in BAD_INPUTS])
def test_each_rule_rejects_bad_input_and_names_the_field(path: str, value: Any, loc: str, words: str) -> None:
    data = example()
    set_path(data, path, value)
    error = rejection(data)
    messages = {e["loc"]: e["msg"] for e in error.errors}
    assert loc in messages, error.errors
    assert words.lower() in messages[loc].lower(), messages[loc]
    assert str(error).startswith(f"{error.errors[0]['loc']}: ")


CROSS_FIELD: list[tuple[str, dict[str, Any], str, str]] = [
    ("a value-content criterion without an FOB value", {"goods.1.fob_value": _DELETE, "goods.1.currency": _DELETE},
     "goods[1].fob_value", "value-content criterion RVC40"),
    ("an FOB value without a currency", {"goods.0.currency": _DELETE}, "goods[0].currency", "required when fob_value"),
    ("a currency without an FOB value", {"goods.0.fob_value": _DELETE}, "goods[0].fob_value", "required when currency"),
    ("a gross weight below the net kilograms", {"goods.0.unit": "KGM", "goods.0.gross_weight_kg": "1199.9"},
     "goods[0].gross_weight_kg", "less than the net quantity"),
    ("a gross weight below the net tonnes", {"goods.0.unit": "TNE", "goods.0.gross_weight_kg": "1199999"},
     "goods[0].gross_weight_kg", "less than the net quantity 1200 TNE"),
    ("a retrospective issue more than a year after departure",
     {"issued_retrospectively": True, "transport.departure_date": "2025-11-09"}, "issue_date", "within 12 months"),
    ("a back-to-back non-preferential certificate",
     {"certificate_type": "non-preferential", "back_to_back": True, "parent_reference": "KE-2026-1"},
     "back_to_back", "only under a trade agreement"),
    ("a parent reference naming the certificate itself",
     {"back_to_back": True, "parent_reference": "SG-RCEP-2026-004211"}, "parent_reference", "own number"),
]


@pytest.mark.parametrize(("case", "changes", "loc", "words"), CROSS_FIELD, ids=[c[0] for c in CROSS_FIELD])
def test_each_cross_field_rule_rejects_and_names_the_field(case: str, changes: dict[str, Any], loc: str,
                                                           words: str) -> None:
    data = example()
    for path, value in changes.items():
        set_path(data, path, value)
    messages = {e["loc"]: e["msg"] for e in rejection(data).errors}
    assert loc in messages and words in messages[loc], messages


def test_the_message_names_the_first_failing_field_and_the_errors_list_them_all() -> None:
    data = example()
    data["goods"][0]["hs_code"] = "12.34"
    data["goods"][2]["unit"] = "PCS"
    data["importing_country"] = "Japan"
    error = rejection(data)
    assert str(error) == "importing_country: 'Japan' is not an ISO 3166-1 alpha-2 country code (e.g. SG, JP, DE)"
    assert [e["loc"] for e in error.errors] == ["importing_country", "goods[0].hs_code", "goods[2].unit"]
    assert error.errors[1]["msg"].startswith("HS code must be 6 to 10 digits")


def test_every_cross_field_violation_is_reported_at_once() -> None:
    data = example()
    data["importing_country"] = "SG"
    data["valid_until"] = "2026-01-01"
    data["back_to_back"] = True
    locs = [e["loc"] for e in rejection(data).errors]
    assert locs == ["importing_country", "valid_until", "parent_reference"]


def test_anything_but_an_object_is_rejected_cleanly() -> None:
    for value in (["not", "a", "certificate"], "certificate", None, 42):
        assert str(rejection(value)) == "certificate: expected a JSON object"


def test_validating_the_model_directly_raises_the_domain_error_for_cross_field_rules() -> None:
    data = example()
    data["importing_country"] = "SG"
    with pytest.raises(CertificateValidationError):
        Certificate.model_validate(data)


# -- dates and flags -------------------------------------------------------------------------


def test_validity_defaults_to_twelve_months_after_issue() -> None:
    data = example()
    del data["valid_until"]
    assert parse_certificate(data).valid_until == date(2027, 11, 10)


def test_a_leap_day_certificate_defaults_to_the_last_day_of_february() -> None:
    data = example()
    del data["valid_until"]
    data["issue_date"] = data["certification"]["date"] = "2028-02-29"
    data["transport"]["departure_date"] = "2028-03-01"
    assert parse_certificate(data).valid_until == date(2029, 2, 28)


def test_months_are_added_clamped_to_the_end_of_the_month() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 12, 15), 12) == date(2027, 12, 15)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


def test_issuing_three_days_after_departure_is_still_timely() -> None:
    data = example()
    data["transport"]["departure_date"] = "2026-11-07"
    assert not parse_certificate(data).issued_retrospectively


def test_issued_retrospectively_allows_a_late_issue_and_late_invoices() -> None:
    data = example()
    data["transport"]["departure_date"] = "2026-10-01"
    data["goods"][0]["invoice_date"] = "2026-11-20"
    data["issued_retrospectively"] = True
    assert parse_certificate(data).issued_retrospectively


def test_marking_a_timely_certificate_retrospective_is_allowed() -> None:
    data = example()
    data["issued_retrospectively"] = True
    assert parse_certificate(data).issued_retrospectively


def test_a_certified_true_copy_carries_its_original_reference() -> None:
    data = example()
    data.update(certificate_number="SG-RCEP-2026-004211-CTC", certified_true_copy=True,
                original_reference="SG-RCEP-2026-004211")
    assert parse_certificate(data).original_reference == "SG-RCEP-2026-004211"


def test_a_certified_true_copy_may_keep_the_original_number() -> None:
    data = example()
    data.update(certified_true_copy=True, original_reference=data["certificate_number"])
    assert parse_certificate(data).certified_true_copy


# -- numbers, text and serialisation ------------------------------------------------------------


def test_json_numbers_are_accepted_and_serialised_as_strings() -> None:
    data = example()
    data["goods"][0].update(quantity=1200, gross_weight_kg=5400.5, fob_value=86400.25)
    goods = parse_certificate(data).to_json()["goods"][0]
    assert (goods["quantity"], goods["gross_weight_kg"], goods["fob_value"]) == ("1200", "5400.5", "86400.25")


def test_decimal_strings_keep_their_trailing_zeros() -> None:
    assert parse_certificate(example()).to_json()["goods"][0]["fob_value"] == "86400.00"


def test_decimals_serialise_in_plain_notation_and_zero_has_no_sign() -> None:
    data = example()
    data["goods"][0].update(quantity=Decimal("1.2E+3"), gross_weight_kg="-0.0")
    goods = parse_certificate(data).to_json()["goods"][0]
    assert (goods["quantity"], goods["gross_weight_kg"]) == ("1200", "0.0")


def test_the_json_form_has_no_nulls_and_keeps_the_flags() -> None:
    data = example()
    data["producer"] = None
    body = parse_certificate(data).to_json()
    assert "producer" not in body and "null" not in json.dumps(body)
    assert body["back_to_back"] is False and body["valid_until"] == "2027-11-10"


def test_free_text_is_trimmed_but_codes_are_taken_as_written() -> None:
    data = example()
    data["exporter"]["name"] = "  Lion City Precision Components Pte. Ltd.\t"
    assert parse_certificate(data).exporter.name == "Lion City Precision Components Pte. Ltd."
    data["goods"][0]["unit"] = "H87 "
    assert rejection(data).errors[0]["loc"] == "goods[0].unit"


def test_remarks_and_descriptions_may_span_lines() -> None:
    data = example()
    data["remarks"] = "Line one.\nLine two."
    data["goods"][0]["description"] = "Ball valves\n\tDN50"
    assert parse_certificate(data).remarks == "Line one.\nLine two."


def test_a_certificate_is_immutable() -> None:
    certificate = parse_certificate(example())
    with pytest.raises(PydanticValidationError):
        certificate.certificate_number = "OTHER"


# -- helpers ---------------------------------------------------------------------------------------


def test_quantities_are_totalled_by_item_and_by_hs_subheading() -> None:
    data = example("back-to-back-rcep")
    certificate = parse_certificate(data)
    assert certificate.total_quantity_by_item() == {1: (Decimal("10800"), "KGM"), 2: (Decimal("2700"), "KGM")}
    assert certificate.total_quantity_by_subheading() == {("081190", "KGM"): Decimal("13500")}
    assert certificate.total_fob_by_currency() == {"USD": Decimal("112050.00")}


def test_a_goods_item_is_found_by_its_number() -> None:
    certificate = parse_certificate(example())
    assert certificate.goods_item(2).hs_code == "848190"
    with pytest.raises(KeyError):
        certificate.goods_item(99)


# -- shipped code lists -----------------------------------------------------------------------------


def test_the_unit_list_holds_the_trade_units_of_recommendation_20_and_nothing_else() -> None:
    units = codes.unit_codes()
    assert len(units) >= 300
    assert {"KGM", "TNE", "LTR", "MTR", "MTK", "MTQ", "C62", "H87", "SET", "PR", "DZN", "KWH", "LPA"} <= set(units)
    assert not {"PCE", "PCS", "CT", "BX", "BG", "PK", "NPR", "NTT", "kg"} & set(units)
    assert units["H87"] == "piece"


def test_transport_modes_are_the_ten_codes_of_recommendation_19() -> None:
    assert list(codes.transport_modes()) == [str(n) for n in range(10)]
    assert codes.transport_modes()["1"] == "maritime transport"


def test_the_agreement_list_names_the_common_preferential_certificates() -> None:
    assert {"RCEP", "ATIGA", "EUR.1", "CPTPP", "AANZFTA"} <= set(codes.agreements())
    assert codes.NON_PREFERENTIAL not in codes.agreements()


def test_combined_origin_criteria_are_accepted() -> None:
    for criterion in ("WO", "PE", "CTH+RVC40", "CTSH/RVC35", "PSR", "ACU+CTH", "A", "RVC45"):
        assert codes.check_origin_criterion(criterion) == criterion
    assert codes.uses_value_content("CTSH/RVC35") and not codes.uses_value_content("CTH")


# -- round trips -------------------------------------------------------------------------------------

_COUNTRIES = sorted(country.alpha_2 for country in pycountry.countries)
_CURRENCIES = sorted(c.alpha_3 for c in pycountry.currencies if c.alpha_3 not in {"XXX", "XTS", "XAU", "XAG", "XPT",
                                                                                      "XPD", "XDR", "XSU", "XUA",
                                                                                      "XBA", "XBB", "XBC", "XBD"})
_MASS_IN_KG = {"GRM": Decimal("0.001"), "KGM": Decimal(1), "DTN": Decimal(100), "TNE": Decimal(1000),
               "KTN": Decimal(1000000)}
_text = st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=40).filter(str.strip)
_numbers = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9/._-]{0,30}", fullmatch=True)
_amounts = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("999999"), places=6)


def _plain(value: Decimal) -> str:
    return format(value, "f")


@st.composite
def _parties(draw: st.DrawFn) -> dict[str, Any]:
    return {"name": draw(_text), "address": draw(_text), "country": draw(st.sampled_from(_COUNTRIES))}


@st.composite
def _goods(draw: st.DrawFn, item_number: int, issue: date) -> dict[str, Any]:
    chapter = draw(st.integers(1, 97).filter(lambda n: n != 77))
    unit = draw(st.sampled_from(sorted(codes.unit_codes())))
    quantity = draw(_amounts)
    per_kg = _MASS_IN_KG.get(unit)
    gross = (quantity * per_kg).quantize(Decimal("0.000001"), ROUND_CEILING) if per_kg else Decimal(0)
    criterion = draw(st.sampled_from(["WO", "PE", "CTH", "CTSH", "CC", "PSR", "RVC40", "CTH+RVC35", "CTSH/RVC40"]))
    item = {
        "item_number": item_number, "marks_and_numbers": draw(_text), "packages_count": draw(st.integers(0, 10**9)),
        "packages_kind": draw(_text), "description": draw(_text),
        "hs_code": f"{chapter:02d}" + draw(st.from_regex(r"[0-9]{4,8}", fullmatch=True)),
        "origin_country": draw(st.sampled_from(_COUNTRIES)), "origin_criterion": criterion,
        "quantity": _plain(quantity), "unit": unit, "gross_weight_kg": _plain(gross + draw(_amounts)),
        "invoice_number": draw(_text), "invoice_date": str(issue - timedelta(days=draw(st.integers(0, 90)))),
    }
    if codes.uses_value_content(criterion) or draw(st.booleans()):
        fob = draw(st.decimals(min_value=0, max_value=Decimal("99999999999999"), places=2))
        item.update(fob_value=_plain(fob), currency=draw(st.sampled_from(_CURRENCIES)))
    return item


@st.composite
def certificates(draw: st.DrawFn) -> dict[str, Any]:
    """Arbitrary certificates that satisfy every rule, in their submitted (JSON) form."""
    exporting, importing = draw(st.lists(st.sampled_from(_COUNTRIES), min_size=2, max_size=2, unique=True))
    issue = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2098, 12, 31)))
    number = draw(_numbers)
    kind = draw(st.sampled_from([codes.NON_PREFERENTIAL, *sorted(codes.agreements())]))
    others = _numbers.filter(lambda n: n != number)
    loading, discharge = draw(st.lists(st.sampled_from(["SGSIN", "JPTYO", "JPYOK", "KEMBA", "GBFXT", "DEHAM"]),
                                       min_size=2, max_size=2, unique=True))
    numbers = draw(st.lists(st.integers(1, 999), min_size=1, max_size=4, unique=True))
    data: dict[str, Any] = {
        "certificate_number": number, "certificate_type": kind,
        "exporter": draw(_parties()), "consignee": draw(_parties()),
        "exporting_country": exporting, "importing_country": importing,
        "transport": {"mode": draw(st.sampled_from([str(n) for n in range(10)])), "vessel_or_flight": draw(_text),
                      "port_of_loading": loading, "port_of_discharge": discharge,
                      "departure_date": str(issue + timedelta(days=draw(st.integers(-3, 60))))},
        "goods": [draw(_goods(n, issue)) for n in numbers],
        "issue_date": str(issue),
        "issued_retrospectively": draw(st.booleans()),
        "certification": {"place": draw(_text), "date": str(issue), "signatory": draw(_text)},
    }
    if draw(st.booleans()):
        data["valid_until"] = str(issue + timedelta(days=draw(st.integers(0, 800))))
    if draw(st.booleans()):
        data["producer"] = draw(_parties())
    if draw(st.booleans()):
        data.update(third_party_invoicing=True, invoicing_party=draw(_parties()))
    if kind != codes.NON_PREFERENTIAL and draw(st.booleans()):
        data.update(back_to_back=True, parent_reference=draw(others))
    if draw(st.booleans()):
        data.update(certified_true_copy=True, original_reference=draw(others))
    if draw(st.booleans()):
        data["replaces"] = draw(others)
    if draw(st.booleans()):
        data["remarks"] = draw(st.text(st.characters(exclude_categories=("Cc", "Cs")) | st.sampled_from("\n\t"),
                                       min_size=1, max_size=200).filter(str.strip))
    return data


@settings(max_examples=150, deadline=None)
@given(certificates())
def test_any_valid_certificate_round_trips_through_json(data: dict[str, Any]) -> None:
    first = parse_certificate(copy.deepcopy(data))
    again = parse_certificate(json.loads(json.dumps(first.to_json())))
    assert again == first
    assert again.to_json() == first.to_json()


@settings(max_examples=150, deadline=None)
@given(st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("999999999.999999"), places=6))
def test_a_decimal_sent_as_a_json_number_keeps_its_exact_value(quantity: Decimal) -> None:
    data = example()
    data["goods"][2]["quantity"] = json.loads(json.dumps(float(quantity)))
    data["goods"][2]["gross_weight_kg"] = "0"
    assert parse_certificate(data).goods[2].quantity == quantity
