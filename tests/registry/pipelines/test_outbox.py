"""The chain-write outbox: recorded before sending, never sent twice, refusals final, the bookkeeping once.

Each test stops the node's workers (``node.paused()``) and drives the outbox by
hand, so what a crash leaves behind can be set up exactly: a write recorded
but never sent, a write whose transaction went out just before the process
died.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from eth_account import Account

from registry.chain.customs import CustomsLedger
from registry.custody.apikeys import Role
from registry.errors import ConflictError, ContractRevertError, TransactionFailedError
from registry.runtime import Node
from registry.sealing.merkle import keccak
from registry.services.utilisation import Draw
from registry.storage.writelog import WriteKind, WriteState
from registry.types import hex32, parse_hex32
from tests.support import principals
from tests.support.consortium import example


def fresh_issuer(node: Node, demo_keys: dict[str, dict[str, str]]) -> str:
    """A new SG issuing body, authorised through the outbox."""
    (authority,) = principals(node.context, demo_keys, "authority")
    account, _ = node.governance.authorise_issuer(authority, "outbox test issuer", None)
    return account


def test_a_write_recorded_but_never_sent_is_sent_by_the_worker_and_its_bookkeeping_runs_once(
        node: Node, demo_keys: dict[str, dict[str, str]]) -> None:
    service, outbox = node.context, node.context.outbox
    issuer = fresh_issuer(node, demo_keys)
    (authority,) = principals(service, demo_keys, "authority")
    signer = node.context.signer_for(authority, Role.AUTHORITY)
    applied: list[int] = []
    with node.paused():
        kept = outbox._appliers[WriteKind.SUSPEND_ISSUER]
        outbox.on_settled(WriteKind.SUSPEND_ISSUER, lambda w: (applied.append(w.id), kept(w)))
        try:
            # the process died right after recording: nothing went out
            write = outbox.log.add(WriteKind.SUSPEND_ISSUER, signer.address, {"account": issuer},
                                   subject=f"standing:{issuer.lower()}")
            assert service.chain.is_authorised(issuer)
            outbox.round()
            outbox.round()
        finally:
            outbox.on_settled(WriteKind.SUSPEND_ISSUER, kept)
    assert not service.chain.is_authorised(issuer)
    settled = outbox.log.get(write.id)
    assert settled.state is WriteState.SETTLED and settled.tx_hash and settled.applied
    assert applied == [write.id], "the bookkeeping of a settled write ran other than once"


def test_a_request_sent_just_before_a_crash_is_recognised_on_chain_not_opened_twice(
        node: Node, demo_keys: dict[str, dict[str, str]]) -> None:
    service, outbox = node.context, node.context.outbox
    issuer, customs = principals(service, demo_keys, "issuer", "customs")
    row = node.issuing.register(issuer, [example()])[0]
    service.anchorer.flush()
    # registers the terms
    node.utilisation.utilise(customs, row.id, "OUTBOX-1", date(2026, 11, 23), [Draw(1, Decimal("1"))])
    sealed = node.issuing.sealed_document(issuer, row.id)
    ledger = CustomsLedger(service.chain)
    signer = node.context.signer_for(customs, Role.CUSTOMS)
    with node.paused():
        write = outbox.log.add(WriteKind.REQUEST, signer.address, {
            "document_hash": sealed.document_hash, "root": sealed.proof.batch_root,
            "reason_hash": hex32(keccak(b"sent before the crash")), "proof": sealed.proof.path},
            local={"nonce": "n", "reason": "sent before the crash"})
        outbox.log.mark(write.id, WriteState.PENDING, attempted=True)  # counted, then sent, then the crash
        outbox.effects.send(write, signer)
        opened = ledger.request_count()
        outbox.round()
    assert ledger.request_count() == opened, "the request was opened a second time"
    settled = outbox.log.get(write.id)
    assert settled.state is WriteState.SETTLED and settled.result == {"request_id": opened}
    found = ledger.request_of(opened)
    assert found is not None and found.document_hash == parse_hex32(sealed.document_hash)


def test_a_write_found_on_chain_after_a_crash_settles_only_at_the_confirmation_depth(
        node: Node, demo_keys: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> None:
    """Its transaction went out just before the crash and is in the newest block: a reorg could still take it,
    so it is not reported settled before the depth every sent write waits for."""
    service, outbox = node.context, node.context.outbox
    issuer = fresh_issuer(node, demo_keys)
    (authority,) = principals(service, demo_keys, "authority")
    signer = node.context.signer_for(authority, Role.AUTHORITY)
    monkeypatch.setattr(outbox, "confirmations", 3)
    states = []
    with node.paused():
        write = outbox.log.add(WriteKind.SUSPEND_ISSUER, signer.address, {"account": issuer},
                               subject=f"standing:{issuer.lower()}")
        outbox.log.mark(write.id, WriteState.PENDING, attempted=True)  # counted, then sent, then the crash
        outbox.effects.send(write, signer)
        assert not service.chain.is_authorised(issuer)
        for _ in range(3):
            outbox.round()
            states.append(outbox.log.get(write.id).state)
            service.chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    assert states == [WriteState.SENT, WriteState.SENT, WriteState.SETTLED], states
    settled = outbox.log.get(write.id)
    assert settled.applied and settled.attempts == 1, "the write was sent again"


def test_a_refused_write_is_final_and_another_countrys_authority_changes_nothing(
        node: Node, demo_keys: dict[str, dict[str, str]]) -> None:
    service, outbox = node.context, node.context.outbox
    issuer = fresh_issuer(node, demo_keys)
    (jp_authority,) = principals(service, demo_keys, "authority_jp")
    with pytest.raises(ContractRevertError, match="NotCountryAuthority"):
        node.governance.set_issuer_standing(jp_authority, issuer, active=False)
    refused = [w for w in outbox.log.open_for(f"standing:{issuer.lower()}")]
    assert refused == [], "a refused write stayed open"
    with node.paused():
        outbox.round()
        outbox.round()
    assert service.chain.is_authorised(issuer)
    rows = service.store.query("SELECT state, attempts FROM chain_writes WHERE subject = ? AND kind = ?",
                               (f"standing:{issuer.lower()}", WriteKind.SUSPEND_ISSUER.value))
    assert [tuple(r) for r in rows] == [("refused", 1)], "a refused write was sent again"
    (error,) = service.store.query("SELECT error FROM chain_writes WHERE subject = ? AND kind = ?",
                                   (f"standing:{issuer.lower()}", WriteKind.SUSPEND_ISSUER.value))[0]
    assert "is not the competent authority of SG" in error and "TrustRegistryNotCountryAuthority" in error, error


def test_a_hostile_authority_reinstating_an_active_issuer_is_refused_not_reported_done(
        node: Node, demo_keys: dict[str, dict[str, str]]) -> None:
    """The chain already shows the state asked for; the refusal (not this country's authority) still stands."""
    service = node.context
    issuer = fresh_issuer(node, demo_keys)
    (jp_authority,) = principals(service, demo_keys, "authority_jp")
    with pytest.raises(ContractRevertError, match="NotCountryAuthority"):
        node.governance.set_issuer_standing(jp_authority, issuer, active=True)


def test_a_second_status_change_waits_for_the_first_and_a_stranger_gets_no_signer(
        node: Node, demo_keys: dict[str, dict[str, str]]) -> None:
    service, outbox = node.context, node.context.outbox
    (issuer,) = principals(service, demo_keys, "issuer")
    row = node.issuing.register(issuer, [example()])[0]
    service.anchorer.flush()
    row = service.store.certificate(row.id)
    with node.paused():
        stranger = Account.create()
        write = outbox.log.add(WriteKind.REVOKE, stranger.address, {
            "certificate_id": row.id, "document_hash": hex32(row.document_hash), "proof": row.proof or [],
            "reason": 2}, subject=f"status:{hex32(row.document_hash)}")
        with pytest.raises(ConflictError, match="still waiting for the chain"):
            node.issuing.revoke(issuer, row.id, 1)  # type: ignore[arg-type]
        outbox.round()
    assert outbox.log.get(write.id).state is WriteState.REFUSED  # this node holds no key for that account
    assert service.store.certificate(row.id).status == "anchored"


def test_a_later_write_undoing_an_earlier_one_is_not_mistaken_for_a_lost_write(
        node: Node, demo_keys: dict[str, dict[str, str]]) -> None:
    """Suspend, then reinstate: the suspension's effect is gone from the chain because a later write undid it,
    not because the chain lost it. The loss watch must not send the suspension again."""
    service, outbox = node.context, node.context.outbox
    issuer = fresh_issuer(node, demo_keys)
    (authority,) = principals(service, demo_keys, "authority")
    node.governance.set_issuer_standing(authority, issuer, active=False)
    node.governance.set_issuer_standing(authority, issuer, active=True)
    assert service.chain.is_authorised(issuer)
    with node.paused():
        outbox._watched_at = outbox._checked_fully_at = float("-inf")  # the minutely full check is due
        outbox.round()
        outbox.round()
    assert service.chain.is_authorised(issuer), "the loss watch sent an undone suspension again"
    rows = service.store.query("SELECT kind, state, attempts FROM chain_writes WHERE subject = ? ORDER BY id",
                               (f"standing:{issuer.lower()}",))
    assert [tuple(r)[1:] for r in rows] == [("settled", 1)] * 3, [tuple(r) for r in rows]


def test_a_name_given_while_the_chain_is_down_follows_the_authorisation_it_names(
        node: Node, demo_keys: dict[str, dict[str, str]]) -> None:
    """The authorisation answers 202 (pending): the issuer's name is recorded behind it in its lane and
    reaches the chain after it, never before (the contract would refuse naming an unknown issuer) nor never."""
    from registry.errors import WritePending

    service, outbox = node.context, node.context.outbox
    (authority,) = principals(service, demo_keys, "authority")
    with node.paused():
        outbox.failures, outbox._chain_down = 1, True  # the worker's last round could not reach the chain
        try:
            with pytest.raises(WritePending):
                node.governance.authorise_issuer(authority, "Singapore Customs, night shift", None)
        finally:
            outbox.failures, outbox._chain_down = 0, False
        rows = service.store.query("SELECT id, kind, state, args FROM chain_writes ORDER BY id DESC LIMIT 2")
        name, authorisation = (tuple(r) for r in rows)
        assert (authorisation[1], name[1]) == ("authorise-issuer", "name-issuer") and name[0] > authorisation[0]
        account = __import__("json").loads(name[3])["account"]
        outbox.round()
    assert service.chain.name_of(account) == "Singapore Customs, night shift"
    assert service.chain.issuer_country(account) == "SG"
    states = service.store.query("SELECT state FROM chain_writes WHERE id IN (?, ?)", (name[0], authorisation[0]))
    assert [r[0] for r in states] == ["settled", "settled"]


def test_a_slow_loss_watch_keeps_no_request_waiting(node: Node, demo_keys: dict[str, dict[str, str]]) -> None:
    """The minutely full check reads every recently settled write back from the chain, which takes a while on
    a busy node; a request's own write must not wait behind those reads (it used to: 202 "earlier writes are
    still being sent")."""
    import threading

    service, outbox = node.context, node.context.outbox
    (authority,) = principals(service, demo_keys, "authority")
    fresh_issuer(node, demo_keys)  # at least one settled write for the watch to read back
    reading, release = threading.Event(), threading.Event()
    find = outbox.effects.find

    def slow_find(write: object) -> object:
        if threading.current_thread() is watcher:
            reading.set()
            release.wait(30)
        return find(write)  # type: ignore[arg-type]

    with node.paused():
        outbox._watched_at = outbox._checked_fully_at = float("-inf")
        outbox.effects.find = slow_find  # type: ignore[method-assign]
        watcher = threading.Thread(target=outbox.round, name="slow-watch")
        try:
            watcher.start()
            assert reading.wait(10), "the full check did not start"
            account, _ = node.governance.authorise_issuer(authority, "Singapore Customs, while watched", None)
            assert service.chain.issuer_country(account) == "SG"
        finally:
            release.set()
            watcher.join(30)
            outbox.effects.find = find  # type: ignore[method-assign]
    assert not watcher.is_alive()


@pytest.mark.parametrize(("failure", "shown"), [
    (TransactionFailedError("transaction 0xab was not mined: not in the chain after 5 s"), "was not mined"),
    (ValueError("the node answered a block number that is not one"), "ValueError: the node answered"),
], ids=["not mined", "an unexpected answer"])
def test_a_send_that_fails_leaves_the_write_pending_with_the_reason_on_its_status(
        node: Node, demo_keys: dict[str, dict[str, str]], failure: Exception, shown: str) -> None:
    """A transaction the chain never mines (a node that drops it, a replaced block), or any other failure under
    the send, keeps the write pending and retried; its status says why, where it used to say nothing after any
    number of attempts."""

    service, outbox = node.context, node.context.outbox
    issuer = fresh_issuer(node, demo_keys)
    (authority,) = principals(service, demo_keys, "authority")
    signer = node.context.signer_for(authority, Role.AUTHORITY)
    send = outbox.effects.send

    def dropped(*_: object, **__: object) -> object:
        raise failure

    with node.paused():
        write = outbox.log.add(WriteKind.SUSPEND_ISSUER, signer.address, {"account": issuer},
                               subject=f"standing:{issuer.lower()}")
        outbox.effects.send = dropped  # type: ignore[method-assign]
        try:
            with pytest.raises(type(failure)):
                outbox.round()
        finally:
            outbox.effects.send = send  # type: ignore[method-assign]
        failed = outbox.log.get(write.id)
        assert failed.state is WriteState.PENDING and failed.attempts == 1
        assert failed.error is not None and shown in failed.error

        def watched(*args: object, **kwargs: object) -> object:  # the next attempt, while it waits for its receipt
            during.append(outbox.log.get(write.id))
            return send(*args, **kwargs)

        during: list[Any] = []
        outbox.effects.send = watched  # type: ignore[method-assign]
        try:
            outbox.round()
        finally:
            outbox.effects.send = send  # type: ignore[method-assign]
        assert during[0].attempts == 2 and during[0].error == failed.error  # still says why, until it settles
    settled = outbox.log.get(write.id)
    assert settled.state is WriteState.SETTLED and settled.error is None
    assert not service.chain.is_authorised(issuer)
