"""Key vault: KEK handling, authenticated encryption, crypto-shredding."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from eth_account import Account

from registry.errors import DecryptionError, KeyDestroyedError, KeyVaultError
from registry.keys import KEK, KeyVault, decrypt, encrypt, load_or_create_kek, verify_receipt
from registry.store import NewCertificate, Store


def test_the_kek_file_is_created_private_and_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "kek"
    first = load_or_create_kek(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = load_or_create_kek(path)
    assert first.derive("x") == again.derive("x")


def test_a_kek_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "kek"
    load_or_create_kek(path)
    path.chmod(0o644)
    with pytest.raises(KeyVaultError, match="chmod 600"):
        load_or_create_kek(path)


def test_the_kek_comes_from_the_environment_when_set(tmp_path: Path) -> None:
    key = os.urandom(32)
    from_env = load_or_create_kek(tmp_path / "unused", key.hex())
    assert from_env.derive("a") == KEK(key).derive("a") and not (tmp_path / "unused").exists()
    with pytest.raises(KeyVaultError):
        load_or_create_kek(tmp_path / "unused", "not-a-key")


def test_the_kek_never_shows_in_repr_or_str() -> None:
    key = os.urandom(32)
    kek = KEK(key)
    for text in (repr(kek), str(kek), f"{kek}"):
        assert key.hex() not in text and "hidden" in text


def test_records_round_trip_and_are_bound_to_certificate_and_issuer() -> None:
    key = os.urandom(32)
    blob = encrypt(key, b"certificate", "id-1", "0xIssuer")
    assert decrypt(key, blob, "id-1", "0xissuer") == b"certificate"
    with pytest.raises(DecryptionError):
        decrypt(key, blob, "id-2", "0xIssuer")
    with pytest.raises(DecryptionError):
        decrypt(key, blob, "id-1", "0xOther")
    with pytest.raises(DecryptionError):
        decrypt(os.urandom(32), blob, "id-1", "0xIssuer")
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(DecryptionError):
        decrypt(key, tampered, "id-1", "0xIssuer")


def test_a_wrapped_key_needs_the_right_kek_and_certificate() -> None:
    kek = KEK(os.urandom(32))
    wrapped = kek.wrap(b"k" * 32, "id-1")
    assert kek.unwrap(wrapped, "id-1") == b"k" * 32
    with pytest.raises(DecryptionError):
        kek.unwrap(wrapped, "id-2")
    with pytest.raises(DecryptionError):
        KEK(os.urandom(32)).unwrap(wrapped, "id-1")


def test_destroying_a_key_shreds_the_record_and_signs_a_receipt(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    vault = KeyVault(store, KEK(os.urandom(32)))
    key, wrapped = vault.new_wrapped_key("id-1")
    document_hash = os.urandom(32)
    store.insert_certificates([NewCertificate(
        id="id-1", issuer="0xIssuer", certificate_number="N1", fingerprint=b"f", document_hash=document_hash,
        mode="hash-only", exporting_country="SG", importing_country="JP",
        sealed_record=encrypt(key, b"secret contents", "id-1", "0xIssuer"), wrapped_key=wrapped)])
    assert vault.decrypt_record("id-1", "0xIssuer") == b"secret contents"
    node = Account.create()
    receipt = vault.destroy_key("id-1", document_hash, node)
    assert verify_receipt(receipt) and receipt.node_account == node.address
    assert receipt.document_hash == "0x" + document_hash.hex()
    forged = type(receipt)(**{**receipt.to_json(), "document_hash": "0x" + "00" * 32})
    assert not verify_receipt(forged)
    with pytest.raises(KeyDestroyedError):
        vault.decrypt_record("id-1", "0xIssuer")
    with pytest.raises(KeyDestroyedError):
        vault.destroy_key("id-1", document_hash, node)
    assert store.certificate("id-1").status == "erased"
    assert store.destruction_receipt("id-1") == receipt.to_json()
    store.close()
    raw = (tmp_path / "db.sqlite").read_bytes() + (tmp_path / "db.sqlite-wal").read_bytes() \
        if (tmp_path / "db.sqlite-wal").exists() else (tmp_path / "db.sqlite").read_bytes()
    assert wrapped not in raw
