"""Throughput benchmark: the API pipeline against its baselines, on one Anvil, in one run.

Usage: ``python scripts/bench.py [--n 10000] [--clients 8] [--out results]`` (or ``coo bench``).

Measures (a) the naive one-transaction-per-certificate web3 loop, (b) API
registration throughput (single and batch endpoints, concurrent clients),
(c) acceptance-to-anchored latency, (d) verification through the API, (e) the
batched raw ``eth_call`` ceiling, (f) gas per certificate by batch size, (g)
encrypted-mode gas, (h) public hash-check latency during a burst of bogus API
keys against the same check alone (alternated rounds, median and range of the
ratio), and the API process's peak memory. Every figure is reported with its ratio to the
baseline measured in the same run, since these machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from registry.chain.client import ChainClient  # noqa: E402
from registry.chain.nodes import NodeProcess, free_port  # noqa: E402
from registry.custody.keys import DataKey  # noqa: E402
from registry.domain.certificate import parse_certificate  # noqa: E402
from registry.pipelines.anchoring import chain_payload  # noqa: E402
from registry.sealing.fields import seal  # noqa: E402
from registry.sealing.merkle import MerkleTree  # noqa: E402
from registry.sealing.record import sealed_record  # noqa: E402
from registry.sealing.terms import terms_for  # noqa: E402

EXAMPLE = json.loads((ROOT / "examples" / "rcep-sg-jp.json").read_text())


def certificate(tag: str) -> dict[str, Any]:
    return {**EXAMPLE, "certificate_number": f"B-{tag}"}


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class ApiNode:
    """`coo up --demo` as a separate process against the benchmark's Anvil; samples its memory."""

    def __init__(self, rpc_url: str, data: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data = data
        env = {**os.environ, "COO_RPC_URL": rpc_url, "COO_DATA_DIR": str(data), "COO_PORT": str(self.port)}
        for name in ("COO_BATCH_MAX_WAIT_MS", "COO_BATCH_MAX_SIZE"):  # the node's default batch policy
            env.pop(name, None)
        self.process = subprocess.Popen([str(Path(sys.executable).parent / "coo"), "up", "--demo"], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.peak_rss = 0
        self._sampling = True
        for _ in range(300):
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200 and (data / "demo-keys.json").exists():
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.keys = json.loads((data / "demo-keys.json").read_text())
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while self._sampling and self.process.poll() is None:
            try:
                for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        self.peak_rss = max(self.peak_rss, int(line.split()[1]) * 1024)
            except OSError:
                return
            time.sleep(0.2)

    def header(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]['api_key']}"}

    def stop(self) -> None:
        self._sampling = False
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def naive_loop(chain: ChainClient, n: int) -> dict[str, float]:
    """(a) One web3 ``transact()`` per certificate from an unlocked node account, waiting for each receipt."""
    sender = chain.w3.eth.accounts[0]
    contract = chain.contract
    start = time.perf_counter()
    for _ in range(n):
        tx = contract.functions.anchor(os.urandom(32), 1).transact({"from": sender})
        chain.w3.eth.wait_for_transaction_receipt(tx, poll_latency=0.01)
    elapsed = time.perf_counter() - start
    return {"certificates": n, "seconds": elapsed, "per_second": n / elapsed}


async def register(node: ApiNode, n: int, clients: int, batch: int | None) -> dict[str, Any]:
    """(b) Registration through the API; *batch* certificates per request, or single requests."""
    tags = [f"{'b' if batch else 's'}-{i}-{os.urandom(4).hex()}" for i in range(n)]
    per_request = batch or 1
    chunks = [tags[i:i + per_request] for i in range(0, n, per_request)]
    latencies: list[float] = []
    failures = 0

    async def worker(mine: list[list[str]]) -> None:
        nonlocal failures
        async with httpx.AsyncClient(base_url=node.url, headers=node.header("issuer"), timeout=120) as http:
            for chunk in mine:
                began = time.perf_counter()
                if batch:
                    answer = await http.post("/v1/certificates/batch",
                                             json={"certificates": [certificate(t) for t in chunk]})
                else:
                    answer = await http.post("/v1/certificates", json=certificate(chunk[0]))
                latencies.append(time.perf_counter() - began)
                failures += answer.status_code != 202

    start = time.perf_counter()
    await asyncio.gather(*(worker(chunks[i::clients]) for i in range(clients)))
    elapsed = time.perf_counter() - start
    return {"certificates": n, "requests": len(chunks), "per_request": per_request, "clients": clients,
            "seconds": elapsed, "per_second": n / elapsed, "failures": failures,
            "request_p50_ms": pct(latencies, 0.5) * 1000, "request_p99_ms": pct(latencies, 0.99) * 1000}


def acceptance_to_anchored(data: Path, timeout: float = 120) -> dict[str, float]:
    """(c) From the node's store: seconds from acceptance to the anchored mark."""
    db = sqlite3.connect(data / "registry.db")
    deadline = time.monotonic() + timeout
    while db.execute("SELECT COUNT(*) FROM certificates WHERE status = 'pending'").fetchone()[0] and \
            time.monotonic() < deadline:
        time.sleep(0.2)
    values = [r[0] for r in db.execute(
        "SELECT updated_at - created_at FROM certificates WHERE status = 'anchored'")]
    pending = db.execute("SELECT COUNT(*) FROM certificates WHERE status = 'pending'").fetchone()[0]
    db.close()
    return {"anchored": len(values), "still_pending": pending, "p50_s": pct(values, 0.5), "p99_s": pct(values, 0.99)}


async def verify(node: ApiNode, documents: list[dict[str, Any]], clients: int, total: int) -> dict[str, Any]:
    """(d) POST /v1/verify with sealed documents from concurrent clients."""
    latencies: list[float] = []
    verdicts: dict[str, int] = {}

    async def worker(k: int) -> None:
        async with httpx.AsyncClient(base_url=node.url, timeout=60) as http:
            for i in range(k, total, clients):
                began = time.perf_counter()
                answer = await http.post("/v1/verify", json=documents[i % len(documents)])
                latencies.append(time.perf_counter() - began)
                verdict = answer.json().get("verdict", str(answer.status_code))
                verdicts[verdict] = verdicts.get(verdict, 0) + 1

    start = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(clients)))
    elapsed = time.perf_counter() - start
    return {"verifications": total, "clients": clients, "seconds": elapsed, "per_second": total / elapsed,
            "p50_ms": pct(latencies, 0.5) * 1000, "p99_ms": pct(latencies, 0.99) * 1000, "verdicts": verdicts}


async def public_verify_latencies(node: ApiNode, hashes: list[str], total: int) -> list[float]:
    """Latencies of *total* sequential public hash checks (``GET /v1/verify/{hash}``)."""
    latencies = []
    async with httpx.AsyncClient(base_url=node.url, timeout=60) as http:
        for i in range(total):
            began = time.perf_counter()
            answer = await http.get(f"/v1/verify/{hashes[i % len(hashes)]}")
            latencies.append(time.perf_counter() - began)
            answer.raise_for_status()
    return latencies


async def bad_key_burst(node: ApiNode, stop: asyncio.Event, clients: int) -> dict[str, int]:
    """Bogus bearer keys from *clients* concurrent connections until *stop*; answers counted by status."""
    statuses: dict[str, int] = {}

    async def worker(k: int) -> None:
        async with httpx.AsyncClient(base_url=node.url, timeout=60) as http:
            i = 0
            while not stop.is_set():
                answer = await http.get("/v1/certificates/x",
                                        headers={"Authorization": f"Bearer coo_{k:08x}{i:08x}_guess"})
                statuses[str(answer.status_code)] = statuses.get(str(answer.status_code), 0) + 1
                i += 1

    await asyncio.gather(*(worker(k) for k in range(clients)))
    return statuses


async def verify_under_bad_keys(node: ApiNode, hashes: list[str], total: int, rounds: int,
                                clients: int) -> dict[str, Any]:
    """(h) Public verification latency alone and during a burst of bogus keys, alternated *rounds* times."""
    quiet, loud, burst_statuses = [], [], {}
    for _ in range(rounds):
        quiet.append(pct(await public_verify_latencies(node, hashes, total), 0.5))
        stop = asyncio.Event()
        burst = asyncio.create_task(bad_key_burst(node, stop, clients))
        await asyncio.sleep(0.2)  # the burst is under way
        loud.append(pct(await public_verify_latencies(node, hashes, total), 0.5))
        stop.set()
        for status, count in (await burst).items():
            burst_statuses[status] = burst_statuses.get(status, 0) + count
    ratios = sorted(b / a for a, b in zip(quiet, loud, strict=True))
    return {"rounds": rounds, "per_round": total, "burst_clients": clients,
            "p50_ms_alone": statistics.median(quiet) * 1000, "p50_ms_during_burst": statistics.median(loud) * 1000,
            "ratio_median": statistics.median(ratios), "ratio_min": ratios[0], "ratio_max": ratios[-1],
            "burst_answers": burst_statuses}


def eth_call_ceiling(chain: ChainClient, hashes: list[bytes], total: int, per_batch: int = 100) -> dict[str, float]:
    """(e) ``inspect`` status reads as raw JSON-RPC batches of *per_batch* ``eth_call``s."""
    data = [chain.contract.encode_abi("inspect", args=[h, []]) for h in hashes]
    body = []
    for i in range(total):
        body.append({"jsonrpc": "2.0", "id": i, "method": "eth_call",
                     "params": [{"to": chain.address, "data": data[i % len(data)]}, "latest"]})
    url = chain.w3.provider.endpoint_uri  # type: ignore[attr-defined]
    with httpx.Client(timeout=60) as http:
        start = time.perf_counter()
        for i in range(0, total, per_batch):
            answers = http.post(url, json=body[i:i + per_batch]).json()
            assert all("result" in a for a in answers)
        elapsed = time.perf_counter() - start
    return {"calls": total, "per_batch": per_batch, "seconds": elapsed, "per_second": total / elapsed}


def gas_by_batch_size(chain: ChainClient, issuer: Any, sizes: tuple[int, ...] = (1, 16, 256, 1024)) -> dict[str, Any]:
    """(f) Gas of one anchoring per batch size, and per certificate."""
    out = {}
    for size in sizes:
        tree = MerkleTree([os.urandom(32) for _ in range(size)])
        gas = chain.anchor(issuer, tree.root, size).gas_used
        out[str(size)] = {"gas": gas, "per_certificate": gas / size}
    return out


def gas_encrypted_beside_hash_only(chain: ChainClient, issuer: Any,
                                   sizes: tuple[int, ...] = (1, 16, 64)) -> dict[str, Any]:
    """(g) Gas per certificate in encrypted-payload mode beside hash-only mode, at the same batch sizes.

    The payloads are real: the example certificate sealed with its terms, compressed and
    encrypted as the node publishes it (the node caps an encrypted batch at 24, `BatchPolicy.max_encrypted_size`;
    64 shows the cost past it).
    """
    template = json.loads((ROOT / "examples" / "rcep-sg-jp.json").read_text())
    out = {}
    for size in sizes:
        hashes, payloads = [], []
        for _ in range(size):
            body = parse_certificate({**template, "certificate_number": f"GAS-{os.urandom(6).hex()}"}).to_json()
            sealed = seal(body, terms_for(body))
            hashes.append(sealed.document_hash)
            payloads.append(chain_payload(DataKey.generate(), sealed_record(body, sealed), sealed.document_hash,
                                          issuer.address))
        encrypted = chain.anchor_with_payloads(issuer, MerkleTree(hashes).root, hashes, payloads).gas_used
        hash_only = chain.anchor(issuer, MerkleTree([os.urandom(32) for _ in range(size)]).root, size).gas_used
        out[str(size)] = {"encrypted_gas": encrypted, "hash_only_gas": hash_only,
                          "encrypted_per_certificate": encrypted / size, "hash_only_per_certificate": hash_only / size,
                          "payload_bytes": sum(map(len, payloads)) / size, "ratio": encrypted / hash_only}
    return out


def markdown(results: dict[str, Any]) -> str:
    a, single, batch = results["naive_loop"], results["register_single"], results["register_batch"]
    lat, ver, ceil = results["acceptance_to_anchored"], results["verify_api"], results["eth_call_ceiling"]
    best = max(single["per_second"], batch["per_second"])
    rows = [
        ("(a) naive web3 transact() loop", f"{a['per_second']:.0f} cert/s", "1.0× (baseline)", ""),
        ("(b) API registration, single endpoint", f"{single['per_second']:.0f} cert/s",
         f"{single['per_second'] / a['per_second']:.1f}× naive", f"{single['clients']} clients"),
        ("(b) API registration, batch endpoint", f"{batch['per_second']:.0f} cert/s",
         f"{batch['per_second'] / a['per_second']:.1f}× naive", f"{batch['per_request']} per request"),
        ("(c) acceptance → anchored", f"p50 {lat['p50_s']:.2f} s, p99 {lat['p99_s']:.2f} s", "target p99 ≤ 2 s",
         f"{lat['anchored']} anchored"),
        ("(d) verification via API", f"{ver['per_second']:.0f} /s, p50 {ver['p50_ms']:.1f} ms, "
                                     f"p99 {ver['p99_ms']:.1f} ms",
         f"{ver['per_second'] / ceil['per_second']:.2f}× eth_call ceiling", f"{ver['clients']} clients"),
        ("(e) batched eth_call ceiling", f"{ceil['per_second']:.0f} /s", "1.0× (baseline for d)",
         f"{ceil['per_batch']} per batch"),
    ]
    rows += [(f"(f) gas, batch of {k}", f"{v['gas']:,} gas", f"{v['per_certificate']:,.1f} per certificate", "")
             for k, v in results["gas"].items()]
    rows += [(f"(g) encrypted mode, batch of {k}", f"{v['encrypted_per_certificate']:,.0f} gas per certificate",
              f"{v['ratio']:.1f}× hash-only ({v['hash_only_per_certificate']:,.0f})",
              f"{v['payload_bytes']:,.0f} B ciphertext each") for k, v in results.get("gas_encrypted", {}).items()]
    burst = results.get("verify_under_bad_keys")
    if burst:
        rows.append(("(h) public hash check during a bad-key burst",
                     f"p50 {burst['p50_ms_during_burst']:.1f} ms (alone {burst['p50_ms_alone']:.1f} ms)",
                     f"{burst['ratio_median']:.2f}× alone (range {burst['ratio_min']:.2f}–{burst['ratio_max']:.2f})",
                     f"{burst['burst_clients']} clients of bogus keys, {burst['rounds']} rounds"))
    rows.append(("API process peak memory", f"{results['api_peak_rss_mb']:.0f} MB", "target < 500 MB", ""))
    lines = ["# Benchmark", "",
             f"Run {results['when']} on {results['machine']}; reproduce with `{results['command']}`.",
             "", "| figure | value | ratio | note |", "|---|---|---|---|"]
    lines += [f"| {a_} | {b_} | {c_} | {d_} |" for a_, b_, c_, d_ in rows]
    lines += ["", f"Best registration path: {best:.0f} cert/s = {best / a['per_second']:.1f}× the naive loop."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="certificates per registration run")
    parser.add_argument("--naive", type=int, default=300, help="certificates in the naive loop")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--verifications", type=int, default=3_000)
    parser.add_argument("--batch", type=int, default=250, help="certificates per batch request")
    parser.add_argument("--rounds", type=int, default=5, help="alternations of quiet and burst for (h)")
    parser.add_argument("--out", type=Path, default=ROOT / "results")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="coo-bench-"))
    results: dict[str, Any] = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                               "machine": f"{os.cpu_count()} cores", "command": "make bench"}
    with NodeProcess(kind="anvil", state_file=work / "anvil.json") as anvil:
        node = ApiNode(anvil.url, work / "node")
        try:
            chain = ChainClient.connect(anvil.url, json.loads((node.data / "deployment.json").read_text())["address"])
            sender = chain.w3.eth.accounts[0]
            httpx.post(f"{node.url}/v1/governance/issuers", json={"label": "naive loop", "account": sender},
                       headers=node.header("authority")).raise_for_status()
            print("(a) naive loop…", file=sys.stderr)
            results["naive_loop"] = naive_loop(chain, args.naive)
            print("(b) registration…", file=sys.stderr)
            results["register_single"] = asyncio.run(register(node, args.n // 2, args.clients, None))
            results["register_batch"] = asyncio.run(register(node, args.n - args.n // 2, args.clients, args.batch))
            results["acceptance_to_anchored"] = acceptance_to_anchored(node.data)
            print("(d) verification…", file=sys.stderr)
            db = sqlite3.connect(node.data / "registry.db")
            ids = [r[0] for r in db.execute("SELECT id FROM certificates WHERE status = 'anchored' LIMIT 200")]
            hashes = [bytes(r[0]) for r in db.execute("SELECT document_hash FROM certificates WHERE batch_id IN "
                                                      "(SELECT id FROM batches WHERE size = 1) LIMIT 50")]
            db.close()
            documents = [httpx.get(f"{node.url}/v1/certificates/{i}/document", headers=node.header("issuer")).json()
                         for i in ids]
            results["verify_api"] = asyncio.run(verify(node, documents, args.clients, args.verifications))
            print("(e) eth_call ceiling, (f) gas…", file=sys.stderr)
            leaves = hashes or [bytes.fromhex(d["document_hash"][2:]) for d in documents[:50]]
            results["eth_call_ceiling"] = eth_call_ceiling(chain, leaves, args.verifications)
            issuer = Account.create()
            chain.fund(issuer.address)
            httpx.post(f"{node.url}/v1/governance/issuers", json={"label": "gas", "account": issuer.address},
                       headers=node.header("authority")).raise_for_status()
            results["gas"] = gas_by_batch_size(chain, issuer)
            results["gas_encrypted"] = gas_encrypted_beside_hash_only(chain, issuer)
            # last: the burst locks this client (loopback) out of authenticated routes for a minute
            print("(h) verification during a bad-key burst…", file=sys.stderr)
            results["verify_under_bad_keys"] = asyncio.run(verify_under_bad_keys(
                node, [d["document_hash"] for d in documents], max(20, args.verifications // 10), args.rounds,
                args.clients))
            results["api_peak_rss_mb"] = node.peak_rss / 2**20
        finally:
            node.stop()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "bench.md").write_text(markdown(results))
    print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
