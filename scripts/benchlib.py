"""What the benchmarks share: the timing loop, the summary of repeated figures, CPU and memory from /proc.

``rounds(work, n)`` runs *work* ``n`` times and keeps each run's figures; ``summary`` reduces a list
of values to median, min and max (what every table reports); ``ProcessTree`` reads the CPU time and
resident memory of a process and all its descendants from ``/proc`` (the server's own cost, apart
from the load generator's, which ``child_cpu`` measures for a waited-for child such as ``wrk``).
``machine`` names the CPU, the versions and the git commit a run was made on.
"""

from __future__ import annotations

import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the scripts import the registry from this checkout
    sys.path.insert(0, str(ROOT))
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
T = TypeVar("T")


def timed(work: Callable[[], T]) -> tuple[float, T]:
    """Seconds *work* took (wall clock, ``perf_counter``) and what it returned."""
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def rounds(work: Callable[[int], T], count: int, label: str = "") -> list[T]:
    """Run ``work(i)`` for i in 0..count-1, one after the other; the list of what each returned."""
    out = []
    for i in range(count):
        if label:
            print(f"{label}: round {i + 1}/{count}…", file=sys.stderr, flush=True)
        out.append(work(i))
    return out


def pct(values: list[float], q: float) -> float:
    """The *q* quantile (0..1) of *values*, nearest rank; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(values: list[float], unit: str) -> dict[str, Any]:
    """Median, min and max of repeated measurements of one figure, with its unit and every raw value."""
    finite = [v for v in values if isinstance(v, int | float) and math.isfinite(v)]
    if not finite:
        return {"unit": unit, "median": float("nan"), "min": float("nan"), "max": float("nan"), "runs": values}
    return {"unit": unit, "median": statistics.median(finite), "min": min(finite), "max": max(finite),
            "runs": values}


def child_cpu() -> float:
    """CPU seconds (user + system) of every waited-for child process so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
            found += [int(c) for c in text.split()]
    except OSError:
        pass
    return found


def _stat(pid: int) -> tuple[float, int]:
    """CPU seconds (user + system, the process's own) and resident bytes of one process; (0, 0) once gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0
    # after the command: state(0) ... utime(11) stime(12) cutime(13) cstime(14) ... rss(21)
    return (int(fields[11]) + int(fields[12])) / TICK, int(fields[21]) * PAGE


class ProcessTree:
    """A process and its descendants (the API and any worker processes it forks)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._seen: dict[int, float] = {}

    def pids(self) -> list[int]:
        out, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo += _children(pid)
        return out

    def cpu(self) -> float:
        """CPU seconds used so far by the tree (descendants that exited keep their last reading)."""
        return sum(self.cpu_by_process().values())

    def cpu_by_process(self) -> dict[int, float]:
        """CPU seconds used so far by each process of the tree, by pid (exited ones keep their last reading)."""
        for pid in self.pids():
            seconds, _ = _stat(pid)
            if seconds:
                self._seen[pid] = seconds
        return dict(self._seen)

    def rss(self) -> int:
        """Resident bytes of the tree now (pages shared between forked workers counted in each)."""
        return sum(_stat(pid)[1] for pid in self.pids())


def idle_cpu_ms_per_s(tree: ProcessTree, seconds: float) -> float:
    """Milliseconds of CPU the tree uses per second of wall clock while nothing is asked of it."""
    before, started = tree.cpu(), time.perf_counter()
    time.sleep(seconds)  # measuring a quiet interval, not waiting for anything
    return (tree.cpu() - before) * 1000 / (time.perf_counter() - started)


TRANSIENT = ("-wal", "-shm")
"""SQLite's write-ahead log and its index: their size comes and goes with checkpoints (the node truncates
the WAL every 30 s), so counting them made a store that grew look smaller."""


def disk_bytes(directory: Path) -> int:
    """Bytes of every file under *directory* that is kept (the store, keys, deployment), not the WAL."""
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file() and not p.name.endswith(TRANSIENT))


def _output(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=30, cwd=ROOT,
                              check=False).stdout.strip()
    except OSError:
        return ""


def machine() -> dict[str, Any]:
    """CPU model and count, OS, Python, node, wrk and the git commit of this run."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    dirty = bool(_output(["git", "status", "--porcelain", "--untracked-files=no"]))
    return {"cpu_model": model, "cores": os.cpu_count(), "os": platform.platform(),
            "python": platform.python_version(), "node": _output(["node", "--version"]),
            "wrk": _output(["wrk", "--version"]).splitlines()[0:1] or [""],
            "git_commit": _output(["git", "rev-parse", "HEAD"]), "git_dirty": dirty,
            "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
