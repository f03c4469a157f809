"""The store-size sweep: what the node costs with 0, 10 k and 100 k certificates stored, on one growing node.

The store is filled through the product's own path, ``POST /v1/certificates/batch`` (wrk, floods of up to
10,000, each anchored before the next), which is as fast as this node stores certificates and keeps every
table and index as a real node has them. At each point: idle CPU (ms of server CPU per second while nothing
is asked), then a small registration probe, then both verification routes for a short run; CPU per
operation for each, resident memory of the server's process tree and disk bytes per stored certificate
(the whole data directory: database, WAL, keys).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bench_api import Sizes, fetch_documents, register, verify_get, verify_post
from bench_node import ApiNode
from benchlib import disk_bytes, idle_cpu_ms_per_s

FILL_FLOOD = 10_000


def fill(node: ApiNode, target: int, per_request: int) -> dict[str, float]:
    """Register certificates until the store holds *target*; the fill's rate."""
    added, seconds = 0, 0.0
    while (missing := target - node.count()) > 0:
        flood = register(node, Sizes(flood=min(FILL_FLOOD, missing), per_request=per_request), f"fill{added}")
        added += flood["certificates"]
        seconds += flood["seconds"]
    return {"added": added, "cert_per_second": added / seconds if seconds else float("nan")}


def measure(node: ApiNode, sizes: Sizes, probe: int) -> dict[str, float]:
    """One measurement at the current store size."""
    idle = idle_cpu_ms_per_s(node.tree, sizes.idle_seconds)
    registration = register(node, replace(sizes, flood=probe, per_request=min(probe, sizes.per_request)), "probe")
    documents = fetch_documents(node, 50)
    post = verify_post(node, documents, sizes)
    get = verify_get(node, [d["document_hash"] for d in documents], sizes)
    return {"idle_cpu_ms_per_s": idle, "register_cpu_ms_per_cert": registration["server_cpu_ms_per_cert"],
            "post_verify_cpu_ms_per_op": post["server_cpu_ms_per_op"],
            "get_verify_cpu_ms_per_op": get["server_cpu_ms_per_op"],
            "post_verify_per_second": post["per_second"], "get_verify_per_second": get["per_second"],
            "rss_mb": node.tree.rss() / 2**20}


def point(node: ApiNode, target: int, sizes: Sizes, probe: int, repeats: int) -> dict[str, Any]:
    """The figures at one store size: *repeats* measurements, then the disk it takes."""
    filled = fill(node, target, sizes.per_request)
    runs = [measure(node, sizes, probe) for _ in range(repeats)]
    stored = node.count()
    return {"target": target, "stored": stored, "fill": filled, "runs": runs, "disk_bytes": disk_bytes(node.data),
            "disk_bytes_per_certificate": disk_bytes(node.data) / stored}


def sweep(node: ApiNode, targets: list[int], sizes: Sizes, probe: int, repeats: int) -> list[dict[str, Any]]:
    """Every point of the sweep, in increasing size, on the same (fresh) node."""
    return [point(node, target, sizes, probe, repeats) for target in sorted(targets)]
