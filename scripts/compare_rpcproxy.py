"""A JSON-RPC endpoint in front of an EVM node that counts bytes and can be taken down on its own.

Several of these in front of one Anvil stand in for the RPC endpoints of a
network's members (each verifier talks to its own); :meth:`RpcEndpoint.down`
closes one port without touching the chain behind it. Every request and answer
is counted (bytes each way, and the methods called), which is the chain path's
bandwidth between a node and its RPC; the transaction hashes it relays are kept
so the cost of what was sent can be read from the receipts.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx

from scripts.compare_hosts import LoopbackServer


class RpcEndpoint:
    """Forward JSON-RPC POSTs on a loopback port to *upstream*.

    Args:
        upstream: the node's RPC URL.
        name: for messages.
    """

    def __init__(self, upstream: str, name: str = "rpc") -> None:
        self.upstream = upstream
        self.name = name
        self.port = 0
        self.bytes_in = 0
        self.bytes_out = 0
        self.methods: Counter[str] = Counter()
        self.sent: list[str] = []
        self._client = httpx.Client(timeout=60)
        self._server: LoopbackServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> dict[str, Any]:
        """The counters so far, then zero them."""
        with self._lock:
            out = {"bytes_in": self.bytes_in, "bytes_out": self.bytes_out, "methods": dict(self.methods)}
            self.bytes_in = self.bytes_out = 0
            self.methods.clear()
            return out

    def _count(self, body: bytes, answer: bytes) -> None:
        try:
            request, response = json.loads(body), json.loads(answer)
        except ValueError:
            return
        pairs = zip(request, response, strict=False) if isinstance(request, list) else [(request, response)]
        with self._lock:
            self.bytes_in += len(body)
            self.bytes_out += len(answer)
            for call, result in pairs:
                if not isinstance(call, dict):
                    continue
                self.methods[str(call.get("method"))] += 1
                if call.get("method") == "eth_sendRawTransaction" and isinstance(result, dict) and "result" in result:
                    self.sent.append(str(result["result"]))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    answer = endpoint._client.post(endpoint.upstream, content=body,
                                                   headers={"Content-Type": "application/json"})
                except httpx.TransportError:
                    self.send_error(502)
                    return
                endpoint._count(body, answer.content)
                self.send_response(answer.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the stdlib's name)
                return

        return Handler

    def up(self) -> RpcEndpoint:
        """Open the port (the same one after a :meth:`down`)."""
        if self._server is None:
            self._server = LoopbackServer(("127.0.0.1", self.port), self._handler())
            self.port = self._server.server_address[1]
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                            name=f"compare-rpc-{self.name}", daemon=True)
            self._thread.start()
        return self

    def down(self) -> None:
        """Close the port: the node behind it keeps running."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(5)
