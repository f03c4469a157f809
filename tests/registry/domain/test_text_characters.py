"""Free text is refused for control characters exactly as the previous character-by-character check refused it."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic_core import PydanticCustomError

from registry.domain.certificate import _printable


def reference(multiline: bool, value: str) -> str:
    """The check as it was: every character looked at in Python."""
    allowed = "\n\t" if multiline else ""
    for char in value:
        if (char < " " and char not in allowed) or "\x7f" <= char <= "\x9f":
            raise PydanticCustomError("text_characters", "text must not contain control characters"
                                      + (" (line breaks and tabs are fine)" if multiline else ""))
    return value


def outcome(check: Any, value: str) -> tuple[str, Any]:
    try:
        return "accepted", check(value)
    except PydanticCustomError as error:
        return "refused", (error.type, error.message())


near_controls = st.characters(min_codepoint=0, max_codepoint=0xA0) | st.sampled_from(["\u2028", "\ufeff", "é"])


@settings(max_examples=500, deadline=None)
@given(st.booleans(), st.text(near_controls, max_size=12) | st.text(max_size=12))
def test_control_characters_are_refused_as_before(multiline: bool, value: str) -> None:
    check = _printable(multiline).func
    assert outcome(check, value) == outcome(lambda v: reference(multiline, v), value)


@pytest.mark.parametrize("char", [chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]])
def test_every_control_character_is_refused_but_breaks_and_tabs_in_multiline_text(char: str) -> None:
    for multiline in (False, True):
        check = _printable(multiline).func
        assert outcome(check, f"a{char}b") == outcome(lambda v, m=multiline: reference(m, v), f"a{char}b")
