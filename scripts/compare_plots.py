"""The comparison's plots: box and dot plots with their spread, linear axes, one quantity per panel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

LABELS = {"chain": "blockchain", "vc-jwt": "VC vc+jwt", "sd-jwt": "VC SD-JWT"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _latency(r: dict[str, Any], samples: dict[str, dict[str, list[float]]], out: Path) -> str:
    plt = _pyplot()
    phases = ("issue", "verify", "revoke")
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    for ax, phase in zip(axes, phases, strict=True):
        names = [p for p in samples if phase in samples[p]]
        ax.boxplot([samples[p][phase] for p in names], showfliers=False)
        ax.set_xticks(range(1, len(names) + 1), [LABELS[p] for p in names])
        for i, p in enumerate(names, start=1):
            runs = [x["median_ms"] for x in r["timing"][p][phase]["runs"]]
            ax.scatter([i] * len(runs), runs, s=14, color="black", zorder=3)
        ax.set_title(f"{phase}: ms per operation (linear)")
        ax.set_ylim(bottom=0)
    axes[0].set_ylabel("ms")
    fig.suptitle("box: pooled samples (whiskers 1.5 IQR, outliers not drawn); dots: per-run medians", fontsize=9)
    fig.tight_layout()
    fig.savefig(out / "comparison-latency.png", dpi=100)
    plt.close(fig)
    return "comparison-latency.png"


def _gas(r: dict[str, Any], out: Path) -> str:
    plt = _pyplot()
    fig, (per_tx, per_cert) = plt.subplots(1, 2, figsize=(12, 4.2))
    store = r.get("document_store", {})
    for mode, marker in (("hash-only", "o"), ("encrypted", "s")):
        sent = [(int(k), v) for k, v in r["gas"][mode].items() if v.get("sent", True)]
        per_tx.scatter([k for k, _ in sent], [v["gas_per_transaction"] for _, v in sent], marker=marker, label=mode)
        per_cert.scatter([k for k, _ in sent], [v["gas"] for _, v in sent], marker=marker, label=mode)
    per_tx.axhline(r["gas"]["block_gas_limit"], color="red", linestyle="--", label="block gas limit")
    if "issue_gas" in store:
        for ax in (per_tx, per_cert):
            ax.axhline(store["issue_gas"], color="grey", linestyle=":", label="DocumentStore issue(root)")
    per_tx.set_title("gas per anchoring transaction (linear)")
    per_cert.set_title("gas per certificate (linear)")
    for ax in (per_tx, per_cert):
        ax.set_xlabel("certificates per batch")
        ax.set_ylim(bottom=0)
        ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "comparison-gas.png", dpi=100)
    plt.close(fig)
    return "comparison-gas.png"


def _sweeps(r: dict[str, Any], out: Path) -> str:
    plt = _pyplot()
    s = r["sweeps"]
    fig, (chain, vc, available) = plt.subplots(1, 3, figsize=(14, 4.2))
    for p in s["chain"]:
        xs = [p["block_time_s"]] * len(p["visibility_samples_s"])
        chain.scatter(xs, p["visibility_samples_s"], color="tab:blue", s=16)
    chain.set_title("chain: revocation visible after (s)")
    chain.set_xlabel("Anvil block period, s (0: on demand)")
    for p in s["vc"]:
        vc.scatter([p["ttl_s"]] * len(p["visibility_samples_s"]), p["visibility_samples_s"], color="tab:orange", s=16)
    vc.axhline(60, color="grey", linestyle=":", label="the list's own ttl (60 s)")
    vc.set_title("VC: revocation visible after (s, simulated cache clock)")
    vc.set_xlabel("verifier status-list TTL, s")
    vc.legend(fontsize=8)
    available.scatter([p["ttl_s"] for p in s["vc"]], [p["availability"] for p in s["vc"]], color="tab:orange",
                      label=f"VC, status host down {s['outage_s']} s")
    available.scatter([p["block_time_s"] for p in s["chain"]], [p["availability"] or 0 for p in s["chain"]],
                      color="tab:blue", marker="s", label="chain, while a revocation propagates (x: block period)")
    available.set_ylim(0, 1.05)
    available.set_title("share of verifications answered")
    available.set_xlabel("TTL or block period, s")
    available.legend(fontsize=8, loc="center right")
    for ax in (chain, vc):
        ax.set_ylim(bottom=0)
    fig.tight_layout()
    fig.savefig(out / "comparison-sweeps.png", dpi=100)
    plt.close(fig)
    return "comparison-sweeps.png"


def plots(r: dict[str, Any], out: Path, samples: dict[str, dict[str, list[float]]]) -> list[str]:
    """Write every plot into *out* (*samples*: path → phase → pooled latency samples); returns their names."""
    return [_latency(r, samples, out), _gas(r, out), _sweeps(r, out)]
