"""Nothing accepted is lost: kill -9 the API mid-flush, and kill -9 the chain mid-flush;
a killed node leaves no chain behind."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from registry.chain.nodes import NodeProcess
from registry.errors import ChainUnavailableError
from tests.support.consortium import example
from tests.support.http import LiveApi, assert_exactly_once, wait_all_anchored


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[NodeProcess, LiveApi]]:
    anvil = NodeProcess(kind="anvil", state_file=tmp_path / "anvil.json").start()
    api = LiveApi(anvil.url, tmp_path / "node")
    api.start()
    try:
        yield anvil, api
    finally:
        api.stop()
        anvil.stop()


def register(api: LiveApi, count: int, per_request: int = 100) -> list[str]:
    ids = []
    with httpx.Client(base_url=api.url, headers=api.headers(), timeout=60) as http:
        for _ in range(count // per_request):
            answer = http.post("/v1/certificates/batch", json={"certificates": [example() for _ in range(per_request)]})
            assert answer.status_code == 202, answer.text
            ids += [c["id"] for c in answer.json()["certificates"]]
    return ids


def test_killing_the_api_mid_flush_loses_and_doubles_nothing(setup: tuple[NodeProcess, LiveApi]) -> None:
    anvil, api = setup
    accepted = register(api, 1000)
    api.kill()  # SIGKILL while batches are being anchored
    api.start()
    wait_all_anchored(api.data, accepted)
    assert_exactly_once(anvil, api.data)


def test_killing_the_chain_mid_flush_resends_what_was_lost(setup: tuple[NodeProcess, LiveApi]) -> None:
    anvil, api = setup
    accepted = register(api, 500)
    anvil.kill()  # SIGKILL: up to the last second of blocks is lost from the state file
    time.sleep(0.5)
    more = register(api, 200)  # still accepted while the chain is down
    restarted = NodeProcess(kind="anvil", state_file=anvil.state_file, port=anvil.port).start()
    try:
        wait_all_anchored(api.data, accepted + more)
        time.sleep(1.5)  # one more reorg watch round over the restarted chain
        wait_all_anchored(api.data, accepted + more)
        assert_exactly_once(restarted, api.data)
    finally:
        restarted.stop()


def processes_on(state_file: Path) -> list[int]:
    """PIDs of the live processes whose command line names *state_file* (the Anvils running on it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue  # ended while we looked
        if str(state_file).encode() in argv and state != "Z":
            pids.append(int(entry.name))
    return pids


def wait_for(condition: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.05)


def test_a_node_killed_with_sigkill_takes_its_managed_chain_with_it(tmp_path: Path) -> None:
    api = LiveApi(None, tmp_path / "node")
    state = tmp_path / "node" / "anvil-state.json"
    api.start()
    try:
        first = processes_on(state)
        assert len(first) == 1, first
        api.kill()
        wait_for(lambda: not processes_on(state))
        assert not processes_on(state), f"Anvil {first} outlived its node"
        api.start()  # same data directory: exactly one Anvil again, on the same state
        again = processes_on(state)
        assert len(again) == 1 and again != first
    finally:
        api.stop()
    wait_for(lambda: not processes_on(state))
    assert not processes_on(state)


def test_a_second_chain_on_one_state_file_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "anvil.json"
    with NodeProcess(kind="anvil", state_file=state) as running:
        with pytest.raises(ChainUnavailableError, match=f"pid {running.pid}"):
            NodeProcess(kind="anvil", state_file=state).start(timeout=1)
        assert running.running and len(processes_on(state)) == 1
    with NodeProcess(kind="anvil", state_file=state) as restarted:  # free again once the first stopped
        assert restarted.running
    assert os.stat(state.with_name(state.name + ".lock")).st_mode & 0o077 == 0
