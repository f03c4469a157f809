"""Build the zero-knowledge artifacts into registry/zk/artifacts (deterministic: see registry/zk/build.py).

    python scripts/build_circuits.py                 # everything, phase 1 of the ceremony included (minutes)
    python scripts/build_circuits.py --reuse-ptau    # keep the committed phase 1 (pot12.ptau), rebuild the rest
"""

from __future__ import annotations

import argparse
import time

from registry.zk.build import CIRCUITS, PTAU, build
from registry.zk.node import ARTIFACTS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse-ptau", action="store_true", help=f"keep the committed {PTAU} (phase 1)")
    parser.add_argument("--circuit", action="append", choices=CIRCUITS, help="only this circuit (repeatable)")
    args = parser.parse_args()
    started = time.monotonic()
    manifest = build(ARTIFACTS, circuits=tuple(args.circuit or CIRCUITS),
                     ptau=ARTIFACTS / PTAU if args.reuse_ptau else None)
    for name, entry in manifest["circuits"].items():
        print(f"{name}: zkey {entry['zkey'][:16]}…, {entry['public_inputs']} public inputs")
    print(f"built in {time.monotonic() - started:.0f} s into {ARTIFACTS.relative_to(ARTIFACTS.parents[2])}")


if __name__ == "__main__":
    main()
