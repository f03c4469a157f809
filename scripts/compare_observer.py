"""What a passive observer learns, computed from what the run actually published.

Chain path: every event the registry emitted during the run (any member, or
anyone reading a member's RPC, sees all of them), grouped by name with the
fields each one publishes, the distinct values seen for the revealing ones
(importing countries, validity, quantities, declaration hashes, back-to-back
parents) and the timing (block times). The herd an anchored certificate hides
in is the batch it was anchored in (``documentCount``).

VC paths: nothing is published; the status host sees each fetch of a list
(which list, when, from where), and the herd a credential hides in is the
number of credentials *issued* on its list, not the list's length.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

from registry.chain.client import ChainClient

REVEALING = {"TermsRegistered": ("importingCountry", "validUntil", "parent"),
             "CertificateUtilised": ("declaration", "customs", "goodsItems", "quantities", "parentLedger"),
             "CertificateRevoked": ("reason", "by"),
             "BatchAnchored": ("issuer", "documentCount"),
             "PayloadPublished": ("ciphertext",)}


def _shown(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex() if len(value) <= 32 else f"<{len(value)} bytes>"
    if isinstance(value, str) and len(value) > 80:
        return f"<{(len(value) - 2) // 2} bytes>"
    if isinstance(value, list | tuple):
        return [_shown(v) for v in value]
    return value


def chain_observer(chain: ChainClient, from_block: int = 0) -> dict[str, Any]:
    """Per event name: count, published fields, distinct revealing values, and the batch sizes (herds)."""
    events = chain.events(from_block)
    groups: dict[str, list[Any]] = defaultdict(list)
    for event in events:
        groups[event.name].append(event)
    out: dict[str, Any] = {}
    for name, group in groups.items():
        fields = sorted(group[0].args)
        seen = {f: sorted({str(_shown(e.args.get(f))) for e in group})[:8] for f in REVEALING.get(name, ())
                if f in group[0].args}
        out[name] = {"count": len(group), "fields": fields, "values_seen": seen}
    times = sorted(chain.block_timestamp(b) for b in {e.block_number for e in events})
    herds = [int(e.args["documentCount"]) for e in groups.get("BatchAnchored", [])]
    parents = sum(1 for e in groups.get("TermsRegistered", []) if any(bytes(e.args.get("parent") or b"")))
    return {"events": out, "blocks_with_events": len(times),
            "first_to_last_event_s": (times[-1] - times[0]) if times else 0,
            "batch_sizes": herds, "median_batch_size": statistics.median(herds) if herds else None,
            "back_to_back_links_published": parents}


def vc_observer(issued_on_list: int, list_size: int, status_host_requests: int,
                did_host_requests: int) -> dict[str, Any]:
    """The VC path's observers: the status and DID hosts; the herd is the credentials issued on the list."""
    return {"published": "nothing: credentials travel with the holder",
            "status_host_sees": "each fetch of a status list (which list, when, the verifier's address); a "
                                "verifier that fetches through a proxy or Oblivious HTTP (RFC 9458) hides its "
                                "address, not the timing",
            "did_host_sees": "each DID resolution (issuer, when, the verifier's address)",
            "herd_size": issued_on_list, "list_entries": list_size,
            "status_host_requests": status_host_requests, "did_host_requests": did_host_requests}
