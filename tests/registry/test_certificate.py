"""The certificate dataset: every rule rejects bad input and names the field."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.certificate import parse_certificate
from registry.errors import CertificateValidationError

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.json"))


def sample() -> dict[str, Any]:
    return json.loads((EXAMPLES[0].parent / "rcep-sg-jp.json").read_text())


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_shipped_example_is_a_valid_certificate(path: Path) -> None:
    certificate = parse_certificate(json.loads(path.read_text()))
    assert certificate.goods and certificate.valid_until is not None


def test_validity_defaults_to_twelve_months() -> None:
    data = sample()
    del data["valid_until"]
    assert parse_certificate(data).valid_until == date(2027, 11, 10)


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    parts = path.replace("]", "").replace("[", ".").split(".")
    target: Any = data
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    last = parts[-1]
    if value is _DELETE:
        del target[last]
    elif last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value


_DELETE = object()

BAD_INPUTS = [
    ("exporting_country", "XX", "exporting_country", "ISO 3166"),
    ("importing_country", "jp", "importing_country", "ISO 3166"),
    ("importing_country", "SG", "importing_country", "differ"),
    ("exporter.country", "ZZ", "exporter.country", "ISO 3166"),
    ("goods.0.currency", "XYZ", "goods[0].currency", "ISO 4217"),
    ("goods.0.hs_code", "8481.80", "goods[0].hs_code", "6 to 10 digits"),
    ("goods.1.hs_code", "84818", "goods[1].hs_code", "6 to 10 digits"),
    ("goods.0.unit", "PCS", "goods[0].unit", "Recommendation 20"),
    ("transport.mode", "12", "transport.mode", "Recommendation 19"),
    ("transport.port_of_loading", "SG-SIN", "transport.port_of_loading", "UN/LOCODE"),
    ("transport.port_of_discharge", "QQTYO", "transport.port_of_discharge", "ISO 3166"),
    ("valid_until", "2026-01-01", "valid_until", "before issue_date"),
    ("goods.0.invoice_date", "2026-11-20", "goods[0].invoice_date", "issued_retrospectively"),
    ("transport.departure_date", "2026-10-01", "issue_date", "retrospectively"),
    ("goods", [], "goods", "at least 1"),
    ("goods.1.item_number", 1, "goods[1].item_number", "used twice"),
    ("goods.0.quantity", "0", "goods[0].quantity", "greater than 0"),
    ("goods.0.origin_criterion", "whatever", "goods[0].origin_criterion", "pattern"),
    ("certificate_type", "rcep", "certificate_type", "pattern"),
    ("certificate_number", "", "certificate_number", "pattern"),
    ("back_to_back", True, "parent_reference", "required"),
    ("certified_true_copy", True, "original_reference", "required"),
    ("third_party_invoicing", True, "invoicing_party", "required"),
    ("goods.0.fob_value", "-1", "goods[0].fob_value", "greater than or equal"),
    ("exporter", _DELETE, "exporter", "required"),
    ("surprise", "field", "surprise", "not permitted"),
    ("issue_date", "10/11/2026", "issue_date", "date"),
]


@pytest.mark.parametrize(("path", "value", "loc", "words"), BAD_INPUTS, ids=[b[0] + ":" + str(b[1])[:12] for b in BAD_INPUTS])
def test_each_rule_rejects_bad_input_and_names_the_field(path: str, value: Any, loc: str, words: str) -> None:
    data = sample()
    set_path(data, path, value)
    with pytest.raises(CertificateValidationError) as caught:
        parse_certificate(data)
    locs = [e["loc"] for e in caught.value.errors]
    assert loc in locs, caught.value.errors
    message = next(e["msg"] for e in caught.value.errors if e["loc"] == loc)
    assert words.lower() in message.lower()
    assert str(caught.value).split(":")[0] in locs


def test_issued_retrospectively_allows_a_late_issue_date() -> None:
    data = sample()
    data["transport"]["departure_date"] = "2026-10-01"
    data["goods"][0]["invoice_date"] = "2026-11-20"
    data["issued_retrospectively"] = True
    assert parse_certificate(data).issued_retrospectively


def test_a_non_object_is_rejected_cleanly() -> None:
    with pytest.raises(CertificateValidationError):
        parse_certificate(["not", "a", "certificate"])  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None)
@given(
    quantity=st.decimals(min_value="0.000001", max_value="999999999", places=6, allow_nan=False),
    remarks=st.text(min_size=0, max_size=200),
    number=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9/._-]{0,20}", fullmatch=True),
)
def test_any_valid_certificate_round_trips_through_json(quantity: Any, remarks: str, number: str) -> None:
    data = copy.deepcopy(sample())
    data["goods"][0]["quantity"] = str(quantity)
    data["certificate_number"] = number
    if remarks.strip():
        data["remarks"] = remarks
    first = parse_certificate(data)
    again = parse_certificate(json.loads(json.dumps(first.to_json())))
    assert again == first
    assert again.to_json() == first.to_json()
