"""The comparison harness runs end to end on a small N and reports every section."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_harness_produces_every_section_with_sane_values(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "scripts/compare.py", "--n", "50", "--out", str(tmp_path)], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    results = json.loads((tmp_path / "comparison.json").read_text())
    for path in ("chain", "vc"):
        for op in ("issue", "verify", "revoke"):
            figures = results[path][op]
            assert figures["count"] >= 1 and figures["per_second"] > 0
            assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"]
            assert figures["cpu_ms_per_op"] > 0
    assert results["chain"]["verify"]["valid"] == 50 and results["vc"]["verify"]["valid"] == 50
    hash_only = results["gas"]["hash-only"]
    assert set(hash_only) == {"1", "16", "256", "1024"}
    for size, gas in hash_only.items():
        parts = gas["intrinsic"] + gas["calldata"] + gas["logs"] + gas["storage_and_execution"]
        assert abs(parts - gas["total"]) < 1e-6 and gas["total_per_batch"] < 60_000, size
    assert hash_only["1024"]["total"] < 100 < results["gas"]["encrypted"]["1"]["total"]
    assert results["bytes"]["status_list_raw_bytes"] == 16_384
    assert results["bytes"]["status_list_empty_encoded_bytes"] < 500
    assert results["propagation"]["chain_seconds"] < results["propagation"]["vc_seconds_with_ttl_1s"]
    assert results["availability"] == {
        "rpc_node_down": {"chain": "UNAVAILABLE", "vc": "VALID"},
        "status_host_down": {"chain": "VALID (does not use it)", "vc": "UNAVAILABLE"},
        "did_host_down": {"chain": "VALID (does not use it)", "vc": "UNAVAILABLE"},
    }
    report = (tmp_path / "comparison.md").read_text()
    for heading in ("Latency, CPU and throughput", "Gas per certificate", "Bytes", "Revocation propagation",
                    "Availability", "passive observer", "Plots"):
        assert heading in report
    for image in ("comparison-latency.png", "comparison-gas.png"):
        assert (tmp_path / image).read_bytes().startswith(b"\x89PNG")
