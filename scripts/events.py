"""Print every registry event on a chain, decoded from the committed ABI.

Usage: ``python scripts/events.py --rpc-url http://127.0.0.1:8545 --data-dir data [--from-block N]``
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from registry.chain.client import ChainClient
from registry.errors import RegistryError


def _plain(value: Any) -> Any:
    return "0x" + value.hex() if isinstance(value, bytes) else value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rpc-url", required=True)
    parser.add_argument("--data-dir", type=Path, default=Path("data"))
    parser.add_argument("--address", help="registry address (default: from <data-dir>/deployment.json)")
    parser.add_argument("--from-block", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        address = args.address or json.loads((args.data_dir / "deployment.json").read_text())["address"]
        chain = ChainClient.connect(args.rpc_url, address)
        for event in chain.events(args.from_block):
            fields = ", ".join(f"{k}={_plain(v)}" for k, v in event.args.items())
            print(f"block {event.block_number:>6}  {event.name:<22} {fields}")
    except (RegistryError, OSError, KeyError, ValueError) as error:
        print(f"events failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
