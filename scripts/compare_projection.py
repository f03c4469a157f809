"""The lifecycle cost projected to real volumes: certificates a year × 10 years, per node and × N nodes.

The volume defaults to 15 million certificates of origin a year, the figure
the review gives for chambers of commerce alone. What could be checked offline:
the ICC World Chambers Federation says chambers issue "millions of COs every
year" and, in 2020, that the 733 chambers of its accreditation chain issue
"more than 8.5 million COs a year"; the 15 million total itself was not
verified in this run. Both volumes are projected.
"""

from __future__ import annotations

from typing import Any

YEARS = 10
NODES = (5, 20, 50)
STEPS = ("anchor", "terms", "utilise", "revoke")
VERIFIED_VOLUME = 8.5e6


def _per_certificate(life: dict[str, Any], anchor: dict[str, Any] | None = None) -> dict[str, float]:
    """Gas and bytes stored per certificate over anchor + terms + utilise + revoke."""
    gas = stored = 0.0
    for step in STEPS:
        per = (anchor if step == "anchor" and anchor else life["steps"].get(step, {}).get("per_certificate", {}))
        gas += per.get("gas", 0.0)
        stored += per.get("bytes_stored", 0.0)
    rpc = sum(f["rpc_bytes"] for f in life["phases"].values())
    cpu = sum(f["chain_node_cpu_s"] for f in life["phases"].values())
    return {"gas": gas, "bytes_stored": stored, "rpc_bytes": rpc, "chain_node_cpu_s": cpu}


def _rows(label: str, per: dict[str, float], volume: float) -> list[str]:
    year = {k: v * volume for k, v in per.items()}
    ten = year["bytes_stored"] * YEARS
    nodes = ", ".join(f"{n}: {ten * n / 1e12:,.2f} TB" for n in NODES)
    return [f"| {label} | {volume / 1e6:,.1f} M | {per['gas']:,.0f} | {year['gas'] / 1e9:,.1f} G | "
            f"{per['bytes_stored']:,.0f} | {ten / 1e9:,.1f} GB | {nodes} | {year['rpc_bytes'] / 1e9:,.1f} GB | "
            f"{year['chain_node_cpu_s'] / 3600:,.1f} h |"]


def projection(r: dict[str, Any]) -> list[str]:
    """Markdown: the chain path's projected cost, and the VC path's status lists at the same volume."""
    volume = r["volume_per_year"]
    lines = ["### Projected to real volumes", "",
             f"Per certificate: anchor + terms + one draw + revoke (every certificate revoked: an upper bound). "
             f"Volumes: {volume / 1e6:,.1f} M a year (the review's figure for chambers alone; not verified offline) "
             f"and {VERIFIED_VOLUME / 1e6} M a year (ICC WCF, 2020: the 733 chambers of its CO accreditation chain). "
             "Every node of the network stores every byte.", "",
             f"| lifecycle | certificates a year | gas per certificate | gas a year | bytes per node per certificate | "
             f"bytes per node over {YEARS} years | × N nodes over {YEARS} years | RPC bytes a year (one node) | "
             "chain node CPU a year |", "|---|---|---|---|---|---|---|---|---|"]
    best = r["gas"]["hash-only"].get(max(r["gas"]["hash-only"], key=int))
    for mode, life in r["lifecycle"].items():
        for v in (volume, VERIFIED_VOLUME):
            lines += _rows(f"{mode}, anchored {life['k']} per batch", _per_certificate(life), v)
        if mode == "hash-only" and best:
            lines += _rows(f"hash-only, anchored {best['batch_size']} per batch", _per_certificate(life, best), volume)
    sizes = r.get("sizes", {})
    if "status_list_1pct_revoked_encoded_bytes" in sizes:
        lists = volume / sizes["status_list_entries"]
        lines += ["", f"VC path at {volume / 1e6:,.1f} M a year: {lists:,.0f} status lists of "
                  f"{sizes['status_list_entries']:,} entries a year, each published as a signed credential of about "
                  f"{sizes['status_list_credential_bytes']:,} bytes when empty and "
                  f"{sizes['status_list_1pct_revoked_encoded_bytes']:,} bytes of encodedList at 1% revoked; the "
                  "issuer stores those lists (not the credentials); each verifier fetches one list per TTL it "
                  "verifies against.", ""]
    return lines + [""]
