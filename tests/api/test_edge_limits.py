"""Hostile clients at the edge, over real HTTP: huge unauthenticated bodies, floods of bogus keys.

The node must stay responsive to everyone else meanwhile, and must not spend
scrypt on keys whose id it does not know.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

import registry.custody.apikeys
from api.app import create_app
from api.config import Settings
from registry.chain.ports import free_port
from registry.runtime import Node
from tests.support.consortium import example
from tests.support.http import auth, served_over_http

BIG = 28 << 20


@pytest.fixture
def served(node: Node) -> Iterator[str]:
    """The session's node behind its own app (own limiter) on real HTTP."""
    port = free_port()
    with served_over_http(create_app(Settings(port=port, auth_failures_per_minute=10), node), port) as url:
        yield url


def streamed(total: int, chunk: int = 1 << 20) -> Iterator[bytes]:
    """A JSON-looking body of *total* bytes, sent chunked (no Content-Length to refuse it by)."""
    yield b'{"certificates": ["'
    sent = 0
    while sent < total:
        yield b"x" * chunk
        sent += chunk
    yield b'"]}'


def healthz_latencies(url: str, stop: threading.Event, out: list[float]) -> None:
    with httpx.Client(base_url=url, timeout=10) as http:
        while not stop.is_set():
            started = time.monotonic()
            assert http.get("/healthz").status_code == 200
            out.append(time.monotonic() - started)
            time.sleep(0.01)


@pytest.mark.parametrize("path", ["/v1/certificates/batch", "/v1/certificates", "/v1/verify", "/v1/anything/batch"])
@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_huge_unauthenticated_body_is_refused_unparsed_while_healthz_stays_fast(
    served: str, path: str, declared: bool
) -> None:
    latencies: list[float] = []
    stop = threading.Event()
    watcher = threading.Thread(target=healthz_latencies, args=(served, stop, latencies))
    watcher.start()

    def samples_beyond(count: int) -> None:
        deadline = time.monotonic() + 10
        while len(latencies) <= count and time.monotonic() < deadline:
            time.sleep(0.005)

    try:
        samples_beyond(0)  # the watcher is under way before the upload starts
        with httpx.Client(base_url=served, timeout=30) as http:
            body = b"".join(streamed(BIG)) if declared else streamed(BIG)
            try:
                answer = http.post(path, content=body, headers={"Content-Type": "application/json",
                                                                "Authorization": "Bearer coo_0123456789abcdef_nope"})
            except httpx.WriteError:  # the server answered 413 and closed before the upload ended
                answer = None
        samples_beyond(len(latencies))  # and answers again after it
    finally:
        stop.set()
        watcher.join(10)
    if answer is not None:
        assert answer.status_code == 413 and answer.headers["content-type"] == "application/problem+json"
    during = latencies[1:]  # the first answer, before the upload began, also paid for opening the connection
    assert during and max(during) < 0.5, f"/healthz took up to {max(during):.2f} s meanwhile"


def test_the_batch_limit_applies_to_an_issuer_key_on_the_batch_route_only(
    served: str, demo_keys: dict[str, dict[str, str]]
) -> None:
    over_default = b'{"certificates": [], "padding": "' + b"y" * (2 << 20) + b'"}'
    with httpx.Client(base_url=served, timeout=30) as http:
        for key in ("customs", "authority"):
            refused = http.post("/v1/certificates/batch", content=over_default,
                                headers={**auth(demo_keys, key), "Content-Type": "application/json"})
            assert refused.status_code == 413, key
        allowed = http.post("/v1/certificates/batch", content=over_default,
                            headers={**auth(demo_keys, "issuer"), "Content-Type": "application/json"})
        assert allowed.status_code == 422  # read and judged, not refused for its size


def test_a_burst_of_bogus_keys_gets_429_after_the_limit_and_never_runs_scrypt(
    served: str, demo_keys: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    scrypt = registry.custody.apikeys._hash
    monkeypatch.setattr(registry.custody.apikeys, "_hash", lambda secret, salt: calls.append(1) or scrypt(secret, salt))
    with httpx.Client(base_url=served, timeout=10) as http:
        bogus = [f"coo_{i:016x}_guess" for i in range(10)] + ["garbage", "coo__", "coo_zz_zz"]
        statuses = [http.get("/v1/certificates/x", headers={"Authorization": f"Bearer {k}"}).status_code for k in bogus]
        assert statuses[:10] == [401] * 10 and set(statuses[10:]) == {429}
        limited = http.get("/v1/certificates/x", headers={"Authorization": "Bearer coo_0000000000000000_x"})
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        assert limited.headers["content-type"] == "application/problem+json"
        assert not calls, "scrypt ran for a key id the node does not know"
        public = http.get(f"/v1/verify/0x{'11' * 32}")  # public verification is not limited
        assert public.status_code in (200, 404)


def test_a_wrong_secret_for_a_known_key_id_is_refused_after_scrypt(
    served: str, demo_keys: dict[str, dict[str, str]]
) -> None:
    key_id = demo_keys["issuer"]["api_key"].split("_")[1]
    with httpx.Client(base_url=served, timeout=10) as http:
        wrong = http.get("/v1/certificates/x", headers={"Authorization": f"Bearer coo_{key_id}_wrong"})
        right = http.post("/v1/certificates", json=example(), headers=auth(demo_keys, "issuer"))
    assert wrong.status_code == 401 and right.status_code == 202


def test_bogus_keys_on_a_public_route_that_reads_an_optional_key_are_limited_too(served: str) -> None:
    with httpx.Client(base_url=served, timeout=10) as http:
        statuses = [http.get("/v1/verify", params={"issuer": "0x" + "11" * 20, "number": "X-1"},
                             headers={"Authorization": f"Bearer coo_{i:016x}_guess"}).status_code for i in range(12)]
        without_key = http.get("/v1/verify", params={"issuer": "0x" + "11" * 20, "number": "X-1"})
    assert statuses[:10] == [401] * 10 and set(statuses[10:]) == {429}
    assert without_key.status_code != 429  # public verification itself is not limited
