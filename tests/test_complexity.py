"""The complexity rule: `radon cc` grade C or worse only where a comment says why.

Every function, method or class that radon ranks C or worse carries, within the three lines above its
definition (decorators skipped), a line `# Complexity (radon C): <why the branches belong together>`.
"""

from __future__ import annotations

from pathlib import Path

from radon.complexity import cc_rank, cc_visit

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("registry", "api")
MARK = "# Complexity (radon C):"
LOOKBACK = 3


def _first_line_above(lines: list[str], lineno: int) -> int:
    """The 0-based index of the line just above the definition at 1-based `lineno`, decorators skipped."""
    index = lineno - 2
    while index >= 0 and lines[index].lstrip().startswith("@"):
        index -= 1
    return index


def _explained(lines: list[str], lineno: int) -> bool:
    above = _first_line_above(lines, lineno)
    window = lines[max(0, above - LOOKBACK + 1) : above + 1]
    return any(MARK in line for line in window)


def _offenders() -> list[str]:
    found: list[str] = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            lines = source.splitlines()
            for block in cc_visit(source):
                if cc_rank(block.complexity) < "C":
                    continue
                if not _explained(lines, block.lineno):
                    rank = cc_rank(block.complexity)
                    found.append(f"{path.relative_to(ROOT)}:{block.lineno} {block.fullname} ({rank})")
    return found


def test_every_grade_c_or_worse_block_says_why() -> None:
    offenders = _offenders()
    assert not offenders, f"grade C or worse without a `{MARK}` comment above:\n" + "\n".join(offenders)
