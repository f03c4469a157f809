"""Nothing accepted is lost: kill -9 the API mid-flush, and kill -9 the chain mid-flush."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from registry.nodes import NodeProcess
from tests.api.support import LiveApi, assert_exactly_once, wait_all_anchored
from tests.conftest import example


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
