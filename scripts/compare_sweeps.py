"""Sweeps: Anvil's block period against the chain path, the status-list TTL against the VC path.

Chain path, for each block period (on demand, 1, 2, 5 s by default): issue
latency (acceptance → anchored, default batch policy), revoke latency, and
revocation visibility, the time from the revoke call until an independent
verifier reading the chain sees ``REVOKED`` (polled every 20 ms), with the
share of those polls that got an answer (availability while it propagates).

VC path, for each verifier TTL (0, 1, 60, 300 s by default): the verifier
checks once a (simulated) second; a revocation lands at evenly spread moments
of its cache period, and visibility is the simulated time until it answers
``REVOKED``. Availability is the share of those checks answered while the
status host is down for :data:`OUTAGE_S` right after a fetch. Only the cache
clock is simulated: every fetch, signature and status check runs for real.
The list's own ``ttl`` (60 s as this node publishes it) also bounds the cache.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from registry.chain.client import ChainClient
from registry.chain.network import accept_poa_headers
from registry.domain.reasons import RevocationReason
from registry.domain.report import Verdict
from registry.errors import ChainError
from registry.pipelines.verify import Verifier as ChainVerifier
from scripts.compare_chainpath import ChainNode, chain_node, consortium_node, revoke_settled, wait_anchored
from scripts.compare_faults import Clock
from scripts.compare_stats import describe
from scripts.compare_vcpath import VcWorld, vc_world, verifier
from scripts.compare_worker import EXAMPLES

OUTAGE_S = 600
VISIBILITY_DEADLINE_S = 30.0


def chain_point(work: Path, block_time: float | None, certificates: int, revocations: int) -> dict[str, Any]:
    """Issue, revoke and watch revocations propagate at one Anvil block period."""
    with chain_node(work, block_time) as chain:
        return _point(chain, chain.anvil.url, block_time or 0, certificates, revocations)


def network_point(work: Path, certificates: int, revocations: int, block_time: int = 1) -> dict[str, Any]:
    """:func:`point_on` a network of four chain nodes started here (and stopped after); a network that does
    not start gives the point's reason instead."""
    from registry.chain.network import Network
    from scripts.compare_consortium import FAILURES

    try:
        network = Network.create(work / "network", 4, block_time).start()
    except FAILURES as error:
        return {"block_time_s": block_time, "not_measured": f"the network did not start: {error}"}
    try:
        network.wait_settled()
        return point_on(network, work, certificates, revocations)
    except FAILURES as error:  # point_on gives its own failures as the point's reason
        return {"block_time_s": block_time, "not_measured": f"the network did not settle: {error}"}
    finally:
        network.stop()


def point_on(network: Any, work: Path, certificates: int, revocations: int) -> dict[str, Any]:
    """The chain point on a running network of EthereumJS chain nodes sealing a Clique chain: the node writes
    through chain node 0, the independent verifier reads the last one. A failure gives the point's reason."""
    from scripts.compare_consortium import FAILURES

    try:
        with consortium_node(work, network) as chain:
            return _point(chain, network.urls[-1], network.block_time, certificates, revocations) | {
                "chain": f"{len(network.nodes)} EthereumJS chain nodes, Clique; writes through chain node 0, "
                         f"the verifier reads chain node {len(network.nodes) - 1}"}
    except FAILURES as error:
        return {"block_time_s": network.block_time, "not_measured": f"{type(error).__name__}: {str(error)[:160]}"}


def _verdict(outside: ChainVerifier, document: Any) -> Verdict | None:
    try:
        return outside.verify_document(document).verdict
    except ChainError:
        return None


def _point(chain: ChainNode, read_url: str, block_time: float, certificates: int, revocations: int) -> dict[str, Any]:
    node = chain.node
    rows = node.issuing.register(chain.issuer, [{**EXAMPLES[0], "certificate_number": f"SWEEP-{i}"}
                                                for i in range(certificates)])
    wait_anchored(node)
    store = node.context.store
    issue = [(store.certificate(r.id).updated_at - r.created_at) * 1000 for r in rows]
    documents = [node.issuing.sealed_document(chain.issuer, r.id) for r in rows]
    outside = ChainVerifier(accept_poa_headers(ChainClient.connect(read_url, node.context.chain.address)))
    revoke, visible, polls, answered = [], [], 0, 0
    for row, document in list(zip(rows, documents, strict=True))[:revocations]:
        began = time.perf_counter()
        revoke_settled(chain, row.id, RevocationReason.ISSUED_IN_ERROR)
        revoke.append((time.perf_counter() - began) * 1000)
        while time.perf_counter() - began < VISIBILITY_DEADLINE_S:
            verdict = _verdict(outside, document)
            polls += 1
            answered += verdict not in (None, Verdict.UNAVAILABLE)
            if verdict is Verdict.REVOKED:
                break
            time.sleep(0.02)
        visible.append(time.perf_counter() - began)
    return {"block_time_s": block_time, "issue_ms": describe(issue), "revoke_ms": describe(revoke),
            "visibility_s": describe(visible), "visibility_samples_s": visible,
            "availability": answered / polls if polls else None, "polls": polls}


def _visibility(world: VcWorld, ttl: float, offset: float) -> float:
    """Simulated seconds from a revocation *offset* s after the verifier's fetch until it answers REVOKED."""
    clock = Clock()
    client = verifier(world, ttl=ttl, clock=clock)
    token = world.issuer.issue(EXAMPLES[0])
    client.verify(world, token.jwt)  # the fetch
    clock.t += offset
    world.issuer.revoke(token.status_index)
    revoked_at = clock.t
    while client.verify(world, token.jwt) is not Verdict.REVOKED and clock.t - revoked_at < 2 * OUTAGE_S:
        clock.t += 1
    return clock.t - revoked_at


def _availability(world: VcWorld, ttl: float) -> float:
    clock = Clock()
    client = verifier(world, ttl=ttl, clock=clock)
    token = world.issuer.issue(EXAMPLES[0])
    client.verify(world, token.jwt)
    world.status_host.down()
    try:
        answered = 0
        for _ in range(OUTAGE_S):
            clock.t += 1
            answered += client.verify(world, token.jwt) is not Verdict.UNAVAILABLE
    finally:
        world.status_host.up()
    return answered / OUTAGE_S


def vc_point(world: VcWorld, ttl: float, trials: int) -> dict[str, Any]:
    """Revocation visibility and availability at one verifier TTL."""
    effective = min(ttl, 60.0)
    visible = [_visibility(world, ttl, effective * j / trials) for j in range(trials)]
    return {"ttl_s": ttl, "effective_cache_s": effective, "visibility_s": describe(visible),
            "visibility_samples_s": visible, "availability": _availability(world, ttl)}


def sweeps(work: Path, block_periods: list[float], ttls: list[float], certificates: int = 20,
           revocations: int = 5, network: bool = False) -> dict[str, Any]:
    """Both sweeps (and, with *network*, the 1 s point on a network of chain nodes)."""
    chain = [chain_point(work / f"chain-{p}", p or None, certificates, revocations) for p in block_periods]
    on_network = [network_point(work / "network-1", certificates, revocations)] if network else []
    with vc_world(work / "vc") as world:
        vc = [vc_point(world, ttl, revocations) for ttl in ttls]
    return {"chain": chain, "network": on_network, "vc": vc, "outage_s": OUTAGE_S}
