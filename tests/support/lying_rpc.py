"""A JSON-RPC endpoint that lies: a small HTTP server in a thread, forwarding to a real node (Anvil)
and rewriting its answers as a test tells it.

Set :attr:`LyingRpc.lie` to one of these (``None`` tells the truth):

* :func:`forged_status`: ``inspect`` says a revoked (superseded, erased) certificate is ACTIVE;
* :func:`forged_authorisation`: ``inspect`` says the document was anchored by *issuer*, authorised
  at anchoring and still active (for a document never anchored, or a suspended issuer);
* :func:`stale_head`: the head frozen at a past block, later blocks unknown, every ``latest`` read
  answered at that block (a coherent picture of the past, hiding what came later);
* :func:`hidden_events`: ``eth_getLogs`` leaves out events by name (a history without a revocation);
* :func:`together`: several of them at once.

Batches are answered request by request; any path is accepted, so a URL may carry a fake API key.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak

from registry.chain.compiler import load_artifact
from registry.chain.models import CONTRACT_NAME
from registry.sealing.merkle import process_proof

Request = dict[str, Any]
Answer = dict[str, Any]

_ABI: list[dict[str, Any]] = load_artifact(CONTRACT_NAME)["abi"]
_INSPECT = next(e for e in _ABI if e.get("type") == "function" and e["name"] == "inspect")
_VIEW = "(" + ",".join(c["type"] for c in _INSPECT["outputs"][0]["components"]) + ")"
_INSPECT_SELECTOR = "0x" + keccak(text="inspect(bytes32,bytes32[])")[:4].hex()
_ZERO_ADDRESS = "0x" + "00" * 20
_TAGS = ("latest", "pending", "safe", "finalized")


@dataclass
class Lie:
    """Rewrites one JSON-RPC exchange: *before* may change the request, *after* the answer."""

    before: Callable[[Request], Request] = lambda request: request
    after: Callable[[Request, Answer], Answer] = lambda request, answer: answer


def _inspect_lie(patch: Callable[[list[Any], bytes, list[bytes]], None]) -> Lie:
    """Decode every ``inspect`` answer, let *patch* change the view's fields, encode it again."""

    def after(request: Request, answer: Answer) -> Answer:
        if request.get("method") != "eth_call" or "result" not in answer:
            return answer
        call = request["params"][0]
        data = str(call.get("data") or call.get("input") or "")
        if not data.startswith(_INSPECT_SELECTOR):
            return answer
        document_hash, proof = abi_decode(["bytes32", "bytes32[]"], bytes.fromhex(data[10:]))
        (view,) = abi_decode([_VIEW], bytes.fromhex(answer["result"][2:]))
        fields = list(view)
        patch(fields, bytes(document_hash), [bytes(p) for p in proof])
        return {**answer, "result": "0x" + abi_encode([_VIEW], [tuple(fields)]).hex()}

    return Lie(after=after)


def forged_status() -> Lie:
    """``inspect`` says the certificate is ACTIVE, whatever happened to it."""

    def patch(fields: list[Any], document_hash: bytes, proof: list[bytes]) -> None:
        fields[7:13] = [0, 0, 0, _ZERO_ADDRESS, bytes(32), bytes(32)]  # state, reason, changed, by, replacements

    return _inspect_lie(patch)


def forged_authorisation(issuer: str, country: str) -> Lie:
    """``inspect`` says *issuer* (of *country*) anchored the document, was authorised then and is active now."""

    def patch(fields: list[Any], document_hash: bytes, proof: list[bytes]) -> None:
        if int(fields[1], 16) == 0:  # never anchored: invent the batch the proof leads to
            fields[0:5] = [process_proof(document_hash, proof), issuer, country.encode(), 1_700_000_000, 1]
        fields[5:7] = [True, True]

    return _inspect_lie(patch)


def stale_head(block: int) -> Lie:
    """The chain as it was at *block*: head frozen there, later blocks unknown, ``latest`` reads answered there."""
    frozen = hex(block)

    def later(tag: Any) -> bool:
        return isinstance(tag, str) and (tag in _TAGS or (tag.startswith("0x") and int(tag, 16) > block))

    def before(request: Request) -> Request:
        method, params = request.get("method"), list(request.get("params") or [])
        if method == "eth_call" and len(params) > 1 and later(params[1]):
            params[1] = frozen
        elif method == "eth_getLogs" and params and later(params[0].get("toBlock", "latest")):
            params[0] = {**params[0], "toBlock": frozen}
        elif method == "eth_getBlockByNumber" and params and isinstance(params[0], str) and params[0] in _TAGS:
            params[0] = frozen
        return {**request, "params": params}

    def after(request: Request, answer: Answer) -> Answer:
        method, params = request.get("method"), request.get("params") or []
        if method == "eth_blockNumber":
            return {**answer, "result": frozen}
        if method == "eth_getBlockByNumber" and params and later(params[0]):
            return {**answer, "result": None}
        return answer

    return Lie(before=before, after=after)


def hidden_events(*names: str) -> Lie:
    """``eth_getLogs`` answers without the events called *names*."""
    hidden = {"0x" + keccak(text=_event_signature(name)).hex() for name in names}

    def after(request: Request, answer: Answer) -> Answer:
        if request.get("method") != "eth_getLogs" or not isinstance(answer.get("result"), list):
            return answer
        kept = [log for log in answer["result"] if not log.get("topics") or log["topics"][0] not in hidden]
        return {**answer, "result": kept}

    return Lie(after=after)


def together(*lies: Lie) -> Lie:
    """Every one of *lies* at once (a coherent liar forges its calls and its logs alike)."""

    def before(request: Request) -> Request:
        for lie in lies:
            request = lie.before(request)
        return request

    def after(request: Request, answer: Answer) -> Answer:
        for lie in lies:
            answer = lie.after(request, answer)
        return answer

    return Lie(before=before, after=after)


def _event_signature(name: str) -> str:
    entry = next(e for e in _ABI if e.get("type") == "event" and e["name"] == name)
    return f"{name}({','.join(i['type'] for i in entry['inputs'])})"


class LyingRpc:
    """A JSON-RPC proxy on a free loopback port in front of *upstream*; honest until :attr:`lie` is set.

    Use as a context manager (or :meth:`start` / :meth:`stop`).
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.lie: Lie | None = None
        self.requests = 0
        """JSON-RPC requests answered (a batch counts each of its requests)."""
        self.posts = 0
        """HTTP requests answered (a batch counts once)."""
        self.log_queries: list[dict[str, Any]] = []
        """The filter of every ``eth_getLogs`` asked, in order."""
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - the http.server hook
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                proxy.posts += 1
                answer = [proxy.answer(r) for r in body] if isinstance(body, list) else proxy.answer(body)
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="lying-rpc", daemon=True)

    @property
    def url(self) -> str:
        """The proxy's URL."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def answer(self, request: Request) -> Answer:
        """Forward one JSON-RPC request upstream, through the current lie."""
        self.requests += 1
        if request.get("method") == "eth_getLogs":
            self.log_queries.append(dict(request["params"][0]))
        lie = self.lie
        sent = lie.before(request) if lie else request
        raw = urllib.request.Request(self.upstream, data=json.dumps(sent).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(raw, timeout=10) as reply:  # noqa: S310 - loopback Anvil
            answer: Answer = json.loads(reply.read())
        return lie.after(sent, answer) if lie else answer

    def start(self) -> LyingRpc:
        """Start serving."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> LyingRpc:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ["Lie", "LyingRpc", "forged_authorisation", "forged_status", "hidden_events", "stale_head", "together"]
