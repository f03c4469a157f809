"""The API figures: registration against the naive loop, acceptance to anchoring, both verification routes.

Registration rounds interleave the naive baseline (one web3 ``transact()`` per certificate, waiting for
each receipt) with a flood through ``POST /v1/certificates/batch`` sent by wrk, so each ratio compares two
figures taken a few seconds apart on the same loaded machine. Each flood's acceptance-to-anchored
latencies come from the node's store once anchoring caught up. Verification rounds are wrk runs of fixed
duration on ``POST /v1/verify`` (full sealed documents fetched beforehand) and ``GET /v1/verify/{hash}``.
Every run reports the server's CPU per operation (its process tree, from /proc) and wrk's own CPU.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from bench_node import ApiNode, Load, load
from benchlib import pct, timed

from registry.chain.client import ChainClient

EXAMPLE = json.loads((Path(__file__).resolve().parent.parent / "examples" / "rcep-sg-jp.json").read_text())


def certificate(tag: str) -> dict[str, Any]:
    """The example certificate under a unique number."""
    return {**EXAMPLE, "certificate_number": f"B-{tag}"}


def batch_lines(prefix: str, count: int, per_request: int) -> list[str]:
    """wrk request lines registering *count* new certificates, *per_request* to a batch request."""
    lines = []
    for start in range(0, count, per_request):
        body = {"certificates": [certificate(f"{prefix}-{i}") for i in range(start, min(count, start + per_request))]}
        lines.append("/v1/certificates/batch\t" + json.dumps(body, separators=(",", ":")))
    return lines


@dataclass(frozen=True)
class Sizes:
    """How much work each figure gets."""

    flood: int = 10_000
    per_request: int = 250
    naive: int = 300
    connections: int = 8
    seconds: float = 10.0
    idle_seconds: float = 10.0


def authorise(node: ApiNode, chain: ChainClient, account: str, timeout: float = 60) -> None:
    """Register *account* as an issuer through governance and wait until the chain lets it anchor."""
    httpx.post(f"{node.url}/v1/governance/issuers", json={"label": f"bench {os.urandom(3).hex()}", "account": account},
               headers=node.header("authority"), timeout=60).raise_for_status()
    deadline = time.monotonic() + timeout
    while not chain.is_authorised(account):
        if time.monotonic() > deadline:
            raise RuntimeError("the issuer was not authorised on chain in time")
        time.sleep(0.1)  # polling the chain for the node's governance write


def naive_loop(chain: ChainClient, n: int) -> dict[str, float]:
    """One web3 ``transact()`` per certificate from an unlocked node account, waiting for each receipt."""
    sender = chain.w3.eth.accounts[0]
    contract = chain.contract

    def loop() -> None:
        for _ in range(n):
            tx = contract.functions.anchor(os.urandom(32), 1).transact({"from": sender})
            chain.w3.eth.wait_for_transaction_receipt(tx, poll_latency=0.01)

    seconds, _ = timed(loop)
    return {"certificates": n, "seconds": seconds, "per_second": n / seconds}


def register(node: ApiNode, sizes: Sizes, tag: str) -> dict[str, Any]:
    """A flood of ``sizes.flood`` certificates through the batch endpoint; its figures once anchored."""
    lines = batch_lines(f"{tag}-{os.urandom(3).hex()}", sizes.flood, sizes.per_request)
    began = time.time()
    figures = load(node, lines, "POST", Load(connections=min(sizes.connections, len(lines)), limit=len(lines),
                                             auth=node.key("issuer")))
    certificates = sizes.flood - figures["failed"] * sizes.per_request
    figures.update(certificates=certificates, cert_per_second=certificates / figures["seconds"],
                   server_cpu_ms_per_cert=figures["server_cpu_s"] * 1000 / max(1, certificates))
    figures["still_pending"] = node.settle()
    figures["anchoring"] = anchoring_latency(node, began)
    return figures


def anchoring_latency(node: ApiNode, since: float) -> dict[str, float]:
    """Seconds from acceptance to the anchored mark, for the certificates accepted after *since*."""
    with node.db() as db:
        values = [r[0] for r in db.execute("SELECT updated_at - created_at FROM certificates WHERE status = "
                                           "'anchored' AND created_at >= ?", (since,))]
    return {"anchored": len(values), "p50_s": pct(values, 0.5), "p99_s": pct(values, 0.99)}


def registration_round(node: ApiNode, chain: ChainClient, sizes: Sizes, i: int) -> dict[str, Any]:
    """One naive loop, then one flood through the API: both figures and their ratio."""
    naive = naive_loop(chain, sizes.naive)
    api = register(node, sizes, f"r{i}")
    return {"naive": naive, "api": api, "ratio": api["cert_per_second"] / naive["per_second"]}


def fetch_documents(node: ApiNode, count: int) -> list[dict[str, Any]]:
    """Up to *count* full sealed documents of anchored certificates, as their exporter holds them."""
    with node.db() as db:
        ids = [r[0] for r in db.execute("SELECT id FROM certificates WHERE status = 'anchored' LIMIT ?", (count,))]
    with httpx.Client(base_url=node.url, headers=node.header("issuer"), timeout=60) as http:
        return [http.get(f"/v1/certificates/{i}/document").raise_for_status().json() for i in ids]


def verify_post(node: ApiNode, documents: list[dict[str, Any]], sizes: Sizes) -> dict[str, Any]:
    """``POST /v1/verify`` of full sealed documents for ``sizes.seconds``."""
    lines = ["/v1/verify\t" + json.dumps(d, separators=(",", ":")) for d in documents]
    return per_op(load(node, lines, "POST", Load(connections=sizes.connections, seconds=sizes.seconds,
                                                 expect='"verdict":"VALID"')))


def verify_get(node: ApiNode, hashes: list[str], sizes: Sizes) -> dict[str, Any]:
    """``GET /v1/verify/{hash}`` (status only, no key) for ``sizes.seconds``."""
    lines = [f"/v1/verify/{h}" for h in hashes]
    return per_op(load(node, lines, "GET", Load(connections=sizes.connections, seconds=sizes.seconds,
                                                expect='"verdict":"VALID"')))


def per_op(figures: dict[str, Any]) -> dict[str, Any]:
    """Add CPU per answered request, the server's and wrk's, in milliseconds."""
    answered = max(1, figures["answered"])
    figures.update(server_cpu_ms_per_op=figures["server_cpu_s"] * 1000 / answered,
                   client_cpu_ms_per_op=figures["client_cpu_s"] * 1000 / answered,
                   p99_ms=figures["latency_us"]["p99"] / 1000, p50_ms=figures["latency_us"]["p50"] / 1000)
    return figures
