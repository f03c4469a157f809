"""The VC paths of one comparison run (``vc+jwt`` and SD-JWT VC), and the hosts every VC experiment shares.

:func:`vc_world` builds the node's VC issuer with its DID document, its status
list and a signed trust list on three separate loopback hosts, each able to go
down on its own, and a verifier's clients for them (:class:`Verifier`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from registry.custody.keys import load_or_create_kek
from registry.domain.report import Verdict
from registry.vc.issuer import STATUS_PATH, VcIssuer
from registry.vc.keys import IssuerKey, did_web
from registry.vc.resolver import Resolver
from registry.vc.status_check import HttpStatusFetcher, StatusFetcher
from registry.vc.verify import verify_credential
from scripts import compare_sdjwt
from scripts.compare_hosts import Host, TrustListFetcher, json_body, sign_trust_list, text_body
from scripts.compare_worker import VERIFY_SAMPLE, Phase, certificates, revoked_indexes, sampled, verified_indexes

TRUST_PATH = "/trust-list.jws"


@dataclass
class VcWorld:
    """The issuer and its three hosts."""

    issuer: VcIssuer
    did_host: Host
    status_host: Host
    trust_host: Host
    operator: IssuerKey

    @property
    def trust_url(self) -> str:
        return self.trust_host.url + TRUST_PATH

    def hosts(self) -> dict[str, Host]:
        return {"did": self.did_host, "status": self.status_host, "trust_list": self.trust_host}


@dataclass
class Verifier:
    """A verifier's clients: DID resolver, status fetcher and trust-list fetcher, with their caches."""

    resolver: Resolver
    fetcher: StatusFetcher
    trust: TrustListFetcher

    def verify(self, world: VcWorld, token: str, *, sd_jwt: bool = False, now: datetime | None = None) -> Verdict:
        """The verdict for *token* (a ``vc+jwt``, or an SD-JWT VC presentation), trust list fetched first."""
        from scripts.compare_hosts import TrustListUnavailable

        moment = now or datetime.now(UTC)
        try:
            trusted = self.trust.issuers()
        except TrustListUnavailable:
            return Verdict.UNAVAILABLE
        if sd_jwt:
            return compare_sdjwt.verify(token, resolver=self.resolver, fetcher=self.fetcher, trusted=trusted,
                                        now=moment)[0]
        return verify_credential(token, resolver=self.resolver, status_fetcher=self.fetcher,
                                 trusted_issuers=trusted, now=moment, contexts=(world.issuer.context,)).verdict


def verifier(world: VcWorld, *, ttl: float = 300.0, clock: Callable[[], float] = time.monotonic,
             fetcher: StatusFetcher | None = None, resolver: Resolver | None = None) -> Verifier:
    """A verifier whose status-list and DID caches last *ttl* seconds (the list's own ``ttl`` also bounds it)."""
    http = httpx.Client()
    return Verifier(resolver or Resolver(http=http, allow_http=True, ttl=ttl, clock=clock),
                    fetcher or HttpStatusFetcher(http, ttl=ttl, allow_http=True, clock=clock),
                    TrustListFetcher(http, world.trust_url, world.operator, ttl=max(ttl, 300.0), clock=clock))


@contextmanager
def vc_world(work: Path) -> Iterator[VcWorld]:
    """The issuer with its DID host, status host and trust-list host up."""
    did_host, status_host, trust_host = Host("did").up(), Host("status").up(), Host("trust-list").up()
    try:
        issuer = VcIssuer(work, load_or_create_kek(work / "kek"), did_web(did_host.origin), status_host.url)
        operator = IssuerKey.generate()
        signed = sign_trust_list(operator, {"SG": [issuer.key.did]}, time.time())
        did_host.routes["/.well-known/did.json"] = json_body(issuer.did_document, "application/did+json")
        status_host.routes[STATUS_PATH] = text_body(issuer.status_list, "application/vc+jwt")
        trust_host.routes[TRUST_PATH] = text_body(lambda: signed, "application/jwt")
        yield VcWorld(issuer, did_host, status_host, trust_host, operator)
    finally:
        for host in (did_host, status_host, trust_host):
            host.down()


def issue_sd_jwt(world: VcWorld, certificate: dict[str, Any]) -> tuple[str, int]:
    """An SD-JWT VC of *certificate* with an entry on the issuer's status list; returns it and its index."""
    _, allocation = world.issuer.allocate()
    return compare_sdjwt.issue(certificate, world.issuer.key, allocation, time.time()), allocation.index


def run_vc(n: int, work: Path, *, sd_jwt: bool, sample: int = VERIFY_SAMPLE) -> dict[str, Any]:
    """Issue, verify and revoke *n* certificates as ``vc+jwt`` or as SD-JWT VCs."""
    if sd_jwt and compare_sdjwt.library() is None:
        return {"not_measured": "the sd-jwt library is not installed (pip install -e .)"}
    with vc_world(work) as world:
        batch = certificates(n, "vc")
        phase = Phase()
        if sd_jwt:
            issued = [phase.time(lambda c=c: issue_sd_jwt(world, c)) for c in batch]
        else:
            issued = [(t.jwt, t.status_index) for t in (phase.time(lambda c=c: world.issuer.issue(c)) for c in batch)]
        issue = phase.close()
        wanted = sorted(set(verified_indexes(n, sample)) | set(revoked_indexes(n)))
        phase = Phase()
        shown = ({i: phase.time(lambda i=i: compare_sdjwt.present(issued[i][0], batch[i])) for i in wanted}
                 if sd_jwt else {i: issued[i][0] for i in wanted})
        present = phase.close()
        client = verifier(world)
        phase = Phase()
        verdicts = [phase.time(lambda i=i: client.verify(world, shown[i], sd_jwt=sd_jwt))
                    for i in verified_indexes(n, sample)]
        verify = phase.close() | {"valid": verdicts.count(Verdict.VALID)}
        phase = Phase()
        for i in revoked_indexes(n):
            phase.time(lambda i=i: (world.issuer.revoke(issued[i][1]), world.issuer.status_list()))
        revoke = phase.close()
        fresh = verifier(world, ttl=0)
        revoked_seen = sum(fresh.verify(world, shown[i], sd_jwt=sd_jwt) is Verdict.REVOKED for i in revoked_indexes(n))
        fetched = {"did_documents": getattr(client.resolver, "fetches", None),
                   "status_lists": getattr(client.fetcher, "fetches", None),
                   "status_list_bytes": getattr(client.fetcher, "bytes_fetched", None),
                   "trust_lists": client.trust.fetches, "trust_list_bytes": client.trust.bytes_fetched,
                   "verifications": len(verdicts)}
        phases = {"issue": issue, "verify": verify, "revoke": revoke} | ({"present": present} if sd_jwt else {})
        herd = {"issued_on_list": len(world.issuer.status.assigned), "list_size": world.issuer.status.size,
                "status_host_requests": world.status_host.requests, "did_host_requests": world.did_host.requests}
        return {"phases": phases, "fetches": fetched, "herd": herd,
                "bytes": {"credential_mean": sum(len(t[0]) for t in issued) / n,
                          "presentation_mean": sum(len(s) for s in shown.values()) / len(shown)},
                "sanity": {"revoked_seen": revoked_seen, "revoked": len(revoked_indexes(n))},
                "notes": {"verify": "signed trust list, DID document and status list each fetched over HTTP "
                                    "and cached (resolver 300 s; status list min(300 s, the list's ttl 60 s)); "
                                    + sampled(sample) + ("; SD-JWT disclosing the chain path's field set" if sd_jwt else
                                       "; vc+jwt discloses every field")}}
