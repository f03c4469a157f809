"""Key vault: per-certificate data keys, wrapped by the node's KEK; crypto-shredding.

* The **key-encryption key** (KEK, 256 bits) comes from ``COO_KEK`` or from a
  file created with mode 0600 on first start; it is never logged or shown.
* Each certificate gets a random AES-256-GCM **data key**. Its sealed document
  and salts are encrypted under it with a 96-bit random nonce and
  AAD = length-prefixed certificate id ‖ issuer, so a ciphertext cannot be moved
  to another certificate. The data key is stored only wrapped (AES-GCM under the
  KEK, AAD bound to the certificate id).
* :meth:`KeyVault.destroy_key` deletes the wrapped key and the encrypted record
  in one transaction (SQLite ``secure_delete`` overwrites the freed pages) and
  returns a destruction receipt signed by the node's account. Without the key and
  the salts nobody can read the record or re-link the on-chain hash to a guessed
  plaintext.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

from registry.errors import DecryptionError, KeyDestroyedError, KeyVaultError

if TYPE_CHECKING:
    from registry.store import Store

_NONCE = 12
_WRAP_AAD = b"coo-kek-wrap/1"


class KEK:
    """The node's key-encryption key. Its repr never shows the key."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise KeyVaultError("the key-encryption key must be 32 bytes")
        self._key = key

    def __repr__(self) -> str:
        return "KEK(<hidden>)"

    __str__ = __repr__

    def wrap(self, data_key: bytes, certificate_id: str) -> bytes:
        """Encrypt a data key for storage."""
        nonce = secrets.token_bytes(_NONCE)
        return nonce + AESGCM(self._key).encrypt(nonce, data_key, _WRAP_AAD + certificate_id.encode())

    def unwrap(self, wrapped: bytes, certificate_id: str) -> bytes:
        """Decrypt a stored data key.

        Raises:
            DecryptionError: wrong KEK, wrong certificate, or tampering.
        """
        try:
            return AESGCM(self._key).decrypt(wrapped[:_NONCE], wrapped[_NONCE:], _WRAP_AAD + certificate_id.encode())
        except (InvalidTag, ValueError):
            raise DecryptionError("cannot unwrap the data key: wrong key-encryption key or tampered record") from None

    def derive(self, purpose: str) -> bytes:
        """A 32-byte secret for *purpose* (e.g. the account keystore password)."""
        return hmac.new(self._key, b"coo-derive/1:" + purpose.encode(), "sha256").digest()


def _decode_kek(text: str) -> bytes:
    text = text.strip()
    try:
        raw = bytes.fromhex(text.removeprefix("0x")) if len(text.removeprefix("0x")) == 64 else \
            base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, binascii.Error):
        raise KeyVaultError("COO_KEK must be 32 bytes as hex or base64url") from None
    if len(raw) != 32:
        raise KeyVaultError("COO_KEK must be 32 bytes as hex or base64url")
    return raw


def load_or_create_kek(path: Path, env_value: str | None = None) -> KEK:
    """The KEK from *env_value* if given, else from *path* (created 0600 if absent).

    Raises:
        KeyVaultError: malformed key, or a key file readable by other users.
    """
    if env_value:
        return KEK(_decode_kek(env_value))
    if path.exists():
        if path.stat().st_mode & 0o077:
            raise KeyVaultError(f"{path.name} is readable by other users; run `chmod 600` on it")
        return KEK(_decode_kek(path.read_text(encoding="ascii")))
    key = secrets.token_bytes(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key.hex() + "\n")
    return KEK(key)


def _aad(certificate_id: str, issuer: str) -> bytes:
    parts = [certificate_id.encode(), issuer.lower().encode()]
    return b"".join(len(p).to_bytes(2, "big") + p for p in parts)


def encrypt(data_key: bytes, plaintext: bytes, certificate_id: str, issuer: str) -> bytes:
    """AES-256-GCM encrypt: ``nonce ‖ ciphertext+tag``."""
    nonce = secrets.token_bytes(_NONCE)
    return nonce + AESGCM(data_key).encrypt(nonce, plaintext, _aad(certificate_id, issuer))


def decrypt(data_key: bytes, blob: bytes, certificate_id: str, issuer: str) -> bytes:
    """Reverse :func:`encrypt`.

    Raises:
        DecryptionError: wrong key, wrong certificate/issuer, or tampering.
    """
    try:
        return AESGCM(data_key).decrypt(blob[:_NONCE], blob[_NONCE:], _aad(certificate_id, issuer))
    except (InvalidTag, ValueError):
        raise DecryptionError("the encrypted record failed authentication") from None


@dataclass(frozen=True)
class DestructionReceipt:
    """Signed evidence that a certificate's key was destroyed."""

    certificate_id: str
    document_hash: str
    destroyed_at: str
    node_account: str
    signature: str = ""

    def body(self) -> bytes:
        """The canonical bytes that are signed."""
        fields = {k: v for k, v in asdict(self).items() if k != "signature"}
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()

    def to_json(self) -> dict[str, str]:
        """The receipt as a JSON object."""
        return asdict(self)


def verify_receipt(receipt: DestructionReceipt) -> bool:
    """True when the receipt was signed by its ``node_account``."""
    try:
        signer = Account.recover_message(encode_defunct(receipt.body()), signature=receipt.signature)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(signer.lower(), receipt.node_account.lower())


class KeyVault:
    """Data keys over the store; the only code that sees them unwrapped."""

    def __init__(self, store: Store, kek: KEK) -> None:
        self._store = store
        self._kek = kek

    def new_wrapped_key(self, certificate_id: str) -> tuple[bytes, bytes]:
        """A fresh data key and its wrapped form (store the latter with the certificate)."""
        key = AESGCM.generate_key(bit_length=256)
        return key, self._kek.wrap(key, certificate_id)

    def data_key(self, certificate_id: str) -> bytes:
        """The unwrapped data key (for decryption or release to an entitled party).

        Raises:
            KeyDestroyedError: after :meth:`destroy_key`.
        """
        wrapped = self._store.wrapped_key(certificate_id)
        if wrapped is None:
            raise KeyDestroyedError(certificate_id)
        return self._kek.unwrap(wrapped, certificate_id)

    def decrypt_record(self, certificate_id: str, issuer: str) -> bytes:
        """Decrypt the stored sealed record of a certificate.

        Raises:
            KeyDestroyedError: the key (and record) were destroyed.
            DecryptionError: the record failed authentication.
        """
        key = self.data_key(certificate_id)
        blob = self._store.sealed_record(certificate_id)
        if blob is None:
            raise KeyDestroyedError(certificate_id)
        return decrypt(key, blob, certificate_id, issuer)

    def destroy_key(self, certificate_id: str, document_hash: bytes, signer: LocalAccount) -> DestructionReceipt:
        """Destroy the data key and the encrypted record of a certificate.

        WARNING: irreversible. After this nobody, the node included, can read the
        certificate's contents or salts. The caller records the erasure on chain.

        Raises:
            KeyDestroyedError: if the key was already destroyed.
        """
        receipt = DestructionReceipt(
            certificate_id=certificate_id,
            document_hash="0x" + document_hash.hex(),
            destroyed_at=datetime.now(UTC).isoformat(timespec="seconds"),
            node_account=signer.address,
        )
        signature = signer.sign_message(encode_defunct(receipt.body())).signature
        signed = DestructionReceipt(**{**asdict(receipt), "signature": "0x" + bytes(signature).hex()})
        if not self._store.shred(certificate_id, json.dumps(signed.to_json())):
            raise KeyDestroyedError(certificate_id)
        return signed
