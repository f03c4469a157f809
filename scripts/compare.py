"""Head-to-head: the blockchain registry against W3C verifiable credentials, measured, with its spread.

Usage: ``python scripts/compare.py [--n 1000] [--runs 5] [--out results] [--no-network] [--only faults]``
(or ``coo compare``, ``make compare``).

1. Timing: ``--runs`` interleaved rounds; in each, every path (``chain``,
   ``vc-jwt``, ``sd-jwt``) runs in a fresh process of its own
   (``scripts/compare_worker.py``), the order rotating from round to round.
2. Single-shot experiments, each on a fresh Anvil or fresh hosts: lifecycle
   cost per certificate (hash-only and encrypted), gas by batch size with the
   OpenAttestation DocumentStore and the block gas limit as references, the
   fault matrix, double use, the observer's view, and the block-period × TTL
   sweeps. The fault matrix's consortium cells run on a network of four
   EthereumJS chain nodes (``registry/chain/network.py``); ``--no-network``
   skips them (the cells then say so).
3. ``--only faults`` (or ``sweeps``) runs that part alone; ``--only scale --n 100000``
   runs the timed rounds again at that volume into a section of its own (``--only report``
   rewrites the report from the results as they are) and puts it into the last
   full run's ``comparison.json`` in ``--out`` (the report says when each part ran).

Writes ``comparison.json`` (every sample, the environment), ``comparison.md``
and PNG plots to ``--out``. Every figure is measured in the run or marked not
measured with the reason; nothing here says which path wins.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PREFACE = ROOT / "scripts" / "compare_preface.md"
"""The docs page's method and discussion; the figures after it are the run's."""

from scripts.compare_observer import vc_observer  # noqa: E402
from scripts.compare_stats import across_runs, describe, environment, percentile  # noqa: E402
from scripts.compare_worker import PATHS, VERIFY_SAMPLE  # noqa: E402


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


def run_workers(n: int, runs: int, paths: list[str], work: Path, block_time: float | None,
                sample: int = VERIFY_SAMPLE) -> list[dict[str, Any]]:
    """Every (round, path) in its own process, the order rotating each round."""
    out = []
    for k in range(runs):
        order = paths[k % len(paths):] + paths[:k % len(paths)]
        for path in order:
            target = work / f"run-{k}-{path}.json"
            command = [sys.executable, str(ROOT / "scripts" / "compare_worker.py"), "--path", path, "--n", str(n),
                       "--out", str(target), "--verify-sample", str(sample)]
            command += ["--block-time", str(block_time)] if block_time else []
            print(f"round {k + 1}/{runs}: {path}", file=sys.stderr, flush=True)
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"compare: the {path} worker failed: {done.stderr.strip().splitlines()[-1:]}")
            out.append(json.loads(target.read_text()) | {"round": k, "position": order.index(path)})
    return out


def _per_run(phase: dict[str, Any]) -> dict[str, Any]:
    samples, ops = phase["samples_ms"], phase["operations"]
    out = {"n": len(samples), "median_ms": statistics.median(samples) if samples else None,
           "p95_ms": percentile(samples, 0.95), "p99_ms": percentile(samples, 0.99),
           "process_cpu_ms_per_op": phase["process_cpu_s"] / ops * 1000 if ops else None,
           "ops_per_s": ops / phase["wall_s"] if phase["wall_s"] else None}
    if "chain_node_cpu_s" in phase:
        out["chain_node_cpu_ms_per_op"] = phase["chain_node_cpu_s"] / ops * 1000 if ops else None
    return out


def aggregate(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Per path and phase: each run's figures, median and IQR across runs, and the pooled samples."""
    table: dict[str, Any] = {}
    for path in dict.fromkeys(r["path"] for r in results):
        mine = [r for r in results if r["path"] == path]
        if "not_measured" in mine[0]:
            table[path] = {"not_measured": mine[0]["not_measured"]}
            continue
        table[path] = {}
        for phase in mine[0]["phases"]:
            runs = [_per_run(r["phases"][phase]) for r in mine]
            pooled = [s for r in mine for s in r["phases"][phase]["samples_ms"]]
            table[path][phase] = {
                "runs": runs, "pooled_ms": describe(pooled),
                **{f"{figure}_across_runs": across_runs([r[figure] for r in runs if r.get(figure) is not None])
                   for figure in ("median_ms", "process_cpu_ms_per_op", "ops_per_s", "chain_node_cpu_ms_per_op")
                   if any(r.get(figure) is not None for r in runs)}}
    return table


def experiments(work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The single-shot experiments."""
    from scripts.compare_chainpath import chain_node
    from scripts.compare_doubleuse import chain_double_use, vc_double_use
    from scripts.compare_lifecycle import document_store_reference, gas_by_batch, lifecycle, real_payload_bytes
    from scripts.compare_observer import chain_observer
    from scripts.compare_sizes import sizes
    from scripts.compare_vcpath import vc_world

    out: dict[str, Any] = {}
    print("lifecycle cost…", file=sys.stderr, flush=True)
    out["lifecycle"] = {mode: lifecycle(work / f"life-{mode}", args.lifecycle_k, mode)
                        for mode in ("hash-only", "encrypted")}
    print("gas by batch size…", file=sys.stderr, flush=True)
    with chain_node(work / "gas") as chain:
        client = chain.node.context.chain
        signer = chain.node.context.accounts.get(str(chain.issuer.account))
        out["gas"] = gas_by_batch(client, signer, real_payload_bytes(str(chain.issuer.account)),
                                  tuple(int(x) for x in _floats(args.hash_only_sizes)),
                                  tuple(int(x) for x in _floats(args.encrypted_sizes)))
        out["document_store"] = document_store_reference(client)
    print("double use, observer, sizes…", file=sys.stderr, flush=True)
    with chain_node(work / "double") as chain:
        out["double_use"] = {"chain": chain_double_use(chain)}
        out["observer"] = {"chain": chain_observer(chain.node.context.chain)}
        out["sizes"] = sizes(chain)
    with vc_world(work / "vc-double") as world:
        out["double_use"]["vc-jwt"] = vc_double_use(world)
    out["faults"] = faults(work, args)
    out["sweeps"] = run_sweeps(work, args)
    return out


def run_sweeps(work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The block-period and TTL sweeps, with the 1 s point on a network too with ``--sweep-network``."""
    from scripts.compare_sweeps import sweeps

    print("sweeps…", file=sys.stderr, flush=True)
    began = time.time()
    found = sweeps(work / "sweeps", _floats(args.block_periods), _floats(args.ttls), args.sweep_certificates,
                   args.sweep_revocations, network=args.sweep_network and not args.no_network)
    return found | {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "seconds": time.time() - began}


def extras(raw: list[dict[str, Any]]) -> dict[str, Any]:
    """What each path's workers report besides timings (from the last run of each)."""
    return {r["path"]: {k: r.get(k) for k in ("fetches", "bytes", "sanity", "notes", "herd")} for r in raw}


def scale(work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The timed runs again at ``--n`` (100,000 to cite), as a section of their own: the store, the event index
    and the status list at a real volume. Only each run's figures and the pooled percentiles are kept."""
    began = time.time()
    paths = [p for p in args.paths.split(",") if p]
    raw = run_workers(args.n, args.runs, paths, work, args.block_time, args.verify_sample)
    return {"n": args.n, "runs": args.runs, "timing": aggregate(raw), "worker_extras": extras(raw),
            "environment": environment(), "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "seconds": time.time() - began}


def faults(work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The fault matrix, with the consortium cells on a network unless ``--no-network``."""
    from scripts.compare_chainpath import chain_node
    from scripts.compare_consortium import consortium_or_reason
    from scripts.compare_faults import fault_matrix
    from scripts.compare_vcpath import vc_world

    print("fault matrix…", file=sys.stderr, flush=True)
    skip = "--no-network" if args.no_network else None
    began = time.time()
    matrix = fault_matrix(work / "faults", chain_node, vc_world, lambda w: consortium_or_reason(w, skip))
    return matrix | {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "seconds": time.time() - began}


def only_part(work: Path, args: argparse.Namespace, command: str) -> int:
    """Rerun one part (the fault matrix or the sweeps) into the last full run's results; rewrite its report."""
    from scripts.compare_report import write_report

    try:
        results = json.loads((args.out / "comparison.json").read_text())
        raw = json.loads((args.out / "comparison-samples.json").read_text())
    except (OSError, ValueError):
        print(f"compare: --only {args.only} needs a full run's comparison.json in {args.out}", file=sys.stderr)
        return 2
    if args.only != "report":
        part = {"faults": faults, "sweeps": run_sweeps, "scale": scale}[args.only]
        results[args.only] = part(work, args) | {"command": command}
    write_report(results, args.out, _samples(results, raw), *_docs(args.out))
    print(f"wrote {args.out / 'comparison.md'}")
    return 0


def _samples(results: dict[str, Any], raw: list[dict[str, Any]]) -> dict[str, dict[str, list[float]]]:
    return {path: {phase: [s for r in raw if r["path"] == path for s in r["phases"][phase]["samples_ms"]]
                   for phase in phases}
            for path, phases in results["timing"].items() if "not_measured" not in phases}


def _docs(out: Path) -> tuple[Path | None, str]:
    """The docs page and its preface, when *out* is the project's ``results``."""
    if out.resolve() != (ROOT / "results").resolve():
        return None, ""
    return ROOT / "docs" / "comparison.md", PREFACE.read_text()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000, help="certificates per run and path (up to 100,000)")
    parser.add_argument("--runs", type=int, default=5, help="interleaved rounds (at least 1; 5 or more to cite)")
    parser.add_argument("--paths", default=",".join(PATHS))
    parser.add_argument("--block-time", type=float, default=None, help="Anvil block period for the timed runs")
    parser.add_argument("--verify-sample", type=int, default=VERIFY_SAMPLE,
                        help="most documents each run verifies (spread over the n issued)")
    parser.add_argument("--block-periods", default="0,1,2,5", help="sweep: Anvil block periods (0: on demand)")
    parser.add_argument("--ttls", default="0,1,60,300", help="sweep: verifier status-list TTLs, seconds")
    parser.add_argument("--sweep-certificates", type=int, default=20)
    parser.add_argument("--sweep-revocations", type=int, default=5)
    parser.add_argument("--lifecycle-k", type=int, default=20, help="certificates per lifecycle experiment")
    parser.add_argument("--hash-only-sizes", default="1,16,256,1024")
    parser.add_argument("--encrypted-sizes", default="1,16,64,256")
    parser.add_argument("--volume", type=float, default=15e6, help="certificates a year, for the projection")
    parser.add_argument("--out", type=Path, default=ROOT / "results")
    parser.add_argument("--no-network", action="store_true",
                        help="skip the fault matrix's consortium cells (no chain-node network is started)")
    parser.add_argument("--sweep-network", action="store_true",
                        help="also measure the sweep's 1 s point on a network of four chain nodes (a minute more)")
    parser.add_argument("--only", choices=("faults", "sweeps", "scale", "report"),
                        help="run only this part into the last run in --out (scale: the timed runs at --n, kept "
                             "beside the full run's; report: rewrite the report from it)")
    args = parser.parse_args(argv)
    paths = [p for p in args.paths.split(",") if p]
    if not 1 <= args.n <= 100_000 or args.runs < 1 or not set(paths) <= set(PATHS) or not paths \
            or args.verify_sample < 1:
        print(f"compare: --n must be 1..100,000, --runs and --verify-sample at least 1, --paths among "
              f"{','.join(PATHS)}", file=sys.stderr)
        return 2
    from scripts.compare_report import write_report

    began = time.time()
    work = Path(tempfile.mkdtemp(prefix="coo-compare-"))
    command = "python scripts/compare.py " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.only:
        return only_part(work, args, command)
    results: dict[str, Any] = {
        "n": args.n, "runs": args.runs, "paths": paths, "block_time_timed_runs": args.block_time,
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "environment": environment(),
        "command": command, "volume_per_year": args.volume}
    raw = run_workers(args.n, args.runs, paths, work, args.block_time, args.verify_sample)
    results["timing"] = aggregate(raw)
    results["worker_extras"] = extras(raw)
    results |= experiments(work, args)
    herd = (results["worker_extras"].get("vc-jwt") or {}).get("herd")
    if herd:
        results["observer"]["vc"] = vc_observer(**herd)
    results["seconds"] = time.time() - began
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "comparison-samples.json").write_text(json.dumps(raw) + "\n")
    write_report(results, args.out, _samples(results, raw), *_docs(args.out))
    print(f"wrote {args.out / 'comparison.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
