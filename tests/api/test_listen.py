"""The API's listening sockets (:func:`api.serve.listen`): one per API worker, and a busy port still refused.

With ``--workers N`` each API worker has a socket of its own on the node's port (``SO_REUSEPORT``), so
the kernel spreads connections across them (the burst test in ``test_workers.py`` shows it on a
running node). These tests pin the sockets themselves: how many, on which port, and that neither a
port another program holds nor one a running node's workers hold can be joined.
"""

from __future__ import annotations

import socket

import pytest

from api.config import SettingsError
from api.serve import listen


def _close(sockets: list[socket.socket]) -> None:
    for s in sockets:
        s.close()


def test_one_process_gets_one_plain_socket() -> None:
    [only] = listen("127.0.0.1", 0)
    try:
        assert only.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 0
    finally:
        only.close()


def test_each_worker_gets_its_own_socket_on_the_one_port_and_each_takes_connections() -> None:
    sockets = listen("127.0.0.1", 0, 3)
    try:
        assert len({s.fileno() for s in sockets}) == 3
        assert len({s.getsockname() for s in sockets}) == 1
        assert all(s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) for s in sockets)
        for s in sockets:
            s.listen(64)
            s.setblocking(False)
        port = sockets[0].getsockname()[1]
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(48)]
        accepted = []
        for s in sockets:
            taken = 0
            while True:
                try:
                    connection, _ = s.accept()
                except BlockingIOError:
                    break
                connection.close()
                taken += 1
            accepted.append(taken)
        _close(clients)
        assert sum(accepted) == 48
        assert all(accepted), f"connections per socket: {accepted}"  # 3 sockets, 48 connections: each has some
    finally:
        _close(sockets)


def test_a_port_another_program_holds_is_refused_for_shared_sockets_too() -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        with pytest.raises(SettingsError, match="the port is in use"):
            listen("127.0.0.1", taken.getsockname()[1], 2)
    finally:
        taken.close()


@pytest.mark.parametrize("second", [1, 2])
def test_a_port_a_running_nodes_workers_hold_is_not_joined_by_another_node(second: int) -> None:
    held = listen("127.0.0.1", 0, 2)
    try:
        for s in held:
            s.listen(8)
        with pytest.raises(SettingsError, match="the port is in use"):
            listen("127.0.0.1", held[0].getsockname()[1], second)
    finally:
        _close(held)
