"""Every keccak through eth-hash uses the C Keccak of safe-pysha3 once the registry is imported (eth-hash's
``ETH_HASH_BACKEND`` switch, see :mod:`registry`); a choice made outside is kept. Each case runs in a fresh
interpreter: eth-hash chooses its backend once, at its first hash."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import registry
from eth_utils import keccak
from eth_account import Account
from eth_hash.auto import keccak as auto
digest = keccak(b"abc")
Account.from_key(b"\\x01" * 32).address  # a checksummed address: one more keccak through eth-hash
print(type(auto.hasher.__self__).__name__, digest.hex())
"""
ABC = "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
"""keccak256("abc"), Ethereum's Keccak (not NIST SHA3-256)."""


def _probe(**env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if k != "ETH_HASH_BACKEND"}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env={**clean, **env}, capture_output=True,
                          text=True, timeout=60, check=True)
    return done.stdout.split()


def test_importing_the_registry_makes_eth_hash_use_the_c_keccak_and_the_digests_stay_the_same() -> None:
    assert _probe() == ["PySha3Backend", ABC]


def test_a_backend_chosen_outside_is_kept() -> None:
    assert _probe(ETH_HASH_BACKEND="pycryptodome") == ["CryptodomeBackend", ABC]
