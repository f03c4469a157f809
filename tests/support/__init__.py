"""Helpers shared by tests (not fixtures)."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from registry.errors import ContractRevertError


@contextmanager
def reverts(name: str, *args: Any) -> Iterator[None]:
    """Assert that the block reverts with the custom error *name* (and *args*, if given)."""
    with pytest.raises(ContractRevertError) as caught:
        yield
    assert caught.value.name == name, f"expected {name}, got {caught.value}"
    if args:
        assert caught.value.args_decoded == args


def event_names(result: Any) -> list[str]:
    """Names of the events a transaction emitted, in order."""
    return [event.name for event in result.events]


def principals(service: Any, demo_keys: dict[str, dict[str, str]], *roles: str) -> list[Any]:
    """The demo consortium's principals named *roles* (``"issuer"``, ``"customs"``, ``"authority_jp"``...)."""
    return [service.api_keys.authenticate(demo_keys[role]["api_key"]) for role in roles]


def worker_threads() -> Counter[str]:
    """The node worker threads alive now (``coo-…``), counted by name."""
    return Counter(t.name for t in threading.enumerate() if t.name.startswith("coo-") and t.is_alive())


CAPTURED_LOGS: list[str] = []
"""Every log line of the session (the secrets test greps them)."""


class CaptureLogs(logging.Handler):
    """Keeps each formatted record in :data:`CAPTURED_LOGS`."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            CAPTURED_LOGS.append(self.format(record))
        except Exception:  # noqa: BLE001 - a log record that cannot format is not a secret leak
            CAPTURED_LOGS.append(str(record.msg))
