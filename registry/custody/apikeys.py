"""Bearer API keys: minted once, stored only as scrypt hashes, bound to a role.

A key reads ``coo_<key id>_<secret>``. The node stores the key id, the role and
what the role is bound to (an issuer account, a country), and
``scrypt(secret, salt)``; never the secret. Checking a key looks the id up and
compares hashes in constant time. Because scrypt is deliberately slow, a key
that checked out once is remembered in memory under an HMAC of the presented
key with a per-process secret, so busy clients do not pay scrypt per request.

scrypt runs only for a key whose id the node knows: a malformed key or an
unknown id is refused after one indexed lookup, so a flood of bogus keys costs
the node next to nothing (the HTTP layer also rate-limits failures per client).
That the answer comes faster for an unknown id tells a caller only whether a
random 64-bit key id exists, never anything about a secret, which is still
compared as a scrypt digest in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from eth_utils.address import to_checksum_address

from registry.errors import AuthenticationError

_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
_PREFIX = "coo"
_KEY_ID = re.compile(r"[0-9a-f]{16}")


class Role(StrEnum):
    """What a key may do."""

    ADMIN = "admin"
    AUTHORITY = "authority"
    ISSUER = "issuer"
    CUSTOMS = "customs"

    @property
    def article(self) -> str:
        """The indefinite article before the role's name: ``an`` admin, authority, issuer; ``a`` customs key."""
        return "an" if self.value[0] in "aeiou" else "a"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the role, and the account / country the key is bound to."""

    key_id: str
    role: Role
    country: str | None
    account: str | None
    label: str


@dataclass(frozen=True)
class StoredKey:
    """What the node keeps of a key."""

    principal: Principal
    salt: bytes
    digest: bytes


class KeyRepository(Protocol):
    """Persistence for API keys (implemented by the store)."""

    def save_api_key(self, key: StoredKey) -> None: ...

    def load_api_key(self, key_id: str) -> StoredKey | None: ...

    def list_api_keys(self) -> list[tuple[Principal, float]]: ...

    def delete_api_key(self, key_id: str) -> bool: ...


def _hash(secret: str, salt: bytes) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=salt, **_SCRYPT)


class ApiKeys:
    """Mint and check API keys against a :class:`KeyRepository`.

    Args:
        repository: where the keys are kept.
        shared: other processes revoke keys in the same repository (``coo up --workers N``): a
            checked key found in this process's cache is looked up again (one indexed read, no
            scrypt), so a key revoked by another process stops working here at once.
    """

    def __init__(self, repository: KeyRepository, *, shared: bool = False) -> None:
        self._repository = repository
        self._shared = shared
        self._cache_secret = secrets.token_bytes(32)
        self._cache: dict[bytes, Principal] = {}
        self._lock = threading.Lock()

    def mint(self, role: Role, *, country: str | None = None, account: str | None = None, label: str = "") -> str:
        """Create a key for *role* and return its text: the only time it is ever shown.

        The account is stored checksummed, so every record made under the key
        (a certificate's issuer, for one) has a single spelling of it.
        """
        account = to_checksum_address(account) if account else None
        key_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_bytes(16)
        principal = Principal(key_id, role, country.upper() if country else None, account, label)
        self._repository.save_api_key(StoredKey(principal, salt, _hash(secret, salt)))
        return f"{_PREFIX}_{key_id}_{secret}"

    def listed(self) -> list[tuple[Principal, float]]:
        """Every key's principal and creation time; never a secret or its hash."""
        return self._repository.list_api_keys()

    def revoke(self, key_id: str) -> bool:
        """Revoke a key at once: forgotten by the store and by this process's cache of checked keys.

        Returns:
            Whether there was such a key.
        """
        found = self._repository.delete_api_key(key_id)
        with self._lock:
            for fingerprint in [f for f, p in self._cache.items() if p.key_id == key_id]:
                del self._cache[fingerprint]
        return found

    def _fingerprint(self, presented: str) -> bytes:
        return hmac.new(self._cache_secret, presented.encode(), hashlib.sha256).digest()

    def known(self, presented: str) -> Principal | None:
        """The principal of a key this process has checked before and that is still valid, else None (then
        :meth:`authenticate` checks it in full). Never runs scrypt: a cache look-up, plus one indexed read
        when other processes may have revoked the key (*shared*), cheap enough for an event loop."""
        with self._lock:
            cached = self._cache.get(self._fingerprint(presented))
        if cached is None or (self._shared and self._repository.load_api_key(cached.key_id) is None):
            return None
        return cached

    def authenticate(self, presented: str) -> Principal:
        """Return the principal of a valid key.

        Raises:
            AuthenticationError: for a malformed, unknown or wrong key (one message for all).
        """
        known = self.known(presented)
        if known is not None:
            return known
        fingerprint = self._fingerprint(presented)
        prefix, _, rest = presented.partition("_")
        key_id, _, secret = rest.partition("_")
        stored = self._repository.load_api_key(key_id) if prefix == _PREFIX and _KEY_ID.fullmatch(key_id) and secret \
            else None
        if stored is None:  # malformed or unknown id: no scrypt (see the module docstring)
            raise AuthenticationError("invalid API key")
        if not hmac.compare_digest(_hash(secret, stored.salt), stored.digest):
            raise AuthenticationError("invalid API key")
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[fingerprint] = stored.principal
        return stored.principal
