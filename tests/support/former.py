"""Hot-path primitives as they were before issue 20, kept as the oracles their replacements are tested
against (and the "before" column of ``scripts/bench_primitives.py``)."""

from __future__ import annotations

import json
import secrets
from decimal import Decimal


def former_problem(body: bytes, max_depth: int) -> str | None:
    """The guard as it was: a Python loop over every byte, then a parse with checking hooks."""
    def no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
        seen: dict[str, object] = {}
        for key, value in pairs:
            if key in seen:
                raise ValueError(f"duplicate key {key!r}")
            seen[key] = value
        return seen

    def no_constants(name: str) -> object:
        raise ValueError(f"{name} is not a JSON number")

    def exact_float(text: str) -> float:
        value = float(text)
        if Decimal(text) != Decimal(repr(value)):
            raise ValueError(f"the number {text[:40]} is beyond float precision; send it as a string")
        return value

    def safe_int(text: str) -> int:
        value = int(text)
        if abs(value) > 2**53 - 1:
            raise ValueError(f"the integer {text[:40]} is beyond 2^53; send it as a string")
        return value

    if former_too_deep(body, max_depth):
        return f"JSON nested deeper than {max_depth} levels"
    try:
        json.loads(body, object_pairs_hook=no_duplicates, parse_constant=no_constants, parse_float=exact_float,
                   parse_int=safe_int)
    except ValueError as error:
        return f"malformed JSON body: {error}"
    except RecursionError:
        return f"JSON nested deeper than {max_depth} levels"
    return None


def former_too_deep(body: bytes, max_depth: int) -> bool:
    depth = 0
    for byte in body:
        if byte in b"[{":
            depth += 1
            if depth > max_depth:
                return True
        elif byte in b"]}":
            depth -= 1
    return False


def former_salts(count: int) -> list[bytes]:
    """One ``secrets.token_bytes`` call (one ``getrandom``) per salt."""
    return [secrets.token_bytes(32) for _ in range(count)]
