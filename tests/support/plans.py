"""What SQLite runs for a piece of code, and how it plans it: statements recorded with the connection's trace
callback, each planned with ``EXPLAIN QUERY PLAN`` to find the steps that read a whole table."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from registry.storage.store import Store

PLANNED = ("SELECT", "UPDATE", "DELETE", "INSERT", "WITH")
"""The statements that have a query plan (not BEGIN, COMMIT or PRAGMA)."""


@contextmanager
def traced(store: Store) -> Iterator[list[str]]:
    """Every statement this thread's connection to *store* runs inside the block, in order."""
    statements: list[str] = []
    trace: Callable[[str], object] = statements.append
    store.connection().set_trace_callback(trace)
    try:
        yield statements
    finally:
        store.connection().set_trace_callback(None)


def full_scans(conn: sqlite3.Connection, statement: str) -> list[str]:
    """The plan steps of *statement* that read a whole table (a scan by no index)."""
    plan = conn.execute("EXPLAIN QUERY PLAN " + statement).fetchall()
    return [str(step[3]) for step in plan if str(step[3]).startswith("SCAN ") and "INDEX" not in str(step[3])
            and not str(step[3]).startswith("SCAN CONSTANT")]
