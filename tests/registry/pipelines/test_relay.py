"""An API worker process's parts: writes only recorded and waited for, a chain connection that cannot send,
and what several processes share (epoch keys, revoked API keys) seen alike by each."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from eth_account import Account

from registry.chain.client import ChainClient
from registry.chain.readonly import forbid_transactions, sends_transactions
from registry.custody.apikeys import ApiKeys, Role
from registry.custody.epochs import EpochKeyring
from registry.custody.keys import KEK
from registry.errors import AuthenticationError, ChainError, ConflictError, KeyVaultError, WritePending
from registry.pipelines.relay import OUTBOX, StoreOutbox, WakeListener, WakeSender
from registry.storage.store import Store
from registry.storage.writelog import ChainWrite, WriteKind, WriteLog, WriteState


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "registry.db", secure_delete=False)


def test_a_worker_connection_refuses_to_send_a_transaction_but_still_reads() -> None:
    chain = ChainClient.in_process()
    deployer = Account.create()
    chain.fund(deployer.address)
    forbid_transactions(chain.w3)
    assert not sends_transactions(chain.w3)
    with pytest.raises(ChainError, match="sends no transactions"):
        chain.deploy(deployer)
    assert chain.block_number() >= 0


def test_a_write_no_writer_settles_is_recorded_and_answered_pending_after_the_bound(store: Store) -> None:
    queue = StoreOutbox(WriteLog(store), WakeSender(None), bound=0.05)
    with pytest.raises(WritePending) as pending:
        queue.submit(WriteKind.SUSPEND_ISSUER, Account.create(), {"issuer": "0x" + "11" * 20}, subject="issuer:x")
    assert WriteLog(store).get(pending.value.write_id).state is WriteState.PENDING


def _submit_with_writer(log: WriteLog, act: Callable[[ChainWrite], None]) -> ChainWrite:
    """Submit one write while a stand-in writer (a thread using only the store, another process in
    production) does *act* to it once woken through the pipe."""
    read, write = os.pipe()
    woken = threading.Event()
    listener = WakeListener(read, {OUTBOX: woken.set})

    def writer() -> None:
        woken.wait(10)
        act(log.unsettled()[0])

    listener.start()
    thread = threading.Thread(target=writer)
    thread.start()
    try:
        return StoreOutbox(log, WakeSender(write), bound=10).submit(
            WriteKind.SUSPEND_ISSUER, Account.create(), {"issuer": "0x" + "11" * 20}, subject="issuer:x")
    finally:
        thread.join()
        listener.stop()
        os.close(read)
        os.close(write)


def test_a_write_waits_until_the_writer_settled_it_and_ran_its_bookkeeping(store: Store) -> None:
    log = WriteLog(store)

    def settle(recorded: ChainWrite) -> None:
        log.mark(recorded.id, WriteState.SETTLED, tx_hash="0x" + "ab" * 32, block_number=1, result={})
        log.applied(recorded.id)

    done = _submit_with_writer(log, settle)
    assert done.state is WriteState.SETTLED and done.applied


def test_a_write_the_writer_refused_is_a_conflict(store: Store) -> None:
    log = WriteLog(store)
    with pytest.raises(ConflictError, match="not authorised"):
        _submit_with_writer(log, lambda w: log.mark(w.id, WriteState.REFUSED, error="the issuer is not authorised"))


def test_an_epoch_another_process_opened_and_destroyed_is_seen_by_every_keyring(tmp_path: Path) -> None:
    root = KEK(os.urandom(32))  # noqa: S311 (a test key)
    writer, worker = EpochKeyring(tmp_path / "keys", root), EpochKeyring(tmp_path / "keys", root)
    old = worker.current
    assert worker.key(old) is not None
    new = writer.open_new()
    writer.unsafe_destroy(old)
    assert worker.current == new
    assert worker.epochs() == [new]
    with pytest.raises(KeyVaultError):
        worker.key(old)


def test_a_key_revoked_by_another_process_stops_working_at_once(store: Store) -> None:
    minting = ApiKeys(store)
    key = minting.mint(Role.ISSUER, country="SG", account="0x" + "22" * 20)
    worker, stale = ApiKeys(store, shared=True), ApiKeys(store)
    worker.authenticate(key)
    stale.authenticate(key)  # both cache the checked key
    minting.revoke(key.split("_")[1])
    with pytest.raises(AuthenticationError):
        worker.authenticate(key)
    assert stale.authenticate(key).role is Role.ISSUER  # what an unshared cache would keep answering


def test_a_key_looked_up_without_scrypt_is_still_refused_once_another_process_revoked_it(store: Store) -> None:
    minting = ApiKeys(store)
    key = minting.mint(Role.CUSTOMS, country="JP")
    worker = ApiKeys(store, shared=True)
    assert worker.known(key) is None  # never checked here: the full check (scrypt) decides
    assert worker.authenticate(key).role is Role.CUSTOMS
    assert worker.known(key) is not None
    assert worker.known(key + "x") is None
    minting.revoke(key.split("_")[1])
    assert worker.known(key) is None
