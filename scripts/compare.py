"""Head-to-head: the blockchain registry against W3C verifiable credentials, same certificates, one run.

Usage: ``python scripts/compare.py [--n 1000] [--out results]`` (or ``coo compare``).

Both paths issue, verify and revoke (1%) the same N certificates on this machine:
the chain path through the node's service against a real Anvil, the VC path as
``vc+jwt`` credentials whose DID document and status list are served over HTTP
by the same node. Writes ``comparison.json``, ``comparison.md`` and PNG plots.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.app import create_app  # noqa: E402
from api.config import Settings  # noqa: E402
from api.serve import set_up_demo  # noqa: E402
from registry.chain.client import ChainClient  # noqa: E402
from registry.chain.nodes import NodeProcess, free_port  # noqa: E402
from registry.domain.reasons import RevocationReason  # noqa: E402
from registry.domain.report import Verdict  # noqa: E402
from registry.errors import ChainError  # noqa: E402
from registry.pipelines.anchoring import BatchPolicy, chain_payload  # noqa: E402
from registry.pipelines.verify import Verifier  # noqa: E402
from registry.runtime import NodeConfig, open_node  # noqa: E402
from registry.sealing.merkle import MerkleTree  # noqa: E402
from registry.vc.resolver import Resolver  # noqa: E402
from registry.vc.status_list import StatusList  # noqa: E402
from registry.vc.verify import HttpStatusFetcher, verify_credential  # noqa: E402

EXAMPLES = [json.loads((ROOT / "examples" / f"{n}.json").read_text()) for n in ("rcep-sg-jp", "back-to-back-rcep")]


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values) or [float("nan")]
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50_ms": pick(0.5) * 1000, "p95_ms": pick(0.95) * 1000, "p99_ms": pick(0.99) * 1000}


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Timed:
    """Wall latencies and process CPU of a repeated operation (plus the chain node's CPU)."""

    def __init__(self, chain_pid: int | None = None) -> None:
        self.latencies: list[float] = []
        self.chain_pid = chain_pid
        self._cpu0 = time.process_time()
        self._chain0 = proc_cpu(chain_pid) if chain_pid else 0.0
        self._wall0 = time.perf_counter()

    def run(self, action: Callable[[], Any]) -> Any:
        began = time.perf_counter()
        result = action()
        self.latencies.append(time.perf_counter() - began)
        return result

    def summary(self, count: int | None = None) -> dict[str, Any]:
        count = count or len(self.latencies)
        wall = time.perf_counter() - self._wall0
        out = {"count": count, "per_second": count / wall if wall else 0.0,
               "cpu_ms_per_op": (time.process_time() - self._cpu0) / count * 1000, **percentiles(self.latencies)}
        if self.chain_pid:
            out["chain_node_cpu_ms_per_op"] = (proc_cpu(self.chain_pid) - self._chain0) / count * 1000
        return out


def gas_split(chain: ChainClient, tx_hash: str, size: int) -> dict[str, float]:
    """Split a transaction's gas into intrinsic, calldata, logs, and storage + execution."""
    tx = chain.w3.eth.get_transaction(tx_hash)
    receipt = chain.w3.eth.get_transaction_receipt(tx_hash)
    data = bytes(tx["input"])
    calldata = sum(4 if b == 0 else 16 for b in data)
    logs = sum(375 + 375 * len(log["topics"]) + 8 * len(bytes(log["data"])) for log in receipt["logs"])
    used = int(receipt["gasUsed"])
    floor = 21_000 + 10 * sum(1 if b == 0 else 4 for b in data)  # Prague's calldata floor (EIP-7623)
    split = {"total": used, "intrinsic": 21_000, "calldata": calldata, "logs": logs,
             "storage_and_execution": used - 21_000 - calldata - logs, "calldata_bytes": len(data),
             "calldata_floor": floor, "floor_applied": float(used == floor)}
    return {k: v / size for k, v in split.items()} | {"batch_size": size, "total_per_batch": used}


def gas_experiments(chain: ChainClient, issuer: Any, payload_size: int) -> dict[str, Any]:
    """Gas per certificate by batch size, hash-only and encrypted-payload modes."""
    out: dict[str, Any] = {"hash-only": {}, "encrypted": {}}
    block_limit = int(chain.w3.eth.get_block("latest")["gasLimit"])
    for size in (1, 16, 256, 1024):
        leaves = [os.urandom(32) for _ in range(size)]
        tree = MerkleTree(leaves)
        out["hash-only"][str(size)] = gas_split(chain, chain.anchor(issuer, tree.root, size).tx_hash, size)
        estimate = 21_000 + size * (payload_size * 16 + 2_500)
        if estimate > block_limit:
            out["encrypted"][str(size)] = {"exceeds_block_gas_limit": True, "estimated_gas": estimate,
                                           "block_gas_limit": block_limit}
            continue
        payloads = [os.urandom(payload_size) for _ in range(size)]
        leaves = [os.urandom(32) for _ in range(size)]
        tree = MerkleTree(leaves)
        try:
            result = chain.anchor_with_payloads(issuer, tree.root, leaves, payloads)
        except ChainError as error:  # the node refuses it at estimation: more than a block can hold
            out["encrypted"][str(size)] = {"exceeds_block_gas_limit": True, "estimated_gas": estimate,
                                           "block_gas_limit": block_limit, "node_said": str(error)[:160]}
            continue
        out["encrypted"][str(size)] = gas_split(chain, result.tx_hash, size)
    return out


def serve(app: Any, port: int) -> uvicorn.Server:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    server.thread = thread  # type: ignore[attr-defined]
    return server


def run(n: int, work: Path) -> dict[str, Any]:
    results: dict[str, Any] = {"n": n, "revoked": max(1, n // 100), "machine": f"{os.cpu_count()} cores",
                               "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                               "command": f"python scripts/compare.py --n {n}"}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    anvil = NodeProcess(kind="anvil", state_file=work / "anvil.json").start()
    node = open_node(NodeConfig(data_dir=work / "node", base_url=base, rpc_url=anvil.url,
                                batch=BatchPolicy(max_size=256, max_wait=0.05)))
    server = serve(create_app(Settings(port=port, public_url=base), node), port)
    try:
        service, vc = node.context, node.vc_issuer
        assert vc is not None
        keys = json.loads((set_up_demo(node, base)).read_text())
        issuer = service.api_keys.authenticate(keys["issuer"]["api_key"])
        certificates = [{**EXAMPLES[i % 2], "certificate_number": f"CMP-{i:06d}"} for i in range(n)]
        revoke = set(range(0, n, max(1, n // results["revoked"])))
        chain: dict[str, Any] = {}
        vcp: dict[str, Any] = {}

        # -- issue --------------------------------------------------------------------
        timed = Timed(anvil.pid)
        for chunk in range(0, n, 256):
            timed.run(lambda c=chunk: node.issuing.register(issuer, certificates[c:c + 256]))
        service.anchorer.flush()
        rows = [service.store.by_number(str(issuer.account), c["certificate_number"]) for c in certificates]
        chain["issue"] = timed.summary(n) | percentiles([r.updated_at - r.created_at for r in rows if r])
        chain["issue"]["note"] = "latency = acceptance to anchored, batches of up to 256"
        documents = [node.issuing.sealed_document(issuer, r.id) for r in rows if r]
        timed = Timed()
        issued = [timed.run(lambda c=c: vc.issue(c)) for c in certificates]
        vcp["issue"] = timed.summary()

        # -- verify -------------------------------------------------------------------
        service.follower.poll()
        timed = Timed(anvil.pid)
        verdicts = [timed.run(lambda d=d: node.verification.verify_document(d))[0].verdict for d in documents]
        chain["verify"] = timed.summary() | {"valid": verdicts.count(Verdict.VALID)}
        trust = {"SG": {vc.key.did}}
        http = httpx.Client()
        fetcher = HttpStatusFetcher(http, ttl=300, allow_http=True)
        resolver = Resolver(http=http, allow_http=True)
        timed = Timed()
        vc_verdicts = [timed.run(lambda t=t: verify_credential(
            t.jwt, resolver=resolver, status_fetcher=fetcher, trusted_issuers=trust, now=datetime.now(UTC))).verdict
                       for t in issued]
        vcp["verify"] = timed.summary() | {"valid": vc_verdicts.count(Verdict.VALID),
                                           "note": "DID resolved over HTTP per verification; "
                                                   "status list cached (TTL 300 s)"}

        # -- revoke -------------------------------------------------------------------
        timed = Timed(anvil.pid)
        for i in revoke:
            timed.run(lambda r=rows[i]: node.issuing.revoke(issuer, r.id, RevocationReason.ISSUED_IN_ERROR))
        chain["revoke"] = timed.summary()
        timed = Timed()
        for i in revoke:
            timed.run(lambda t=issued[i]: (vc.revoke(t.status_index), vc.status_list()))
        vcp["revoke"] = timed.summary()
        results["chain"], results["vc"] = chain, vcp

        # -- propagation ----------------------------------------------------------------
        probe_row, probe_doc, probe_vc = rows[-1], documents[-1], issued[-1]
        outside = Verifier(ChainClient.connect(anvil.url, service.chain.address))
        began = time.perf_counter()
        node.issuing.revoke(issuer, probe_row.id, RevocationReason.FRAUD)
        while outside.verify_document(probe_doc).verdict is not Verdict.REVOKED:
            time.sleep(0.005)
        chain_seen = time.perf_counter() - began
        short = HttpStatusFetcher(http, ttl=1.0, allow_http=True)
        verify_credential(probe_vc.jwt, resolver=resolver, status_fetcher=short, trusted_issuers=trust,
                          now=datetime.now(UTC))
        began = time.perf_counter()
        vc.revoke(probe_vc.status_index)
        while verify_credential(probe_vc.jwt, resolver=resolver, status_fetcher=short,
                                trusted_issuers=trust, now=datetime.now(UTC)).verdict is not Verdict.REVOKED:
            time.sleep(0.02)
        results["propagation"] = {
            "chain_seconds": chain_seen, "chain_rule": "next block (Anvil mines on demand; QBFT ~1-2 s blocks)",
            "vc_seconds_with_ttl_1s": time.perf_counter() - began,
            "vc_rule": "until every verifier's status-list cache expires: the shorter of the verifier's TTL "
                       "and the list's own ttl (60 s as this node publishes it; 300 s when a list gives none)"}

        # -- bytes --------------------------------------------------------------------------
        record = json.dumps({"certificate": documents[0].certificate, "salts": documents[0].salts}).encode()
        payload_size = len(chain_payload(os.urandom(32), record, os.urandom(32), str(issuer.account)))
        signer = service.accounts.get(str(issuer.account))
        results["gas"] = gas_experiments(service.chain, signer, payload_size)
        empty, used = StatusList(), StatusList()
        for _ in range(used.size // 100):
            used.set(used.allocate())
        results["bytes"] = {
            "chain_storage_per_batch": 32, "chain_storage_per_revocation_single": 0,
            "chain_hash_only_calldata_bytes_per_certificate_batch_256":
                results["gas"]["hash-only"]["256"]["calldata_bytes"],
            "chain_encrypted_payload_per_certificate": payload_size,
            "sealed_document_bytes": len(documents[0].model_dump_json()),
            "vc_jwt_bytes": statistics.mean(len(t.jwt) for t in issued),
            "status_list_credential_bytes": len(vc.status_list()),
            "status_list_raw_bytes": empty.size // 8,
            "status_list_empty_encoded_bytes": len(empty.encode()),
            "status_list_1pct_revoked_encoded_bytes": len(used.encode()),
        }

        # -- availability ------------------------------------------------------------------
        alive_doc, alive_vc = documents[1], issued[1]
        fresh = lambda: HttpStatusFetcher(httpx.Client(), ttl=0, allow_http=True)  # noqa: E731
        anvil.stop()
        service.follower.checked_at = 0.0
        rpc_down_chain = outside.verify_document(alive_doc).verdict
        rpc_down_vc = verify_credential(alive_vc.jwt, resolver=resolver, status_fetcher=fresh(),
                                        trusted_issuers=trust, now=datetime.now(UTC))
        server.should_exit = True
        server.thread.join(10)  # type: ignore[attr-defined]
        no_cache = Resolver(http=httpx.Client(), allow_http=True)
        host_down_vc = verify_credential(alive_vc.jwt, resolver=no_cache, status_fetcher=fresh(),
                                         trusted_issuers=trust, now=datetime.now(UTC))
        did_cached = Resolver({vc.key.did: vc.did_document()})
        status_down_vc = verify_credential(alive_vc.jwt, resolver=did_cached, status_fetcher=fresh(),
                                           trusted_issuers=trust, now=datetime.now(UTC))
        results["availability"] = {
            "rpc_node_down": {"chain": rpc_down_chain.value, "vc": rpc_down_vc.verdict.value},
            "status_host_down": {"chain": "VALID (does not use it)", "vc": status_down_vc.verdict.value},
            "did_host_down": {"chain": "VALID (does not use it)", "vc": host_down_vc.verdict.value},
        }
        results["observer"] = {
            "chain": "per batch: issuer account, time, certificate count; per revocation: document hash, reason code, "
                     "time; encrypted mode adds ciphertext sizes. Salted leaves hide contents and low-entropy fields.",
            "vc": "the status host sees which list each verifier fetches and when (herd privacy: 1 of 131,072); "
                  "the DID host sees every resolution; nothing is public unless the holder shares the credential.",
        }
        return results
    finally:
        server.should_exit = True
        node.close()
        anvil.stop()


def plots(results: dict[str, Any], out: Path) -> list[str]:
    """Latency and gas plots as PNG next to the markdown."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = []
    fig, axes = plt.subplots(1, 3, figsize=(12, 4), sharey=False)
    for ax, op in zip(axes, ("issue", "verify", "revoke"), strict=True):
        xs = ["p50", "p95", "p99"]
        for offset, (path, label) in enumerate((("chain", "blockchain"), ("vc", "verifiable credential"))):
            values = [results[path][op][f"{x}_ms"] for x in xs]
            ax.bar([i + offset * 0.4 for i in range(3)], values, width=0.4, label=label)
        ax.set_xticks([i + 0.2 for i in range(3)], xs)
        ax.set_title(f"{op} latency (ms)")
        ax.set_yscale("log")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(out / "comparison-latency.png", dpi=100)
    names.append("comparison-latency.png")
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 4))
    for mode in ("hash-only", "encrypted"):
        points = [(int(k), v["total"]) for k, v in results["gas"][mode].items() if "total" in v]
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=mode)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("certificates per batch")
    ax.set_ylabel("gas per certificate")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "comparison-gas.png", dpi=100)
    names.append("comparison-gas.png")
    plt.close(fig)
    return names


def markdown(r: dict[str, Any], images: list[str]) -> str:
    lines = ["# Blockchain registry vs verifiable credentials", "",
             f"{r['n']} certificates, {r['revoked']} revoked (1%), both paths, {r['machine']}, {r['when']}.",
             f"Regenerate: `{r['command']}`.", "", "## Latency, CPU and throughput", "",
             "| operation | path | p50 ms | p95 ms | p99 ms | CPU ms/op (Python) | chain node CPU ms/op | ops/s |",
             "|---|---|---|---|---|---|---|---|"]
    for op in ("issue", "verify", "revoke"):
        for path, label in (("chain", "blockchain"), ("vc", "VC")):
            m = r[path][op]
            node_cpu = f"{m['chain_node_cpu_ms_per_op']:.2f}" if "chain_node_cpu_ms_per_op" in m else "n/a"
            lines.append(f"| {op} | {label} | {m['p50_ms']:.2f} | {m['p95_ms']:.2f} | {m['p99_ms']:.2f} | "
                         f"{m['cpu_ms_per_op']:.2f} | {node_cpu} | {m['per_second']:.0f} |")
    lines += ["", "Chain issue latency is acceptance to anchored (batches of up to 256); VC issue is signing.", "",
              "## Gas per certificate", "",
              "| mode | batch | total | intrinsic | calldata | logs | storage + execution |",
              "|---|---|---|---|---|---|---|"]
    for mode in ("hash-only", "encrypted"):
        for size, g in r["gas"][mode].items():
            if "total" not in g:
                lines.append(f"| {mode} | {size} | does not fit in one block (gas limit {g['block_gas_limit']:,}) "
                             "| | | | |")
                continue
            floored = " (floor)" if g.get("floor_applied") else ""
            lines.append(f"| {mode} | {size} | {g['total']:,.0f}{floored} | {g['intrinsic']:,.0f} | "
                         f"{g['calldata']:,.0f} | {g['logs']:,.0f} | {g['storage_and_execution']:,.0f} |")
    lines += ["", "Totals marked (floor) paid Prague's calldata floor (EIP-7623): 21,000 + 10 gas per calldata token "
              "(zero byte 1, non-zero byte 4) exceeds the standard price, so the last column there also holds the "
              "top-up to that floor, not only storage and execution."]
    b = r["bytes"]
    lines += ["", "## Bytes", "", "| what | bytes |", "|---|---|"]
    lines += [f"| {k.replace('_', ' ')} | {v:,.2f} |".replace(".00 |", " |") for k, v in b.items()]
    lines += ["", f"The spec's claim holds: an empty {b['status_list_raw_bytes']:,}-byte (131,072-entry) list encodes "
              f"to {b['status_list_empty_encoded_bytes']} bytes; with 1% of entries revoked at random it is "
              f"{b['status_list_1pct_revoked_encoded_bytes']:,} bytes.", "", "## Revocation propagation", "",
              f"* blockchain: {r['propagation']['chain_seconds'] * 1000:.0f} ms until an independent verifier saw "
              f"REVOKED; rule: {r['propagation']['chain_rule']}",
              f"* VC: {r['propagation']['vc_seconds_with_ttl_1s'] * 1000:.0f} ms with a 1 s status-list cache; rule: "
              f"{r['propagation']['vc_rule']}", "", "## Availability: verdict when a dependency is down", "",
              "| dependency down | blockchain | VC |", "|---|---|---|"]
    for what, v in r["availability"].items():
        lines.append(f"| {what.replace('_', ' ')} | {v['chain']} | {v['vc']} |")
    lines += ["", "## What a passive observer learns", "", f"* blockchain: {r['observer']['chain']}",
              f"* VC: {r['observer']['vc']}", "", "## Plots", ""]
    lines += [f"![{name}]({name})" for name in images]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000, help="certificates (up to 100,000)")
    parser.add_argument("--out", type=Path, default=ROOT / "results")
    args = parser.parse_args(argv)
    if not 1 <= args.n <= 100_000:
        print("compare: --n must be between 1 and 100,000", file=sys.stderr)
        return 2
    results = run(args.n, Path(tempfile.mkdtemp(prefix="coo-compare-")))
    args.out.mkdir(parents=True, exist_ok=True)
    images = plots(results, args.out)
    (args.out / "comparison.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (args.out / "comparison.md").write_text(markdown(results, images))
    print(f"wrote {args.out / 'comparison.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
