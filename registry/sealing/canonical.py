"""RFC 8785 canonical JSON: orjson where it is proven byte-identical, the ``rfc8785`` package elsewhere.

orjson (compiled) writes the same bytes as RFC 8785 for *plain* values: ``str``, ``bool``,
``None``, integers within ±(2^53 − 1), and lists and dicts of them whose keys are ASCII
strings (exact types, no subclasses). There the two agree on every byte: the same string
escapes (``\\b \\f \\n \\r \\t``, ``\\u00xx`` for the other controls, everything else as UTF-8),
integers in decimal, no spaces, and keys sorted by code unit (UTF-8 byte order and UTF-16
order coincide on ASCII). ``tests/registry/sealing/test_canonical.py`` proves it by a property
test over that domain. Anything else (floats, larger integers, non-ASCII keys, tuples,
subclasses, lone surrogates) goes to ``rfc8785``, which canonicalises it or refuses it
exactly as it always did.
"""

from __future__ import annotations

from typing import Any

import orjson
import rfc8785

MAX_SAFE_INTEGER = 2**53 - 1


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 serialisation of *value*.

    Raises:
        rfc8785.CanonicalizationError: *value* has no canonical form (as :func:`rfc8785.dumps`).
        TypeError, RecursionError: as :func:`rfc8785.dumps`.
    """
    try:
        plain = _plain(value)
    except RecursionError:
        plain = False
    if plain:
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:  # a lone surrogate: rfc8785 refuses it in its own words
            pass
    return rfc8785.dumps(value)


def _plain(value: Any) -> bool:
    """Whether *value* lies in the domain where orjson and RFC 8785 agree byte for byte."""
    kind = type(value)
    if kind is list:
        return all(_plain(item) for item in value)
    if kind is dict:
        return all(type(key) is str and key.isascii() and _plain(item) for key, item in value.items())
    return plain_scalar(value)


def plain_scalar(value: Any) -> bool:
    """Whether *value* is a string, boolean, null or safe integer (exact types): orjson writes RFC 8785's bytes."""
    kind = type(value)
    if kind is int:
        return bool(-MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER)
    return kind is str or kind is bool or value is None
