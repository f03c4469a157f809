"""The JSON guard parses once and refuses exactly what the byte-by-byte guard it replaced refused."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.limits import JsonGuard, _too_deep, parse_json
from tests.support.former import former_problem, former_too_deep

MAX_DEPTH = JsonGuard.MAX_DEPTH


numbers = st.one_of(
    st.integers(-(2**60), 2**60).map(str),
    st.from_regex(r"-?(0|[1-9][0-9]{0,20})(\.[0-9]{1,22})?([eE][+-]?[0-9]{1,3})?", fullmatch=True),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "9007199254740991", "9007199254740992", "-9007199254740992",
                     "0.1", "1e400", "-0", "1.0"]),
)
strings = st.text(alphabet="ab[]{}\"\\é\x01", max_size=80).map(json.dumps)
scalars = st.one_of(numbers, strings, st.sampled_from(["true", "false", "null"]))
keys = st.sampled_from(["a", "b", "c", "[", "{}", "é"]).map(json.dumps)


def containers(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Arrays and objects (keys may repeat) of *inner* JSON texts."""
    arrays = st.lists(inner, max_size=4).map(lambda items: "[" + ",".join(items) + "]")
    objects = st.lists(st.tuples(keys, inner), max_size=4).map(
        lambda pairs: "{" + ",".join(f"{k}:{v}" for k, v in pairs) + "}")
    return st.one_of(arrays, objects)


documents = st.recursive(scalars, containers, max_leaves=25)


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    text = draw(documents)
    depth = draw(st.integers(0, MAX_DEPTH + 3))
    text = "[" * depth + text + "]" * depth if draw(st.booleans()) else text
    if draw(st.integers(0, 5)) == 0:
        text = text[:draw(st.integers(0, len(text)))]
    return text.encode(draw(st.sampled_from(["utf-8", "utf-8", "utf-16"])))


@settings(max_examples=600, deadline=None)
@given(bodies())
def test_the_guard_refuses_what_the_byte_loop_refused_and_parses_what_json_parses(body: bytes) -> None:
    value, problem = parse_json(body, MAX_DEPTH)
    assert problem == former_problem(body, MAX_DEPTH)
    if problem is None:
        assert value == json.loads(body)


@settings(max_examples=600, deadline=None)
@given(st.binary(max_size=300) | st.text(alphabet="[]{}x\"", max_size=300).map(str.encode), st.integers(0, 70))
def test_the_depth_count_is_the_byte_loops_on_any_bytes(body: bytes, max_depth: int) -> None:
    assert _too_deep(body, max_depth) == former_too_deep(body, max_depth)


def test_brackets_inside_strings_still_count_as_before() -> None:
    body = json.dumps({"remarks": "[" * (MAX_DEPTH + 1)}).encode()
    assert parse_json(body, MAX_DEPTH) == (None, f"JSON nested deeper than {MAX_DEPTH} levels")


def sealed_like(items: int) -> Any:
    return {"certificate": {"goods": [{"item_number": i, "hs_code": "848180"} for i in range(items)]},
            "salts": {f"goods[{i}].hs_code": "0x" + "ab" * 32 for i in range(items)}}


def test_a_large_body_with_many_objects_but_shallow_nesting_is_accepted_and_parsed() -> None:
    body = json.dumps(sealed_like(300)).encode()
    assert parse_json(body, MAX_DEPTH) == (sealed_like(300), None)


FORGED = {"certificate": {"certificate_number": "X"}, "salts": {"certificate_number": "0x" + "11" * 32},
          "document_hash": "0x" + "22" * 32, "proof": {"batch_root": "0x" + "22" * 32, "path": []},
          "anchor": {"chain_id": 1, "contract": "0x" + "33" * 20, "batch_root": "0x" + "22" * 32}}


async def test_a_request_body_is_parsed_once(client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    body = json.dumps(FORGED).encode()
    parses: list[bytes] = []
    loads = json.loads

    def counting(text: Any, *args: Any, **kwargs: Any) -> Any:
        if text == body:
            parses.append(text)
        return loads(text, *args, **kwargs)

    monkeypatch.setattr(json, "loads", counting)
    answer = await client.post("/v1/verify", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 200 and answer.json()["verdict"] == "INVALID"
    assert len(parses) == 1
