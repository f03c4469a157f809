"""Node accounts: Ethereum keys kept encrypted at rest in the data directory.

Each key file is an eth-account keystore (scrypt + AES-128-CTR, the standard
V3 format) written with mode 0600. The password is derived from the node's
key-encryption key, so a copied data directory without the KEK opens nothing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from registry.errors import KeyVaultError

_KDF_ITERATIONS = 2**14  # scrypt n: the password is a 256-bit random key, not a human one


def write_private_file(path: Path, content: bytes) -> None:
    """Create *path* with mode 0600 (its directory, when new, 0700) and write *content*; refuse to overwrite.

    Raises:
        FileExistsError: if *path* already exists.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)


def load_or_create_account(path: Path, password: bytes) -> LocalAccount:
    """Load the account in keystore *path*, creating a new random one if absent.

    Args:
        path: the keystore file (created 0600).
        password: secret that encrypts the keystore (derive it from the KEK).

    Raises:
        KeyVaultError: if the file is readable by others or cannot be decrypted.
    """
    if path.exists():
        if path.stat().st_mode & 0o077:
            raise KeyVaultError(f"{path.name} is readable by other users; run `chmod 600` on it")
        try:
            key = Account.decrypt(json.loads(path.read_text(encoding="utf-8")), password.hex())
        except (ValueError, KeyError) as error:
            raise KeyVaultError(f"cannot open account keystore {path.name}: wrong key-encryption key?") from error
        account: LocalAccount = Account.from_key(key)
        return account
    account = Account.create()
    keystore = Account.encrypt(account.key, password.hex(), kdf="scrypt", iterations=_KDF_ITERATIONS)
    write_private_file(path, json.dumps(keystore).encode())
    return account


class AccountBook:
    """The Ethereum accounts whose keys this node holds (issuers, authorities, admin).

    Keystores live in *directory*, one file per account, named by address;
    unlocked accounts are cached in memory for signing.
    """

    def __init__(self, directory: Path, password: bytes) -> None:
        self._directory = directory
        self._password = password
        self._unlocked: dict[str, LocalAccount] = {}

    def create(self) -> LocalAccount:
        """Create, store and return a new account."""
        account: LocalAccount = Account.create()
        keystore = Account.encrypt(account.key, self._password.hex(), kdf="scrypt", iterations=_KDF_ITERATIONS)
        write_private_file(self._directory / f"{account.address}.json", json.dumps(keystore).encode())
        self._unlocked[account.address.lower()] = account
        return account

    def get(self, address: str) -> LocalAccount | None:
        """The account with *address*, if this node holds its key."""
        cached = self._unlocked.get(address.lower())
        if cached is not None:
            return cached
        for path in self._directory.glob("*.json"):
            if path.stem.lower() == address.lower():
                account = load_or_create_account(path, self._password)
                self._unlocked[address.lower()] = account
                return account
        return None
