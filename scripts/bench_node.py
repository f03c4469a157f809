"""The node under test and the load against it: ``coo up --demo`` as its own process tree, ``wrk`` as the client.

``ApiNode`` starts the node against a given Anvil (with ``--workers N`` when ``coo up --help`` offers
it), waits for ``/readyz`` and reads the demo keys; ``ApiNode.tree`` is its process tree for CPU and
memory. ``load`` runs ``wrk`` with ``bench_wrk.lua`` on a file of requests and returns wrk's figures
with the server's CPU and the client's own CPU over the same interval.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from benchlib import ROOT, ProcessTree, child_cpu

from registry.chain.ports import free_port

COO = str(Path(sys.executable).parent / "coo")
LUA = Path(__file__).resolve().parent / "bench_wrk.lua"


def workers_option() -> list[str]:
    """``["--workers", "<cores>"]`` when this checkout's ``coo up`` takes it, else nothing."""
    helped = subprocess.run([COO, "up", "--help"], capture_output=True, text=True, timeout=60, check=False,
                            env={**os.environ, "COLUMNS": "200"})
    return ["--workers", str(os.cpu_count() or 1)] if "--workers" in helped.stdout else []


class ApiNode:
    """``coo up --demo`` against *rpc_url*, its data in *data*; stopped by :meth:`stop`."""

    def __init__(self, rpc_url: str, data: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data = data
        env = {**os.environ, "COO_RPC_URL": rpc_url, "COO_DATA_DIR": str(data), "COO_PORT": str(self.port)}
        for name in ("COO_BATCH_MAX_WAIT_MS", "COO_BATCH_MAX_SIZE"):  # the node's default batch policy
            env.pop(name, None)
        self.options = workers_option()
        self.process = subprocess.Popen([COO, "up", "--demo", *self.options], env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, cwd=ROOT)
        self.tree = ProcessTree(self.process.pid)
        self._ready()
        self.keys = json.loads((data / "demo-keys.json").read_text())

    def _ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"coo up exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200 and \
                        (self.data / "demo-keys.json").exists():
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)  # polling a starting process
        raise RuntimeError("coo up was not ready in time")

    def key(self, role: str) -> str:
        return str(self.keys[role]["api_key"])

    def header(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key(role)}"}

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.data / 'registry.db'}?mode=ro", uri=True, timeout=30)

    def count(self, status: str | None = None) -> int:
        with self.db() as db:
            if status is None:
                return int(db.execute("SELECT COUNT(*) FROM certificates").fetchone()[0])
            return int(db.execute("SELECT COUNT(*) FROM certificates WHERE status = ?", (status,)).fetchone()[0])

    def settle(self, timeout: float = 600) -> int:
        """Wait until no certificate is pending (anchoring caught up); how many still are at the deadline."""
        deadline = time.monotonic() + timeout
        while (pending := self.count("pending")) and time.monotonic() < deadline:
            time.sleep(0.2)  # polling the store for the anchoring worker's progress
        return pending

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


@dataclass(frozen=True)
class Load:
    """How wrk is run: *connections* over one thread, for *seconds* or until *limit* requests were answered."""

    connections: int = 8
    seconds: float = 10.0
    limit: int = 0
    auth: str = ""
    expect: str = ""


def load(node: ApiNode, lines: list[str], method: str, shape: Load) -> dict[str, Any]:
    """Run wrk against *node* with *lines* (see ``bench_wrk.lua``); its figures plus server and client CPU."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, dir=node.data.parent) as file:
        file.write("\n".join(lines) + "\n")
    duration = f"{max(1, int(shape.seconds))}s" if not shape.limit else "600s"
    command = ["wrk", "-t1", f"-c{shape.connections}", f"-d{duration}", "--timeout", "60s", "-s", str(LUA),
               node.url, "--", file.name, method, str(shape.limit)]
    before, client = node.tree.cpu_by_process(), child_cpu()
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False,
                          env={**os.environ, "BENCH_AUTH": shape.auth, "BENCH_EXPECT": shape.expect})
    after, client = node.tree.cpu_by_process(), child_cpu() - client
    used = {pid: seconds - before.get(pid, 0.0) for pid, seconds in after.items()}
    server = sum(used.values())
    Path(file.name).unlink()
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr[-500:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    seconds = figures["duration_us"] / 1e6
    errors = sum(figures["errors"].values()) - figures["errors"]["status"]
    figures.update(seconds=seconds, per_second=figures["answered"] / seconds, server_cpu_s=server,
                   client_cpu_s=client, socket_errors=errors, connections=shape.connections,
                   busiest_worker_share=busiest_share(used, node.process.pid))
    return figures


def busiest_share(used: dict[int, float], writer: int) -> float:
    """The busiest API worker's share of the API workers' CPU, in % (100 / N when N workers shared the load
    evenly; the writer's own CPU left out). With one process, that process's: 100."""
    workers = [seconds for pid, seconds in used.items() if pid != writer] or [used.get(writer, 0.0)]
    return 100 * max(workers) / max(sum(workers), 1e-9)
