"""A utilisation's declaration date must be one a declaration can have: not before the certificate was issued,
not years ago, not in the future beyond a day of time zones and clock skew."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from registry.errors import ValidationError
from registry.services.utilisation import DATE_SKEW, DECLARATION_MAX_AGE, check_declaration_date
from tests.api.test_customs_to_customs import Keys, draw, issued, utilise
from tests.support.http import assert_problem, auth


def _today() -> date:
    return datetime.now(UTC).date()


@pytest.mark.parametrize("declared,says", [
    ("1900-01-01", "more than three years ago"),
    ((_today() - timedelta(days=4 * 365)).isoformat(), "more than three years ago"),
    ((_today() + timedelta(days=3)).isoformat(), "in the future"),
    ("9999-12-31", "in the future"),
    ("2026-11-09", "before the certificate's issue date 2026-11-10"),
])
async def test_an_impossible_declaration_date_is_refused_naming_the_field_and_nothing_is_drawn(
    client: httpx.AsyncClient, keys: Keys, declared: str, says: str
) -> None:
    cert = await issued(client, keys)
    problem = assert_problem(await utilise(client, keys, cert["id"], draw("JP-DATE-1", (1, "1"), date=declared)),
                             422, "date", says)
    assert problem["errors"] == [{"loc": "date", "msg": problem["detail"].removeprefix("date: ")}]
    balance = (await client.get(f"/v1/certificates/{cert['id']}/utilisations", headers=auth(keys, "customs"))).json()
    assert all(item["drawn"] == "0" for item in balance["items"]) and balance["declarations"] == []


async def test_a_declaration_dated_today_or_on_the_issue_date_is_recorded(client: httpx.AsyncClient,
                                                                          keys: Keys) -> None:
    cert = await issued(client, keys)
    for reference, declared in (("JP-DATE-2", _today().isoformat()), ("JP-DATE-3", "2026-11-10")):
        answer = await utilise(client, keys, cert["id"], draw(reference, (1, "1"), date=declared))
        assert answer.status_code == 201, answer.text


def test_the_bounds_are_a_day_ahead_and_three_years_back() -> None:
    today = date(2026, 6, 15)
    check_declaration_date(today + DATE_SKEW, None, today)
    check_declaration_date(today - DECLARATION_MAX_AGE, None, today)
    check_declaration_date(date(2026, 6, 1), date(2026, 6, 1), today)
    for declared, issue_date in ((today + DATE_SKEW + timedelta(days=1), None),
                                 (today - DECLARATION_MAX_AGE - timedelta(days=1), None),
                                 (date(2026, 5, 31), date(2026, 6, 1))):
        with pytest.raises(ValidationError) as caught:
            check_declaration_date(declared, issue_date, today)
        assert caught.value.errors[0]["loc"] == "date"
