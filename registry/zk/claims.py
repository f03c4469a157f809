"""Claims: what a holder proves about committed values, written as a line of text.

::

    goods[1].rvc >= 40                          rvc_at_least          (FOB − VNM) · 100 ≥ 40 · FOB
    goods[2].hs_code startswith 8481            hs_prefix             the first 4 digits are 8481
    goods[0].fob_value <= 1000                  value_at_most         also non_originating_value, quantity
    goods[0].quantity >= 5                      value_at_least
    issue_date - transport.departure_date <= 365    days_between_at_most  (either order of the two dates)

``goods[i]`` is the goods item at index *i* of the certificate's ``goods`` list (0-based, as the
sealed document's field paths), not its ``item_number``. Thresholds are decimals in the item's own
currency or unit (money to four decimal places, quantities to six), percentages and day counts whole
numbers. A claim's *public inputs* follow from its text and the commitment alone: a verifier derives
them itself and never takes them from the proof.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from registry.errors import ValidationError
from registry.zk.commitment import MAX_ITEMS, MONEY_SCALE, QUANTITY_SCALE, VALUE_LIMIT

_ITEM = r"goods\[(0|[1-9][0-9]{0,3})\]"
_NUMBER = r"([0-9]{1,20}(?:\.[0-9]{1,20})?)"
_RVC = re.compile(rf"{_ITEM}\.rvc\s*>=\s*([0-9]{{1,3}})\s*%?")
_HS = re.compile(rf"{_ITEM}\.hs_code\s+startswith\s+([0-9]{{1,10}})")
_VALUE = re.compile(rf"{_ITEM}\.(fob_value|non_originating_value|quantity)\s*(<=|>=)\s*{_NUMBER}")
_DAYS = re.compile(r"(issue_date|transport\.departure_date)\s*-\s*(issue_date|transport\.departure_date)\s*<=\s*"
                   r"([0-9]{1,6})")

VALUE_FIELDS: dict[str, tuple[int, int, str]] = {
    "fob_value": (0, MONEY_SCALE, "FOB value"),
    "non_originating_value": (1, MONEY_SCALE, "value of non-originating materials"),
    "quantity": (2, QUANTITY_SCALE, "quantity"),
}
"""Field → (selector in the circuit, fixed-point scale, words for people)."""
DATES: dict[str, tuple[int, str]] = {"issue_date": (0, "issue date"), "transport.departure_date": (1, "departure date")}


@dataclass(frozen=True)
class Claim:
    """A parsed claim: its circuit, the goods item it is about (None for the dates), its parameters."""

    text: str
    circuit: str
    item: int | None
    params: dict[str, int]
    statement: str
    """What a proof of it establishes, for people (``goods[1]: RVC ≥ 40 %``)."""

    def public_inputs(self, commitment: int) -> list[str]:
        """The circuit's public inputs for this claim about *commitment*, in circuit order (decimal strings)."""
        head = [commitment] if self.item is None else [commitment, self.item]
        return [str(v) for v in [*head, *self.params.values()]]


def parse_claim(text: str, where: str = "claim") -> Claim:
    """Parse one claim (the grammar in the module docstring); its canonical text is regenerated.

    Raises:
        ValidationError: naming *where*: not a claim of the grammar, an item beyond the commitment's tree,
            a percentage above 100, or a threshold the fixed-point encoding cannot carry.
    """
    line = " ".join(str(text).split())
    for parse in (_rvc, _hs, _value, _days):
        claim = parse(line, where)
        if claim is not None:
            return claim
    raise _bad(where, f"{line!r} is not a claim; write e.g. 'goods[0].rvc >= 40', 'goods[0].hs_code startswith "
                      "8481', 'goods[0].fob_value <= 1000' or 'issue_date - transport.departure_date <= 365'")


def _bad(where: str, message: str) -> ValidationError:
    return ValidationError(f"{where}: {message}", [{"loc": where, "msg": message}])


def _item(text: str, where: str) -> int:
    index = int(text)
    if index >= MAX_ITEMS:
        raise _bad(where, f"goods[{index}]: a commitment holds at most {MAX_ITEMS} goods items")
    return index


def _rvc(line: str, where: str) -> Claim | None:
    match = _RVC.fullmatch(line)
    if match is None:
        return None
    item, percent = _item(match.group(1), where), int(match.group(2))
    if percent > 100:
        raise _bad(where, f"a regional value content of {percent} % is more than the whole")
    return Claim(f"goods[{item}].rvc >= {percent}", "rvc_at_least", item, {"percent": percent},
                 f"goods[{item}]: regional value content (build-down) ≥ {percent} %")


def _hs(line: str, where: str) -> Claim | None:
    match = _HS.fullmatch(line)
    if match is None:
        return None
    item, prefix = _item(match.group(1), where), match.group(2)
    level = {2: "chapter", 4: "heading", 6: "subheading"}.get(len(prefix), f"first {len(prefix)} digits")
    return Claim(f"goods[{item}].hs_code startswith {prefix}", "hs_prefix", item,
                 {"digits": len(prefix), "prefix": int(prefix)}, f"goods[{item}]: HS {level} {prefix}")


def _value(line: str, where: str) -> Claim | None:
    match = _VALUE.fullmatch(line)
    if match is None:
        return None
    item, field, sense, number = _item(match.group(1), where), match.group(2), match.group(3), match.group(4)
    selector, scale, words = VALUE_FIELDS[field]
    try:
        scaled = Decimal(number) * scale
    except InvalidOperation:  # pragma: no cover - the pattern admits only plain decimals
        raise _bad(where, f"{number!r} is not a number") from None
    if scaled != scaled.to_integral_value() or scaled >= VALUE_LIMIT:
        raise _bad(where, f"{number}: at most {len(str(scale)) - 1} decimal places and below "
                          f"{VALUE_LIMIT // scale} for the {words}")
    canonical = format(Decimal(number).normalize(), "f")
    circuit = "value_at_most" if sense == "<=" else "value_at_least"
    symbol = "≤" if sense == "<=" else "≥"
    return Claim(f"goods[{item}].{field} {sense} {canonical}", circuit, item,
                 {"field": selector, "bound": int(scaled)}, f"goods[{item}]: {words} {symbol} {canonical}")


def _days(line: str, where: str) -> Claim | None:
    match = _DAYS.fullmatch(line)
    if match is None:
        return None
    first, second, days = match.group(1), match.group(2), int(match.group(3))
    if first == second:
        raise _bad(where, "compare two different dates")
    (a, a_words), (b, b_words) = DATES[first], DATES[second]
    return Claim(f"{first} - {second} <= {days}", "days_between_at_most", None,
                 {"dateA": a, "dateB": b, "maxDays": days}, f"{a_words} at most {days} days after the {b_words}")
