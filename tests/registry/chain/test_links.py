"""Peer links: a pair's forwarder relays bytes, a cut drops its connections and refuses new ones, a heal
restores it; pairs inside one side of a partition keep their links."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from registry.chain.links import PeerLinks, pair_key, parse_pair
from registry.chain.ports import free_port


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(1024):
            self.request.sendall(data)


@pytest.fixture
def echo_ports() -> Iterator[dict[int, int]]:
    """Three 'members', each an echo server on its own port."""
    servers = [socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo) for _ in range(3)]
    for server in servers:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {i: s.server_address[1] for i, s in enumerate(servers)}
    for server in servers:
        server.shutdown()
        server.server_close()


@dataclass
class Linked:
    links: PeerLinks
    ports: dict[tuple[int, int], int]


@pytest.fixture
def linked(echo_ports: dict[int, int]) -> Iterator[Linked]:
    ports = {(a, b): free_port() for a in echo_ports for b in echo_ports if a != b}
    links = PeerLinks(ports, echo_ports).start()
    yield Linked(links, ports)
    links.stop()


def _echoed(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(b"block")
        return sock.recv(16)


def _connected(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=2)
    sock.sendall(b"hello")
    assert sock.recv(16) == b"hello"
    return sock


def test_a_pair_is_written_and_read_back() -> None:
    assert parse_pair(pair_key((3, 1))) == (3, 1)


def test_a_link_relays_both_ways(linked: Linked) -> None:
    assert _echoed(linked.ports[(0, 1)]) == b"block"


def test_a_cut_drops_the_open_connections_and_refuses_new_ones_until_healed(linked: Linked) -> None:
    links, ports = linked.links, linked.ports
    open_across = _connected(ports[(0, 1)])
    open_inside = _connected(ports[(1, 2)])
    links.partition([0], [1, 2])
    assert links.cut == {(0, 1), (1, 0), (0, 2), (2, 0)}
    assert open_across.recv(16) == b""  # the connection across the cut is closed
    with pytest.raises(OSError):
        _echoed(ports[(2, 0)])
    open_inside.sendall(b"still")
    assert open_inside.recv(16) == b"still"  # links inside one side are untouched
    links.heal()
    assert links.cut == set()
    assert _echoed(ports[(0, 1)]) == b"block"
    open_across.close()
    open_inside.close()


def test_a_member_in_two_groups_or_unknown_is_refused(linked: Linked) -> None:
    links = linked.links
    with pytest.raises(ValueError, match="two groups"):
        links.partition([0], [0, 1])
    with pytest.raises(ValueError, match="not in the network"):
        links.partition([7], [1])
    assert links.cut == set()
