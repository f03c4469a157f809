"""The comparison's report: ``comparison.json``, ``comparison.md`` and the plots, all from one run's results.

Every number is read from the results; the only sentences that compare paths
are computed from the medians and IQRs of this run (:func:`lower`), so a run
that comes out the other way says so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scripts.compare_consortium import stale_valid_s
from scripts.compare_plots import plots
from scripts.compare_projection import projection
from scripts.compare_summary import summary

LABELS = {"chain": "blockchain", "vc-jwt": "VC (vc+jwt)", "sd-jwt": "VC (SD-JWT)"}


def _num(value: Any, digits: int = 2) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def spread(figure: dict[str, Any] | None, digits: int = 2) -> str:
    """``median [Q1–Q3]`` across runs."""
    if not figure or not figure.get("runs"):
        return "not measured"
    q = figure.get("iqr")
    return f"{_num(figure['median'], digits)} [{_num(q[0], digits)}–{_num(q[1], digits)}]" if q else _num(
        figure["median"], digits)


def lower(results: dict[str, Any], phase: str, figure: str = "median_ms_across_runs") -> str:
    """Which path had the lower median for *phase* in this run, and whether the IQRs overlap."""
    found = {p: t[phase][figure] for p, t in results["timing"].items() if phase in t and figure in t[phase]}
    if len(found) < 2:
        return "not enough paths measured"
    ranked = sorted(found, key=lambda p: found[p]["median"])
    best, rest = ranked[0], ranked[1:]
    iq = found[best].get("iqr") or [found[best]["median"]] * 2
    overlaps = [p for p in rest if (found[p].get("iqr") or [found[p]["median"]] * 2)[0] <= iq[1]]
    note = f"; its IQR overlaps {', '.join(LABELS[p] for p in overlaps)}" if overlaps else ""
    return f"lowest median: {LABELS[best]}{note}"


def _timing(r: dict[str, Any], title: str = "## Latency, CPU and throughput") -> list[str]:
    lines = [title, "",
             f"Median [IQR] across {r['runs']} interleaved runs, each path in its own process per run; p95/p99 "
             "from the pooled samples (at least 100, else \"n too small\").", "",
             "| path | operation | samples | median ms | p95 ms | p99 ms | process CPU ms/op | chain node CPU ms/op "
             "| ops/s |", "|---|---|---|---|---|---|---|---|---|"]
    for path, phases in r["timing"].items():
        if "not_measured" in phases:
            lines.append(f"| {LABELS[path]} | all | 0 | {phases['not_measured']} | | | | | |")
            continue
        for phase, f in phases.items():
            pooled = f["pooled_ms"]
            lines.append(f"| {LABELS[path]} | {phase} | {pooled['n']} | {spread(f.get('median_ms_across_runs'))} | "
                         f"{_num(pooled.get('p95'))} | {_num(pooled.get('p99'))} | "
                         f"{spread(f.get('process_cpu_ms_per_op_across_runs'), 3)} | "
                         f"{spread(f.get('chain_node_cpu_ms_per_op_across_runs'), 3)} | "
                         f"{spread(f.get('ops_per_s_across_runs'), 0)} |")
    lines += ["", *[f"* {phase}: {lower(r, phase)}." for phase in ("issue", "verify", "revoke")]]
    notes = {f"{LABELS[p]}, {k}": v for p, extra in r["worker_extras"].items()
             for k, v in (extra["notes"] or {}).items()}
    lines += ["", *[f"* {k}: {v}." for k, v in notes.items()], ""]
    fetched = {p: e["fetches"] for p, e in r["worker_extras"].items() if e.get("fetches")}
    lines += [f"* fetches by one VC verifier over {f.get('verifications', r['n']):,} verifications ({LABELS[p]}): " +
              ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in f.items() if k != "verifications")
              for p, f in fetched.items()]
    return lines + [""]


def _scale(r: dict[str, Any]) -> list[str]:
    """The timed runs again at a real volume (``--only scale``), when they were run."""
    at = r.get("scale")
    if not at:
        return ["## At n = 100,000", "", "Not run yet: `python scripts/compare.py --only scale --n 100000`.", ""]
    env = at["environment"]
    lines = _timing(at, f"## At n = {at['n']:,}")
    return lines[:2] + [f"Run {at['when']}, {at['seconds']:.0f} s, commit {env['git_commit'][:12]}"
                        f"{' (with local changes)' if env['git_dirty'] else ''}: `{at['command']}`. Every "
                        "certificate is issued and stored; verification is timed on a sample spread over them "
                        "(see the notes).", ""] + lines[2:]


def _lifecycle(r: dict[str, Any]) -> list[str]:
    lines = ["## Lifecycle cost per certificate", "",
             "Anchor (default batch policy), register terms, one draw by importing Customs, revoke; every "
             "transaction read back from its receipt. Bytes stored per node: the signed transaction, its logs and "
             "the storage slots it created (64 bytes each). RPC bytes: between the node and its RPC endpoint. "
             "Chain node CPU: the Anvil process over the phase, divided by the certificates (10 ms ticks).", "",
             "| mode | step | tx | gas per certificate | bytes stored per node | slots created |",
             "|---|---|---|---|---|---|"]
    for mode, life in r["lifecycle"].items():
        for step in ("anchor", "terms", "utilise", "revoke"):
            s = life["steps"].get(step)
            if s is None:
                lines.append(f"| {mode} | {step} | 0 | not measured (no such transaction seen) | | |")
                continue
            per = s["per_certificate"]
            lines.append(f"| {mode} | {step} | {s['transactions']} | {_num(per.get('gas'), 0)} | "
                         f"{_num(per.get('bytes_stored'), 0)} | {_num(per.get('slots_created'), 2)} |")
    lines += ["", "| mode | phase | chain node CPU s per certificate | RPC bytes per certificate | RPC calls | "
              "Anvil state-dump growth bytes |", "|---|---|---|---|---|---|"]
    for mode, life in r["lifecycle"].items():
        for phase, f in life["phases"].items():
            lines.append(f"| {mode} | {phase} | {_num(f['chain_node_cpu_s'], 4)} | {_num(f['rpc_bytes'], 0)} | "
                         f"{_num(f['rpc_calls'], 1)} | {_num(f['state_dump_growth_bytes'], 0)} |")
    lines += ["", f"Certificates per experiment: {next(iter(r['lifecycle'].values()))['k']} "
              "(so the anchoring batch held that many).", ""]
    return lines + projection(r)


def _gas(r: dict[str, Any]) -> list[str]:
    store = r.get("document_store", {})
    lines = ["## Gas by batch size", "",
             f"Block gas limit on this Anvil: {r['gas']['block_gas_limit']:,}. Reference: OpenAttestation "
             f"DocumentStore ({store.get('package', 'not measured')}) `issue(root)` "
             f"{_num(store.get('issue_gas'), 0)} gas, `revoke(root)` {_num(store.get('revoke_gas'), 0)} gas, "
             "measured on the same Anvil.", "",
             "| mode | batch | gas per tx | gas per certificate | calldata bytes per certificate | floor applied | "
             "raw tx bytes | over geth's 128 KiB | note |", "|---|---|---|---|---|---|---|---|---|"]
    for mode in ("hash-only", "encrypted"):
        for size, g in r["gas"][mode].items():
            if g.get("sent") is False:
                lines.append(f"| {mode} | {size} | not sent | | {_num(g['calldata_bytes'] / int(size), 0)} | | | | "
                             f"calldata floor alone {g['calldata_floor_gas']:,} gas; the node said: "
                             f"{g['node_said'][:90]} |")
                continue
            lines.append(f"| {mode} | {size} | {g['gas_per_transaction']:,} | {_num(g['gas'], 1)} | "
                         f"{_num(g['calldata_bytes'], 1)} | {_num(g['floor_applied'])} | "
                         f"{_num(g['raw_tx_bytes'] * int(size), 0)} | {_num(g['exceeds_geth_tx_pool_limit'])} | |")
    return lines + [""]


def _sizes(r: dict[str, Any]) -> list[str]:
    lines = ["## Bytes", "", "| what | bytes |", "|---|---|"]
    lines += [f"| {k.replace('_', ' ')} | {_num(v, 0)} |" for k, v in r["sizes"].items()]
    return lines + [""]


def _faults(r: dict[str, Any]) -> list[str]:
    f = r["faults"]
    ran = f" Fault matrix run {f['when']} ({f['seconds']:.0f} s)" if "when" in f else ""
    rerun = f", by `{f['command']}`" if "command" in f else ""
    lines = ["## Fault matrix", "",
             f"Chain network of the endpoint cells: {f['network']}. `untouched`: never revoked; `revoked_late`: "
             f"revoked after the verifier's last fetch, just before the fault.{ran}{rerun}.", "",
             "| path | fault | cache policy | observed verdicts |", "|---|---|---|---|"]
    consortium = [c for c in f["cells"] if c["path"] == "chain" and (c.get("action") or not c["measured"])]
    for c in f["cells"]:
        if c in consortium:
            continue
        seen = "; ".join(f"{k} {v}" for k, v in c["verdicts"].items()) if c["measured"] else c["note"]
        lines.append(f"| {c['path']} | {c['fault'].replace('_', ' ')} | {c['policy']} | {seen} |")
    return lines + [""] + _consortium(f.get("consortium_network", "not started"), consortium)


def _timeline(changes: list[list[Any]]) -> str:
    return " → ".join(f"{v} ({t:g} s)" for t, v in changes) or "not seen"


def _consortium(network: str, cells: list[dict[str, Any]]) -> list[str]:
    lines = ["### Consortium cells", "", f"Network: {network}. JP (the importing country) verifies over HTTP; each "
             "verdict change is timed from the fault (during) or the heal (after). `revoked_before`: revoked "
             "before any fault; `revoked_during`: revoked by SG during the fault.", ""]
    if not any(c["measured"] for c in cells):
        return lines + [f"* {c['fault'].replace('_', ' ')}: {c['note']}" for c in cells] + [""]
    lines += ["| fault | what was done | certificate | before | during the fault | after healing |",
              "|---|---|---|---|---|---|"]
    for c in cells:
        if not c["measured"]:
            lines.append(f"| {c['fault'].replace('_', ' ')} | {c['note']} | | | | |")
            continue
        for name in ("untouched", "revoked_before", "revoked_during"):
            during, after = c["timeline"]["during_fault"], c["timeline"]["after_heal"]
            lines.append(f"| {c['fault'].replace('_', ' ')} | {c['action'] if name == 'untouched' else ''} | {name} | "
                         f"{c['verdicts'][f'before_fault:{name}']} | {_timeline(during.get(name, []))} | "
                         f"{_timeline(after.get(name, []))} |")
    lines += ["", "| fault | SG's revoke call during the fault | REVOKED at SG's own node during the fault | "
              "seen by JP during the fault | JP still VALID after SG's node said REVOKED, s (during / after the "
              "heal) | seen by JP after healing | fault injection / heal took, s | heal until every node agreed, s | "
              "watch stopped at its deadline |", "|---|---|---|---|---|---|---|---|---|"]
    for c in (c for c in cells if c["measured"]):
        v, t = c["revocation"], c["times_s"]
        deadline = [p for p, w in c["timeline"].items() if "deadline_reached_s" in w]
        stale = " / ".join("n/a" if x is None else f"{x:g}" for x in (
            v["jp_still_valid_after_sg_saw_it_s"],
            stale_valid_s(c["timeline"]["after_heal"], "revoked_during", "revoked_during_at_sg")))
        lines.append(f"| {c['fault'].replace('_', ' ')} | {v['answer']} in {v['seconds']:g} s | "
                     f"{_after(v['on_sgs_chain_node_during_fault_after_s'])} | "
                     f"{_after(v['seen_during_fault_after_s'])} | {stale} | "
                     f"{_after(v['seen_after_heal_after_s'])} | {t['fault_injection_took']:g} / {t['heal_took']:g} | "
                     f"{t['heal_until_every_node_agreed']:g} | {', '.join(deadline) or 'no'} |")
    return lines + ["", f"{cells[0]['note']}.", ""]


def _after(seconds: float | None) -> str:
    return "no" if seconds is None else f"yes, after {seconds:g} s"


def _double_use(r: dict[str, Any]) -> list[str]:
    lines = ["## Double use", "", "| attempt | path | answer | detected |", "|---|---|---|---|"]
    for path, d in r["double_use"].items():
        for attempt, answer in d["attempts"].items():
            lines.append(f"| {attempt.replace('_', ' ')} | {LABELS.get(path, path)} | {answer} | "
                         f"{_num(d['detected'].get(attempt)) if attempt in d['detected'] else '(first use)'} |")
    return lines + [""]


def _sweeps(r: dict[str, Any]) -> list[str]:
    s = r["sweeps"]
    lines = ["## Sweeps: block period and status-list TTL", "",
             "| block period s (0: on demand) | issue median ms | revoke median ms | "
             "revocation visible after, median s "
             "| availability during propagation |", "|---|---|---|---|---|"]
    for p in s["chain"]:
        lines.append(f"| {_num(p['block_time_s'], 0)} | {_num(p['issue_ms'].get('median'))} | "
                     f"{_num(p['revoke_ms'].get('median'))} | {_num(p['visibility_s'].get('median'), 3)} | "
                     f"{_num(p['availability'], 3)} |")
    for p in s.get("network", []):
        where = f"{_num(p['block_time_s'], 0)}, on a network"
        if "not_measured" in p:
            lines.append(f"| {where} | not measured in this run: {p['not_measured']} | | | |")
            continue
        lines.append(f"| {where} ({p['chain']}) | {_num(p['issue_ms'].get('median'))} | "
                     f"{_num(p['revoke_ms'].get('median'))} | {_num(p['visibility_s'].get('median'), 3)} | "
                     f"{_num(p['availability'], 3)} |")
    if "when" in s:
        lines += ["", f"Sweeps run {s['when']} ({s['seconds']:.0f} s)"
                  + (f", by `{s['command']}`." if "command" in s else ".")]
    lines += ["", f"| verifier TTL s | effective cache s | revocation visible after, median s (simulated clock) | "
              f"availability over a {s['outage_s']} s status-host outage |", "|---|---|---|---|"]
    for p in s["vc"]:
        lines.append(f"| {_num(p['ttl_s'], 0)} | {_num(p['effective_cache_s'], 0)} | "
                     f"{_num(p['visibility_s'].get('median'), 1)} | {_num(p['availability'], 3)} |")
    return lines + [""]


def _observer(r: dict[str, Any]) -> list[str]:
    chain = r["observer"]["chain"]
    lines = ["## What a passive observer learns", "",
             "Chain path: every event of the double-use run, as any member (or anyone reading a member's RPC) sees it.",
             "", "| event | count | fields published | revealing values seen |", "|---|---|---|---|"]
    for name, e in chain["events"].items():
        seen = "; ".join(f"{k}: {', '.join(v)}" for k, v in e["values_seen"].items())
        lines.append(f"| {name} | {e['count']} | {', '.join(e['fields'])} | {seen} |")
    lines += ["", f"Timing: events in {chain['blocks_with_events']} blocks over {chain['first_to_last_event_s']} s "
              f"(block times are public). Herd of an anchored certificate = its batch: sizes {chain['batch_sizes']}. "
              f"Back-to-back links published: {chain['back_to_back_links_published']}.", ""]
    vc = r["observer"].get("vc")
    if vc:
        lines += [f"VC paths: {vc['published']}. The status host sees {vc['status_host_sees']}; the DID host sees "
                  f"{vc['did_host_sees']}. Herd of a credential = credentials issued on its list: {vc['herd_size']:,} "
                  f"in this run's timed VC run (the list has {vc['list_entries']:,} entries).", ""]
    return lines


def markdown(r: dict[str, Any], images: list[str]) -> str:
    env = r["environment"]
    lines = ["# Blockchain registry vs verifiable credentials: measured", "",
             f"n = {r['n']:,} certificates per run and path, {r['runs']} interleaved runs, {r['when']}, "
             f"{r['seconds']:.0f} s. Machine: {env['cpu_model']} ({env['cpu_count']} cores), {env['platform']}. "
             f"Commit {env['git_commit'][:12]}{' (with local changes)' if env['git_dirty'] else ''}; Python "
             f"{env['python']}, solc {env['solc']}, {env['anvil']}; libraries: "
             + ", ".join(f"{k} {v}" for k, v in env["libraries"].items()) + ".",
             f"Regenerate: `{r['command']}`.", ""]
    for section in (summary, _timing, _scale, _lifecycle, _gas, _sizes, _faults, _double_use, _sweeps, _observer):
        lines += section(r)
    lines += ["## Plots", "", *[f"![{name}]({name})" for name in images]]
    return "\n".join(lines) + "\n"


def write_report(results: dict[str, Any], out: Path, samples: dict[str, dict[str, list[float]]],
                 docs: Path | None = None, preface: str = "") -> None:
    """Write the JSON, the plots and the markdown (and the docs page, with its *preface*, when given)."""
    images = plots(results, out, samples)
    (out / "comparison.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    text = markdown(results, images)
    (out / "comparison.md").write_text(text)
    if docs is not None:
        relative = [f"../{out.name}/{name}" for name in images]
        body = "## Measured in this run\n" + text.split("\n", 1)[1]
        for name, path in zip(images, relative, strict=True):
            body = body.replace(f"]({name})", f"]({path})")
        docs.write_text(preface + body)
