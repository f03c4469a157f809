"""Throughput benchmark of the node, against its baselines, on one Anvil, in one run (``make bench``).

Usage: ``python scripts/bench.py [--quick] [--rounds 3] [--out results]`` (sizes can be set one by one).

The node runs as ``coo up --demo`` (``--workers <cores>`` when this checkout offers it) in its own
processes; the load comes from ``wrk`` (compiled, one thread), whose own CPU is recorded apart from
the server's (read from /proc for the node's process tree). Every figure is measured in ``--rounds``
rounds and reported as median and min–max; each ratio compares figures measured in the same round.

1. Registration: the naive loop (one web3 ``transact()`` per certificate) interleaved with a flood of
   certificates through ``POST /v1/certificates/batch``; acceptance → anchored from the store.
2. ``POST /v1/verify`` (full sealed documents) and ``GET /v1/verify/{hash}``: rate, p99, CPU per request.
3. Idle server CPU.
4. Side by side with OpenAttestation (``bench_oa.py``), gas (``bench_gas.py``).
5. The store-size sweep on a fresh node (``bench_sweep.py``).

Writes ``results/bench.json`` (machine, versions, commit, every raw round, figures, targets) and
``results/bench.md``; the issue's targets are printed as met or not met, never asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench_api import Sizes, authorise, fetch_documents, registration_round, verify_get, verify_post
from bench_gas import eth_call_ceiling, gas_by_batch_size, gas_encrypted_beside_hash_only
from bench_node import ApiNode
from bench_oa import oa_round
from bench_report import figures, markdown, targets
from bench_sweep import sweep
from benchlib import ROOT, idle_cpu_ms_per_s, machine, rounds
from eth_account import Account

from registry.chain.client import ChainClient
from registry.chain.nodes import NodeProcess

FULL = {"flood": 10_000, "naive": 300, "seconds": 10.0, "idle": 10.0, "sweep": "0,10000,100000", "probe": 1_000,
        "sweep_seconds": 5.0, "oa_documents": 1_000, "oa_verify": 200}
QUICK = {"flood": 2_000, "naive": 50, "seconds": 3.0, "idle": 3.0, "sweep": "0,1000,5000", "probe": 200,
         "sweep_seconds": 2.0, "oa_documents": 200, "oa_verify": 40}


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for trying the bench")
    parser.add_argument("--rounds", type=int, default=3, help="repeats of every figure (at least 3 for a report)")
    parser.add_argument("--flood", type=int, help="certificates per registration flood (10,000)")
    parser.add_argument("--per-request", type=int, default=250, help="certificates per batch request")
    parser.add_argument("--naive", type=int, help="certificates per naive loop (300)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections for verification")
    parser.add_argument("--seconds", type=float, help="seconds per verification run (10)")
    parser.add_argument("--idle", type=float, help="seconds per idle-CPU reading (10)")
    parser.add_argument("--sweep", help="store sizes of the sweep, comma-separated (0,10000,100000)")
    parser.add_argument("--probe", type=int, help="certificates registered at each sweep point (1,000)")
    parser.add_argument("--sweep-seconds", type=float, help="seconds per verification run in the sweep (5)")
    parser.add_argument("--oa-documents", type=int, help="documents issued per side by side round (1,000)")
    parser.add_argument("--oa-verify", type=int, help="documents verified client-side per round (200)")
    parser.add_argument("--out", type=Path, default=ROOT / "results")
    args = parser.parse_args(argv)
    for name, value in (QUICK if args.quick else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def main_node(anvil_url: str, work: Path, args: argparse.Namespace) -> tuple[dict[str, Any], list[str]]:
    """Everything measured on the first node: registration, verification, idle, OpenAttestation, gas."""
    raw: dict[str, Any] = {}
    sizes = Sizes(flood=args.flood, per_request=args.per_request, naive=args.naive, connections=args.connections,
                  seconds=args.seconds, idle_seconds=args.idle)
    node = ApiNode(anvil_url, work / "node")
    try:
        chain = ChainClient.connect(anvil_url, json.loads((node.data / "deployment.json").read_text())["address"])
        authorise(node, chain, chain.w3.eth.accounts[0])
        raw["registration"] = rounds(lambda i: registration_round(node, chain, sizes, i), args.rounds,
                                     "registration")
        documents = fetch_documents(node, 200)
        hashes = [d["document_hash"] for d in documents]
        pairs = rounds(lambda i: (verify_post(node, documents, sizes), verify_get(node, hashes, sizes)),
                       args.rounds, "verification")
        raw["verify_post"], raw["verify_get"] = [p for p, _ in pairs], [g for _, g in pairs]
        raw["idle"] = rounds(lambda i: idle_cpu_ms_per_s(node.tree, sizes.idle_seconds), args.rounds, "idle")
        raw["openattestation"] = rounds(lambda i: oa_round(node, chain, args.oa_documents, args.oa_verify),
                                        args.rounds, "OpenAttestation side by side")
        issuer = Account.create()
        chain.fund(issuer.address)
        authorise(node, chain, issuer.address)
        raw["gas"] = gas_by_batch_size(chain, issuer)
        raw["gas_encrypted"] = gas_encrypted_beside_hash_only(chain, issuer)
        raw["eth_call_ceiling"] = eth_call_ceiling(chain, [bytes.fromhex(h[2:]) for h in hashes[:50]], 2_000)
    finally:
        node.stop()
    return raw, node.options


def sweep_node(anvil_url: str, work: Path, args: argparse.Namespace) -> list[dict[str, Any]]:
    """The store-size sweep on a fresh node (its own deployment on the same Anvil)."""
    sizes = Sizes(per_request=args.per_request, connections=args.connections, seconds=args.sweep_seconds,
                  idle_seconds=args.idle)
    print("store-size sweep…", file=sys.stderr, flush=True)
    node = ApiNode(anvil_url, work / "sweep")
    try:
        return sweep(node, [int(s) for s in args.sweep.split(",")], sizes, args.probe, args.rounds)
    finally:
        node.stop()


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    work = Path(tempfile.mkdtemp(prefix="coo-bench-"))
    result: dict[str, Any] = {"machine": machine(), "command": "make bench" + (" (--quick)" if args.quick else ""),
                              "rounds": args.rounds, "sizes": {k: v for k, v in vars(args).items() if k != "out"}}
    result["sizes"]["out"] = None
    # chain id 1337: dnsprove (oa-verify's DNS-TXT step) accepts only the networks it lists, not Anvil's 31337
    with NodeProcess(kind="anvil", chain_id=1337, state_file=work / "anvil.json") as anvil:
        raw, result["workers_option"] = main_node(anvil.url, work, args)
        raw["sweep"] = sweep_node(anvil.url, work, args)
    result["raw"] = raw
    result["figures"] = figures(raw)
    result["targets"] = targets(raw, result["figures"])
    result.update(gas=raw["gas"], gas_encrypted=raw["gas_encrypted"], eth_call_ceiling=raw["eth_call_ceiling"])
    primitives = args.out / "primitives.json"
    if primitives.exists():
        result["primitives"] = json.loads(primitives.read_text())
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    (args.out / "bench.md").write_text(markdown(result))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
