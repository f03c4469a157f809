"""One run of one path of the comparison, in its own process: issue, verify and revoke N certificates.

Usage: ``python scripts/compare_worker.py --path chain|vc-jwt|sd-jwt --n N --out run.json [--block-time S]``

The orchestrator (``scripts/compare.py``) starts one of these per run per path,
interleaved, so that no path inherits another's warm caches, garbage or
threads. Each writes every latency sample (ms), its process CPU per phase
(``time.process_time``: every thread of this process) and, for the chain path,
the Anvil process's CPU over the phase (``/proc``, whole-phase totals: one tick
is 10 ms, so a per-operation figure from a single operation would be noise).

* ``chain``: the node's own services on a fresh Anvil, with the node's default
  batch policy; verification by the node's verifier on a document disclosing
  :data:`~scripts.compare_sdjwt.DISCLOSED` (no receipt), and separately with the
  signed receipt and audit write the API adds.
* ``vc-jwt``: the node's VC issuer; ``vc+jwt`` credentials (full disclosure: a
  JWT cannot withhold fields); the DID document, status list and signed trust
  list each fetched over HTTP from its own host, with the verifier's caches.
* ``sd-jwt``: SD-JWT VCs disclosing the same field set as the chain path.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EXAMPLES = [json.loads((ROOT / "examples" / f"{n}.json").read_text()) for n in ("rcep-sg-jp", "back-to-back-rcep")]
PATHS = ("chain", "vc-jwt", "sd-jwt")


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) process *pid* has used, from ``/proc`` (10 ms ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Phase:
    """Latency samples and CPU of one phase (issue, verify, revoke)."""

    def __init__(self, chain_pid: int | None = None) -> None:
        self.samples_ms: list[float] = []
        self.chain_pid = chain_pid
        self._cpu0 = time.process_time()
        self._chain0 = proc_cpu(chain_pid) if chain_pid else 0.0
        self._wall0 = time.perf_counter()

    def time(self, action: Callable[[], Any]) -> Any:
        began = time.perf_counter()
        result = action()
        self.samples_ms.append((time.perf_counter() - began) * 1000)
        return result

    def close(self, operations: int | None = None, samples_ms: list[float] | None = None) -> dict[str, Any]:
        """The phase's figures; *samples_ms* replaces the timed samples (e.g. acceptance → anchored)."""
        out: dict[str, Any] = {"operations": operations or len(self.samples_ms),
                               "wall_s": time.perf_counter() - self._wall0,
                               "process_cpu_s": time.process_time() - self._cpu0,
                               "samples_ms": [round(s, 4) for s in (samples_ms if samples_ms is not None
                                                                    else self.samples_ms)]}
        if self.chain_pid:
            out["chain_node_cpu_s"] = proc_cpu(self.chain_pid) - self._chain0
            out["chain_node_cpu_tick_s"] = 1 / os.sysconf("SC_CLK_TCK")
        return out


def certificates(n: int, tag: str) -> list[dict[str, Any]]:
    return [{**EXAMPLES[i % 2], "certificate_number": f"CMP-{tag}-{i:06d}"} for i in range(n)]


VERIFY_SAMPLE = 2_000
"""Documents timed in the verify phases: every one up to this many, else this many spread evenly over the run
(at n = 100,000 the store, the event index and the status list hold all of them; timing each verification
would take the run hours and add nothing to percentiles already drawn from 2,000 samples a run)."""


def sampled(sample: int) -> str:
    """The verify phases' note on which documents they time."""
    return f"documents verified: every one up to {sample:,}, else {sample:,} spread over the run"


REVOKE_CAP = 200
"""Most revocations a run times (1 % of n up to this)."""


def spread_indexes(n: int, count: int) -> list[int]:
    """*count* indexes of range(*n*) (at most *n*, at least one), evenly spread."""
    count = max(1, min(n, count))
    return [i * n // count for i in range(count)]


def verified_indexes(n: int, sample: int = VERIFY_SAMPLE) -> list[int]:
    """The documents a run verifies: all, or *sample* spread over the run."""
    return spread_indexes(n, sample)


def revoked_indexes(n: int) -> list[int]:
    """1 % of *n* (at least one, at most :data:`REVOKE_CAP`), spread over the run."""
    return spread_indexes(n, min(REVOKE_CAP, n // 100))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", choices=PATHS, required=True)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--block-time", type=float, default=None, help="Anvil --block-time (default: on demand)")
    parser.add_argument("--verify-sample", type=int, default=VERIFY_SAMPLE, help="most documents verified")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix=f"coo-compare-{args.path}-"))
    if args.path == "chain":
        from scripts.compare_chainpath import run_chain
        result = run_chain(args.n, work, args.block_time, args.verify_sample)
    else:
        from scripts.compare_vcpath import run_vc
        result = run_vc(args.n, work, sd_jwt=args.path == "sd-jwt", sample=args.verify_sample)
    result |= {"path": args.path, "n": args.n, "pid": os.getpid(),
               "finished": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    args.out.write_text(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
