"""The throughput benchmark runs end to end on a small workload and writes every figure."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_benchmark_writes_every_figure_with_its_baseline(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "scripts/bench.py", "--n", "200", "--naive", "20", "--verifications", "100",
                          "--batch", "50", "--rounds", "2", "--out", str(tmp_path)], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    results = json.loads((tmp_path / "bench.json").read_text())
    assert results["naive_loop"]["certificates"] == 20 and results["naive_loop"]["per_second"] > 0
    for key in ("register_single", "register_batch"):
        assert results[key]["failures"] == 0 and results[key]["per_second"] > 0
    assert results["acceptance_to_anchored"]["anchored"] == 200
    assert results["acceptance_to_anchored"]["still_pending"] == 0
    assert results["verify_api"]["verdicts"] == {"VALID": 100}
    assert results["eth_call_ceiling"]["per_second"] > 0
    assert {int(k) for k in results["gas"]} == {1, 16, 256, 1024}
    assert results["gas"]["1"]["gas"] <= 50_000 and results["gas"]["1024"]["per_certificate"] <= 100
    encrypted = results["gas_encrypted"]
    assert set(encrypted) == {"1", "16", "64"}
    for figure in encrypted.values():  # ciphertext in the event log costs far more than a 32-byte root
        assert (figure["encrypted_per_certificate"] > figure["hash_only_per_certificate"]
                and figure["payload_bytes"] > 500)
    assert encrypted["64"]["encrypted_per_certificate"] < encrypted["1"]["encrypted_per_certificate"]
    assert 0 < results["api_peak_rss_mb"] < 2_000
    burst = results["verify_under_bad_keys"]
    assert burst["p50_ms_alone"] > 0 and burst["p50_ms_during_burst"] > 0
    assert 0 < burst["ratio_min"] <= burst["ratio_median"] <= burst["ratio_max"]
    assert "429" in burst["burst_answers"]  # the burst went past the per-client limit
    table = (tmp_path / "bench.md").read_text()
    for figure in ("(a)", "(b)", "(c)", "(d)", "(e)", "(f)", "(g) encrypted mode", "peak memory", "× naive",
                   "eth_call ceiling", "× hash-only", "(h) public hash check"):
        assert figure in table
