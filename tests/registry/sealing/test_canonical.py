"""orjson writes RFC 8785's bytes on the plain domain it is used for; everything else still goes to rfc8785."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.sealing import canonical
from registry.sealing.canonical import MAX_SAFE_INTEGER, canonical_json

plain_scalars = st.one_of(st.none(), st.booleans(), st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER),
                          st.text(), st.text(alphabet=st.characters(max_codepoint=0x9f)))
ascii_keys = st.text(alphabet=st.characters(max_codepoint=0x7f))
plain_values = st.recursive(plain_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(ascii_keys, inner, max_size=5)), max_leaves=30)
any_values = st.recursive(
    st.one_of(plain_scalars, st.floats(allow_nan=False, allow_infinity=False), st.integers()),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner),
                            st.dictionaries(st.text(max_size=4), inner, max_size=4)), max_leaves=20)


def rfc8785_or_error(value: Any) -> bytes | str:
    try:
        return rfc8785.dumps(value)
    except (ValueError, TypeError) as error:
        return type(error).__name__


def canonical_or_error(value: Any) -> bytes | str:
    try:
        return canonical_json(value)
    except (ValueError, TypeError) as error:
        return type(error).__name__


@settings(max_examples=1000, deadline=None)
@given(plain_values)
def test_orjson_with_sorted_keys_writes_the_rfc8785_bytes_of_every_plain_value(value: Any) -> None:
    assert canonical._plain(value)
    assert orjson.dumps(value, option=orjson.OPT_SORT_KEYS) == rfc8785.dumps(value)


@settings(max_examples=500, deadline=None)
@given(any_values)
def test_canonical_json_is_rfc8785_on_any_value_and_refuses_what_it_refuses(value: Any) -> None:
    assert canonical_or_error(value) == rfc8785_or_error(value)


@pytest.mark.parametrize("value", [2**53, -(2**53), 1.5, {"é": 1}, {"\ue000": 1, "\U0001f600": 2},
                                   {"a": (1, 2)}, "\ud800", ["ok", "\udfff"], {1: "x"}])
def test_values_outside_the_plain_domain_take_rfc8785_exactly(value: Any) -> None:
    assert canonical_or_error(value) == rfc8785_or_error(value)
