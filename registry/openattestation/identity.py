"""Who vouches for a DocumentStore: the issuer's domain in DNS, or this node's offline trust list.

An OpenAttestation v2 issuer names a domain (``identityProof.location``, type ``DNS-TXT``). The
domain vouches for a store on a chain by a TXT record, as ``@govtechsg/dnsprove`` reads them::

    openatts net=ethereum netId=<chain id> addr=<store address>

DNS is asked through a configurable resolver: a DNS-over-HTTPS URL (RFC 8484, ``https://…``),
a resolver at ``host:port`` (UDP, TCP when truncated), or the system's. The trust list is a
JSON file the node's operator keeps, for domains and networks DNS cannot answer for::

    {"issuer.example": ["eip155:31337:0x9178F546D3FF57D7A6352bD61B80cCCD46199C2d"]}

each entry a CAIP-10 account (``eip155:<chain id>:<store>``). Outcomes: *vouched* (by DNS or by
the list), *not vouched* (DNS answered without a matching record and the list has no entry:
the document is INVALID), *unavailable* (DNS could not be asked and the list has no entry:
never VALID). DNSSEC is not required, as ``oa-verify`` does not require it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9_]([a-z0-9-]{0,61}[a-z0-9])?)*$")
_CAIP10 = re.compile(r"^eip155:([0-9]{1,20}):(0x[0-9a-fA-F]{40})$")
_HOST_PORT = re.compile(r"^(\[[0-9a-fA-F:]+\]|[^:\s/]+)(?::([0-9]{1,5}))?$")


class TrustListError(ValueError):
    """A trust list file that cannot be read or does not have the documented shape."""


class Vouch(StrEnum):
    """Whether a domain (or the trust list) vouches for a store."""

    VOUCHED = "vouched"
    NOT_VOUCHED = "not vouched"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class IdentityOutcome:
    """The answer for one (domain, chain, store)."""

    vouch: Vouch
    reason: str
    by: str | None = None
    """``dns`` or ``trust list`` when vouched."""


def domain_name(location: str) -> str | None:
    """*location* as a lowercase DNS name, or None when it is not one (a URL, an address, spaces)."""
    name = location.strip().lower().removesuffix(".")
    return name if _DOMAIN.match(name) else None


def openatts_records(texts: list[str]) -> list[dict[str, str]]:
    """The ``openatts`` records among TXT strings, as key/value dicts (``type`` first), as dnsprove parses them."""
    found = []
    for text in texts:
        if not text.startswith("openatts"):
            continue
        tokens = text.strip().split(" ")
        record = {"type": tokens[0]}
        for token in tokens[1:]:
            key, _, value = token.partition("=")
            record[key.strip()] = value.removesuffix(";").strip()
        found.append(record)
    return found


def vouches_for(record: Mapping[str, str], chain_id: int, store: str) -> bool:
    """Whether one parsed record names *store* on chain *chain_id*."""
    return (record.get("type") == "openatts" and record.get("net") == "ethereum"
            and record.get("netId") == str(chain_id) and record.get("addr", "").lower() == store.lower())


class TrustList:
    """The offline list of domains and the stores each vouches for (see the module docstring)."""

    def __init__(self, entries: Mapping[str, frozenset[tuple[int, str]]]) -> None:
        self.entries = dict(entries)

    @classmethod
    def empty(cls) -> TrustList:
        return cls({})

    @classmethod
    def load(cls, path: Path) -> TrustList:
        """Read a trust list file.

        Raises:
            TrustListError: unreadable, not JSON, or not ``{domain: ["eip155:<chain id>:<address>", …]}``.
        """
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise TrustListError(f"cannot read the trust list {path}: {type(error).__name__}") from None
        if not isinstance(raw, dict):
            raise TrustListError("the trust list must be a JSON object of domain -> list of stores")
        entries: dict[str, frozenset[tuple[int, str]]] = {}
        for domain, stores in raw.items():
            name = domain_name(domain) if isinstance(domain, str) else None
            if name is None or not isinstance(stores, list):
                raise TrustListError(f"trust list entry {domain!r}: expected a domain name and a list of stores")
            entries[name] = frozenset(_store_entry(name, s) for s in stores)
        return cls(entries)

    def vouches(self, domain: str, chain_id: int, store: str) -> bool:
        """Whether the list holds *store* on *chain_id* for *domain*."""
        return (chain_id, store.lower()) in self.entries.get(domain, frozenset())


def _store_entry(domain: str, entry: object) -> tuple[int, str]:
    found = _CAIP10.match(entry) if isinstance(entry, str) else None
    if found is None:
        raise TrustListError(f"trust list entry for {domain}: {entry!r} is not eip155:<chain id>:<0x address>")
    return int(found.group(1)), found.group(2).lower()


class DnsTxt:
    """TXT lookups through one resolver.

    Args:
        resolver: ``https://…`` (DNS over HTTPS), ``host`` or ``host:port`` (a resolver spoken to over UDP,
            TCP when truncated), or None for the system's resolver.
        timeout: seconds for one lookup.
    """

    def __init__(self, resolver: str | None = None, timeout: float = 3.0) -> None:
        self.resolver = resolver
        self.timeout = timeout
        if resolver is not None and not resolver.startswith("https://") and not _HOST_PORT.match(resolver):
            raise ValueError("expected https://… (DNS over HTTPS) or host[:port]")

    def lookup(self, domain: str) -> list[str] | None:
        """The TXT strings of *domain* ([] when it has none or does not exist); None when DNS could not answer."""
        if self.resolver is None:
            return self._system(domain)
        query = dns.message.make_query(domain, dns.rdatatype.TXT)
        try:
            if self.resolver.startswith("https://"):
                response = dns.query.https(query, self.resolver, timeout=self.timeout)
            else:
                host, port = _host_port(self.resolver)
                response, _ = dns.query.udp_with_fallback(query, host, timeout=self.timeout, port=port)
        except (dns.exception.DNSException, OSError, ValueError):
            return None
        return _texts(response)

    def _system(self, domain: str) -> list[str] | None:
        try:
            answer = dns.resolver.Resolver().resolve(domain, "TXT", lifetime=self.timeout)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except (dns.exception.DNSException, OSError):
            return None
        return [_joined(r.strings) for r in answer]


def _host_port(resolver: str) -> tuple[str, int]:
    found = _HOST_PORT.match(resolver)
    assert found is not None  # checked in DnsTxt.__init__
    return found.group(1).strip("[]"), int(found.group(2) or 53)


def _texts(response: dns.message.Message) -> list[str] | None:
    code = response.rcode()
    if code == dns.rcode.NXDOMAIN:
        return []
    if code != dns.rcode.NOERROR:
        return None
    return [_joined(r.strings) for rrset in response.answer if rrset.rdtype == dns.rdatatype.TXT
            for r in rrset]


def _joined(strings: tuple[bytes, ...]) -> str:
    return b"".join(strings).decode("utf-8", errors="replace")


class IdentityResolver:
    """DNS first, the trust list when DNS does not vouch (or cannot be asked).

    Args:
        dns_txt: the TXT lookups (None: DNS is not asked).
        trust_list: the offline list.
        trust_list_problem: why the configured list could not be read: then nothing is *not vouched*
            for, only unavailable (the list might have vouched).
    """

    def __init__(self, dns_txt: DnsTxt | None, trust_list: TrustList | None = None,
                 trust_list_problem: str | None = None) -> None:
        self.dns = dns_txt
        self.trust_list = trust_list or TrustList.empty()
        self.trust_list_problem = trust_list_problem

    @classmethod
    def configured(cls, resolver: str | None, trust_list: Path | None, timeout: float = 3.0) -> IdentityResolver:
        """DNS through *resolver* (see :class:`DnsTxt`) and the trust list file *trust_list*, read now."""
        try:
            listed = TrustList.load(trust_list) if trust_list is not None else None
        except TrustListError as error:
            return cls(DnsTxt(resolver, timeout), None, str(error))
        return cls(DnsTxt(resolver, timeout), listed)

    def check(self, location: str, chain_id: int, store: str) -> IdentityOutcome:
        """Whether the domain *location* vouches for *store* on *chain_id*."""
        domain = domain_name(location)
        if domain is None:
            return IdentityOutcome(Vouch.NOT_VOUCHED, f"the identity location {location!r} is not a domain name")
        texts = self.dns.lookup(domain) if self.dns is not None else None
        if texts is not None and any(vouches_for(r, chain_id, store) for r in openatts_records(texts)):
            return IdentityOutcome(Vouch.VOUCHED, f"{domain} vouches for the store in DNS", by="dns")
        if self.trust_list.vouches(domain, chain_id, store):
            return IdentityOutcome(Vouch.VOUCHED, f"this node's trust list vouches for the store of {domain}",
                                   by="trust list")
        return self._not_vouched(domain, chain_id, store, texts)

    def _not_vouched(self, domain: str, chain_id: int, store: str, texts: list[str] | None) -> IdentityOutcome:
        """Neither DNS nor the list vouches: *not vouched* only when both could be read."""
        if self.trust_list_problem is not None:
            return IdentityOutcome(Vouch.UNAVAILABLE, f"{domain} does not vouch for the store in DNS and this "
                                                      f"node's trust list cannot be read ({self.trust_list_problem})")
        if texts is None:
            return IdentityOutcome(Vouch.UNAVAILABLE, f"DNS could not be asked about {domain} and this node's "
                                                      "trust list has no entry for it")
        others = [r for r in openatts_records(texts) if r.get("addr", "").lower() == store.lower()]
        elsewhere = f" (it names it on chain {others[0].get('netId')})" if others else ""
        return IdentityOutcome(Vouch.NOT_VOUCHED, f"{domain} has no DNS-TXT record for store {store} on chain "
                                                  f"{chain_id}{elsewhere}, and this node's trust list has none")


__all__ = ["DnsTxt", "IdentityOutcome", "IdentityResolver", "TrustList", "TrustListError", "Vouch", "domain_name",
           "openatts_records", "vouches_for"]
