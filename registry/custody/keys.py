"""Keys and their primitives: the KEK, data keys, record encryption, destruction receipts.

* The **key-encryption key** (:class:`KEK`, 256 bits) comes from ``COO_KEK``
  (hex or base64url) or from a key file created with mode 0600 on first start.
  A key file that group or others may access is refused. The key never appears
  in a repr, a log line or an error message, and cannot be pickled.
* Each certificate gets a random AES-256-GCM **data key** (:class:`DataKey`).
  Its sealed document (with the salts) is encrypted under it with a fresh
  96-bit random nonce and AAD = length-prefixed certificate id ‖ issuer
  (:func:`record_aad`), so a ciphertext cannot be moved to another certificate
  or issuer. Stored form: ``nonce ‖ ciphertext ‖ tag``.
* Data keys are stored only **wrapped**: AES-256-GCM under a KEK (an epoch KEK,
  see below) with its own random nonce and AAD ``"coo-kek-wrap/1" ‖ certificate
  id``. AES key wrap
  (RFC 3394) was the alternative; it takes no associated data, so a wrapped key
  copied onto another certificate's row would unwrap without complaint. GCM
  binds each wrapped key to its certificate and uses the same primitive as the
  records. Random 96-bit nonces keep within NIST's 2^32 messages per key:
  a KEK wraps once per certificate, a data key encrypts a handful of records.
* Data keys are kept by :class:`registry.custody.vault.KeyVault`, wrapped under epoch
  KEKs (:mod:`registry.custody.epochs`) that erasure retires; the root KEK above wraps
  the epoch KEKs and derives the node's other secrets. Without the data key and
  the salts nobody can read a record or re-link the on-chain hash to a guessed
  plaintext. :class:`DestructionReceipt` is the signed evidence of an erasure.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import re
import secrets
import stat
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NoReturn

import rfc8785
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_keys.exceptions import BadSignature
from eth_utils.exceptions import ValidationError as SignatureValidationError

from registry.entropy import random_bytes
from registry.errors import DecryptionError, KeyVaultError

KEY_BYTES = 32
NONCE_BYTES = 12
_TAG_BYTES = 16
_WRAP_AAD = b"coo-kek-wrap/1"
_DERIVE = b"coo-derive/1:"
RECEIPT_TYPE = "coo-destruction-receipt/1"
"""Domain tag folded into every signed receipt body, so the signature means nothing elsewhere."""


class _Secret:
    """32 secret bytes that never show in repr/str, compare in constant time and refuse pickling."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes) or len(key) != KEY_BYTES:
            raise KeyVaultError(f"a {type(self).__name__} must be {KEY_BYTES} bytes")
        self._key = key

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<hidden>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and hmac.compare_digest(self._key, other._key)

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> NoReturn:
        raise TypeError(f"a {type(self).__name__} cannot be pickled")


class KEK(_Secret):
    """The node's key-encryption key (AES-256). Its repr never shows the key."""

    __slots__ = ()

    def wrap(self, data_key: DataKey, certificate_id: str) -> bytes:
        """Encrypt *data_key* for storage, bound to *certificate_id*.

        Returns:
            ``nonce ‖ ciphertext ‖ tag`` (60 bytes).
        """
        nonce = random_bytes(NONCE_BYTES)
        return nonce + AESGCM(self._key).encrypt(nonce, data_key.unsafe_bytes(), _wrap_aad(certificate_id))

    def unwrap(self, wrapped: bytes, certificate_id: str) -> DataKey:
        """Decrypt a stored data key.

        Raises:
            DecryptionError: wrong KEK, wrapped for another certificate, or tampered.
        """
        try:
            raw = AESGCM(self._key).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _wrap_aad(certificate_id))
        except (InvalidTag, ValueError):
            raise DecryptionError("cannot unwrap the data key: wrong key-encryption key or tampered record") from None
        return DataKey(raw)

    def derive(self, purpose: str) -> bytes:
        """A 32-byte secret for *purpose* (e.g. the node account's keystore password), HMAC-SHA256 of the KEK."""
        return hmac.new(self._key, _DERIVE + purpose.encode(), "sha256").digest()


class DataKey(_Secret):
    """One certificate's AES-256-GCM data key. Its repr never shows the key."""

    __slots__ = ()

    @classmethod
    def generate(cls) -> DataKey:
        """A fresh random data key."""
        return cls(random_bytes(KEY_BYTES))

    def encrypt(self, plaintext: bytes, aad: bytes) -> bytes:
        """Encrypt and authenticate *plaintext* with associated data *aad*.

        Returns:
            ``nonce ‖ ciphertext ‖ tag`` with a fresh random 96-bit nonce.
        """
        nonce = random_bytes(NONCE_BYTES)
        return nonce + AESGCM(self._key).encrypt(nonce, plaintext, aad)

    def decrypt(self, blob: bytes, aad: bytes) -> bytes:
        """Reverse :meth:`encrypt`.

        Raises:
            DecryptionError: wrong key, wrong AAD, truncated or tampered ciphertext.
        """
        if len(blob) < NONCE_BYTES + _TAG_BYTES:
            raise DecryptionError("the encrypted record is truncated")
        try:
            return AESGCM(self._key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
        except (InvalidTag, ValueError):
            raise DecryptionError("the encrypted record failed authentication") from None

    def unsafe_bytes(self) -> bytes:
        """The raw key.

        WARNING: whoever holds these bytes can read the certificate until it is
        erased, and a copy outside the vault survives :meth:`KeyVault.destroy_key`.
        Only for wrapping and for key release to an entitled party.
        """
        return self._key


# -- the KEK --------------------------------------------------------------------------


def _decode_kek(text: str, source: str) -> bytes:
    text = text.strip()
    digits = text[2:] if text[:2] in ("0x", "0X") else text
    try:
        if len(digits) == 2 * KEY_BYTES:
            raw = bytes.fromhex(digits)
        else:
            raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (ValueError, binascii.Error):
        raise KeyVaultError(f"{source} is not a key: expected 32 bytes as hex or base64url") from None
    if len(raw) != KEY_BYTES:
        raise KeyVaultError(f"{source} is not a key: expected 32 bytes as hex or base64url")
    return raw


def _read_kek_file(path: Path) -> KEK:
    fd = os.open(path, os.O_RDONLY)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise KeyVaultError(f"the key-encryption key file {path} is not a regular file")
        if info.st_mode & 0o077:
            raise KeyVaultError(
                f"refusing the key-encryption key file {path}: its mode {info.st_mode & 0o777:04o} lets group or "
                f"others access it; run `chmod 600 {path}`")
        data = os.read(fd, 4096)
    finally:
        os.close(fd)
    return KEK(_decode_kek(data.decode("ascii", errors="replace"), f"the key file {path}"))


def _create_kek_file(path: Path) -> KEK:
    """Write a new random KEK to *path* atomically: a private temp file, then a hard link (never replaces)."""
    key = secrets.token_bytes(KEY_BYTES)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)  # whatever the umask
            handle.write((key.hex() + "\n").encode("ascii"))
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temp, path)  # FileExistsError if another process won the race; never replaces
    finally:
        temp.unlink(missing_ok=True)
    return KEK(key)


def load_or_create_kek(path: Path, env_value: str | None = None) -> KEK:
    """The node's KEK: from *env_value* (``COO_KEK``) if set, else from *path*, created 0600 if absent.

    Args:
        path: the key file (hex, one line); never commit it.
        env_value: 32 bytes as hex or base64url; wins over the file, which is then not touched.

    Returns:
        The key-encryption key.

    Raises:
        KeyVaultError: a malformed key, or a key file that group or others may access.
    """
    if env_value is not None and env_value.strip():
        return KEK(_decode_kek(env_value, "COO_KEK"))
    try:
        return _read_kek_file(path)
    except FileNotFoundError:
        pass
    try:
        return _create_kek_file(path)
    except FileExistsError:
        return _read_kek_file(path)


# -- records ------------------------------------------------------------------------------


def record_aad(certificate_id: str, issuer: str) -> bytes:
    """Associated data binding a record to its certificate and issuer (address compared case-insensitively).

    Each part is prefixed with its 2-byte length, so no two (id, issuer) pairs share an encoding.

    Raises:
        KeyVaultError: a part longer than 65,535 bytes.
    """
    parts = (certificate_id.encode(), issuer.lower().encode())
    if any(len(p) > 0xFFFF for p in parts):
        raise KeyVaultError("certificate id or issuer too long for the record AAD")
    return b"".join(len(p).to_bytes(2, "big") + p for p in parts)


def _wrap_aad(certificate_id: str) -> bytes:
    return _WRAP_AAD + certificate_id.encode()


def _as_key(data_key: DataKey | bytes) -> DataKey:
    return data_key if isinstance(data_key, DataKey) else DataKey(data_key)


def encrypt(data_key: DataKey | bytes, plaintext: bytes, certificate_id: str, issuer: str) -> bytes:
    """Encrypt a record of *certificate_id* / *issuer*: ``nonce ‖ ciphertext ‖ tag``."""
    return _as_key(data_key).encrypt(plaintext, record_aad(certificate_id, issuer))


def decrypt(data_key: DataKey | bytes, blob: bytes, certificate_id: str, issuer: str) -> bytes:
    """Reverse :func:`encrypt`.

    Raises:
        DecryptionError: wrong key, wrong certificate/issuer, or tampering.
    """
    return _as_key(data_key).decrypt(blob, record_aad(certificate_id, issuer))


# -- destruction receipts --------------------------------------------------------------


@dataclass(frozen=True)
class DestructionReceipt:
    """Signed evidence that a certificate's key was destroyed.

    ``signature`` is an EIP-191 (``personal_sign``) signature by ``node_account``
    over :meth:`body`: RFC 8785 canonical JSON of the other fields plus ``type``.
    """

    certificate_id: str
    document_hash: str
    destroyed_at: str
    node_account: str
    signature: str = ""

    def body(self) -> bytes:
        """The canonical bytes that are signed (everything but the signature, plus the domain tag)."""
        fields: dict[str, str] = {k: v for k, v in asdict(self).items() if k != "signature"}
        return rfc8785.dumps({**fields, "type": RECEIPT_TYPE})

    def to_json(self) -> dict[str, str]:
        """The receipt as a JSON object."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DestructionReceipt:
        """Rebuild a receipt from :meth:`to_json` output (unknown keys are ignored)."""
        return cls(**{name: str(data[name]) for name in cls.__dataclass_fields__ if name in data})


_SIGNATURE = re.compile(r"^0x[0-9a-fA-F]{130}$")


def signed_by(message: bytes, signature: str, account: str) -> bool:
    """True when *signature* (0x-hex, EIP-191) over *message* recovers to *account* (compared in constant time)."""
    if not _SIGNATURE.match(signature):
        return False
    try:
        signer = Account.recover_message(encode_defunct(message), signature=bytes.fromhex(signature[2:]))
    except (ValueError, BadSignature, SignatureValidationError):
        return False
    return hmac.compare_digest(signer.lower().encode(), account.lower().encode())


def verify_receipt(receipt: DestructionReceipt) -> bool:
    """True when ``receipt.signature`` recovers to ``receipt.node_account`` over the receipt body."""
    return signed_by(receipt.body(), receipt.signature, receipt.node_account)
