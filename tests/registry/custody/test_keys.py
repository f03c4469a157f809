"""Key vault: the KEK, authenticated encryption bound to certificate and issuer, crypto-shredding."""

from __future__ import annotations

import base64
import os
import pickle
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from hypothesis import given
from hypothesis import strategies as st

from registry.custody.keys import (
    KEK,
    DataKey,
    DestructionReceipt,
    decrypt,
    encrypt,
    load_or_create_kek,
    record_aad,
    verify_receipt,
)
from registry.custody.vault import KeyVault
from registry.errors import ConflictError, DecryptionError, KeyDestroyedError, KeyVaultError, NotFoundError
from registry.storage.store import NewCertificate, Store

ISSUER = "0xAbCdEf0000000000000000000000000000000001"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "registry.db")


@pytest.fixture
def vault(store: Store) -> KeyVault:
    return KeyVault(store, KEK(os.urandom(32)))


@pytest.fixture
def node() -> LocalAccount:
    account: LocalAccount = Account.create()
    return account


def accept(store: Store, vault: KeyVault, plaintext: bytes = b"sealed document and salts",
           certificate_id: str = "cert-1") -> bytes:
    """Record a certificate the way the service does; return its document hash."""
    key, wrapped = vault.new_wrapped_key(certificate_id)
    document_hash = os.urandom(32)
    store.insert_certificate(NewCertificate(
        id=certificate_id, issuer=ISSUER, certificate_number=f"N-{certificate_id}", fingerprint=os.urandom(32),
        document_hash=document_hash, mode="hash-only", exporting_country="SG", importing_country="JP",
        sealed_record=encrypt(key, plaintext, certificate_id, ISSUER), wrapped_key=wrapped))
    return document_hash


# -- the key-encryption key ------------------------------------------------------------


def test_a_new_kek_file_is_created_private_and_reloaded_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "data" / "kek"
    first = load_or_create_kek(path, None)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_kek(path, None) == first
    assert [p.name for p in path.parent.iterdir()] == ["kek"]  # no temporary file left behind


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_kek_file_that_group_or_others_can_read_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "kek"
    load_or_create_kek(path, None)
    path.chmod(mode)
    with pytest.raises(KeyVaultError, match="chmod 600"):
        load_or_create_kek(path, None)


def test_a_malformed_kek_file_is_refused_without_echoing_its_contents(tmp_path: Path) -> None:
    path = tmp_path / "kek"
    path.write_bytes(b"sekrit-but-not-a-key\xff")
    path.chmod(0o600)
    with pytest.raises(KeyVaultError) as raised:
        load_or_create_kek(path, None)
    assert "sekrit" not in str(raised.value)


def test_the_kek_comes_from_the_environment_as_hex_or_base64url(tmp_path: Path) -> None:
    key = os.urandom(32)
    encodings = [key.hex(), "0x" + key.hex(), base64.urlsafe_b64encode(key).decode(),
                 base64.urlsafe_b64encode(key).decode().rstrip("=")]
    for text in encodings:
        assert load_or_create_kek(tmp_path / "unused", text) == KEK(key)
    assert not (tmp_path / "unused").exists()


@pytest.mark.parametrize("value", ["not-a-key", "00" * 31, "zz" * 32, base64.urlsafe_b64encode(b"k" * 16).decode()])
def test_a_malformed_kek_in_the_environment_is_refused_without_echoing_it(tmp_path: Path, value: str) -> None:
    with pytest.raises(KeyVaultError) as raised:
        load_or_create_kek(tmp_path / "unused", value)
    assert value not in str(raised.value)


def test_keys_never_show_in_repr_str_or_format_and_cannot_be_pickled(vault: KeyVault) -> None:
    raw = os.urandom(32)
    for secret in (KEK(raw), DataKey(raw)):
        for text in (repr(secret), str(secret), f"{secret}", f"{secret!r}", repr([secret])):
            assert raw.hex() not in text and repr(raw) not in text and "hidden" in text
        with pytest.raises(TypeError):
            pickle.dumps(secret)
    assert "hidden" not in repr(vault) and raw.hex() not in repr(vault)


def test_keys_compare_by_value() -> None:
    raw = os.urandom(32)
    assert KEK(raw) == KEK(raw) and DataKey(raw) == DataKey(raw)
    assert KEK(raw) != DataKey(raw) and DataKey(raw) != DataKey(os.urandom(32))
    with pytest.raises(KeyVaultError):
        DataKey(b"short")


# -- records -------------------------------------------------------------------------------


def test_records_round_trip_and_are_bound_to_certificate_and_issuer() -> None:
    key = DataKey.generate()
    blob = encrypt(key, b"certificate", "id-1", ISSUER)
    assert decrypt(key, blob, "id-1", ISSUER.lower()) == b"certificate"  # addresses compare case-insensitively
    for certificate_id, issuer in (("id-2", ISSUER), ("id-1", "0x" + "00" * 20)):
        with pytest.raises(DecryptionError):
            decrypt(key, blob, certificate_id, issuer)
    with pytest.raises(DecryptionError):
        decrypt(DataKey.generate(), blob, "id-1", ISSUER)


def test_a_data_key_decrypts_only_with_the_same_associated_data() -> None:
    key = DataKey.generate()
    blob = key.encrypt(b"payload", b"aad-1")
    assert key.decrypt(blob, b"aad-1") == b"payload"
    with pytest.raises(DecryptionError):
        key.decrypt(blob, b"aad-2")


@pytest.mark.parametrize("where", [0, 11, 12, -17, -1])
def test_any_flipped_bit_in_nonce_ciphertext_or_tag_fails_authentication(where: int) -> None:
    key = DataKey.generate()
    blob = bytearray(encrypt(key, b"x" * 40, "id-1", ISSUER))
    blob[where] ^= 0x01
    with pytest.raises(DecryptionError):
        decrypt(key, bytes(blob), "id-1", ISSUER)


def test_truncated_ciphertext_fails_authentication() -> None:
    key = DataKey.generate()
    blob = encrypt(key, b"payload", "id-1", ISSUER)
    for cut in (0, 5, 12, 27, len(blob) - 1):
        with pytest.raises(DecryptionError):
            decrypt(key, blob[:cut], "id-1", ISSUER)


def test_every_encryption_uses_a_fresh_nonce() -> None:
    key = DataKey.generate()
    nonces = {encrypt(key, b"same", "id", ISSUER)[:12] for _ in range(200)}
    assert len(nonces) == 200


def test_the_associated_data_encoding_is_unambiguous() -> None:
    assert record_aad("ab", "c") != record_aad("a", "bc")
    assert record_aad("id", ISSUER) == record_aad("id", ISSUER.lower())


@given(st.binary(max_size=2048), st.text(min_size=1, max_size=64), st.text(min_size=1, max_size=64))
def test_any_plaintext_round_trips_for_any_certificate_and_issuer(plaintext: bytes, certificate_id: str,
                                                                  issuer: str) -> None:
    key = DataKey.generate()
    assert decrypt(key, encrypt(key, plaintext, certificate_id, issuer), certificate_id, issuer) == plaintext


def test_a_wrapped_key_needs_the_right_kek_and_certificate() -> None:
    kek, key = KEK(os.urandom(32)), DataKey.generate()
    wrapped = kek.wrap(key, "id-1")
    assert kek.unwrap(wrapped, "id-1") == key and key.unsafe_bytes() not in wrapped
    with pytest.raises(DecryptionError):
        kek.unwrap(wrapped, "id-2")
    with pytest.raises(DecryptionError):
        KEK(os.urandom(32)).unwrap(wrapped, "id-1")


# -- the vault -------------------------------------------------------------------------------


def test_the_vault_encrypts_and_decrypts_for_a_certificate_and_releases_its_key(store: Store, vault: KeyVault) -> None:
    accept(store, vault, b"the sealed document")
    assert vault.decrypt_record("cert-1", ISSUER) == b"the sealed document"
    blob = vault.encrypt_for("cert-1", ISSUER, b"more")
    assert vault.decrypt_for("cert-1", ISSUER, blob) == b"more"
    with pytest.raises(DecryptionError):
        vault.decrypt_for("cert-1", "0x" + "11" * 20, blob)
    released = vault.export_key("cert-1")
    assert decrypt(released, store.sealed_record("cert-1") or b"", "cert-1", ISSUER) == b"the sealed document"


def test_a_tampered_wrapped_key_fails_to_unwrap(store: Store, vault: KeyVault) -> None:
    accept(store, vault)
    with store.transaction() as conn:
        conn.execute("UPDATE wrapped_keys SET wrapped = zeroblob(60) WHERE certificate_id = 'cert-1'")
    with pytest.raises(DecryptionError):
        vault.decrypt_record("cert-1", ISSUER)


def test_a_certificate_recorded_without_a_key_gets_one_exactly_once(store: Store, vault: KeyVault) -> None:
    store.insert_certificate(NewCertificate(
        id="later", issuer=ISSUER, certificate_number="L1", fingerprint=b"f", document_hash=os.urandom(32),
        mode="hash-only", exporting_country="SG", importing_country="JP", sealed_record=None, wrapped_key=None))
    with pytest.raises(NotFoundError):
        vault.encrypt_for("later", ISSUER, b"x")
    with pytest.raises(ConflictError):
        vault.create_key("later", "0x" + "22" * 20)
    key = vault.create_key("later", ISSUER)
    assert vault.export_key("later") == key.unsafe_bytes()
    store.put_sealed_document("later", vault.encrypt_for("later", ISSUER, b"contents"))
    assert vault.decrypt_record("later", ISSUER) == b"contents"
    with pytest.raises(ConflictError):
        vault.create_key("later", ISSUER)
    with pytest.raises(NotFoundError):
        vault.create_key("nobody", ISSUER)


# -- crypto-shredding ----------------------------------------------------------------------


def test_destroying_a_key_removes_key_and_document_and_signs_a_receipt(store: Store, vault: KeyVault,
                                                                        node: LocalAccount) -> None:
    document_hash = accept(store, vault)
    receipt = vault.destroy_key("cert-1", document_hash, node)
    assert verify_receipt(receipt)
    assert receipt.node_account == node.address and receipt.document_hash == "0x" + document_hash.hex()
    assert receipt.destroyed_at.endswith("+00:00")
    assert store.wrapped_key("cert-1") is None and store.sealed_record("cert-1") is None
    assert store.certificate("cert-1").status == "erased"
    assert store.destruction_receipt("cert-1") == receipt.to_json()
    attempts: list[Callable[[], object]] = [
        lambda: vault.decrypt_record("cert-1", ISSUER), lambda: vault.decrypt_for("cert-1", ISSUER, b"x"),
        lambda: vault.export_key("cert-1"), lambda: vault.encrypt_for("cert-1", ISSUER, b"x")]
    for attempt in attempts:
        with pytest.raises(KeyDestroyedError):
            attempt()


def test_a_destroyed_key_cannot_be_destroyed_again_or_replaced(store: Store, vault: KeyVault,
                                                               node: LocalAccount) -> None:
    document_hash = accept(store, vault)
    first = vault.destroy_key("cert-1", document_hash, node)
    with pytest.raises(KeyDestroyedError):
        vault.destroy_key("cert-1", document_hash, node)
    with pytest.raises(ConflictError):
        vault.create_key("cert-1", ISSUER)
    assert store.destruction_receipt("cert-1") == first.to_json()


def test_destroying_with_the_wrong_document_hash_is_refused_and_keeps_the_key(store: Store, vault: KeyVault,
                                                                                node: LocalAccount) -> None:
    accept(store, vault)
    with pytest.raises(ConflictError):
        vault.destroy_key("cert-1", os.urandom(32), node)
    with pytest.raises(NotFoundError):
        vault.destroy_key("unknown", os.urandom(32), node)
    assert vault.decrypt_record("cert-1", ISSUER) == b"sealed document and salts"


def test_two_simultaneous_destructions_produce_exactly_one_receipt(store: Store, vault: KeyVault,
                                                                   node: LocalAccount) -> None:
    document_hash = accept(store, vault)
    outcomes: list[str] = []

    def destroy() -> None:
        try:
            vault.destroy_key("cert-1", document_hash, node)
            outcomes.append("destroyed")
        except KeyDestroyedError:
            outcomes.append("already")

    threads = [threading.Thread(target=destroy) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already"] * 3 + ["destroyed"]


def test_a_receipt_with_any_field_changed_no_longer_verifies(store: Store, vault: KeyVault,
                                                              node: LocalAccount) -> None:
    receipt = vault.destroy_key("cert-1", accept(store, vault), node)
    assert DestructionReceipt.from_json(receipt.to_json()) == receipt
    changes = {"certificate_id": "cert-2", "document_hash": "0x" + "00" * 32,
               "destroyed_at": "2000-01-01T00:00:00+00:00", "node_account": Account.create().address,
               "signature": "0x" + "00" * 65}
    for field, value in changes.items():
        assert not verify_receipt(DestructionReceipt(**{**receipt.to_json(), field: value}))
    for signature in ("", "0x00", "zz", "0x" + "ff" * 65, receipt.signature[:-2]):
        assert not verify_receipt(DestructionReceipt(**{**receipt.to_json(), "signature": signature}))
