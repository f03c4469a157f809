"""Helpers for API tests."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from registry.chain.client import ChainClient
from registry.chain.nodes import NodeProcess
from registry.chain.ports import free_port

ROOT = Path(__file__).resolve().parents[2]

PROBLEM = "application/problem+json"


@contextmanager
def served_over_http(app: FastAPI, port: int | None = None) -> Iterator[str]:
    """Serve *app* with uvicorn on a loopback port in a thread; yield its base URL; stop and join it after."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="error"))
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
    assert not thread.is_alive(), "the test server did not stop"


def auth(keys: dict[str, dict[str, str]], role: str) -> dict[str, str]:
    """Authorization header for a demo role."""
    return {"Authorization": f"Bearer {keys[role]['api_key']}"}


async def anchored(client: httpx.AsyncClient, headers: dict[str, str], certificate_id: str,
                   timeout: float = 15.0) -> dict[str, Any]:
    """Poll until the certificate is anchored; return its public record."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        answer = await client.get(f"/v1/certificates/{certificate_id}", headers=headers)
        body: dict[str, Any] = answer.json()
        if body.get("status") != "pending":
            return body
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"certificate {certificate_id} still pending after {timeout} s")
        await asyncio.sleep(0.05)


def assert_problem(answer: httpx.Response, status: int, *words: str) -> dict[str, Any]:
    """The response is problem+json with *status*, and its detail mentions *words*."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM), answer.headers["content-type"]
    body: dict[str, Any] = answer.json()
    assert body["status"] == status and body["title"] and body["detail"]
    for word in words:
        assert word.lower() in body["detail"].lower(), body
    return body


START_TIMEOUT_S = 180.0
"""How long a live node may take to start: it deploys and sets up the demo consortium (several chain writes), and
beside the network scenarios on 2 cores the main session runs niced; these tests check what it does, not how fast."""


class LiveApi:
    """`coo up --demo` against an external chain, restartable on the same port and data."""

    def __init__(self, rpc_url: str | None, data: Path) -> None:
        """With *rpc_url* ``None`` the node starts and manages its own Anvil in *data*."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "COO_DATA_DIR": str(data), "COO_PORT": str(self.port),
                    "COO_BATCH_MAX_WAIT_MS": "100", "COO_BATCH_MAX_SIZE": "128"}
        self.env.pop("COO_RPC_URL", None)
        if rpc_url is not None:
            self.env["COO_RPC_URL"] = rpc_url
        self.data = data
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([str(Path(sys.executable).parent / "coo"), "up", "--demo"],
                                            env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"coo up exited with status {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200 and \
                        (self.data / "demo-keys.json").exists():
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"coo up did not start within {START_TIMEOUT_S:.0f} s:\n{self.log_tail()}")

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

    @property
    def log(self) -> Path:
        """What ``coo up`` printed (beside the data directory)."""
        return self.data.parent / f"{self.data.name}.log"

    def log_tail(self, lines: int = 30) -> str:
        """The last *lines* of :attr:`log`, for a failure's message."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.exists() else ""

    def headers(self) -> dict[str, str]:
        keys = json.loads((self.data / "demo-keys.json").read_text())
        return {"Authorization": f"Bearer {keys['issuer']['api_key']}"}

    def rss_bytes(self) -> int:
        """Resident memory of the API process."""
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0


def wait_all_anchored(data: Path, ids: list[str], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sqlite3.connect(data / "registry.db") as db:
            marks = ",".join("?" * len(ids))
            done = db.execute(f"SELECT COUNT(*) FROM certificates WHERE status <> 'pending' AND batch_id IS NOT NULL"
                              f" AND proof IS NOT NULL AND id IN ({marks})",
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
                             " WHERE c.status = 'anchored'"
                             " AND (b.state IS NULL OR b.state <> 'anchored')").fetchone()[0]
    on_chain = [e.args["root"] for e in chain.events(0, names={"BatchAnchored"}) if e.args["issuer"] == issuer]
    assert orphans == 0
    assert len(roots) == len(set(roots)) and sorted(on_chain) == sorted(roots)
    assert all(chain.batch_of(root).issuer == issuer for root in roots)
