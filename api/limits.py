"""Limits at the edge: body size while streaming, JSON shape off the event loop, failed keys per client.

* :class:`BodyLimit` refuses a body over its limit with 413 as soon as the
  declared length or the bytes received so far cross it, before anything parses
  it. The larger batch limit applies only to ``POST /v1/certificates/batch`` and
  only with a valid issuer key; everything else, unauthenticated requests
  included, gets the default.
* :class:`JsonGuard` refuses duplicate keys, ``NaN`` and deep nesting; a body
  larger than ``OFFLOAD_BYTES`` is checked in a worker thread, so one large
  request never holds the event loop.
* :class:`FailureLimiter` answers 429 to a client after too many invalid keys in
  a sliding window.
"""

from __future__ import annotations

import collections
import itertools
import json
import threading
import time
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any

import anyio
from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from registry.custody.apikeys import ApiKeys, Principal, Role
from registry.errors import AuthenticationError, TooManyAttemptsError

BATCH_ROUTE = ("POST", "/v1/certificates/batch")
"""The one route that may carry the large batch body (with an issuer key)."""

OFFLOAD_BYTES = 64 << 10
"""JSON bodies larger than this are checked off the event loop."""

PARSED_JSON = "coo.parsed_json"
"""Scope key under which :class:`JsonGuard` leaves ``(body, value)`` of the body it parsed."""


class FailureLimiter:
    """At most *limit* failed authentications per client within *window* seconds.

    Thread-safe (sync dependencies run in a thread pool). Remembers at most
    *max_clients* clients, forgetting the least recently failed first.
    """

    def __init__(self, limit: int = 20, window: float = 60.0, max_clients: int = 10_000) -> None:
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        self._failures: collections.OrderedDict[str, collections.deque[float]] = collections.OrderedDict()
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        """Refuse a client that is over its limit.

        Raises:
            TooManyAttemptsError: with the seconds until its oldest failure leaves the window.
        """
        now = time.monotonic()
        with self._lock:
            failures = self._failures.get(client)
            if failures is None:
                return
            while failures and failures[0] <= now - self.window:
                failures.popleft()
            if len(failures) >= self.limit:
                raise TooManyAttemptsError(max(1, int(failures[0] + self.window - now + 0.999)))

    def failed(self, client: str) -> None:
        """Count one failed authentication for *client*."""
        with self._lock:
            failures = self._failures.pop(client, None) or collections.deque()
            failures.append(time.monotonic())
            while len(failures) > self.limit:
                failures.popleft()
            self._failures[client] = failures
            while len(self._failures) > self.max_clients:
                self._failures.popitem(last=False)


def authenticate(api_keys: ApiKeys, limiter: FailureLimiter, client: str, token: str, *,
                 count_failure: bool = True) -> Principal:
    """Check a bearer key for *client*, refusing a client over its limit of failed keys first.

    The one path every presented key takes (route dependencies and the batch body limit).

    Args:
        count_failure: count an invalid key against *client* (off where the route checks the same key again).

    Raises:
        TooManyAttemptsError: *client* is over its limit (the key is not even looked at).
        AuthenticationError: an invalid key.
    """
    limiter.check(client)
    try:
        return api_keys.authenticate(token)
    except AuthenticationError:
        if count_failure:
            limiter.failed(client)
        raise


class BodyTooLarge(Exception):
    """Raised inside the receive channel once the limit is crossed."""


class BodyLimit:
    """ASGI middleware: 1 MiB for ordinary requests, a larger limit for batch paths."""

    def __init__(self, app: ASGIApp, *, default: int, batch: int) -> None:
        self.app = app
        self.default = default
        self.batch = batch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.batch if await _may_send_a_batch(scope) else self.default
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(send, limit)
            return
        seen = 0
        started = False

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return message

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, tracking)
        except BodyTooLarge:
            if not started:
                await _refuse(send, limit)


async def _may_send_a_batch(scope: Scope) -> bool:
    """True for the batch route with a valid issuer key (a key not seen before is checked off the event loop:
    it may run scrypt)."""
    if (scope.get("method"), scope["path"].rstrip("/")) != BATCH_ROUTE:
        return False
    authorization = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
    scheme, _, token = authorization.partition(" ")
    state = scope["app"].state
    node = getattr(state, "node", None)
    if scheme.lower() != "bearer" or not token or node is None:
        return False
    client = scope["client"][0] if scope.get("client") else "unknown"
    principal = node.context.api_keys.known(token.strip())  # a key checked before: no hand-off, no scrypt
    if principal is None:
        try:
            principal = await anyio.to_thread.run_sync(
                lambda: authenticate(node.context.api_keys, state.auth_failures, client, token.strip(),
                                     count_failure=False))
        except AuthenticationError:
            return False  # the route's own dependency answers 401 or 429 (and counts the failure)
    return bool(principal.role is Role.ISSUER)


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"type": "about:blank", "title": "Payload Too Large", "status": 413,
                       "detail": f"request body over the limit of {limit} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/problem+json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class JsonGuard:
    """ASGI middleware: refuse JSON bodies with duplicate keys, NaN/Infinity, or nesting deeper than 64.

    Python's ``json`` keeps the last of duplicate keys and accepts ``NaN``: both let
    two parties read one document differently, so they are refused up front.
    """

    MAX_DEPTH = 64

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or []) if scope["type"] == "http" else {}
        if scope["type"] != "http" or b"json" not in headers.get(b"content-type", b""):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        problem = await self._parse(scope, body) if body else None
        if problem is not None:
            payload = json.dumps({"type": "about:blank", "title": "Invalid JSON", "status": 400,
                                  "detail": problem}).encode()
            await send({"type": "http.response.start", "status": 400,
                        "headers": [(b"content-type", b"application/problem+json"),
                                    (b"content-length", str(len(payload)).encode())]})
            await send({"type": "http.response.body", "body": payload})
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _parse(self, scope: Scope, body: bytes) -> str | None:
        """Parse *body* (a large one off the event loop) and leave the value for the route; or the problem."""
        if len(body) > OFFLOAD_BYTES:
            parsed, problem = await anyio.to_thread.run_sync(parse_json, body, self.MAX_DEPTH)
        else:
            parsed, problem = parse_json(body, self.MAX_DEPTH)
        if problem is None:
            scope[PARSED_JSON] = (body, parsed)  # read by GuardedRequest.json: the body is parsed once
        return problem


_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_DEPTH_STEP = tuple(1 if byte in b"[{" else -1 for byte in range(256))


def _too_deep(body: bytes, max_depth: int) -> bool:
    """Whether the running count of brackets (``[{`` up, ``]}`` down, inside strings too) passes *max_depth*.

    A cheap structural check before parsing. Counted in C: no depth can pass the number of
    opening brackets, and otherwise only the brackets themselves are walked.
    """
    if body.count(b"[") + body.count(b"{") <= max_depth:
        return False
    return max(itertools.accumulate(map(_DEPTH_STEP.__getitem__, body.translate(None, _NOT_BRACKETS)))) > max_depth


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate key {key!r}")
            seen.add(key)
    return found


def _no_constants(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def _exact_float(text: str) -> float:
    value = float(text)
    if Decimal(text) != Decimal(repr(value)):
        raise ValueError(f"the number {text[:40]} is beyond float precision; send it as a string")
    return value


def _safe_int(text: str) -> int:
    value = int(text)
    if len(text) > 15 and abs(value) > 2**53 - 1:  # 15 digits (with a sign, 14) are always safe
        raise ValueError(f"the integer {text[:40]} is beyond 2^53; send it as a string")
    return value


def parse_json(body: bytes, max_depth: int) -> tuple[Any, str | None]:
    """Parse *body* once, refusing what :class:`JsonGuard` refuses.

    Returns:
        ``(value, None)`` with the value ``json.loads`` gives, or ``(None, problem)`` naming why the
        body is refused: nested deeper than *max_depth*, malformed, a duplicate key, ``NaN`` or
        ``Infinity``, a number beyond float precision or an integer beyond 2^53.
    """
    if _too_deep(body, max_depth):
        return None, f"JSON nested deeper than {max_depth} levels"
    try:
        return json.loads(body, object_pairs_hook=_no_duplicates, parse_constant=_no_constants,
                          parse_float=_exact_float, parse_int=_safe_int), None
    except ValueError as error:
        return None, f"malformed JSON body: {error}"
    except RecursionError:
        return None, f"JSON nested deeper than {max_depth} levels"


class GuardedRequest(Request):
    """A request whose JSON body is the value :class:`JsonGuard` parsed (once), when it parsed this body."""

    async def json(self) -> Any:
        parsed = self.scope.get(PARSED_JSON)
        if parsed is not None and parsed[0] == await self.body():
            return parsed[1]
        return await super().json()


class GuardedRoute(APIRoute):
    """A route reading its body through :class:`GuardedRequest`: one JSON parse per request."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def parsed_once(request: Request) -> Response:
            return await handler(GuardedRequest(request.scope, request.receive))

        return parsed_once
