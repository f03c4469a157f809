"""Where a node keeps its status lists: a snapshot plus an append-only journal, so a change costs O(1).

Rewriting the whole list file on every issuance costs time in proportion to the
indexes assigned (0.44 ms at first, 9.9 ms at 100,000 assigned). Instead each
change appends one line to ``vc-status-journal.log``:

* ``a <list> <index>``: the index was assigned,
* ``u <list> <index>``: an assigned index was given back unissued,
* ``r <list> <index>``: the bit was set (revoked).

``vc-status-list.json`` holds a snapshot of every list (its ``encodedList``
and assigned indexes); loading reads the snapshot and replays the journal. Once
the journal holds :data:`COMPACT_EVERY` lines the snapshot is rewritten and the
journal emptied, so the rewrite's cost is spread over that many changes. A
journal line cut short by a crash is ignored: that change was never confirmed
to the caller. The snapshot of a single list written by earlier versions (one
object with ``encodedList`` and ``assigned``) is read as list 1.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO

from registry.vc.status_list import StatusList

SNAPSHOT = "vc-status-list.json"
JOURNAL = "vc-status-journal.log"
COMPACT_EVERY = 20_000
"""Journal lines after which the snapshot is rewritten."""


class StatusStore:
    """The node's status lists on disk.

    Args:
        directory: the node's data directory.
        compact_every: journal lines between snapshots.
    """

    def __init__(self, directory: Path, *, compact_every: int = COMPACT_EVERY) -> None:
        self.snapshot = directory / SNAPSHOT
        self.journal = directory / JOURNAL
        self.compact_every = compact_every
        self._lines = 0
        self._file: IO[str] | None = None

    def load(self) -> list[StatusList]:
        """Every list, numbered from 1 in order (one empty list when there is none yet)."""
        lists = self._read_snapshot()
        if self.journal.exists():
            for line in self.journal.read_text().splitlines():
                self._replay(lists, line)
                self._lines += 1
        return lists or [StatusList()]

    def _read_snapshot(self) -> list[StatusList]:
        if not self.snapshot.exists():
            return []
        data = json.loads(self.snapshot.read_text())
        entries = data.get("lists", [data])
        return [StatusList.decode(e["encodedList"], purpose=e.get("purpose", "revocation"), assigned=e["assigned"])
                for e in entries]

    @staticmethod
    def _replay(lists: list[StatusList], line: str) -> None:
        parts = line.split()
        if len(parts) != 3 or parts[0] not in ("a", "u", "r") or not (parts[1] + parts[2]).isdigit():
            return  # a line cut short by a crash: never confirmed
        op, number, index = parts[0], int(parts[1]), int(parts[2])
        while len(lists) < number:
            lists.append(StatusList())
        status = lists[number - 1]
        if op == "a":
            status.mark_assigned(index)
        elif op == "u":
            status.release_unissued(index)
        else:
            status.revoke(index)

    def record(self, op: str, number: int, index: int, lists: list[StatusList]) -> None:
        """Append one change (``a``, ``u`` or ``r``) of list *number*; compact when the journal is long.

        Args:
            op: the change.
            number: the list (from 1).
            index: the entry.
            lists: every list as it is now (written out when compacting).
        """
        if self._file is None:
            self._file = open(self.journal, "a", encoding="ascii")  # noqa: SIM115 (kept open between changes)
        self._file.write(f"{op} {number} {index}\n")
        self._file.flush()
        self._lines += 1
        if self._lines >= self.compact_every:
            self.compact(lists)

    def compact(self, lists: list[StatusList]) -> None:
        """Write a snapshot of *lists* and empty the journal."""
        tmp = self.snapshot.with_suffix(".tmp")
        tmp.write_text(json.dumps({"lists": [{"purpose": s.purpose, "encodedList": s.encode(),
                                              "assigned": sorted(s.assigned)} for s in lists]}))
        tmp.replace(self.snapshot)
        if self._file is not None:
            self._file.close()
            self._file = None
        with open(self.journal, "w", encoding="ascii") as emptied:
            emptied.flush()
            os.fsync(emptied.fileno())
        self._lines = 0

    def close(self) -> None:
        """Close the journal."""
        if self._file is not None:
            self._file.close()
            self._file = None
