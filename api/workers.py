"""``coo up --workers N``: one chain writer process and N API worker processes on one port.

The process ``coo up`` starts is the supervisor and the *chain writer*: it opens the
node with every background worker (anchoring, the chain-write outbox, the event index,
the shredder, the audit pruner) and is the only process that sends transactions or
counts nonces. It binds the port, then starts N API workers (``python -m api.workers``),
each a fresh interpreter that inherits a listening socket of its own (one of N on the port,
``SO_REUSEPORT``: :func:`api.serve.listen`) and the write end of the wake-up pipe, and serves the
API with a runtime built without a transaction sender (:class:`registry.runtime.ProcessRole`,
:mod:`registry.pipelines.relay`). The kernel spreads the connections across the N sockets.

SIGTERM or SIGINT stops the API workers first (each finishes its requests), then the
writer's workers and the managed chain; ``coo up`` then exits 0 with no process left.
An API worker that dies on its own (killed, out of memory) is started again on its
socket, which the supervisor keeps open, so connections that arrive meanwhile wait in its
queue rather than being refused; a worker that keeps dying (more than
:data:`MAX_RESTARTS` times within :data:`RESTART_WINDOW` seconds) stops the node (exit
status non-zero). A worker whose writer is gone stops itself
(:class:`~registry.pipelines.relay.WriterLink`). An API worker keeps
its resident memory near what it uses (:mod:`api.heap`).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from types import FrameType

import uvicorn

from api.app import node_config
from api.config import Settings, SettingsError, load_settings
from api.heap import ARENAS, HeapTrimmer
from api.serve import server_config
from registry.chain.nodes import _die_with_parent
from registry.runtime import Node, ProcessRole, open_node

log = logging.getLogger("coo.workers")

STOP_TIMEOUT = 30.0
"""Seconds an API worker has to finish its requests after SIGTERM before it is killed."""
BACKLOG = 2048
"""Connections the kernel queues while the API workers start (or are busy)."""
MAX_RESTARTS = 5
RESTART_WINDOW = 60.0
"""An API worker that died more than ``MAX_RESTARTS`` times within ``RESTART_WINDOW`` seconds is not started
again: the node stops (a worker that cannot run would otherwise be restarted for ever)."""


class WorkerExited(RuntimeError):
    """An API worker process ended while the node was serving."""


def worker_environment(node: Node, settings: Settings) -> dict[str, str]:
    """The API workers' environment: this one with the settings ``coo up`` was given as flags, the contract
    the writer attached to and, for a managed Anvil, its URL (the workers must not start chains or deploy
    contracts of their own)."""
    env = dict(os.environ)
    env.update(COO_HOST=settings.host, COO_PORT=str(settings.port))
    env["COO_CONTRACT_ADDRESS"] = node.context.chain.address
    if node.anvil is not None:
        env["COO_RPC_URL"] = node.anvil.url
    env["COO_DATA_DIR"] = str(node.config.data_dir)
    env.setdefault("MALLOC_ARENA_MAX", str(ARENAS))  # see api.heap: a few arenas, not eight per core
    return env


def spawn(listener: socket.socket, wake_fd: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start one API worker serving on *listener* (its own, inherited like the wake-up pipe's write end).

    The worker is killed by the kernel the moment this process dies, however it dies: a worker left
    serving the port without its writer would answer for a node that is gone, and keep the port from
    the node started next on the same data directory.
    """
    fds = (listener.fileno(), wake_fd)
    return subprocess.Popen([sys.executable, "-m", "api.workers", *map(str, fds)], pass_fds=fds, env=env,
                            preexec_fn=_die_with_parent())  # noqa: PLW1509 (prctl only: fork-safe)


class Supervisor:
    """Runs the API worker processes until a stop signal, or until one of them ends.

    Args:
        listeners: one bound socket per API worker, all on the node's address (:func:`api.serve.listen`).
        wake_fd: the wake-up pipe's write end (the writer reads the other end).
        env: the API workers' environment.
        max_restarts: restarts allowed within ``window`` seconds before the node stops.
    """

    def __init__(self, listeners: list[socket.socket], wake_fd: int, env: dict[str, str], *,
                 max_restarts: int = MAX_RESTARTS, window: float = RESTART_WINDOW) -> None:
        self.listeners = listeners
        self.wake_fd = wake_fd
        self.env = env
        self.max_restarts = max_restarts
        self.window = window
        self.children: list[subprocess.Popen[bytes]] = []
        self.restarts: list[float] = []
        """When each restart happened (monotonic seconds)."""
        self._stop = threading.Event()

    def request_stop(self, signum: int, _frame: FrameType | None) -> None:
        """The signal handler: stop at the next check."""
        self._stop.set()

    def run(self) -> None:
        """Start the workers and watch them until a stop is requested; always stops them on return.

        Raises:
            WorkerExited: an API worker kept dying (the others are stopped too).
        """
        previous = {sig: signal.signal(sig, self.request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            for listener in self.listeners:
                listener.listen(BACKLOG)
            self.children = [spawn(listener, self.wake_fd, self.env) for listener in self.listeners]
            while not self._stop.wait(0.2):
                for index, child in enumerate(self.children):
                    if child.poll() is not None and not self._stop.is_set():
                        self.children[index] = self._restart(index, child)
        finally:
            self.stop_children()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _restart(self, index: int, ended: subprocess.Popen[bytes]) -> subprocess.Popen[bytes]:
        """A new API worker on the socket of *ended*, which exited on its own.

        Raises:
            WorkerExited: API workers died more than ``max_restarts`` times within the window.
        """
        now = time.monotonic()
        self.restarts = [at for at in self.restarts if now - at < self.window] + [now]
        if len(self.restarts) > self.max_restarts:
            raise WorkerExited(f"API worker {ended.pid} exited with status {ended.returncode}; {len(self.restarts)} "
                               f"API workers died within {self.window:.0f} s: stopping the node")
        log.error("API worker %s exited with status %s: starting another on its socket", ended.pid, ended.returncode)
        return spawn(self.listeners[index], self.wake_fd, self.env)

    def stop_children(self) -> None:
        """SIGTERM every API worker still running, wait for each (killing one that outstays the timeout)."""
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in self.children:
            try:
                child.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                log.error("API worker %s did not stop within %s s: killed", child.pid, STOP_TIMEOUT)
                child.kill()
                child.wait()


def main(argv: Sequence[str] | None = None) -> int:
    """An API worker: ``python -m api.workers <listening fd> <wake-up fd>`` (started by :func:`spawn`)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        listen_fd, wake_fd = (int(arg) for arg in args)
        settings = load_settings()
        config = replace(node_config(settings), role=ProcessRole.API, wake_fd=wake_fd)
        node = open_node(config)
    except (ValueError, SettingsError) as error:
        print(f"error: API worker: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # one readable line, never a traceback
        print(f"error: API worker could not start: {error or type(error).__name__}", file=sys.stderr)
        return 2
    listener = socket.socket(fileno=listen_fd)
    server = uvicorn.Server(server_config(settings, node))
    trimmer = HeapTrimmer().start()
    try:
        server.run(sockets=[listener])
    finally:
        trimmer.stop()
        node.close()
        listener.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
