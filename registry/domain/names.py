"""The names governance registers on chain for issuing bodies and authorities.

A verifier shows the name beside the account ("Singapore Customs (0x99d0…)"), so a
name is what an officer reads when deciding whom a certificate comes from. The
contract keeps 1 to 128 bytes (``TrustRegistry.nameIssuer``); here a name is also
refused when it carries control or formatting characters (a right-to-left override
could make one name read as another), or leading or trailing space.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

MAX_NAME_BYTES = 128
"""The contract's bound on a name, in bytes of UTF-8."""


def check_name(value: str) -> str:
    """Return *value* if it can be registered as a name, else raise :class:`ValueError` saying why."""
    size = len(value.encode("utf-8"))
    if not 1 <= size <= MAX_NAME_BYTES:
        raise ValueError(f"a name is 1 to {MAX_NAME_BYTES} bytes of UTF-8; this one is {size}")
    if value != value.strip():
        raise ValueError("a name may not start or end with spaces")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value):
        raise ValueError("a name may not contain control or formatting characters")
    return value


def _checked(value: str) -> str:
    try:
        return check_name(value)
    except ValueError as error:
        raise PydanticCustomError("name", str(error)) from None


OfficialName = Annotated[str, Field(strict=True), AfterValidator(_checked)]
"""A name as the chain will hold it (see :func:`check_name`)."""

__all__ = ["MAX_NAME_BYTES", "OfficialName", "check_name"]
