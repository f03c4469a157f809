"""Deploy (or reuse) the registry on any JSON-RPC chain, without Hardhat.

Usage: ``python scripts/deploy.py --rpc-url http://127.0.0.1:8545 --data-dir data``

Creates the node's key-encryption key and account in the data directory on
first use (0600, the account encrypted), funds the account on a development
chain, deploys ``CustomsRegistry`` with it as consortium admin, and records
the deployment in ``<data-dir>/deployment.json``. Idempotent.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from registry.chain.client import ChainClient
from registry.custody.accounts import load_or_create_account
from registry.custody.keys import load_or_create_kek
from registry.errors import ChainUnavailableError, RegistryError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rpc-url", required=True, help="JSON-RPC URL of the chain")
    parser.add_argument("--data-dir", type=Path, default=Path("data"), help="node data directory")
    args = parser.parse_args(argv)
    try:
        kek = load_or_create_kek(args.data_dir / "kek", os.environ.get("COO_KEK"))
        admin = load_or_create_account(args.data_dir / "node-account.json", kek.derive("node-account"))
        chain = ChainClient.connect(args.rpc_url)
        try:
            chain.fund(admin.address)
        except ChainUnavailableError:
            raise
        except RegistryError:
            print(f"note: fund {admin.address} yourself on this network", file=sys.stderr)
        deployment = chain.ensure_deployed(admin, args.data_dir / "deployment.json")
    except RegistryError as error:
        print(f"deploy failed: {error}", file=sys.stderr)
        return 1
    print(json.dumps({**deployment.to_json(), "admin": admin.address}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
