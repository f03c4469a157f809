"""Nothing accepted is lost: kill -9 the API mid-flush, and kill -9 the chain mid-flush."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from registry.chain import ChainClient
from registry.nodes import NodeProcess, free_port
from tests.conftest import example

ROOT = Path(__file__).resolve().parents[2]


class LiveApi:
    """`coo up --demo` against an external chain, restartable on the same port and data."""

    def __init__(self, rpc_url: str, data: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "COO_RPC_URL": rpc_url, "COO_DATA_DIR": str(data), "COO_PORT": str(self.port),
                    "COO_BATCH_MAX_WAIT_MS": "100", "COO_BATCH_MAX_SIZE": "128"}
        self.data = data
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen([str(Path(sys.executable).parent / "coo"), "up", "--demo"], env=self.env,
                                        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200 and \
                        (self.data / "demo-keys.json").exists():
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("coo up did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def headers(self) -> dict[str, str]:
        keys = json.loads((self.data / "demo-keys.json").read_text())
        return {"Authorization": f"Bearer {keys['issuer']['api_key']}"}


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


def wait_all_anchored(data: Path, ids: list[str], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sqlite3.connect(data / "registry.db") as db:
            marks = ",".join("?" * len(ids))
            done = db.execute(f"SELECT COUNT(*) FROM certificates WHERE status = 'anchored' AND id IN ({marks})",
                              ids).fetchone()[0]
        if done == len(ids):
            return
        time.sleep(0.2)
    raise AssertionError(f"only {done} of {len(ids)} accepted certificates were anchored")


def assert_exactly_once(anvil: NodeProcess, data: Path) -> None:
    """Every anchored batch's root is on chain once, and the chain holds no root the store does not know."""
    address = json.loads((data / "deployment.json").read_text())["address"]
    chain = ChainClient.connect(anvil.url, address)
    issuer = json.loads((data / "demo-keys.json").read_text())["issuer"]["account"]
    with sqlite3.connect(data / "registry.db") as db:
        roots = [bytes(r[0]) for r in db.execute("SELECT root FROM batches WHERE state = 'anchored'")]
        orphans = db.execute("SELECT COUNT(*) FROM certificates c LEFT JOIN batches b ON b.id = c.batch_id"
                             " WHERE c.status = 'anchored' AND (b.state IS NULL OR b.state <> 'anchored')").fetchone()[0]
    on_chain = [e.args["root"] for e in chain.events(0, names={"BatchAnchored"}) if e.args["issuer"] == issuer]
    assert orphans == 0
    assert len(roots) == len(set(roots)) and sorted(on_chain) == sorted(roots)
    assert all(chain.batch_of(root).issuer == issuer for root in roots)


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
