"""Statistics and provenance for the comparison: medians, IQRs, percentiles only where n allows, versions.

A percentile is reported only from at least :data:`MIN_PERCENTILE_SAMPLES`
samples; with fewer the value is the string :data:`N_TOO_SMALL`. Spread across
runs is the interquartile range of the per-run medians.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

MIN_PERCENTILE_SAMPLES = 100
N_TOO_SMALL = "n too small"
LIBRARIES = ("web3", "eth-account", "cryptography", "httpx", "fastapi", "uvicorn", "pydantic", "joserfc",
             "rfc8785", "sd-jwt", "jwcrypto", "matplotlib", "py-solc-x")


def percentile(values: Sequence[float], q: float) -> float | str:
    """The *q* quantile (nearest rank), or :data:`N_TOO_SMALL` below 100 samples."""
    if len(values) < MIN_PERCENTILE_SAMPLES:
        return N_TOO_SMALL
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def iqr(values: Sequence[float]) -> list[float] | None:
    """``[Q1, Q3]`` of *values* (inclusive method); ``None`` for fewer than two values."""
    if len(values) < 2:
        return None
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return [q1, q3]


def describe(values: Sequence[float]) -> dict[str, Any]:
    """Count, median, IQR, p95 and p99 (when n allows), min and max of one sample."""
    if not values:
        return {"n": 0}
    return {"n": len(values), "median": statistics.median(values), "iqr": iqr(values),
            "p95": percentile(values, 0.95), "p99": percentile(values, 0.99),
            "min": min(values), "max": max(values)}


def across_runs(per_run: Sequence[float]) -> dict[str, Any]:
    """Median and IQR of one figure measured once per run."""
    values = [v for v in per_run if isinstance(v, int | float)]
    if not values:
        return {"runs": 0}
    return {"runs": len(values), "median": statistics.median(values), "iqr": iqr(values),
            "values": list(values)}


def _run(command: Sequence[str]) -> str:
    try:
        answer = subprocess.run(list(command), capture_output=True, text=True, timeout=30, cwd=ROOT)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"unknown ({type(error).__name__})"
    lines = (answer.stdout or answer.stderr).strip().splitlines()
    return (lines[0] if lines else "") if answer.returncode == 0 else "unknown"


def cpu_model() -> str:
    """The CPU model from ``/proc/cpuinfo`` (or what ``platform`` knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def environment() -> dict[str, Any]:
    """What produced the numbers: commit, machine, CPU, versions of Python, solc, Anvil and the libraries."""
    from registry.chain.compiler import compiler_version
    from registry.chain.nodes import anvil_binary

    try:
        solc = compiler_version()
    except (OSError, subprocess.CalledProcessError):
        solc = "unknown"
    dirty = _run(["git", "status", "--porcelain", "--untracked-files=no"])
    return {
        "git_commit": _run(["git", "rev-parse", "HEAD"]),
        "git_dirty": dirty not in ("", "unknown"),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "solc": solc,
        "anvil": _run([str(anvil_binary()), "--version"]),
        "libraries": {name: _version(name) for name in LIBRARIES},
    }
