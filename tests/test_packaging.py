"""What an installed wheel needs besides code is declared as package data, and lives inside the packages."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READ_AT_RUN_TIME = ("registry/chain/artifacts/CustomsRegistry.json", "registry/domain/data/unece_rec20.txt",
                    "api/static/index.html")
"""Files the node reads while it runs (the contract artifact, the code lists, the verification page)."""


def test_every_file_the_node_reads_at_run_time_is_declared_package_data() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    covered = {path.relative_to(ROOT).as_posix()
               for package, globs in declared.items() for glob in globs
               for path in (ROOT / package.replace(".", "/")).glob(glob)}
    missing = [name for name in READ_AT_RUN_TIME if name not in covered]
    assert not missing, f"not declared as package data (a wheel would lack them): {missing}"
