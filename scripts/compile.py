"""Recompile the contracts and refresh ``registry/chain/artifacts/``.

Usage: ``python scripts/compile.py`` (or ``make contracts``).
"""

from __future__ import annotations

import sys

from registry.chain.compiler import PROJECT_ROOT, compile_contracts, write_artifacts


def main() -> int:
    try:
        artifacts = compile_contracts()
    except RuntimeError as error:
        print(f"compile failed: {error}", file=sys.stderr)
        return 1
    for path in write_artifacts(artifacts):
        print(f"wrote {path.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
