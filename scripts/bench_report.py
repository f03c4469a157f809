"""From a run's raw rounds to figures (median, min–max, unit), the issue's targets met or not, and bench.md.

``figures`` reduces the raw rounds of ``bench.py`` to one summary per figure; ``targets`` compares them
with the targets of the performance issue (printed, never asserted); ``markdown`` writes the table.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from benchlib import summary

Raw = dict[str, Any]


def _series(rounds: list[Raw], pick: Callable[[Raw], float], unit: str) -> dict[str, Any]:
    return summary([float(pick(r)) for r in rounds], unit)


def api_figures(raw: Raw) -> dict[str, dict[str, Any]]:
    reg, post, get = raw["registration"], raw["verify_post"], raw["verify_get"]
    return {
        "registration (batch endpoint)": _series(reg, lambda r: r["api"]["cert_per_second"], "cert/s"),
        "naive transact() loop": _series(reg, lambda r: r["naive"]["per_second"], "cert/s"),
        "registration / naive loop": _series(reg, lambda r: r["ratio"], "×"),
        "registration server CPU": _series(reg, lambda r: r["api"]["server_cpu_ms_per_cert"], "ms/cert"),
        "registration, busiest API worker's share of their CPU": _series(
            reg, lambda r: r["api"]["busiest_worker_share"], "%"),
        "acceptance → anchored p50": _series(reg, lambda r: r["api"]["anchoring"]["p50_s"], "s"),
        "acceptance → anchored p99": _series(reg, lambda r: r["api"]["anchoring"]["p99_s"], "s"),
        "POST /v1/verify": _series(post, lambda r: r["per_second"], "req/s"),
        "POST /v1/verify p99": _series(post, lambda r: r["p99_ms"], "ms"),
        "POST /v1/verify server CPU": _series(post, lambda r: r["server_cpu_ms_per_op"], "ms/op"),
        "POST /v1/verify wrk CPU": _series(post, lambda r: r["client_cpu_ms_per_op"], "ms/op"),
        "POST /v1/verify, busiest API worker's share of their CPU": _series(
            post, lambda r: r["busiest_worker_share"], "%"),
        "GET /v1/verify/{hash}": _series(get, lambda r: r["per_second"], "req/s"),
        "GET /v1/verify/{hash} p99": _series(get, lambda r: r["p99_ms"], "ms"),
        "GET /v1/verify/{hash} server CPU": _series(get, lambda r: r["server_cpu_ms_per_op"], "ms/op"),
        "GET /v1/verify/{hash} wrk CPU": _series(get, lambda r: r["client_cpu_ms_per_op"], "ms/op"),
        "GET /v1/verify/{hash}, busiest API worker's share of their CPU": _series(
            get, lambda r: r["busiest_worker_share"], "%"),
        "idle server CPU": _series(raw["idle"], lambda r: r, "ms/s"),
    }


_SWEEP = (("idle_cpu_ms_per_s", "idle server CPU", "ms/s"), ("register_cpu_ms_per_cert", "registration CPU",
                                                             "ms/cert"),
          ("post_verify_cpu_ms_per_op", "POST /v1/verify CPU", "ms/op"),
          ("get_verify_cpu_ms_per_op", "GET /v1/verify/{hash} CPU", "ms/op"), ("rss_mb", "server RSS", "MB"))


def sweep_figures(raw: Raw) -> dict[str, dict[str, Any]]:
    out, previous = {}, None
    for point in raw["sweep"]:
        target = point["target"]
        for key, name, unit in _SWEEP:
            out[f"{name} at {target:,} stored"] = _series(point["runs"], lambda r, k=key: r[k], unit)
        if previous is None:
            out[f"disk per certificate at {target:,} stored (fixed cost included)"] = summary(
                [point["disk_bytes_per_certificate"]], "B")
        else:
            added = (point["disk_bytes"] - previous["disk_bytes"]) / (point["stored"] - previous["stored"])
            out[f"disk per added certificate, {previous['target']:,} → {target:,} stored"] = summary([added], "B")
        previous = point
    return out


def oa_figures(raw: Raw) -> dict[str, dict[str, Any]]:
    oa = raw["openattestation"]
    return {
        "OpenAttestation wrap+issue": _series(oa, lambda r: r["openattestation"]["wrap_issue_s"], "s"),
        "ours register+anchor": _series(oa, lambda r: r["ours"]["wrap_issue_s"], "s"),
        "OpenAttestation client-side verification": _series(
            oa, lambda r: r["openattestation"]["verify_per_second"], "doc/s"),
        "ours client-side verification": _series(oa, lambda r: r["ours"]["verify_per_second"], "doc/s"),
        "client-side verification, ours / OpenAttestation": _series(oa, lambda r: r["verify_ratio"], "×"),
        "OpenAttestation gas per revoke": _series(oa, lambda r: r["openattestation"]["revoke_gas"], "gas"),
        "ours gas per revoke": _series(oa, lambda r: r["ours"]["revoke_gas"], "gas"),
    }


def figures(raw: Raw) -> dict[str, dict[str, Any]]:
    """Every figure of the run: unit, median, min, max and the raw value of each round."""
    return {**api_figures(raw), **sweep_figures(raw), **oa_figures(raw)}


def _flat(raw: Raw, key: str) -> tuple[float, float]:
    """(first, last) sweep medians of *key*."""
    first, last = raw["sweep"][0]["runs"], raw["sweep"][-1]["runs"]
    return summary([r[key] for r in first], "")["median"], summary([r[key] for r in last], "")["median"]


def targets(raw: Raw, figs: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue's targets against this run's medians: each with the measured value and met / not met."""
    def med(name: str) -> float:
        return float(figs[name]["median"])

    checks: list[tuple[str, float, str, bool]] = [
        ("registration ≥ 2,000 cert/s", med("registration (batch endpoint)"), "cert/s",
         med("registration (batch endpoint)") >= 2000),
        ("registration ≥ 25× the naive loop", med("registration / naive loop"), "×",
         med("registration / naive loop") >= 25),
        ("acceptance → anchored p99 ≤ 2 s", med("acceptance → anchored p99"), "s",
         med("acceptance → anchored p99") <= 2),
        ("POST /v1/verify ≥ 1,000/s", med("POST /v1/verify"), "req/s", med("POST /v1/verify") >= 1000),
        ("POST /v1/verify p99 ≤ 50 ms", med("POST /v1/verify p99"), "ms", med("POST /v1/verify p99") <= 50),
        ("GET /v1/verify/{hash} ≥ 1,500/s", med("GET /v1/verify/{hash}"), "req/s",
         med("GET /v1/verify/{hash}") >= 1500),
        ("client-side verification ≥ 1.5× OpenAttestation", med("client-side verification, ours / OpenAttestation"),
         "×", med("client-side verification, ours / OpenAttestation") >= 1.5),
    ]
    smallest, largest = raw["sweep"][0]["stored"], raw["sweep"][-1]["stored"]
    for key, name, _ in _SWEEP[:4]:
        first, last = _flat(raw, key)
        change = last / first - 1 if first else math.inf
        checks.append((f"{name} within 10 % from {smallest:,} to {largest:,} stored", change * 100, "% change",
                       abs(change) <= 0.10))
    rss = _flat(raw, "rss_mb")[1]
    checks.append((f"server RSS < 500 MB at {largest:,} stored", rss, "MB", rss < 500))
    return [{"target": t, "measured": v, "unit": u, "met": ok} for t, v, u, ok in checks]


def _number(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}" if abs(value) >= 1 else f"{value:.3g}"


def markdown(result: Raw) -> str:
    m = result["machine"]
    lines = ["# Benchmark", "",
             f"Run {m['when']} on commit `{m['git_commit'][:12]}`{' (with local changes)' if m['git_dirty'] else ''}, "
             f"{m['cores']} × {m['cpu_model']}; node started as `coo up --demo {' '.join(result['workers_option'])}`"
             f"; load by {m['wrk'][0] or 'wrk'}; {result['rounds']} rounds; `{result['command']}`.", "",
             "## Targets", "", "| target | measured (median) | |", "|---|---:|---|"]
    lines += [f"| {t['target']} | {_number(t['measured'])} {t['unit']} | {'met' if t['met'] else '**not met**'} |"
              for t in result["targets"]]
    lines += ["", "## Figures", "", "| figure | median | min – max | unit |", "|---|---:|---:|---|"]
    lines += [f"| {name} | {_number(f['median'])} | {_number(f['min'])} – {_number(f['max'])} | {f['unit']} |"
              for name, f in result["figures"].items()]
    lines += ["", "## Gas (deterministic, one run)", "", "| batch | gas | per certificate |", "|---:|---:|---:|"]
    lines += [f"| {k} | {v['gas']:,} | {v['per_certificate']:,.1f} |" for k, v in result["gas"].items()]
    lines += ["", "| batch | encrypted mode, per certificate | hash-only, per certificate | ratio |",
              "|---:|---:|---:|---:|"]
    lines += [f"| {k} | {v['encrypted_per_certificate']:,.0f} | {v['hash_only_per_certificate']:,.0f} | "
              f"{v['ratio']:.1f}× |" for k, v in result["gas_encrypted"].items()]
    ceiling = result["eth_call_ceiling"]
    lines += ["", f"Batched `eth_call` ceiling (read side, {ceiling['per_batch']} per JSON-RPC batch): "
              f"{ceiling['per_second']:,.0f} calls/s.", ""]
    return "\n".join(lines)
