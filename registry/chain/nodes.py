"""Local EVM node processes: a managed Anvil (and Ganache, for cross-checks).

The node is started from the project's own ``node_modules/.bin`` on a free
loopback port and stopped cleanly. Anvil runs with ``--state`` so that anchored
roots survive a restart, and dumps its state every second so that even a hard
kill loses at most the last second of blocks.

A managed node never outlives the process that started it and never runs twice
on one state file:

* On Linux it is started with ``PR_SET_PDEATHSIG`` (SIGKILL): when the starting
  thread's process dies, however it dies (``kill -9`` included), the kernel kills
  the node. This is applied when the node is started from the main thread (the
  signal follows the starting *thread*, and a pool thread may end at any time).
* The state file is locked (``flock`` on ``<state>.lock``, holding the node's
  pid) by the starting process, and the node inherits the lock: while either
  lives, a second node on the same state file is refused instead of both dumping
  to it in turn.

This module talks JSON-RPC only to wait for readiness; everything else goes
through :mod:`registry.chain.client`.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from registry.chain.compiler import PROJECT_ROOT
from registry.chain.ports import free_port
from registry.errors import ChainUnavailableError

NODE_BIN = PROJECT_ROOT / "node_modules" / ".bin"


def anvil_binary() -> Path:
    """The native Anvil shipped by npm (``@foundry-rs/anvil-<os>-<arch>``), else the Node wrapper.

    Running the native binary directly means the process we signal, kill and
    measure is Anvil itself, not a Node.js launcher in front of it.
    """
    for native in sorted((PROJECT_ROOT / "node_modules" / "@foundry-rs").glob("anvil-*/bin/anvil")):
        if os.access(native, os.X_OK):
            return native
    return NODE_BIN / "anvil"


def rpc_ready(url: str, timeout: float = 1.0) -> bool:
    """True when *url* answers ``eth_chainId``."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 (loopback URL)
            return "result" in json.loads(answer.read())
    except (OSError, urllib.error.URLError, ValueError):
        return False


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child get SIGKILL when its parent dies (Linux only)."""
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved before the fork

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    return preexec


def _lock_state(state_file: Path, timeout: float) -> int:
    """Lock *state_file* for one node; the descriptor returned holds the lock.

    Waits up to *timeout* seconds (a node killed with its parent may take a moment to exit).

    Raises:
        ChainUnavailableError: another node still runs on this state file.
    """
    path = state_file.with_name(state_file.name + ".lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() >= deadline:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                raise ChainUnavailableError(f"another node (pid {holder}) is running on {state_file.name}; "
                                            "stop it first") from None
            time.sleep(0.05)


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    """Signal the node's whole process group (a launcher and what it started)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


@dataclass
class NodeProcess:
    """A local EVM node the registry started itself.

    Args:
        kind: ``"anvil"`` or ``"ganache"``.
        state_file: where Anvil persists its state (ignored by Ganache, which
            persists a database directory next to it instead).
        port: loopback port; a free one is chosen when ``None``.
        chain_id: the chain id the node reports.
        block_time: seconds between blocks; ``None`` mines on demand.
        log_path: where the node's output goes (default: discarded).
    """

    kind: str = "anvil"
    state_file: Path | None = None
    port: int | None = None
    host: str = "127.0.0.1"
    chain_id: int = 31337
    block_time: float | None = None
    log_path: Path | None = None
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _log: IO[bytes] | None = field(default=None, init=False, repr=False)
    _lock: int | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        """The node's HTTP JSON-RPC URL."""
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        """True while the process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The process id, while running."""
        return self._process.pid if self._process is not None else None

    def command(self) -> list[str]:
        """The command line that starts this node."""
        if self.port is None:
            self.port = free_port(self.host)
        if self.kind == "anvil":
            cmd = [str(anvil_binary()), "--host", self.host, "--port", str(self.port),
                   "--chain-id", str(self.chain_id), "--silent"]
            if self.state_file is not None:
                cmd += ["--state", str(self.state_file), "--state-interval", "1"]
            if self.block_time is not None:
                cmd += ["--block-time", str(self.block_time)]
            return cmd
        if self.kind == "ganache":
            cmd = [str(NODE_BIN / "ganache"), "--server.host", self.host, "--server.port", str(self.port),
                   "--chain.chainId", str(self.chain_id), "--logging.quiet", "--chain.hardfork", "shanghai"]
            if self.state_file is not None:
                cmd += ["--database.dbPath", str(self.state_file.with_suffix(".ganache"))]
            if self.block_time is not None:
                cmd += ["--miner.blockTime", str(self.block_time)]
            return cmd
        raise ValueError(f"unknown node kind {self.kind!r}")

    # Complexity (radon C): start-up with its cleanup: state lock, log, spawn, then wait for RPC or an early exit
    def start(self, timeout: float = 30.0) -> NodeProcess:
        """Start the node and wait until it answers JSON-RPC.

        Raises:
            ChainUnavailableError: if the binary is missing or the node does not
                come up within *timeout* seconds.
        """
        if self.running:
            return self
        cmd = self.command()
        if not Path(cmd[0]).exists():
            raise ChainUnavailableError(f"{self.kind} not installed at {cmd[0]}; run `npm install` (or `make run`)")
        if self.state_file is not None:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            self._lock = _lock_state(self.state_file, timeout=min(timeout, 5.0))
        self._log = open(self.log_path, "ab") if self.log_path else None  # noqa: SIM115
        try:
            self._process = subprocess.Popen(
                cmd, stdout=self._log or subprocess.DEVNULL, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent(),  # noqa: PLW1509
                pass_fds=() if self._lock is None else (self._lock,),  # the node holds the lock too
            )
        except BaseException:
            self._release()
            raise
        if self._lock is not None:
            os.ftruncate(self._lock, 0)
            os.pwrite(self._lock, f"{self._process.pid}\n".encode(), 0)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (code := self._process.poll()) is not None:
                self._process = None
                self._release()
                raise ChainUnavailableError(f"{self.kind} exited with code {code} at start")
            if rpc_ready(self.url, timeout=0.5):
                return self
            time.sleep(0.05)
        self.stop()
        raise ChainUnavailableError(f"{self.kind} did not answer on {self.url} within {timeout:.0f} s")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the node gracefully (Anvil writes its state file on SIGTERM)."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            _signal_group(process, signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()
        self._release()

    def _release(self) -> None:
        """Close the log and give up the state-file lock (after the node has exited)."""
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def kill(self) -> None:
        """Kill the node hard (SIGKILL), as a crash would. Its port stays reserved for a restart."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            _signal_group(process, signal.SIGKILL)
            process.wait()
        self._release()

    def __enter__(self) -> NodeProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
