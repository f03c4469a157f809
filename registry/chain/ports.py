"""Free loopback ports for the processes a node, a network or a test starts, that nothing takes before they bind.

Asking the kernel for a free port (binding port 0) and closing the socket leaves a window
before the program the port is meant for binds it. Two kinds of socket can take the port in
that window, and both did on a busy machine:

* **an outgoing connection**: the kernel gives each one a local port from its ephemeral
  range, which is where port 0 is chosen too. So the ports handed out here lie outside that
  range (``/proc/sys/net/ipv4/ip_local_port_range``), where the kernel never picks one.
* **another process handing out ports the same way** (two test sessions, a node and a
  demo): each port handed out is reserved by a lock on byte *port* of one shared file
  (``fcntl`` record lock). A reserved port is skipped by every other process, and the
  reservation ends with the process that made it, however it ends, so a port stays this
  process's while it stops and restarts the program on it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import os
import random
import socket
import tempfile
import threading
from pathlib import Path

EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
DEFAULT_EPHEMERAL = (32768, 60999)
"""Linux's default ephemeral range, assumed where the kernel does not say."""
LOWEST = 1025
"""Below this, ports need privileges."""
ATTEMPTS = 500

_lock = threading.Lock()
_random = random.Random()  # noqa: S311 (a port needs no secrecy; seeded from the OS, again in a forked child)
_reserved: set[int] = set()
_ledger: int | None = None


def ephemeral_range() -> tuple[int, int]:
    """The kernel's ephemeral port range (lowest, highest), both inclusive."""
    try:
        low, high = (int(part) for part in EPHEMERAL_RANGE_FILE.read_text().split())
    except (OSError, ValueError):
        return DEFAULT_EPHEMERAL
    return low, high


def candidate_ports() -> list[int]:
    """Up to :data:`ATTEMPTS` unprivileged ports outside the ephemeral range, in a random order."""
    outside = _outside(*ephemeral_range())
    return _random.sample(outside, min(ATTEMPTS, len(outside)))


@functools.cache
def _outside(low: int, high: int) -> tuple[int, ...]:
    return (*range(LOWEST, low), *range(high + 1, 65536))


def ledger_path() -> Path:
    """The file whose byte *port* a process locks to reserve *port* (one per user, in the temporary directory)."""
    return Path(tempfile.gettempdir()) / f"coo-ports-{os.getuid()}.lock"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on *host* that no socket holds now, reserved for this process until it ends.

    The port is outside the kernel's ephemeral range, and no other process asking this
    function gets it while this one lives.

    Raises:
        OSError: no such port was found.
    """
    with _lock:
        for port in candidate_ports():
            if port in _reserved or not _bindable(host, port) or not _reserve(port):
                continue
            _reserved.add(port)
            return port
    raise OSError(errno.EADDRINUSE, f"no free port on {host} outside the ephemeral range")


def _bindable(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _reserve(port: int) -> bool:
    """Lock byte *port* of the ledger; False if another process holds it. Without a ledger, reserve nothing."""
    global _ledger
    if _ledger is None:
        try:
            _ledger = os.open(ledger_path(), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError:
            return True  # no shared ledger (read-only temporary directory): the range alone protects the port
    try:
        fcntl.lockf(_ledger, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, port)
    except OSError as error:
        if error.errno in (errno.EACCES, errno.EAGAIN):
            return False
        raise
    return True


def _new_lock_after_fork() -> None:
    """A forked child starts with the lock free (a thread of the parent may have held it at the fork) and a random
    order of its own. The parent's ports stay in its set: the child holds none of their locks, but they are the
    parent's, not free."""
    global _lock
    _lock = threading.Lock()
    _random.seed()


with contextlib.suppress(AttributeError):  # os.register_at_fork is POSIX-only
    os.register_at_fork(after_in_child=_new_lock_after_fork)
