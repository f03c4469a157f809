"""The fault matrix: each cell runs its scenario and records the verdicts it observed.

A cell is a function returning a :class:`Cell`. Two credentials (or two
anchored certificates) are checked in every cell: ``untouched`` (never
revoked) and ``revoked_late`` (revoked *after* the verifier last fetched, just
before the fault), so a cell shows both what stays available and what a stale
answer hides.

VC side: the issuer's DID host down, the status host down, each under four
verifier cache policies: ``none`` (fetch every time), ``ttl`` (a warm cache,
checked within its lifetime and again after it lapses), ``until_valid_until``
(on a fetch failure keep using the last good copy while the status list's
``validUntil`` allows; the DID document likewise), ``mirror`` (a second host
publishing the same documents, tried when the first fails; here it follows
the issuer at once, a real mirror lags by its sync period).

Chain side: the chain is a pluggable :class:`ChainNetwork`. :class:`AnvilEndpoints`
is one Anvil behind several RPC endpoints (:class:`~scripts.compare_rpcproxy.RpcEndpoint`):
it can take the verifier's endpoint or another member's endpoint down, or the
whole chain. The consortium faults (one validator down, more than the
consensus tolerates, the importing country's own node down or partitioned) are
measured on a network of chain nodes by :mod:`scripts.compare_consortium`,
handed in to :func:`fault_matrix`; a run without it says why they were not
measured.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import httpx

from registry.chain.client import ChainClient
from registry.domain.reasons import RevocationReason
from registry.errors import ChainUnavailableError
from registry.pipelines.verify import Verifier as ChainVerifier
from registry.vc.credential import parse_instant
from registry.vc.errors import DidUnavailableError, StatusUnavailableError
from registry.vc.issuer import STATUS_PATH
from registry.vc.resolver import Resolver
from registry.vc.status_check import HttpStatusFetcher, parse_status_list
from scripts.compare_chainpath import ChainNode, revoke_settled, wait_anchored
from scripts.compare_hosts import Host, json_body, text_body
from scripts.compare_rpcproxy import RpcEndpoint
from scripts.compare_vcpath import VcWorld, verifier
from scripts.compare_worker import EXAMPLES

VC_POLICIES = ("none", "ttl", "until_valid_until", "mirror")


@dataclass
class Cell:
    """One cell of the matrix: what was done and the verdicts seen (or why it was not measured)."""

    path: str
    fault: str
    policy: str
    verdicts: dict[str, str] = field(default_factory=dict)
    measured: bool = True
    note: str = ""
    action: str = ""
    """What was done to inject the fault (the consortium cells)."""
    timeline: dict[str, Any] = field(default_factory=dict)
    """Per phase and certificate, each verdict change as ``[seconds since the fault or the heal, verdict]``."""
    times_s: dict[str, Any] = field(default_factory=dict)
    """Per phase and certificate, seconds until the phase's last verdict was first seen."""
    revocation: dict[str, Any] = field(default_factory=dict)
    """For a revocation issued during the fault: SG's answer, and whether (and when) JP saw it."""


class Clock:
    """A monotonic clock the scenario can move forward (cache lifetimes only; HTTP runs for real)."""

    def __init__(self) -> None:
        self.t = 1_000.0

    def __call__(self) -> float:
        return self.t


# -- VC cache policies ------------------------------------------------------------------------


class StaleIfErrorFetcher:
    """On a failed fetch, the last good list while its ``validUntil`` is in the future."""

    def __init__(self, inner: HttpStatusFetcher) -> None:
        self.inner = inner
        self.last: dict[str, str] = {}

    def fetch(self, url: str) -> str:
        try:
            body = self.inner.fetch(url)
        except StatusUnavailableError:
            kept = self.last.get(url)
            until = parse_status_list(kept)[0].get("validUntil") if kept else None
            if kept is None or until is None or parse_instant(until) < datetime.now(UTC):
                raise
            return kept
        self.last[url] = body
        return body


class MirrorFetcher:
    """The primary host, then the mirror at the same path."""

    def __init__(self, inner: HttpStatusFetcher, primary: str, mirror: str) -> None:
        self.inner, self.primary, self.mirror = inner, primary, mirror

    def fetch(self, url: str) -> str:
        try:
            return self.inner.fetch(url)
        except StatusUnavailableError:
            return self.inner.fetch(url.replace(self.primary, self.mirror, 1))


class FallbackResolver(Resolver):
    """A resolver that, when the DID host is down, uses the last good document or a mirror's copy."""

    def __init__(self, *, mirror: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mirror = mirror
        self.last: dict[str, Mapping[str, Any]] = {}

    def resolve(self, did: str) -> Mapping[str, Any]:
        try:
            document = super().resolve(did)
        except DidUnavailableError:
            if self.mirror is not None:
                assert self.http is not None
                copy = self.http.get(f"{self.mirror}/.well-known/did.json", timeout=5).json()
                if copy.get("id") == did.split("#")[0]:
                    return dict(copy)
            if did in self.last:
                return self.last[did]
            raise
        self.last[did] = document
        return document


def _vc_verifier(world: VcWorld, policy: str, clock: Clock, mirror: Host) -> Any:
    if policy == "none":
        return verifier(world, ttl=0, clock=clock)
    http = httpx.Client()
    inner = HttpStatusFetcher(http, ttl=300, allow_http=True, clock=clock)
    if policy == "ttl":
        return verifier(world, ttl=300, clock=clock)
    if policy == "until_valid_until":
        resolver = FallbackResolver(http=http, allow_http=True, ttl=300, clock=clock)
        return verifier(world, ttl=300, clock=clock, fetcher=StaleIfErrorFetcher(inner), resolver=resolver)
    resolver = FallbackResolver(http=http, allow_http=True, ttl=300, clock=clock, mirror=mirror.url)
    return verifier(world, ttl=300, clock=clock, fetcher=MirrorFetcher(inner, world.status_host.url, mirror.url),
                    resolver=resolver)


def vc_cell(world: VcWorld, fault: str, policy: str, mirror: Host) -> Cell:
    """Warm a verifier, revoke one credential, take the DID or status host down, verify both credentials."""
    untouched, late = world.issuer.issue(EXAMPLES[0]), world.issuer.issue(EXAMPLES[0])
    clock = Clock()
    client = _vc_verifier(world, policy, clock, mirror)
    warm = {"untouched": client.verify(world, untouched.jwt).value,
            "revoked_late": client.verify(world, late.jwt).value}
    world.issuer.revoke(late.status_index)
    host = world.did_host if fault == "did_host_down" else world.status_host
    host.down()
    try:
        seen = {"before_fault": warm,
                "within_cache": {"untouched": client.verify(world, untouched.jwt).value,
                                 "revoked_late": client.verify(world, late.jwt).value}}
        clock.t += 301  # past the verifier's 300 s bound and the list's 60 s ttl
        seen["cache_lapsed"] = {"untouched": client.verify(world, untouched.jwt).value,
                                "revoked_late": client.verify(world, late.jwt).value}
    finally:
        host.up()
    return Cell("vc-jwt", fault, policy, {f"{when}:{which}": v for when, d in seen.items() for which, v in d.items()},
                note="within_cache: right after the fault; cache_lapsed: 301 s later on the verifier's clock")


def vc_cells(world: VcWorld) -> list[Cell]:
    """Every VC cell: {DID host, status host} down × each cache policy."""
    mirror = Host("mirror").up()
    mirror.routes[STATUS_PATH] = text_body(world.issuer.status_list, "application/vc+jwt")
    mirror.routes["/.well-known/did.json"] = json_body(world.issuer.did_document, "application/did+json")
    try:
        return [vc_cell(world, fault, policy, mirror) for fault in ("did_host_down", "status_host_down")
                for policy in VC_POLICIES]
    finally:
        mirror.down()


# -- chain side -----------------------------------------------------------------------------------


class ChainNetwork(Protocol):
    """A chain the fault matrix can hurt: endpoints to read from, and the faults it can inject."""

    name: str

    def endpoints(self) -> list[str]: ...

    def supports(self, fault: str) -> bool: ...

    def inject(self, fault: str) -> None: ...

    def heal(self) -> None: ...


class AnvilEndpoints:
    """One Anvil behind *count* RPC endpoints: endpoint 0 is the verifier's, the others other members'."""

    name = "one Anvil behind several RPC endpoints"
    FAULTS = ("verifier_endpoint_down", "other_member_endpoint_down", "whole_chain_down")

    def __init__(self, chain: ChainNode, count: int = 3) -> None:
        self.chain = chain
        self.proxies = [RpcEndpoint(chain.anvil.url, f"member-{i}").up() for i in range(count)]

    def endpoints(self) -> list[str]:
        return [p.url for p in self.proxies]

    def supports(self, fault: str) -> bool:
        return fault in self.FAULTS

    def inject(self, fault: str) -> None:
        if fault == "verifier_endpoint_down":
            self.proxies[0].down()
        elif fault == "other_member_endpoint_down":
            self.proxies[1].down()
        elif fault == "whole_chain_down":
            self.chain.anvil.stop()

    def heal(self) -> None:
        for proxy in self.proxies:
            proxy.up()

    def close(self) -> None:
        for proxy in self.proxies:
            proxy.down()


CHAIN_FAULTS = ("verifier_endpoint_down", "other_member_endpoint_down", "whole_chain_down")
"""The faults one Anvil behind several endpoints can show (the whole chain last: it does not come back)."""


def _verdict_or_error(reader: ChainVerifier, document: Any) -> str:
    """The verdict, or the exception that escaped the verifier (a finding in itself: it should fail closed)."""
    try:
        return reader.verify_document(document).verdict.value
    except Exception as error:  # noqa: BLE001 - recorded as observed, never hidden
        return f"ERROR {type(error).__name__}: {str(error)[:80]}"


def chain_cells(chain: ChainNode, network: ChainNetwork) -> list[Cell]:
    """Every chain cell on *network*; the whole chain last (it does not come back)."""
    node, issuer = chain.node, chain.issuer
    rows = node.issuing.register(issuer, [{**EXAMPLES[0], "certificate_number": f"FAULT-{i}"} for i in range(2)])
    wait_anchored(node)
    untouched, late = (node.issuing.sealed_document(issuer, r.id) for r in rows)
    address = node.context.chain.address
    verifier_endpoint = network.endpoints()[0]

    def verdicts() -> dict[str, str]:
        try:
            reader = ChainVerifier(ChainClient.connect(verifier_endpoint, address, timeout=2.0))
        except ChainUnavailableError:
            return {"untouched": "ERROR could not connect", "revoked_late": "ERROR could not connect"}
        return {"untouched": _verdict_or_error(reader, untouched), "revoked_late": _verdict_or_error(reader, late)}

    before = verdicts()
    revoke_settled(chain, rows[1].id, RevocationReason.FRAUD)
    cells = []
    for fault in CHAIN_FAULTS:
        if not network.supports(fault):
            cells.append(Cell("chain", fault, "n/a", measured=False,
                              note=f"not measured in this run: {network.name} cannot inject it"))
            continue
        network.inject(fault)
        try:
            seen = verdicts()
        finally:
            if fault != "whole_chain_down":
                network.heal()
        cells.append(Cell("chain", fault, "n/a", {f"before_fault:{k}": v for k, v in before.items()}
                          | {f"during_fault:{k}": v for k, v in seen.items()},
                          note=f"on {network.name}; the verifier reads endpoint 0"))
    return cells


def as_json(cells: list[Cell]) -> list[dict[str, Any]]:
    return [asdict(c) for c in cells]


def fault_matrix(work: Path, chain_factory: Callable[[Path], Any], vc_factory: Callable[[Path], Any],
                 consortium: Callable[[Path], tuple[str, list[Cell]]]) -> dict[str, Any]:
    """Run every cell: the VC side in a fresh VC world, the chain side on a fresh node behind several
    endpoints, then the consortium cells (*consortium* measures them, or says why not)."""
    consortium_network, consortium_cells = consortium(work / "consortium")
    with vc_factory(work / "vc") as world:
        vc = vc_cells(world)
    with chain_factory(work / "chain") as chain:
        network = AnvilEndpoints(chain)
        try:
            on_chain = chain_cells(chain, network)
        finally:
            network.close()
    return {"network": network.name, "consortium_network": consortium_network,
            "cells": as_json(vc + on_chain + consortium_cells)}
