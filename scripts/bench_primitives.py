"""Per-primitive ceilings of the request hot path: each primitive before and after issue 20, in one run.

Usage: ``python scripts/bench_primitives.py [--repeats 7] [--out results]``.

Every figure is the median (with min and max) of ``--repeats`` timeit repeats, in microseconds
per operation, on the example RCEP certificate and its sealed document; "before" is the former
primitive (``tests/support/former.py``, eth-account, rfc8785, the general integrity check, a
validated copy, a thread hop), "after" what the product now runs. Writes
``results/primitives.json``. CPU time of one process, no server: ceilings, not throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import sys
import timeit
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import anyio
import rfc8785
from eth_account import Account
from eth_account.messages import encode_defunct

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.limits import parse_json  # noqa: E402
from api.routers.verification import _public  # noqa: E402
from api.schemas import VerificationPublic  # noqa: E402
from registry.custody.signer import MessageSigner  # noqa: E402
from registry.domain.report import Check, CheckStatus, Verdict, VerificationReport  # noqa: E402
from registry.sealing import document as sealing_document  # noqa: E402
from registry.sealing.canonical import canonical_json  # noqa: E402
from registry.sealing.document import AnchorRef, build_batch, build_sealed_document, check_integrity  # noqa: E402
from registry.sealing.fields import flatten, fresh_salts, seal  # noqa: E402
from registry.services.verification import VerificationReceipt  # noqa: E402
from tests.support.former import former_problem, former_salts  # noqa: E402

EXAMPLE = json.loads((ROOT / "examples" / "rcep-sg-jp.json").read_text())


def timed(function: Callable[[], Any], repeats: int) -> dict[str, float]:
    """Microseconds per call: median, min and max over *repeats* timeit repeats."""
    number = max(1, int(0.05 / max(timeit.timeit(function, number=3) / 3, 1e-9)))
    per_op = [t / number * 1e6 for t in timeit.repeat(function, number=number, repeat=repeats)]
    return {"median_us": statistics.median(per_op), "min_us": min(per_op), "max_us": max(per_op), "number": number}


def sealed_document() -> Any:
    sealed = seal(EXAMPLE)
    tree = build_batch([sealed.document_hash, os.urandom(32)])
    anchor = AnchorRef(chain_id=31337, contract="0x" + "ab" * 20, batch_root="0x" + tree.root.hex())
    return build_sealed_document(EXAMPLE, sealed, tree.root, tree.proof_for(sealed.document_hash), anchor)


def report() -> VerificationReport:
    checks = [Check(name=name, status=CheckStatus.PASS, reason=f"{name} passed", details={"n": 1})
              for name in ("integrity", "anchored", "issuer_authorised", "status", "validity", "readable")]
    return VerificationReport(verdict=Verdict.VALID, summary="VALID", checks=checks, document_hash="0x" + "12" * 32,
                              checked_at=datetime.now(UTC), chain_id=31337, chain_head=9, disclosed=EXAMPLE,
                              withheld=[])


def general_path() -> Any:
    """The integrity check with its one-pass route closed (patched once, outside the timing)."""
    return mock.patch.object(sealing_document, "_full_document_leaves", return_value=None)


def hop_pairs(repeats: int) -> tuple[dict[str, float], dict[str, float]]:
    """One await of a thread hand-off (anyio's pool, as a sync dependency takes) against an inline call."""
    def noop() -> None:
        return None

    async def hops(count: int) -> None:
        for _ in range(count):
            await anyio.to_thread.run_sync(noop)

    async def inline(count: int) -> None:
        for _ in range(count):
            noop()

    count = 2000
    handed = [timeit.timeit(lambda: asyncio.run(hops(count)), number=1) / count * 1e6 for _ in range(repeats)]
    direct = [timeit.timeit(lambda: asyncio.run(inline(count)), number=1) / count * 1e6 for _ in range(repeats)]

    def summary(values: list[float]) -> dict[str, float]:
        return {"median_us": statistics.median(values), "min_us": min(values), "max_us": max(values), "number": count}
    return summary(handed), summary(direct)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "results")
    args = parser.parse_args()
    repeats = max(5, args.repeats)

    document = sealed_document()
    body = document.model_dump_json().encode()
    fields = list(flatten(EXAMPLE))
    values = [value for _, value in fields]
    account = Account.create()
    signer = MessageSigner(account)
    message = b"coo-verification/1|" + b"r" * 36 + b"|0x" + b"ab" * 32 + b"|2026-03-14T01:02:03+00:00|123"
    shown = report()
    receipt = VerificationReceipt("r-1", "0x" + "34" * 32, "2026-03-14T01:02:03+00:00", 9, account.address,
                                  "0x" + "56" * 65)
    with general_path():
        general = check_integrity(document)
    assert check_integrity(document) == general
    assert signer.sign_message(message) == bytes(account.sign_message(encode_defunct(message)).signature)
    assert parse_json(body, 64)[1] is None and former_problem(body, 64) is None

    pairs: dict[str, tuple[Callable[[], Any], Callable[[], Any]]] = {
        f"salts ({len(fields) + 1} per certificate)": (lambda: former_salts(len(fields) + 1),
                                                      lambda: fresh_salts(len(fields) + 1)),
        "receipt signature (EIP-191)": (lambda: account.sign_message(encode_defunct(message)),
                                        lambda: signer.sign_message(message)),
        "integrity check, full document": (lambda: check_integrity(document), lambda: check_integrity(document)),
        f"JSON guard ({len(body)} B sealed document)": (lambda: former_problem(body, 64), lambda: parse_json(body, 64)),
        f"RFC 8785 of the {len(values)} leaf values": (lambda: [rfc8785.dumps(v) for v in values],
                                                      lambda: [canonical_json(v) for v in values]),
        "report + receipt to the response model": (
            lambda: VerificationPublic(**shown.model_dump(), receipt_id=receipt.receipt_id,
                                       receipt_signature=receipt.signature, node_account=receipt.node_account),
            lambda: _public(shown, receipt)),
    }
    rows: dict[str, Any] = {}
    for name, (before, after) in pairs.items():
        with general_path() if name.startswith("integrity") else contextlib.nullcontext():
            former = timed(before, repeats)
        rows[name] = {"before": former, "after": timed(after, repeats)}
    rows["thread hand-off (one await)"] = dict(zip(("before", "after"), hop_pairs(repeats), strict=True))
    for row in rows.values():
        row["speedup"] = row["before"]["median_us"] / row["after"]["median_us"]
    rows["seal one certificate (after, whole)"] = {"after": timed(lambda: seal(EXAMPLE), repeats)}
    result = {"generated_at": datetime.now(UTC).isoformat(timespec="seconds"), "python": platform.python_version(),
              "machine": platform.machine(), "cpus": os.cpu_count(), "repeats": repeats,
              "unit": "microseconds per operation (median, min, max of the repeats)", "primitives": rows}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "primitives.json").write_text(json.dumps(result, indent=2) + "\n")
    for name, row in rows.items():
        before = f"{row['before']['median_us']:9.1f}" if "before" in row else " " * 9
        ratio = f"{row['speedup']:6.2f}x" if "speedup" in row else ""
        print(f"{name:48} {before} -> {row['after']['median_us']:9.1f} us  {ratio}")


if __name__ == "__main__":
    main()
