"""Reading the chain through several RPC endpoints, trusting none of them alone.

A verifier that reads one JSON-RPC endpoint believes whatever it answers: a
rate-limited provider makes a certificate look "not issued", a compromised one
can say a revoked certificate is in force. :class:`QuorumReader` asks every
configured endpoint and gives an answer only when at least ``quorum`` (K) of
them give the same one, at the same block, under the same block hash.

The rule, for every read:

1. Every endpoint is asked for its head, in parallel (one request each, no
   retries). One that does not answer (unreachable, an error, a timeout) is left out.
2. An endpoint more than ``max_lag`` blocks behind the highest head reported is
   left out too: it has not got the block the others are at (a node catching up
   after a restart, or a proxy freezing its head to hide what came later) and
   cannot answer for it. The highest head is the reference, not the K-th highest,
   so that an endpoint stuck in the past cannot drag the read back to a block from
   before a revocation.
3. Fewer than K endpoints left: :class:`~registry.errors.QuorumError`, "only J of
   K endpoints answered" (the verifier's ``UNAVAILABLE``).
4. The read is pinned to block ``pin = lowest head among those left - depth``,
   which every one of them has. Each answers with the hash of that block and the
   value read at it (``eth_getBlockByNumber`` and the ``eth_call`` or
   ``eth_getLogs`` in one JSON-RPC batch), decoded.
5. If any two answers differ, in block hash or in decoded value:
   :class:`~registry.errors.QuorumError`, "endpoints disagree", listing what each
   endpoint said. Otherwise, with at least K answers, their common value is the answer.

Why any disagreement refuses, instead of taking the K that agree: two endpoints
of one chain that answer differently at a block both have, under the same block
hash, cannot both be honest, and from inside the verifier nothing tells which one
lies. Taking the larger group would let the number of URLs configured decide a
verdict, and a silent pick is what this module exists to prevent. On an honest
network it costs nothing (at a final depth every node answers alike); under
attack the registry does what it does everywhere else when it cannot know, it
fails closed (``UNAVAILABLE``) and names the endpoints, so that the operator can
remove the one that lies. What N endpoints beyond K buy is availability against
endpoints that are down or behind, the failure that actually happens: a lying
endpoint can deny a verdict, never forge one, unless K endpoints lie alike.

What K means: with one endpoint and K=1 the verifier trusts that endpoint entirely,
as every verifier did before this module (the node and ``coo verify`` then use a
plain :class:`~registry.chain.client.ChainClient`: no extra request). K=1 with
several endpoints: any one answering suffices, but those that answer must agree.
K counts endpoints, not operators: K URLs in front of one node or one provider are
that one provider's trust, so the same URL may not be given twice, and the
endpoints should belong to different administrations.

An answer is at most ``max_lag + depth`` blocks older than the highest head an
endpoint reported. ``depth`` should be the depth at which the consensus makes
blocks final (0 on Anvil; see ``docs/quorum.md``), or honest nodes that briefly
hold different tips would disagree.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast
from urllib.parse import urlsplit

from registry.chain.client import ChainClient, ChainEvent, DocumentView
from registry.chain.customs import Utilisation
from registry.chain.models import _document_view
from registry.chain.network import accept_poa_headers
from registry.errors import ChainError, QuorumError, ValidationError
from registry.types import hex32

log = logging.getLogger("coo.quorum")

T = TypeVar("T")
V = TypeVar("V")

DEFAULT_MAX_LAG = 2
"""Blocks an endpoint may be behind the highest head reported and still count (propagation on a real network)."""

STATUS_EVENTS = ("CertificateRevoked", "CertificateSuperseded", "KeyDestroyed", "BatchRevoked")


@dataclass(frozen=True)
class Endpoint:
    """One RPC endpoint: the label verdicts show (never its path or query, which may carry an API key)
    and the client that reads through it."""

    label: str
    client: ChainClient


@dataclass(frozen=True)
class Said:
    """What one endpoint said for one read: its head, the block read and its hash, the answer; or why
    it did not count."""

    endpoint: str
    head: int | None = None
    block: int | None = None
    block_hash: str | None = None
    answer: str | None = None
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The fields that are set, for a check's details."""
        return {k: v for k, v in vars(self).items() if v is not None}

    def line(self) -> str:
        """One line: ``#2 http://host:port: block 12 (0xab12…): REVOKED …``."""
        if self.problem is not None:
            return f"{self.endpoint}: {self.problem}"
        if self.block is None:
            return f"{self.endpoint}: head {self.head}"
        at = f"block {self.block}" + (f" ({self.block_hash[:10]}…)" if self.block_hash else "")
        return f"{self.endpoint}: {at}: {self.answer}"


@dataclass(frozen=True)
class _Answer(Generic[T]):
    """One endpoint's answer to one question, or why it gave none."""

    endpoint: Endpoint
    value: T | None
    problem: str | None = None


@dataclass(frozen=True)
class _Pin:
    """The block a read is pinned to, the endpoints that may answer for it and their heads."""

    block: int
    endpoints: tuple[Endpoint, ...]
    heads: dict[str, int]


def endpoint_label(url: str, index: int) -> str:
    """``#index scheme://host:port``: enough to tell endpoints apart, nothing that may be a secret."""
    parts = urlsplit(url)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"#{index} {parts.scheme}://{parts.hostname or '?'}{port}"


def distinct_urls(urls: Sequence[str]) -> list[str]:
    """*urls* in order, each once; the same endpoint given twice would count twice towards a quorum.

    Raises:
        ValidationError: a URL is given twice (compared without case or a trailing slash).
    """
    seen: dict[str, str] = {}
    for url in urls:
        key = url.strip().rstrip("/").lower()
        if key in seen:
            raise ValidationError(f"rpc_url: {endpoint_label(url, len(seen) + 1)} is given twice; the same endpoint "
                                  "cannot count twice towards the quorum",
                                  [{"loc": "rpc_url", "msg": "given twice"}])
        seen[key] = url
    return list(seen.values())


def check_quorum(quorum: int, count: int) -> int:
    """*quorum*, once it is between 1 and the *count* endpoints given.

    Raises:
        ValidationError: it is not.
    """
    if not 1 <= quorum <= count:
        raise ValidationError(f"quorum: {quorum} is not between 1 and the {count} endpoint(s) given",
                              [{"loc": "quorum", "msg": "out of range"}])
    return quorum


class QuorumReader:
    """The chain reads verification and the event index need, each agreed by a quorum of endpoints.

    Args:
        endpoints: the endpoints, in order (the first is the node's primary, where writes go).
        quorum: how many must answer, and agree, for an answer (K).
        depth: blocks below the agreed head a read is pinned to.
        max_lag: blocks an endpoint may be behind the highest head reported and still count.

    Raises:
        ValidationError: no endpoint, or a quorum outside 1..N.
    """

    def __init__(self, endpoints: Sequence[Endpoint], quorum: int, *, depth: int = 0,
                 max_lag: int = DEFAULT_MAX_LAG) -> None:
        if not endpoints:
            raise ValidationError("rpc_url: give at least one RPC endpoint", [{"loc": "rpc_url", "msg": "missing"}])
        check_quorum(quorum, len(endpoints))
        if depth < 0 or max_lag < 0:
            raise ValidationError("depth: must not be negative", [{"loc": "depth", "msg": "negative"}])
        self.endpoints = tuple(endpoints)
        self.quorum = quorum
        self.depth = depth
        self.max_lag = max_lag
        self._chain_id: int | None = None

    @classmethod
    def connect(cls, rpc_urls: Sequence[str], address: str | None, quorum: int | None = None, *, depth: int = 0,
                max_lag: int = DEFAULT_MAX_LAG, timeout: float = 5.0) -> QuorumReader:
        """A reader over HTTP JSON-RPC endpoints (each request gives up after *timeout* seconds); the quorum
        defaults to all of them.

        Raises:
            ValidationError: a URL given twice, or a quorum outside 1..N.
        """
        urls = distinct_urls(rpc_urls)
        endpoints = [Endpoint(endpoint_label(url, i),
                              accept_poa_headers(ChainClient.connect(url, address, timeout=timeout)))
                     for i, url in enumerate(urls, start=1)]
        return cls(endpoints, len(urls) if quorum is None else quorum, depth=depth, max_lag=max_lag)

    # -- what the verifier reads ---------------------------------------------------------

    @property
    def address(self) -> str:
        """The registry contract address (the same on every endpoint: it is configured, not read)."""
        return self.endpoints[0].client.address

    @property
    def chain_id(self) -> int:
        """The chain id the endpoints agree on (asked once).

        Raises:
            QuorumError: too few answered, or they name different chains.
        """
        if self._chain_id is None:
            said = self._ask(self.endpoints, lambda c: c.chain_id)
            self._chain_id = self._agreed("the chain id", said, str, None)
        return self._chain_id

    def inspect_at_head(self, document_hash: bytes, proof: Sequence[bytes] = ()) -> tuple[DocumentView, int]:
        """``CertificateRegistry.inspect`` of *document_hash* at the agreed head, and that block's number.

        Raises:
            QuorumError: too few endpoints answered, or they disagree.
        """
        pin = self._pin()
        view = self._read_at(pin, lambda c: _view_at(c, pin.block, document_hash, proof), _describe_view)
        return view, pin.block

    def utilisation_of(self, document_hash: bytes, root: bytes, item_count: int, *,
                       block: int | None = None) -> Utilisation:
        """``CustomsLedger.utilisationOf`` at *block* (the one a view was read at), else at the agreed head.

        Raises:
            QuorumError: too few endpoints answered, or they disagree.
        """
        pin = self._pin() if block is None else self._at(block)

        def read(client: ChainClient) -> tuple[bytes, Utilisation]:
            block_hash, (ledger, drawn, open_requests) = client.call_at(
                pin.block, "utilisationOf", document_hash, root, item_count)
            return block_hash, Utilisation(bytes(ledger), tuple(int(d) for d in drawn), int(open_requests))

        return self._read_at(pin, read, _describe_utilisation)

    def status_change(self, document_hash: bytes, root: bytes, from_block: int) -> tuple[int, str] | None:
        """Block time and sender of the certificate's latest status event, agreed (see
        :meth:`~registry.chain.bindings.CertificateRegistryBinding.status_change`).

        Raises:
            QuorumError: too few endpoints answered, or they disagree.
        """
        topic0 = [self.endpoints[0].client.event_topic(name) for name in STATUS_EVENTS]
        events = self.events(from_block, topics=[topic0, "0x" + document_hash.hex()])
        found = [e for e in events if bytes(e.args["root"]) == root]
        if not found:
            return None
        return self.block_timestamp(found[-1].block_number), str(found[-1].args.get("by"))

    # -- what the event index reads ------------------------------------------------------

    def block_number(self) -> int:
        """The agreed head: the block reads are pinned to now.

        Raises:
            QuorumError: fewer than K endpoints at the head.
        """
        return self._pin().block

    def block_hash(self, block: int) -> bytes | None:
        """The agreed hash of block number *block*, or None when the endpoints agree it is past their head.

        Raises:
            QuorumError: too few endpoints answered, or they disagree.
        """
        said = self._ask(self.endpoints, lambda c: _hash_or_none(c.block_hash(block)))
        if sum(1 for a in said if a.problem is None and a.value is None) >= self.quorum and not any(
                a.value for a in said):
            return None  # K endpoints say the block does not exist, and none says it does
        # an endpoint without the block is behind the others: it does not count (as when unreachable)
        counted = [a if a.problem or a.value else _Answer(a.endpoint, None, f"has no block {block}") for a in said]
        found = self._agreed(f"the hash of block {block}", counted, str, block)
        return bytes.fromhex(str(found)[2:])

    def block_timestamp(self, block: int | str = "latest") -> int:
        """The agreed timestamp of block *block* (``latest``: the agreed head).

        Raises:
            QuorumError: too few endpoints answered, or they disagree.
        """
        number = self._pin().block if isinstance(block, str) else block
        pin = self._at(number)
        return self._read_at(pin, lambda c: (_required_hash(c, number), c.block_timestamp(number)), str)

    def events(self, from_block: int = 0, to_block: int | str = "latest", *, names: set[str] | None = None,
               topics: list[Any] | None = None) -> list[ChainEvent]:
        """The registry's events of ``[from_block, to_block]`` (``latest``: the agreed head), agreed.

        Raises:
            QuorumError: too few endpoints answered, or they disagree.
        """
        pin = self._pin() if isinstance(to_block, str) else self._at(to_block)
        found = self._read_at(pin, lambda c: _events_at(c, from_block, pin.block, names, topics), _describe_events)
        return list(found)

    # -- the rule ------------------------------------------------------------------------

    def _pin(self) -> _Pin:
        """Steps 1 to 4 of the rule: the endpoints at the head, and the block to read at."""
        said = self._ask(self.endpoints, lambda c: c.block_number())
        heads = {a.endpoint.label: a.value for a in said if a.value is not None}
        top = max(heads.values(), default=0)
        current = {label: head for label, head in heads.items() if head >= top - self.max_lag}
        if len(current) < self.quorum:
            lines = [_head_said(a.endpoint.label, a.value, a.problem, top) for a in said]
            raise self._too_few("at the chain head", len(current), lines, behind=len(current) < len(heads))
        for label in heads.keys() - current.keys():
            log.warning("RPC endpoint %s is %s blocks behind the others: left out", label, top - heads[label])
        block = max(min(current.values()) - self.depth, 0)
        return _Pin(block, tuple(e for e in self.endpoints if e.label in current), current)

    def _at(self, block: int) -> _Pin:
        """A pin at a given block: every endpoint may answer (one that lacks the block does not count)."""
        return _Pin(block, self.endpoints, {})

    def _read_at(self, pin: _Pin, read: Callable[[ChainClient], tuple[bytes, V]],
                 describe: Callable[[V], str]) -> V:
        """Step 5: every endpoint of *pin* reads, and they must agree on the block hash and the value."""
        said = self._ask(pin.endpoints, read)
        answered = [a.value for a in said if a.problem is None and a.value is not None]
        lines = [Said(a.endpoint.label, pin.heads.get(a.endpoint.label), pin.block,
                      None if a.value is None else "0x" + a.value[0].hex(),
                      None if a.value is None else describe(a.value[1]), a.problem) for a in said]
        if len(answered) < self.quorum:
            raise self._too_few(f"at block {pin.block}", len(answered), lines)
        if any(value != answered[0] for value in answered):
            raise _disagree(f"at block {pin.block}", lines)
        return answered[0][1]

    def _agreed(self, what: str, said: list[_Answer[T]], describe: Callable[[T], str], block: int | None) -> T:
        """The one value every answering endpoint gave (at least K of them), for a read with no block hash."""
        answered = [a for a in said if a.problem is None]
        lines = [Said(a.endpoint.label, block=block, problem=a.problem,
                      answer=None if a.problem else describe(cast(T, a.value))) for a in said]
        if len(answered) < self.quorum:
            raise self._too_few(f"for {what}", len(answered), lines)
        if any(a.value != answered[0].value for a in answered):
            raise _disagree(f"on {what}", lines)
        return cast(T, answered[0].value)

    def _ask(self, endpoints: Sequence[Endpoint], question: Callable[[ChainClient], T]) -> list[_Answer[T]]:
        """*question* put to every endpoint at once; each answers, or says why not."""

        def one(endpoint: Endpoint) -> _Answer[T]:
            try:
                return _Answer(endpoint, question(endpoint.client))
            except ChainError as error:
                return _Answer(endpoint, None, f"no answer ({error})")

        if len(endpoints) == 1:
            return [one(endpoints[0])]
        with ThreadPoolExecutor(max_workers=len(endpoints), thread_name_prefix="quorum") as pool:
            return list(pool.map(one, endpoints))

    def _too_few(self, where: str, count: int, said: Sequence[Said], *, behind: bool = False) -> QuorumError:
        lines = "; ".join(s.line() for s in said)
        if behind:
            return QuorumError(f"endpoints disagree on the chain head: only {count} of the {self.quorum} endpoints "
                               f"needed are at it ({lines})", [s.to_json() for s in said], disagree=True)
        return QuorumError(f"only {count} of the {self.quorum} endpoints needed answered {where} ({lines})",
                           [s.to_json() for s in said], disagree=False)


def _disagree(where: str, said: Sequence[Said]) -> QuorumError:
    lines = "; ".join(s.line() for s in said)
    return QuorumError(f"endpoints disagree {where} ({lines})", [s.to_json() for s in said], disagree=True)


def _head_said(label: str, head: int | None, problem: str | None, top: int) -> Said:
    if head is None:
        return Said(label, problem=problem)
    lag = top - head
    return Said(label, head=head, problem=f"head {head}, {lag} blocks behind" if lag else None)


def _view_at(client: ChainClient, block: int, document_hash: bytes,
             proof: Sequence[bytes]) -> tuple[bytes, DocumentView]:
    block_hash, raw = client.call_at(block, "inspect", document_hash, list(proof))
    return block_hash, _document_view(document_hash, raw)


def _events_at(client: ChainClient, from_block: int, block: int, names: set[str] | None,
               topics: list[Any] | None) -> tuple[bytes, tuple[ChainEvent, ...]]:
    block_hash, found = client.events_at(from_block, block, names=names, topics=topics)
    return block_hash, tuple(found)


def _required_hash(client: ChainClient, block: int) -> bytes:
    found = client.block_hash(block)
    if found is None:
        raise ChainError(f"the node has no block {block}")
    return found


def _hash_or_none(value: bytes | None) -> str | None:
    return None if value is None else "0x" + value.hex()


def _describe_view(view: DocumentView) -> str:
    if not view.anchored:
        return "not anchored"
    yes = {True: "yes", False: "no"}
    reason = f" (reason {view.reason})" if view.reason else ""
    return (f"{view.state.name}{reason}, anchored under {hex32(view.root)[:10]}… by {view.issuer} ({view.country}), "
            f"authorised at anchoring: {yes[view.authorised_at_anchoring]}, issuer active: {yes[view.issuer_active]}")


def _describe_utilisation(used: Utilisation) -> str:
    return f"drawn {list(used.drawn)}, {used.open_requests} open request(s)"


def _describe_events(events: tuple[ChainEvent, ...]) -> str:
    names = Counter(e.name for e in events)
    digest = hashlib.sha256(repr(events).encode()).hexdigest()[:8]
    listed = ", ".join(f"{name} x{count}" for name, count in sorted(names.items())) or "none"
    return f"{len(events)} event(s): {listed} (digest {digest})"


__all__ = ["DEFAULT_MAX_LAG", "Endpoint", "QuorumReader", "Said", "check_quorum", "distinct_urls", "endpoint_label"]
