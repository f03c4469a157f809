"""The VC path's HTTP hosts for the comparison: a host that can be taken down, and a signed trust list.

:class:`Host` serves documents on a loopback port from a thread and counts
what it serves; :meth:`Host.down` closes the port (a client gets *connection
refused*), :meth:`Host.up` opens it again on the same port. The DID host, the
status host, a mirror and the trust-list host are separate :class:`Host`\\ s,
so each can fail on its own.

The VC trust list is modelled as what reaches a verifier in practice: a JSON
document (country → issuer DIDs) signed as a JWS by a trust-list operator and
fetched over HTTP with a cache, like a status list (:class:`TrustListFetcher`).
Its fetches and bytes are counted, and its signature is checked on every fetch.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from registry.vc.jose import parse_compact, sign_compact, verify_signature
from registry.vc.keys import IssuerKey

Body = Callable[[], tuple[str, bytes]]
"""What a path serves: a function giving (media type, bytes), called per request."""


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Host:
    """Serve *routes* on 127.0.0.1 (a fixed port once chosen), counting requests and bytes.

    Args:
        name: for messages.
        routes: path → :data:`Body`.
    """

    def __init__(self, name: str, routes: Mapping[str, Body] | None = None) -> None:
        self.name = name
        self.routes: dict[str, Body] = dict(routes or {})
        self.requests = 0
        self.bytes_served = 0
        self.port = 0
        self._server: LoopbackServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def origin(self) -> str:
        """``127.0.0.1:<port>`` (what a ``did:web`` names)."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{self.origin}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
                body = host.routes.get(self.path.split("?", 1)[0])
                if body is None:
                    self.send_error(404)
                    return
                media_type, content = body()
                self.send_response(200)
                self.send_header("Content-Type", media_type)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
                with host._lock:
                    host.requests += 1
                    host.bytes_served += len(content)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the stdlib's name)
                return

        return Handler

    def up(self) -> Host:
        """Open the port (the same one as before, after a :meth:`down`)."""
        if self._server is not None:
            return self
        self._server = LoopbackServer(("127.0.0.1", self.port), self._handler())
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"compare-host-{self.name}", daemon=True)
        self._thread.start()
        return self

    def down(self) -> None:
        """Close the port: clients now get *connection refused*."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(5)


def json_body(document: Callable[[], Any], media_type: str = "application/json") -> Body:
    """A route serving ``document()`` as JSON."""
    return lambda: (media_type, json.dumps(document()).encode())


def text_body(text: Callable[[], str], media_type: str) -> Body:
    """A route serving ``text()``."""
    return lambda: (media_type, text().encode())


# -- the trust list ------------------------------------------------------------------------


def sign_trust_list(operator: IssuerKey, issuers: Mapping[str, list[str]], now: float) -> str:
    """The trust list (exporting country → DIDs of authorised issuing bodies) as a JWS by *operator*."""
    payload = {"iss": operator.did, "iat": int(now), "type": "CertificateOfOriginTrustList",
               "issuers": {country: sorted(dids) for country, dids in issuers.items()}}
    return sign_compact(payload, operator.private_key, kid=operator.kid, typ="JWT", cty=None)


class TrustListUnavailable(Exception):
    """The trust list could not be fetched, or its signature did not verify."""


class TrustListFetcher:
    """Fetch and check the signed trust list, cached for *ttl* seconds (``0``: every verification).

    Args:
        http: the client.
        url: where the list is published.
        operator: the operator's key (its public half is what the verifier is configured with).
        ttl: cache lifetime in seconds.
        clock: monotonic seconds (injectable, for the sweeps).
    """

    def __init__(self, http: httpx.Client, url: str, operator: IssuerKey, *, ttl: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.http, self.url, self.operator, self.ttl, self.clock = http, url, operator, ttl, clock
        self.fetches = 0
        self.bytes_fetched = 0
        self._cached: tuple[float, dict[str, set[str]]] | None = None

    def issuers(self) -> dict[str, set[str]]:
        """Country → trusted issuer DIDs.

        Raises:
            TrustListUnavailable: the host is down or the list is not the operator's.
        """
        if self._cached is not None and self.clock() - self._cached[0] < self.ttl:
            return self._cached[1]
        try:
            answer = self.http.get(self.url, timeout=5.0)
        except httpx.TransportError as error:
            raise TrustListUnavailable(f"trust list host unreachable ({type(error).__name__})") from None
        self.fetches += 1
        self.bytes_fetched += len(answer.content)
        if answer.status_code != 200:
            raise TrustListUnavailable(f"trust list host answered {answer.status_code}")
        jws = parse_compact(answer.text.strip())
        verify_signature(jws, self.operator.public_key)
        listed = {country: set(dids) for country, dids in jws.payload["issuers"].items()}
        self._cached = (self.clock(), listed)
        return listed
