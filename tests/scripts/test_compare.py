"""The comparison harness runs end to end at a small n and reports every section, measured and sane.

These tests check presence, units, sample counts and signs; never which path comes out ahead, and never a
verdict written in advance: a cell's verdicts must be ones the verifiers can give (or an error they let
escape), whatever they are.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from registry.domain.report import Verdict
from scripts.compare_consortium import CONSORTIUM_FAULTS
from scripts.compare_sdjwt import library

ROOT = Path(__file__).resolve().parents[2]
N, RUNS = 12, 2
SECTIONS = ("Latency, CPU and throughput", "Lifecycle cost per certificate", "Projected to real volumes",
            "Gas by batch size", "Bytes", "Fault matrix", "Double use", "Sweeps", "passive observer", "Plots")
IMAGES = ("comparison-latency.png", "comparison-gas.png", "comparison-sweeps.png")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str, Path]:
    out = tmp_path_factory.mktemp("compare")
    done = subprocess.run([sys.executable, "scripts/compare.py", "--n", str(N), "--runs", str(RUNS),
                           "--block-periods", "0,1", "--sweep-certificates", "4", "--sweep-revocations", "2",
                           "--lifecycle-k", "3", "--hash-only-sizes", "1,16", "--encrypted-sizes", "1,64",
                           "--no-network", "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((out / "comparison.json").read_text()), (out / "comparison.md").read_text(), out


def test_every_section_and_plot_is_written(run: tuple[dict[str, Any], str, Path]) -> None:
    _, report, out = run
    for heading in SECTIONS:
        assert heading in report, heading
    for image in IMAGES:
        assert (out / image).read_bytes().startswith(b"\x89PNG")


def test_the_run_records_what_produced_it(run: tuple[dict[str, Any], str, Path]) -> None:
    results, _, _ = run
    env = results["environment"]
    assert len(env["git_commit"]) == 40 and env["cpu_model"] and env["python"].count(".") == 2
    assert env["solc"] != "unknown" and "anvil" in env["anvil"].lower()
    assert {"web3", "cryptography", "sd-jwt"} <= set(env["libraries"])
    assert results["runs"] == RUNS and results["n"] == N


def test_each_path_ran_in_its_own_process_per_run_with_every_sample_kept(run: tuple[dict[str, Any], str, Path]) -> None:
    results, _, out = run
    raw = json.loads((out / "comparison-samples.json").read_text())
    measured = [p for p in results["paths"] if "not_measured" not in results["timing"][p]]
    assert len({r["pid"] for r in raw}) == len(raw) == RUNS * len(results["paths"])
    if library() is None:
        assert "not installed" in results["timing"]["sd-jwt"]["not_measured"]
    else:
        assert "sd-jwt" in measured
    for path in measured:
        for phase, figures in results["timing"][path].items():
            expected = RUNS * (max(1, N // 100) if phase == "revoke" else N)
            assert figures["pooled_ms"]["n"] == expected, (path, phase)
            assert figures["pooled_ms"]["min"] >= 0
            assert figures["median_ms_across_runs"]["runs"] == RUNS
            assert all(r["process_cpu_ms_per_op"] >= 0 for r in figures["runs"])
            assert figures["pooled_ms"]["p99"] == "n too small"  # fewer than 100 samples give no percentile


def test_lifecycle_cost_is_read_from_receipts_for_every_step(run: tuple[dict[str, Any], str, Path]) -> None:
    results, _, _ = run
    for mode in ("hash-only", "encrypted"):
        life = results["lifecycle"][mode]
        assert set(life["steps"]) >= {"anchor", "terms", "utilise", "revoke"}, mode
        for step in ("terms", "utilise", "revoke"):
            assert life["steps"][step]["transactions"] == life["k"]
        for step in life["steps"].values():
            assert step["per_certificate"]["gas"] > 21_000 / life["k"] and step["per_certificate"]["bytes_stored"] > 0
        for phase in life["phases"].values():
            assert phase["rpc_bytes"] > 0 and phase["chain_node_cpu_s"] >= 0


def test_gas_is_split_from_receipts_with_the_floor_flag_undivided(run: tuple[dict[str, Any], str, Path]) -> None:
    results, _, _ = run
    gas = results["gas"]
    assert results["document_store"]["issue_gas"] > 21_000 and gas["block_gas_limit"] > 0
    for mode in ("hash-only", "encrypted"):
        for size, g in gas[mode].items():
            if g.get("sent") is False:
                assert g["node_said"] and g["calldata_floor_gas"] > 0
                continue
            assert isinstance(g["floor_applied"], bool) and g["gas_per_transaction"] == round(g["gas"] * int(size))
            if not g["floor_applied"]:
                parts = g["intrinsic"] + g["calldata"] + g["logs"] + g["storage_and_execution"]
                assert abs(parts - g["gas"]) < 1e-6


def _possible(verdict: str) -> bool:
    return verdict in {v.value for v in Verdict} or verdict.startswith("ERROR ")


def test_every_fault_cell_is_observed_or_says_why_not(run: tuple[dict[str, Any], str, Path]) -> None:
    results, report, _ = run
    cells = results["faults"]["cells"]
    vc = [c for c in cells if c["path"] == "vc-jwt"]
    assert {(c["fault"], c["policy"]) for c in vc} == {(f, p) for f in ("did_host_down", "status_host_down")
                                                        for p in ("none", "ttl", "until_valid_until", "mirror")}
    for cell in cells:
        if cell["measured"]:
            assert cell["verdicts"] and all(_possible(v) for v in cell["verdicts"].values()), cell
        else:
            assert not cell["verdicts"] and cell["note"].startswith("not measured")
    assert "does not use it" not in report and "does not use it" not in json.dumps(results)


def test_without_the_network_the_consortium_cells_say_so_in_the_results_and_the_report(
        run: tuple[dict[str, Any], str, Path]) -> None:
    results, report, _ = run
    consortium = {c["fault"]: c for c in results["faults"]["cells"] if c["fault"] in CONSORTIUM_FAULTS}
    assert set(consortium) == set(CONSORTIUM_FAULTS)
    for cell in consortium.values():
        assert not cell["measured"] and cell["note"] == "not measured in this run: --no-network"
    assert report.count("not measured in this run: --no-network") >= len(CONSORTIUM_FAULTS)
    assert results["faults"]["seconds"] >= 0


def test_only_faults_reruns_the_fault_matrix_into_the_last_run(run: tuple[dict[str, Any], str, Path],
                                                              tmp_path: Path) -> None:
    results, _, first = run
    out = shutil.copytree(first, tmp_path / "results")
    done = subprocess.run([sys.executable, "scripts/compare.py", "--only", "faults", "--no-network", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    again = json.loads((out / "comparison.json").read_text())
    assert again["faults"]["command"].endswith("--only faults --no-network --out " + str(out))
    assert {k: v for k, v in again.items() if k != "faults"} == {k: v for k, v in results.items() if k != "faults"}
    assert "--only faults" in (out / "comparison.md").read_text()


def test_only_scale_times_the_rounds_at_its_own_n_beside_the_full_run_verifying_a_spread_sample(
        run: tuple[dict[str, Any], str, Path], tmp_path: Path) -> None:
    results, report, first = run
    assert "## At n = 100,000" in report and "Not run yet" in report
    out = shutil.copytree(first, tmp_path / "results")
    n, sample = 30, 8
    done = subprocess.run([sys.executable, "scripts/compare.py", "--only", "scale", "--n", str(n), "--runs", "1",
                           "--verify-sample", str(sample), "--paths", "chain,vc-jwt", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    again = json.loads((out / "comparison.json").read_text())
    scale = again["scale"]
    assert scale["n"] == n and scale["runs"] == 1 and len(scale["environment"]["git_commit"]) == 40
    for path in ("chain", "vc-jwt"):
        phases = scale["timing"][path]
        assert phases["issue"]["pooled_ms"]["n"] == n, path  # every certificate issued and stored
        assert phases["verify"]["pooled_ms"]["n"] == sample, path  # verification timed on the sample
        assert phases["revoke"]["pooled_ms"]["n"] == 1, path
        assert all(r["ops_per_s"] > 0 and r["process_cpu_ms_per_op"] >= 0 for r in phases["verify"]["runs"]), path
        assert scale["worker_extras"][path]["sanity"]["revoked_seen"] == 1, path
    assert scale["worker_extras"]["vc-jwt"]["fetches"]["verifications"] == sample
    assert {k: v for k, v in again.items() if k != "scale"} == {k: v for k, v in results.items() if k != "scale"}
    rewritten = (out / "comparison.md").read_text()
    assert f"## At n = {n}" in rewritten and "--only scale" in rewritten and "Not run yet" not in rewritten


def test_only_faults_without_a_previous_run_is_one_readable_line(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "scripts/compare.py", "--only", "faults", "--no-network",
                           "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == f"compare: --only faults needs a full run's comparison.json in {tmp_path}"


def test_double_use_is_tried_on_both_paths_and_each_answer_recorded(run: tuple[dict[str, Any], str, Path]) -> None:
    results, _, _ = run
    chain, vc = results["double_use"]["chain"], results["double_use"]["vc-jwt"]
    assert set(chain["attempts"]) == set(vc["attempts"])
    for path in (chain, vc):
        assert set(path["detected"]) == set(path["attempts"]) - {"first_use_port_a"}
        assert all(isinstance(v, bool) for v in path["detected"].values())


def test_sweeps_and_observer_come_from_the_run(run: tuple[dict[str, Any], str, Path]) -> None:
    results, _, _ = run
    sweeps = results["sweeps"]
    assert [p["block_time_s"] for p in sweeps["chain"]] == [0, 1]
    assert sweeps["network"] == []  # --no-network: no chain-node network started
    assert [p["ttl_s"] for p in sweeps["vc"]] == [0, 1, 60, 300]
    for point in sweeps["chain"] + sweeps["vc"]:
        assert point["visibility_samples_s"] and min(point["visibility_samples_s"]) >= 0
        assert 0 <= point["availability"] <= 1
    observer = results["observer"]
    assert observer["chain"]["events"]["TermsRegistered"]["count"] >= 1
    assert "importingCountry" in observer["chain"]["events"]["TermsRegistered"]["values_seen"]
    assert observer["vc"]["herd_size"] == N  # credentials issued on the list, not its 131,072 entries
    assert all(v >= 0 for v in results["sizes"].values() if isinstance(v, int | float))
