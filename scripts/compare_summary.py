"""The one-page summary of a run, every cell read from its results (for a reader with five minutes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

LABELS = {"chain": "blockchain", "vc-jwt": "VC (vc+jwt)", "sd-jwt": "VC (SD-JWT)"}


def _median(r: dict[str, Any], path: str, phase: str, figure: str = "median_ms_across_runs") -> str:
    found = r["timing"].get(path, {}).get(phase, {}).get(figure)
    return f"{found['median']:,.2f}" if found and found.get("runs") else "not measured"


def _cell(r: dict[str, Any], path: str, fault: str, policy: str, key: str) -> str:
    for c in r["faults"]["cells"]:
        if c["path"] == path and c["fault"] == fault and c["policy"] == policy:
            return c["verdicts"].get(key, "not measured") if c["measured"] else c["note"]
    return "not measured"


def _life(r: dict[str, Any], mode: str, what: str) -> str:
    steps = r["lifecycle"][mode]["steps"]
    return f"{sum(s['per_certificate'].get(what, 0) for n, s in steps.items() if n != 'other'):,.0f}"


def _visible(r: dict[str, Any]) -> tuple[str, str]:
    chain = ", ".join(f"{p['visibility_s']['median']:.2f} s at {p['block_time_s']:g} s blocks"
                      for p in r["sweeps"]["chain"] if p["visibility_s"].get("n"))
    chain += "".join(f", {p['visibility_s']['median']:.2f} s at {p['block_time_s']:g} s blocks on the 4-node network"
                     for p in r["sweeps"].get("network", []) if p.get("visibility_s", {}).get("n"))
    vc = ", ".join(f"{p['visibility_s']['median']:.0f} s at TTL {p['ttl_s']:g} s" for p in r["sweeps"]["vc"])
    return chain, vc


def _during(r: dict[str, Any], fault: str, which: str) -> str:
    """JP's last verdict on *which* during *fault*, and how long after the fault it was first seen."""
    for c in r["faults"]["cells"]:
        if c["path"] == "chain" and c["fault"] == fault:
            if not c["measured"]:
                return str(c["note"])
            seconds = c["times_s"]["during_fault"].get(which)
            return f"{c['verdicts'][f'during_fault:{which}']} (from {seconds:g} s after the fault)"
    return "not measured"


def _stale(r: dict[str, Any], fault: str, phase: str) -> str:
    """How long JP still answered VALID on the `revoked_during` certificate after SG's own node said REVOKED."""
    from scripts.compare_consortium import stale_valid_s

    for c in r["faults"]["cells"]:
        if c["path"] == "chain" and c["fault"] == fault:
            if not c["measured"]:
                return str(c["note"])
            found = stale_valid_s(c["timeline"][phase], "revoked_during", "revoked_during_at_sg")
            return "SG's node never said REVOKED in this phase" if found is None else f"{found:g} s"
    return "not measured"


def _consortium_rows(r: dict[str, Any], row: Callable[[str, str, str], str]) -> list[str]:
    """The consortium cells, as JP (the importing country) saw them."""
    verdicts = [row(f"consortium: {what}; JP's verdict on the `{which}` certificate during the fault",
                    _during(r, fault, which), "n/a")
                for what, fault, which in (
                    ("one chain node of four down", "one_validator_down", "untouched"),
                    ("one chain node of four down", "one_validator_down", "revoked_during"),
                    ("two of four down (more than Clique tolerates)", "more_validators_down_than_tolerated",
                     "untouched"),
                    ("JP's own chain node down", "importing_node_down", "untouched"),
                    ("JP's chain node partitioned from the others", "importing_node_partitioned", "revoked_during"))]
    return verdicts + [
        row("consortium: JP's chain node partitioned; JP still answered VALID on a certificate after SG's node "
            "had it REVOKED, for", _stale(r, "importing_node_partitioned", "during_fault"), "n/a"),
        row("consortium: JP's chain node back after being down; JP still answered VALID on a certificate "
            "revoked meanwhile, for", _stale(r, "importing_node_down", "after_heal"), "n/a")]


def summary(r: dict[str, Any]) -> list[str]:
    """Markdown: the summary table."""
    paths = [p for p in ("chain", "vc-jwt", "sd-jwt") if p in r["timing"]]
    head = "| | " + " | ".join(LABELS[p] for p in paths) + " |"
    rule = "|---" * (len(paths) + 1) + "|"
    rows = [f"| {what} | " + " | ".join(_median(r, p, phase, fig) for p in paths) + " |"
            for what, phase, fig in (("issue, median ms", "issue", "median_ms_across_runs"),
                                     ("verify, median ms", "verify", "median_ms_across_runs"),
                                     ("revoke, median ms", "revoke", "median_ms_across_runs"),
                                     ("verify, process CPU ms", "verify", "process_cpu_ms_per_op_across_runs"))]
    vc_cols = len(paths) - 1
    chain_vis, vc_vis = _visible(r)

    def row(what: str, chain: str, vc: str) -> str:
        return f"| {what} | {chain} | " + " | ".join([vc] * vc_cols) + " |"

    rows += [
        row("gas per certificate over its life (hash-only / encrypted)",
            f"{_life(r, 'hash-only', 'gas')} / {_life(r, 'encrypted', 'gas')}", "no transactions"),
        row("bytes stored per node per certificate (hash-only / encrypted)",
            f"{_life(r, 'hash-only', 'bytes_stored')} / {_life(r, 'encrypted', 'bytes_stored')}",
            f"1 bit of a {r['sizes']['status_list_entries']:,}-entry list (held by the issuer)"),
        row("revocation visible to another verifier after", chain_vis, vc_vis),
        row("verifier's RPC endpoint / status host down, no cache",
            _cell(r, "chain", "verifier_endpoint_down", "n/a", "during_fault:untouched"),
            _cell(r, "vc-jwt", "status_host_down", "none", "within_cache:untouched")),
        row("another member's endpoint down / status host down with a TTL cache, credential revoked "
            "after the last fetch", _cell(r, "chain", "other_member_endpoint_down", "n/a", "during_fault:revoked_late"),
            _cell(r, "vc-jwt", "status_host_down", "ttl", "within_cache:revoked_late")),
        *_consortium_rows(r, row),
        row("same goods used at a second port: detected",
            str(r["double_use"]["chain"]["detected"]["second_port_same_goods"]),
            str(r["double_use"]["vc-jwt"]["detected"]["second_port_same_goods"])),
    ]
    return ["## Summary", "", f"Medians across {r['runs']} runs of n = {r['n']:,}; details and spreads below.", "",
            head, rule, *rows, ""]
