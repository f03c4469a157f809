"""The benchmark runs end to end on tiny sizes and writes every figure, each with a unit and a sane value.

Never which system wins, nor any speed: only that each figure the issue asks for is there, measured
(positive and finite), and that the work behind it succeeded.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--rounds", "1", "--flood", "100", "--per-request", "50", "--naive", "3", "--seconds", "1", "--idle", "1",
        "--sweep", "0,40", "--probe", "10", "--sweep-seconds", "1", "--oa-documents", "10", "--oa-verify", "3"]
FIGURES = [
    "registration (batch endpoint)", "naive transact() loop", "registration / naive loop", "registration server CPU",
    "acceptance → anchored p50", "acceptance → anchored p99", "POST /v1/verify", "POST /v1/verify p99",
    "POST /v1/verify server CPU", "POST /v1/verify wrk CPU", "GET /v1/verify/{hash}", "GET /v1/verify/{hash} p99",
    "GET /v1/verify/{hash} server CPU", "GET /v1/verify/{hash} wrk CPU", "idle server CPU",
    *(f"{name}, busiest API worker's share of their CPU" for name in (
        "registration", "POST /v1/verify", "GET /v1/verify/{hash}")),
    *(f"{name} at {size} stored" for size in (0, 40) for name in (
        "idle server CPU", "registration CPU", "POST /v1/verify CPU", "GET /v1/verify/{hash} CPU", "server RSS")),
    "disk per certificate at 0 stored (fixed cost included)", "disk per added certificate, 0 → 40 stored",
    "OpenAttestation wrap+issue", "ours register+anchor", "OpenAttestation client-side verification",
    "ours client-side verification", "client-side verification, ours / OpenAttestation",
    "OpenAttestation gas per revoke", "ours gas per revoke",
]

pytestmark = pytest.mark.skipif(shutil.which("wrk") is None or shutil.which("node") is None,
                                reason="wrk and node are needed (make test installs wrk)")


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    out = tmp_path_factory.mktemp("bench")
    run = subprocess.run([sys.executable, "scripts/bench.py", *TINY, "--out", str(out)], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads((out / "bench.json").read_text()), (out / "bench.md").read_text()


def test_every_figure_is_there_with_a_unit_and_a_positive_finite_value(results: tuple[dict[str, Any], str]) -> None:
    figures, table = results[0]["figures"], results[1]
    assert sorted(figures) == sorted(FIGURES)
    for name, figure in figures.items():
        assert isinstance(figure["unit"], str) and figure["unit"], name
        for key in ("median", "min", "max"):  # a quiet node may read 0 ms of CPU in a second at clock-tick resolution
            assert math.isfinite(figure[key]) and (figure[key] > 0 or "idle" in name and figure[key] == 0), name
        assert figure["min"] <= figure["median"] <= figure["max"], name
        assert figure["runs"], name
        assert f"| {name} |" in table, name
        if figure["unit"] == "%":  # a share of the API workers' CPU: of all of it at most
            assert figure["max"] <= 100, name


def test_every_target_is_judged_from_a_measured_value(results: tuple[dict[str, Any], str]) -> None:
    result, table = results
    assert len(result["targets"]) == 12
    for target in result["targets"]:
        assert math.isfinite(target["measured"]) and isinstance(target["met"], bool), target
        assert f"| {target['target']} |" in table


def test_the_work_behind_the_figures_succeeded(results: tuple[dict[str, Any], str]) -> None:
    raw = results[0]["raw"]
    for round_ in raw["registration"]:
        assert round_["api"]["failed"] == 0 and round_["api"]["still_pending"] == 0
        assert round_["api"]["anchoring"]["anchored"] == 100
    for run in raw["verify_post"] + raw["verify_get"]:  # every answer a 200 with the VALID verdict
        assert run["failed"] == 0 and run["socket_errors"] == 0 and run["answered"] > 0
    for side_by_side in raw["openattestation"]:
        assert side_by_side["openattestation"]["valid"] == side_by_side["openattestation"]["verified"] == 3
        assert side_by_side["ours"]["valid"] == side_by_side["ours"]["verified"] == 3


def test_the_run_names_its_machine_and_commit(results: tuple[dict[str, Any], str]) -> None:
    machine = results[0]["machine"]
    assert machine["cpu_model"] and machine["cores"] >= 1 and len(machine["git_commit"]) == 40
    assert {"python", "node", "wrk"} <= set(machine)
