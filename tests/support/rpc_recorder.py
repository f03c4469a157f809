"""A JSON-RPC endpoint that forwards to a real node and records which local process sent each transaction.

The node's processes all reach the chain through it; for every ``eth_sendRawTransaction``
(and the other sending methods) it finds the process that holds the client end of the TCP
connection (``/proc/net/tcp`` gives the socket's inode, ``/proc/<pid>/fd`` who holds it), so a
test can check that only the chain writer process ever sent a transaction.
"""

from __future__ import annotations

import json
import os
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SENDING = {"eth_sendRawTransaction", "eth_sendTransaction"}


def _socket_inode(port: int, server_port: int) -> str | None:
    """The inode of the open local IPv4 TCP socket on *port* connected to *server_port* (the client end of a
    connection to us). An earlier connection from the same port may still be listed, closed (TIME_WAIT,
    inode 0, or to another server): only the open one to us counts."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = int(fields[1].rsplit(":", 1)[1], 16), int(fields[2].rsplit(":", 1)[1], 16), fields[9]
        if local == port and remote == server_port and inode != "0":
            return inode
    return None


def _holder(inode: str) -> int | None:
    """The process holding the socket with *inode* (any process of this user)."""
    target = f"socket:[{inode}]"
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                if os.readlink(fd) == target:
                    return int(entry.name)
        except OSError:
            continue
    return None


class RpcRecorder:
    """Serve on a free loopback port, forward to *upstream*, record ``(method, pid)`` per sending request."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.sent: list[tuple[str, int | None]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="rpc-recorder", daemon=True)

    def __enter__(self) -> RpcRecorder:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _record(self, body: Any, client_port: int) -> None:
        requests = body if isinstance(body, list) else [body]
        methods = [r.get("method") for r in requests if isinstance(r, dict) and r.get("method") in SENDING]
        if not methods:
            return
        inode = _socket_inode(client_port, self._server.server_address[1])
        pid = _holder(inode) if inode else None
        with self._lock:
            self.sent += [(str(method), pid) for method in methods]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                recorder._record(json.loads(raw), self.client_address[1])
                request = urllib.request.Request(recorder.upstream, data=raw,
                                                 headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (loopback)
                    out = answer.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *_: Any) -> None:
                pass

        return Handler
