"""The network's peer links: every connection between two chain nodes through a loopback forwarder.

On a network created with links, member *i* does not dial member *j*'s peer-to-peer
port directly but a forwarder of its own for the pair (*i*, *j*) (its
``static-nodes.json`` names the forwarder's port), which relays the bytes to *j*.
Cutting a pair closes its forwarders and every connection through them, so a
partition is made and healed while every node keeps running, as a broken link
between two administrations would: each side goes on with what it has, and a
node that cannot reach a majority of the sealers stops getting blocks.

The forwarders run in the process that started the network (threads), so a
network with links lives as long as that process (tests, demos, the comparison).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

Pair = tuple[int, int]
"""(dialling member, dialled member)."""

CHUNK = 65536


def pair_key(pair: Pair) -> str:
    """*pair* as written in ``network.json`` (``"0>1"``)."""
    return f"{pair[0]}>{pair[1]}"


def parse_pair(key: str) -> Pair:
    """The pair written as *key* by :func:`pair_key`."""
    dialler, dialled = key.split(">")
    return int(dialler), int(dialled)


@dataclass
class _Forwarder:
    """One pair's listening socket and the connections relayed through it."""

    pair: Pair
    port: int
    target: int
    host: str
    listener: socket.socket | None = None
    open: set[socket.socket] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(16)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True,
                         name=f"link-{pair_key(self.pair)}").start()

    def close(self) -> None:
        """Stop listening and drop every connection through this pair."""
        listener, self.listener = self.listener, None
        if listener is not None:
            _close(listener)
        with self.lock:
            dropped, self.open = self.open, set()
        for sock in dropped:
            _close(sock)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                inbound, _ = listener.accept()
            except OSError:
                return  # closed: the pair was cut or the links stopped
            try:
                outbound = socket.create_connection((self.host, self.target), timeout=2.0)
            except OSError:
                _close(inbound)  # the dialled node is down: the dialler sees a refused peer
                continue
            outbound.settimeout(None)
            with self.lock:
                if self.listener is not listener:
                    _close(inbound)
                    _close(outbound)
                    return
                self.open.update((inbound, outbound))
            for source, sink in ((inbound, outbound), (outbound, inbound)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(CHUNK):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self.lock:
                self.open.difference_update((source, sink))
            _close(source)
            _close(sink)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


class PeerLinks:
    """The forwarders of a network's pairs, and which pairs are cut."""

    def __init__(self, ports: dict[Pair, int], targets: dict[int, int], host: str = "127.0.0.1") -> None:
        """*ports*: each pair's forwarder port; *targets*: each member's peer-to-peer port."""
        self._forwarders = {pair: _Forwarder(pair, port, targets[pair[1]], host) for pair, port in ports.items()}
        self._cut: set[Pair] = set()
        self._started = False

    @property
    def cut(self) -> set[Pair]:
        """The pairs cut now."""
        return set(self._cut)

    def start(self) -> PeerLinks:
        """Listen on every pair that is not cut (again, after :meth:`stop`)."""
        if not self._started:
            for pair, forwarder in self._forwarders.items():
                if pair not in self._cut:
                    forwarder.start()
            self._started = True
        return self

    def stop(self) -> None:
        """Close every forwarder and connection."""
        for forwarder in self._forwarders.values():
            forwarder.close()
        self._started = False

    def partition(self, *groups: Iterable[int]) -> None:
        """Cut every pair whose members are in different *groups* (members in no group keep all their links).

        Raises:
            ValueError: a member in two groups, or one the network does not have.
        """
        sides: dict[int, int] = {}
        members = {member for pair in self._forwarders for member in pair}
        for side, group in enumerate(groups):
            for member in group:
                if member in sides or member not in members:
                    raise ValueError(f"member {member} is in two groups, or not in the network")
                sides[member] = side
        for pair, forwarder in self._forwarders.items():
            a, b = (sides.get(member) for member in pair)
            if a is not None and b is not None and a != b and pair not in self._cut:
                self._cut.add(pair)
                forwarder.close()

    def heal(self) -> None:
        """Restore every cut pair."""
        healed, self._cut = self._cut, set()
        if self._started:
            for pair in healed:
                self._forwarders[pair].start()
