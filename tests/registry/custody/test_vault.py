"""The key vault's epochs: erasure retires the KEK that wrapped the destroyed key, on every crash path."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from registry.custody.epochs import EpochKeyring
from registry.custody.keys import KEK, DataKey, encrypt
from registry.custody.vault import KeyVault
from registry.errors import DecryptionError, KeyVaultError
from registry.storage.customs import CustomsRecords
from registry.storage.store import NewCertificate, Store

ISSUER = "0xAbCdEf0000000000000000000000000000000001"


@pytest.fixture
def node() -> LocalAccount:
    account: LocalAccount = Account.create()
    return account


@pytest.fixture
def root() -> KEK:
    return KEK(os.urandom(32))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A store with SQLite's own overwriting switched off: nothing here may rely on it."""
    return Store(tmp_path / "registry.db", secure_delete=False)


@pytest.fixture
def vault(store: Store, root: KEK) -> KeyVault:
    return KeyVault(store, root)


def accept(store: Store, vault: KeyVault, certificate_id: str, number: str | None = None,
           plaintext: bytes = b"sealed document and salts") -> bytes:
    """Record a certificate as the service does (sealed number, keyed fingerprint); its document hash."""
    with vault.wrapping():
        key, wrapped = vault.new_wrapped_key(certificate_id)
        document_hash = os.urandom(32)
        number = number or f"N-{certificate_id}"
        store.insert_certificate(NewCertificate(
            id=certificate_id, issuer=ISSUER, certificate_number=number,
            fingerprint=KeyVault.fingerprint(key, b"body " + certificate_id.encode()), document_hash=document_hash,
            mode="hash-only", exporting_country="SG", importing_country="JP",
            sealed_record=encrypt(key, plaintext, certificate_id, ISSUER), wrapped_key=wrapped,
            number_sealed=KeyVault.seal_number(key, certificate_id, ISSUER, number)))
    return document_hash


def on_disk(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file())


def opens(wrapped: bytes, keks: list[KEK], ref: str) -> bool:
    """True if *wrapped* unwraps as a data key of *ref* under any of *keks*, read in either stored form."""
    for kek in keks:
        for form in (wrapped, wrapped[5:]):
            try:
                kek.unwrap(form, ref)
                return True
            except DecryptionError:
                pass
    return False


def remaining_keks(directory: Path, root: KEK) -> list[KEK]:
    """Every KEK an attacker with the data directory holds: the root and each epoch file left."""
    wrapper = DataKey(root.derive("epoch-keys"))
    found = [root]
    for path in (directory / "keys").glob("epoch-*.key"):
        epoch = path.stem.split("-")[1]
        found.append(KEK(wrapper.decrypt(path.read_bytes(), f"coo-epoch/1|{epoch}".encode())))
    return found


def test_no_key_left_in_the_directory_opens_an_erased_key_even_with_a_reader_pinning_the_wal(
        tmp_path: Path, node: LocalAccount, root: KEK, store: Store, vault: KeyVault) -> None:
    document_hash = accept(store, vault, "erased-1")
    accept(store, vault, "live-1")
    reader = sqlite3.connect(tmp_path / "registry.db", isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM wrapped_keys").fetchone()
    wrapped = store.wrapped_key("erased-1")
    assert wrapped is not None and wrapped in on_disk(tmp_path)
    vault_keks = remaining_keks(tmp_path, root)
    vault.destroy_key("erased-1", document_hash, node)
    assert wrapped in on_disk(tmp_path)  # SQLite kept it (the reader pins the WAL; secure_delete is off) ...
    assert opens(wrapped, [root, *vault_keks], "erased-1")  # (the check can see a key that opens it)
    assert not opens(wrapped, remaining_keks(tmp_path, root), "erased-1")  # ... but no key left opens it
    assert [p.name for p in (tmp_path / "keys").iterdir()] == ["epoch-2.key"]
    assert vault.decrypt_record("live-1", ISSUER) == b"sealed document and salts"
    assert store.erasure(document_hash) is not None and store.erasure(document_hash).state == "erased"
    reader.close()


def test_the_certificate_number_is_never_stored_in_clear_and_is_forgotten_on_erasure(
        tmp_path: Path, node: LocalAccount, store: Store, vault: KeyVault) -> None:
    document_hash = accept(store, vault, "c1", number="SG-SECRET-NUMBER-0042")
    assert b"SG-SECRET-NUMBER-0042" not in on_disk(tmp_path)
    found = store.by_number(ISSUER, "SG-SECRET-NUMBER-0042")
    assert found is not None and found.id == "c1" and found.certificate_number == "SG-SECRET-NUMBER-0042"
    assert vault.same_body("c1", found.fingerprint, b"body c1") and not vault.same_body("c1", found.fingerprint, b"x")
    vault.destroy_key("c1", document_hash, node)
    assert store.by_number(ISSUER, "SG-SECRET-NUMBER-0042") is None
    assert store.certificate("c1").certificate_number == "" and store.certificate("c1").status == "erased"
    assert not vault.same_body("c1", found.fingerprint, b"body c1")  # nothing left confirms the body


def test_an_erasure_a_crash_interrupted_is_finished_when_the_vault_opens_again(
        tmp_path: Path, root: KEK, store: Store, vault: KeyVault) -> None:
    document_hash = accept(store, vault, "c1")
    accept(store, vault, "c2")
    assert store.shred("c1", {"certificate_id": "c1"})  # step 1 of destroy_key, then the process dies
    state = store.erasure(document_hash)
    assert state is not None and state.state == "erasing" and store.erasing()
    KeyVault(store, root)  # the next start
    state = store.erasure(document_hash)
    assert state is not None and state.state == "erased" and not store.erasing()
    assert [p.name for p in (tmp_path / "keys").iterdir()] == ["epoch-2.key"]
    assert KeyVault(store, root).decrypt_record("c2", ISSUER) == b"sealed document and salts"


def test_keys_wrapped_under_the_root_kek_by_older_versions_are_rewrapped_under_an_epoch(
        store: Store, root: KEK) -> None:
    key = DataKey.generate()
    store.insert_certificate(NewCertificate(
        id="old", issuer=ISSUER, certificate_number="OLD-1", fingerprint=b"f", document_hash=os.urandom(32),
        mode="hash-only", exporting_country="SG", importing_country="JP",
        sealed_record=encrypt(key, b"old record", "old", ISSUER), wrapped_key=root.wrap(key, "old")))
    released = os.urandom(32)
    CustomsRecords(store).put_released_key(released, ISSUER, root.wrap(key, "released:0x" + released.hex()))
    vault = KeyVault(store, root)
    wrapped = store.wrapped_key("old")
    assert wrapped is not None and len(wrapped) == 65 and wrapped[:1] == b"E"
    assert vault.decrypt_record("old", ISSUER) == b"old record"
    assert vault.released_key(released) == key
    assert store.by_number(ISSUER, "OLD-1") is not None and b"OLD-1" not in wrapped


def test_a_released_key_is_shredded_with_its_epoch(tmp_path: Path, root: KEK, store: Store, vault: KeyVault) -> None:
    released = os.urandom(32)
    vault.keep_released(released, ISSUER, os.urandom(32))
    (_, wrapped), = [row for row in [CustomsRecords(store).released_key(released)] if row is not None]
    assert vault.forget_released(released, ISSUER)
    assert wrapped in on_disk(tmp_path)
    assert not opens(wrapped, remaining_keks(tmp_path, root), "released:0x" + released.hex())
    assert vault.released_key(released) is None and not vault.forget_released(released, ISSUER)


def test_keys_wrapped_while_epochs_close_are_never_lost(tmp_path: Path, node: LocalAccount, store: Store,
                                                        vault: KeyVault) -> None:
    errors: list[BaseException] = []

    def register() -> None:
        try:
            for i in range(30):
                accept(store, vault, f"r{i}")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    def erase() -> None:
        try:
            for i in range(10):
                vault.destroy_key(f"e{i}", accept(store, vault, f"e{i}"), node)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=register), threading.Thread(target=erase)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all(vault.decrypt_record(f"r{i}", ISSUER) == b"sealed document and salts" for i in range(30))
    assert len(list((tmp_path / "keys").iterdir())) == 1


def test_the_current_epoch_cannot_be_destroyed_and_a_destroyed_one_is_gone(tmp_path: Path, root: KEK) -> None:
    ring = EpochKeyring(tmp_path / "keys", root)
    assert ring.epochs() == [1]
    with pytest.raises(KeyVaultError):
        ring.unsafe_destroy(1)
    assert ring.open_new() == 2
    ring.unsafe_destroy(1)
    with pytest.raises(KeyVaultError):
        ring.key(1)
    assert [p.name for p in (tmp_path / "keys").iterdir()] == ["epoch-2.key"]
    assert oct((tmp_path / "keys" / "epoch-2.key").stat().st_mode & 0o777) == "0o600"
    with pytest.raises(KeyVaultError):
        EpochKeyring(tmp_path / "keys", KEK(os.urandom(32)))  # another root KEK cannot open it


def test_sealed_terms_open_only_as_the_terms_of_the_certificate_they_were_sealed_for() -> None:
    """A store row's terms moved to another certificate (or claimed by another issuer) do not open there."""
    key = DataKey.generate()
    sealed = KeyVault.seal_terms(key, "cert-a", ISSUER, b'{"importing_country": "JP"}')
    assert KeyVault.open_terms(key, "cert-a", ISSUER, sealed) == b'{"importing_country": "JP"}'
    with pytest.raises(DecryptionError):
        KeyVault.open_terms(key, "cert-b", ISSUER, sealed)
    with pytest.raises(DecryptionError):
        KeyVault.open_terms(key, "cert-a", "0xAbCdEf0000000000000000000000000000000002", sealed)
    with pytest.raises(DecryptionError):  # nor as the certificate's number, sealed under the same key
        key.decrypt(sealed, b"coo-number/1|cert-a")


@pytest.mark.parametrize("size", [0, 1, 2046, 2047, 2048, 2300, 4094, 4095, 10_000])
def test_the_fingerprint_fed_in_pieces_is_the_hmac_of_the_whole_body(size: int) -> None:
    import hashlib
    import hmac

    key = DataKey.generate()
    body = os.urandom(size)
    whole = hmac.new(key.unsafe_bytes(), b"coo-fingerprint/1|" + body, hashlib.sha256).digest()
    assert KeyVault.fingerprint(key, body) == whole
