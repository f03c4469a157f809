"""No single-RPC trust: the verifier and the event index read through a quorum of endpoints, one of them lying.

The endpoints are JSON-RPC proxies (:mod:`tests.support.lying_rpc`) in front of the session's
Anvil: two that tell the truth and one that forges ``inspect`` (a status, an authorisation),
freezes its head in the past, or hides events. Each forgery is first shown to fool a verifier that
trusts the liar alone (K=1, one endpoint: what every verifier did before), so that each quorum
test below can fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from registry.chain.client import ChainClient, DocumentState
from registry.chain.nodes import NodeProcess
from registry.chain.ports import free_port
from registry.chain.quorum import DEFAULT_MAX_LAG, QuorumReader
from registry.domain.reasons import RevocationReason
from registry.domain.report import Verdict, VerificationReport
from registry.errors import QuorumError, ValidationError
from registry.pipelines.indexer import ChainFeed, ChainIndexer
from registry.pipelines.verify import Verifier
from registry.storage.projection import IndexedView
from registry.storage.store import Store
from tests.support.consortium import Consortium
from tests.support.lying_rpc import LyingRpc, forged_authorisation, forged_status, hidden_events, stale_head


@dataclass(frozen=True)
class Endpoints:
    honest: LyingRpc
    other: LyingRpc
    liar: LyingRpc


@pytest.fixture(scope="module")
def proxies(anvil: NodeProcess) -> Iterator[Endpoints]:
    with LyingRpc(anvil.url) as honest, LyingRpc(anvil.url) as other, LyingRpc(anvil.url) as liar:
        yield Endpoints(honest, other, liar)


@pytest.fixture
def rpc(proxies: Endpoints) -> Iterator[Endpoints]:
    """The endpoints, the liar telling the truth again after each test."""
    yield proxies
    proxies.liar.lie = None


def through(chain: ChainClient, *endpoints: LyingRpc | str, quorum: int) -> Verifier:
    urls = [e if isinstance(e, str) else e.url for e in endpoints]
    return Verifier(QuorumReader.connect(urls, chain.address, quorum, timeout=2))


def alone(chain: ChainClient, endpoint: LyingRpc) -> Verifier:
    """What a verifier with one endpoint does: trust it (K=1, the plain client)."""
    return Verifier(ChainClient.connect(endpoint.url, chain.address, timeout=2))


def anchored(chain: ChainClient, people: Consortium, issuer: str = "sg_issuer") -> bytes:
    """A document anchored alone (its hash is its batch root)."""
    document_hash = os.urandom(32)
    chain.anchor(getattr(people, issuer), document_hash, 1)
    return document_hash


def endpoints_said(report: VerificationReport) -> dict[str, str]:
    """Endpoint label -> what it answered (or why it did not), from the anchored check's details."""
    return {e["endpoint"]: e.get("answer") or e.get("problem") or f"head {e.get('head')}"
            for e in report.check("anchored").details["endpoints"]}


def label(endpoint: LyingRpc, index: int) -> str:
    return f"#{index} {endpoint.url}"


def mine(chain: ChainClient, blocks: int) -> None:
    for _ in range(blocks):
        chain.unsafe_advance_time(1)


# -- honest endpoints -----------------------------------------------------------------------------------


def test_endpoints_that_agree_give_the_verdict_at_the_agreed_head(chain: ChainClient, people: Consortium,
                                                                   rpc: Endpoints) -> None:
    document_hash = anchored(chain, people)
    report = through(chain, rpc.honest, rpc.other, rpc.liar, quorum=2).verify_hash(document_hash)
    assert report.verdict is Verdict.VALID, report.summary
    assert report.chain_head == chain.block_number() and report.chain_id == chain.chain_id


def test_a_revocation_is_seen_through_the_quorum(chain: ChainClient, people: Consortium, rpc: Endpoints) -> None:
    document_hash = anchored(chain, people)
    chain.revoke(people.sg_issuer, document_hash, [], int(RevocationReason.FRAUD))
    report = through(chain, rpc.honest, rpc.other, quorum=2).verify_hash(document_hash)
    assert report.verdict is Verdict.REVOKED and "REVOKED on 20" in report.check("status").reason


# -- a forged status ------------------------------------------------------------------------------------


def test_a_forged_status_from_one_endpoint_of_three_is_unavailable_naming_what_each_said(
        chain: ChainClient, people: Consortium, rpc: Endpoints) -> None:
    document_hash = anchored(chain, people)
    chain.revoke(people.sg_issuer, document_hash, [], int(RevocationReason.FRAUD))
    rpc.liar.lie = forged_status()
    assert alone(chain, rpc.liar).verify_hash(document_hash).verdict is Verdict.VALID  # K=1: the liar is believed
    report = through(chain, rpc.honest, rpc.other, rpc.liar, quorum=2).verify_hash(document_hash)
    assert report.verdict is Verdict.UNAVAILABLE
    assert report.summary.startswith("UNAVAILABLE: endpoints disagree at block")
    said = endpoints_said(report)
    assert said[label(rpc.honest, 1)].startswith("REVOKED") and said[label(rpc.other, 2)].startswith("REVOKED")
    assert said[label(rpc.liar, 3)].startswith("ACTIVE")
    assert f"{label(rpc.liar, 3)}: block" in report.summary and "ACTIVE" in report.summary
    assert report.check("anchored").reason == "the chain endpoints disagree"


def test_with_two_endpoints_one_forging_the_status_is_unavailable_for_any_quorum(
        chain: ChainClient, people: Consortium, rpc: Endpoints) -> None:
    document_hash = anchored(chain, people)
    chain.revoke(people.sg_issuer, document_hash, [], int(RevocationReason.FRAUD))
    rpc.liar.lie = forged_status()
    for quorum in (2, 1):  # K=1 with several endpoints: one answer suffices, but those given must agree
        report = through(chain, rpc.honest, rpc.liar, quorum=quorum).verify_hash(document_hash)
        assert report.verdict is Verdict.UNAVAILABLE and "endpoints disagree" in report.summary, quorum


# -- a forged authorisation -----------------------------------------------------------------------------


def test_a_forged_authorisation_for_a_document_never_anchored_is_unavailable(
        chain: ChainClient, people: Consortium, rpc: Endpoints) -> None:
    never = os.urandom(32)
    rpc.liar.lie = forged_authorisation(people.sg_issuer.address, "SG")
    assert alone(chain, rpc.honest).verify_hash(never).verdict is Verdict.INVALID
    assert alone(chain, rpc.liar).verify_hash(never).verdict is Verdict.VALID  # the forgery is a believable one
    report = through(chain, rpc.honest, rpc.liar, quorum=2).verify_hash(never)
    assert report.verdict is Verdict.UNAVAILABLE and "endpoints disagree" in report.summary
    said = endpoints_said(report)
    assert said[label(rpc.honest, 1)] == "not anchored"
    assert "authorised at anchoring: yes" in said[label(rpc.liar, 2)]


def test_a_forged_standing_for_a_suspended_issuer_is_unavailable(chain: ChainClient, people: Consortium,
                                                                  rpc: Endpoints) -> None:
    document_hash = anchored(chain, people, "sg_issuer_2")
    chain.suspend_issuer(people.sg_authority, people.sg_issuer_2.address)
    rpc.liar.lie = forged_authorisation(people.sg_issuer_2.address, "SG")
    honest = alone(chain, rpc.honest).verify_hash(document_hash)
    assert honest.verdict is Verdict.VALID and "suspended since" in honest.check("issuer_authorised").reason
    assert "suspended" not in alone(chain, rpc.liar).verify_hash(document_hash).check("issuer_authorised").reason
    report = through(chain, rpc.honest, rpc.other, rpc.liar, quorum=2).verify_hash(document_hash)
    assert report.verdict is Verdict.UNAVAILABLE and "endpoints disagree" in report.summary
    assert "issuer active: yes" in endpoints_said(report)[label(rpc.liar, 3)]


# -- a stale head ---------------------------------------------------------------------------------------


def revoked_behind_a_stale_head(chain: ChainClient, people: Consortium, rpc: Endpoints) -> tuple[bytes, int]:
    """A document revoked after the block the liar's head is frozen at, more than the lag allowed ago;
    the document hash and that block."""
    document_hash = anchored(chain, people)
    before = chain.block_number()
    chain.revoke(people.sg_issuer, document_hash, [], int(RevocationReason.FRAUD))
    mine(chain, DEFAULT_MAX_LAG + 1)
    rpc.liar.lie = stale_head(before)
    return document_hash, before


def test_a_stale_head_is_left_out_when_enough_endpoints_are_at_the_head(chain: ChainClient, people: Consortium,
                                                                        rpc: Endpoints) -> None:
    document_hash, _ = revoked_behind_a_stale_head(chain, people, rpc)
    assert alone(chain, rpc.liar).verify_hash(document_hash).verdict is Verdict.VALID  # K=1: the past, believed
    report = through(chain, rpc.honest, rpc.other, rpc.liar, quorum=2).verify_hash(document_hash)
    assert report.verdict is Verdict.REVOKED and report.chain_head == chain.block_number()


def test_a_stale_head_among_two_endpoints_is_unavailable_never_the_past(chain: ChainClient, people: Consortium,
                                                                        rpc: Endpoints) -> None:
    document_hash, before = revoked_behind_a_stale_head(chain, people, rpc)
    report = through(chain, rpc.honest, rpc.liar, quorum=2).verify_hash(document_hash)
    assert report.verdict is Verdict.UNAVAILABLE
    assert report.summary.startswith("UNAVAILABLE: endpoints disagree on the chain head")
    assert endpoints_said(report)[label(rpc.liar, 2)] == f"head {before}, {chain.block_number() - before} blocks behind"


def test_an_endpoint_a_block_behind_still_counts_and_the_read_is_pinned_to_its_head(
        chain: ChainClient, people: Consortium, rpc: Endpoints) -> None:
    document_hash = anchored(chain, people)
    head = chain.block_number()
    mine(chain, 1)
    rpc.liar.lie = stale_head(head)  # within the lag a real network's nodes show
    report = through(chain, rpc.honest, rpc.liar, quorum=2).verify_hash(document_hash)
    assert report.verdict is Verdict.VALID and report.chain_head == head


# -- endpoints that do not answer -----------------------------------------------------------------------


def test_fewer_than_k_answering_is_unavailable_and_a_dead_endpoint_beyond_k_costs_nothing(
        chain: ChainClient, people: Consortium, rpc: Endpoints) -> None:
    document_hash = anchored(chain, people)
    dead = f"http://127.0.0.1:{free_port()}"
    report = through(chain, rpc.honest, dead, quorum=2).verify_hash(document_hash)
    assert report.verdict is Verdict.UNAVAILABLE
    assert report.summary.startswith("UNAVAILABLE: only 1 of the 2 endpoints needed answered at the chain head")
    assert report.check("anchored").reason == "too few chain endpoints answered"
    assert "no answer" in endpoints_said(report)[f"#2 {dead}"]
    assert through(chain, rpc.honest, dead, quorum=1).verify_hash(document_hash).verdict is Verdict.VALID


def test_an_endpoint_is_named_by_scheme_host_and_port_never_by_its_path_or_query(
        chain: ChainClient, people: Consortium, rpc: Endpoints) -> None:
    document_hash = anchored(chain, people)
    chain.revoke(people.sg_issuer, document_hash, [], int(RevocationReason.FRAUD))
    rpc.liar.lie = forged_status()
    secret = rpc.liar.url + "/v3/PROVIDER-API-KEY?token=ANOTHER-SECRET"
    report = through(chain, rpc.honest, secret, quorum=2).verify_hash(document_hash)
    assert report.verdict is Verdict.UNAVAILABLE
    shown = report.model_dump_json()
    assert "PROVIDER-API-KEY" not in shown and "ANOTHER-SECRET" not in shown and label(rpc.liar, 2) in shown


def test_the_same_endpoint_cannot_count_twice_and_the_quorum_is_between_one_and_n(chain: ChainClient,
                                                                                  rpc: Endpoints) -> None:
    with pytest.raises(ValidationError, match="given twice"):
        QuorumReader.connect([rpc.honest.url, rpc.honest.url + "/"], chain.address, 2)
    for quorum in (0, 3):
        with pytest.raises(ValidationError, match=f"quorum: {quorum} is not between 1 and the 2"):
            QuorumReader.connect([rpc.honest.url, rpc.other.url], chain.address, quorum)
    assert QuorumReader.connect([rpc.honest.url, rpc.other.url], chain.address).quorum == 2  # default: all


# -- the event index ------------------------------------------------------------------------------------


def test_an_index_fed_through_the_quorum_cannot_be_fed_a_history_without_the_revocation(
        chain: ChainClient, people: Consortium, rpc: Endpoints, tmp_path: Path) -> None:
    document_hash = anchored(chain, people)
    chain.revoke(people.sg_issuer, document_hash, [], int(RevocationReason.FRAUD))
    rpc.liar.lie = hidden_events("CertificateRevoked")
    assert indexed_state(tmp_path / "alone.sqlite", ChainClient.connect(rpc.liar.url, chain.address),
                         document_hash) is DocumentState.ACTIVE  # the liar alone feeds a history without it
    store = Store(tmp_path / "quorum.sqlite")
    try:
        indexer = ChainIndexer(store, QuorumReader.connect([rpc.honest.url, rpc.liar.url], chain.address, 2))
        with pytest.raises(QuorumError, match="endpoints disagree at block"):
            indexer.sync()
        assert store.last_indexed_block() == -1  # nothing recorded from either history
        rpc.liar.lie = None
        indexer.sync()
        assert IndexedView(store.connection).inspect(document_hash, []).state is DocumentState.REVOKED
    finally:
        store.close()


def indexed_state(path: Path, feed: ChainFeed, document_hash: bytes) -> DocumentState:
    """Index the chain through *feed* into a new store at *path*; the document's state there."""
    store = Store(path)
    try:
        ChainIndexer(store, feed).sync()
        return IndexedView(store.connection).inspect(document_hash, []).state
    finally:
        store.close()
