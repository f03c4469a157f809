"""Keyset pagination at the edge: ``after`` (the id of the previous page's last item), ``limit``, ``next``.

A listing asks its store for ``limit + 1`` rows after the cursor, newest first;
the extra row only says whether there is a next page, whose cursor is then the
id of the last row shown. Stable while new rows arrive (no offsets).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"

AfterQuery = Annotated[str | None, Query(pattern=UUID_PATTERN, description="id of the last item of the previous page "
                                                                          "(its `next`)")]
LimitQuery = Annotated[int, Query(ge=1, le=200, description="items per page")]


SinceQuery = Annotated[datetime | None, Query(description="at or after (ISO 8601; UTC if no offset)")]
UntilQuery = Annotated[datetime | None, Query(description="before (ISO 8601; UTC if no offset)")]


def epoch_seconds(moment: datetime | None) -> float | None:
    """*moment* as POSIX seconds (a naive time is taken as UTC), or None."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def next_cursor(ids: Sequence[str], limit: int) -> str | None:
    """The ``next`` of a page fetched with ``limit + 1`` rows: the last id shown, or None on the last page."""
    return ids[limit - 1] if len(ids) > limit else None
