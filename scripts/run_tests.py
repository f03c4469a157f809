"""The whole test suite, as ``make test`` runs it: two pytest sessions side by side.

Usage: ``python scripts/run_tests.py [pytest options for both sessions]``

* the network scenarios (``-m network``: the four-node EthereumJS consortium, kill, rejoin,
  partition, the fault cells), which mostly wait on the chain's block period;
* everything else (``-m "not network"``: one managed Anvil for the session).

The network scenarios run against the wall clock (a Clique block every second, peers that must
answer within deadlines); the main session's chain mines on demand and waits for nothing. So the
main session runs at a lower priority (:data:`MAIN_NICENESS`) and takes what CPU the network
leaves: on 2 cores, at equal priority, its load made the network scenarios miss their deadlines.

They share no state: each has its own chain, its own temporary directory and its own API
nodes on ports of their own. The main session's output streams; the network session's is
kept in ``.test-network.log`` and printed when it ends. The exit status is the first
failing session's (0 when both pass), so one red session fails the run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NETWORK_LOG = ROOT / ".test-network.log"


MAIN_NICENESS = 10
"""How much lower the main session's priority is than the network session's (``nice``)."""


def session(marker: str, extra: list[str], base: Path, out: int | None = None,
            niceness: int = 0) -> subprocess.Popen[bytes]:
    """One pytest session for *marker*, in a temporary directory of its own under *base*, at *niceness*
    (inherited by everything it starts: its chain, its browsers, its API nodes)."""
    command = [sys.executable, "-m", "pytest", "-q", "-m", marker, f"--basetemp={base / marker.replace(' ', '-')}",
               *extra]
    return subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT if out is not None else None,
                            preexec_fn=(lambda: os.nice(niceness)) if niceness else None)  # noqa: PLW1509


def main(extra: list[str]) -> int:
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="coo-tests-") as base, NETWORK_LOG.open("wb") as log:
        network = session("network", extra, Path(base), log.fileno())
        main_session = session("not network", extra, Path(base), niceness=MAIN_NICENESS)
        main_status = main_session.wait()
        network_status = network.wait()
    print(f"\n--- network scenarios (-m network), {NETWORK_LOG.name} ---", flush=True)
    sys.stdout.write(NETWORK_LOG.read_text(errors="replace"))
    print(f"--- both sessions done in {time.monotonic() - began:.0f} s: main exit {main_status}, "
          f"network exit {network_status} ---", flush=True)
    return main_status or network_status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
