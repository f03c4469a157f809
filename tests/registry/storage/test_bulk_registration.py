"""Registration in bulk: the store's one-query-per-request lookups and writes give what one query per
item gave, row for row, refusal for refusal, table for table; the vault tags many numbers as it tags one.

The reference is :meth:`Store.insert_certificates` and :meth:`Store.by_number` as they were (kept here).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.custody.keys import KEK
from registry.custody.vault import KeyVault
from registry.errors import ConflictError
from registry.storage.base import _SELECT_CERT
from registry.storage.store import CertificateRow, NewCertificate, NumberTagger, Store

NOW = 1_700_000_000.25
TABLES = {"certificates": "id", "sealed_documents": "certificate_id", "wrapped_keys": "certificate_id",
          "outbox": "seq"}


def reference_insert(store: Store, items: Sequence[NewCertificate]) -> list[CertificateRow]:
    """:meth:`Store.insert_certificates` as it was: lookups, inserts and a read back per item."""
    out: list[CertificateRow] = []
    with store.transaction() as conn:
        for item in items:
            number = item.certificate_number
            if item.number_sealed is not None:
                number = store._number_key(item.issuer, item.certificate_number)
            existing = store._row(conn.execute(
                f"{_SELECT_CERT} WHERE issuer = ? AND certificate_number = ? AND copy = ?",
                (item.issuer, number, item.copy)).fetchone())
            if existing is not None:
                if not hmac.compare_digest(existing.fingerprint, item.fingerprint):
                    raise ConflictError(
                        f"certificate number {item.certificate_number} is already registered by this issuer "
                        "with different contents")
                out.append(existing)
                continue
            if conn.execute("SELECT 1 FROM certificates WHERE document_hash = ?", (item.document_hash,)).fetchone():
                raise ConflictError(f"document hash 0x{item.document_hash.hex()} is already registered")
            conn.execute(
                "INSERT INTO certificates (id, issuer, certificate_number, fingerprint, document_hash, mode,"
                " status, exporting_country, importing_country, replaces, created_at, updated_at, copy,"
                " number_sealed) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?)",
                (item.id, item.issuer, number, item.fingerprint, item.document_hash, item.mode,
                 item.exporting_country, item.importing_country, item.replaces, NOW, NOW, item.copy,
                 item.number_sealed))
            if item.sealed_record is not None:
                conn.execute("INSERT INTO sealed_documents (certificate_id, ciphertext) VALUES (?, ?)",
                             (item.id, item.sealed_record))
            if item.wrapped_key is not None:
                conn.execute("INSERT INTO wrapped_keys (certificate_id, wrapped, created_at) VALUES (?, ?, ?)",
                             (item.id, item.wrapped_key, NOW))
            conn.execute("INSERT INTO outbox (certificate_id, issuer, mode, enqueued_at) VALUES (?, ?, ?, ?)",
                         (item.id, item.issuer, item.mode, NOW))
            row = store._row(conn.execute(f"{_SELECT_CERT} WHERE id = ?", (item.id,)).fetchone())
            assert row is not None
            out.append(row)
    return out


def reference_by_number(store: Store, issuer: str, number: str) -> CertificateRow | None:
    """:meth:`Store.by_number` as the registration path called it, once per number."""
    rows = store.query(f"{_SELECT_CERT} WHERE issuer = ? AND certificate_number = ? ORDER BY copy DESC LIMIT 1",
                       (issuer, store._number_key(issuer, number)))
    return store._row(rows[0]) if rows else None


class OneByOne:
    """A number sealer that tags one number at a time (an HMAC) and 'seals' a number as its bytes."""

    def number_tag(self, issuer: str, number: str) -> str:
        return "t:" + hmac.new(b"k" * 32, issuer.lower().encode() + b"\x00" + number.encode(), "sha256").hexdigest()

    def reveal_number(self, certificate_id: str, issuer: str, sealed: bytes) -> str:
        return sealed.decode()


class Many(OneByOne):
    """The same, tagging many numbers at once too."""

    def number_tags(self, issuer: str, numbers: Iterable[str]) -> dict[str, str]:
        return {number: self.number_tag(issuer, number) for number in numbers}


SEALERS = {"none": None, "one by one": OneByOne, "many": Many}

item_specs = st.fixed_dictionaries({
    "issuer": st.sampled_from(["0xI", "0xJ"]), "number": st.sampled_from(["N1", "N2", "N3"]),
    "copy": st.sampled_from([0, 0, 1]), "fingerprint": st.sampled_from([b"f1", b"f2"]),
    "document_hash": st.sampled_from([bytes([i]) * 32 for i in range(5)]), "sealed": st.booleans(),
    "record": st.booleans(), "key": st.booleans(), "mode": st.sampled_from(["hash-only", "encrypted"])})
requests = st.lists(st.lists(item_specs, min_size=1, max_size=5), min_size=1, max_size=5)


def new_item(spec: dict[str, Any], serial: int) -> NewCertificate:
    return NewCertificate(
        id=f"c{serial}", issuer=spec["issuer"], certificate_number=spec["number"], fingerprint=spec["fingerprint"],
        document_hash=spec["document_hash"], mode=spec["mode"], exporting_country="SG", importing_country="JP",
        sealed_record=b"ct" if spec["record"] else None, wrapped_key=b"wk" if spec["key"] else None,
        copy=spec["copy"], number_sealed=spec["number"].encode() if spec["sealed"] else None)


def outcome(insert: Any, store: Store, items: list[NewCertificate]) -> tuple[str, Any]:
    try:
        return "rows", insert(store, items)
    except ConflictError as error:
        return "refused", str(error)


def tables(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    conn = store.connection()
    return {table: [tuple(row) for row in conn.execute(f"SELECT * FROM {table} ORDER BY {order}")]
            for table, order in TABLES.items()}


@settings(max_examples=120, deadline=None)
@given(requests, st.sampled_from(sorted(SEALERS)))
def test_bulk_insertion_and_lookup_answer_and_write_what_the_item_by_item_code_did(
        calls: list[list[dict[str, Any]]], sealer_name: str) -> None:
    with tempfile.TemporaryDirectory() as directory, mock.patch("registry.storage.store.time.time", return_value=NOW):
        stores = [Store(Path(directory) / "reference.db"), Store(Path(directory) / "bulk.db")]
        sealer = SEALERS[sealer_name]
        for store in stores:
            if sealer is not None:
                store.attach_sealer(sealer())
        serial = 0
        for call in calls:
            items = []
            for spec in call:
                items.append(new_item(spec, serial))
                serial += 1
            assert outcome(Store.insert_certificates, stores[1], items) == outcome(reference_insert, stores[0], items)
            assert tables(stores[1]) == tables(stores[0])
            for issuer in ("0xI", "0xJ"):
                numbers = ["N1", "N2", "N3", "N4"]
                expected = {n: row for n in numbers if (row := reference_by_number(stores[0], issuer, n)) is not None}
                assert stores[1].by_numbers(issuer, numbers) == expected
        for store in stores:
            store.close()


def test_the_rows_returned_for_new_certificates_are_those_read_back(tmp_path: Path) -> None:
    store = Store(tmp_path / "registry.db")
    store.attach_sealer(Many())
    items = [new_item({"issuer": "0xI", "number": f"N{i}", "copy": 0, "fingerprint": b"f", "document_hash":
                       os.urandom(32), "sealed": True, "record": True, "key": True, "mode": "hash-only"}, i)
             for i in range(3)]
    rows = store.insert_certificates(items)
    assert rows == [store.certificate(item.id) for item in items]


def test_the_vault_tags_many_numbers_as_it_tags_each(tmp_path: Path) -> None:
    store = Store(tmp_path / "registry.db")
    vault = KeyVault(store, KEK(os.urandom(32)))
    assert isinstance(vault, NumberTagger)
    numbers = ["N1", "N2", "ÄÖ-3", "N1"]
    with vault.wrapping():
        inside = vault.number_tags("0xAbC", numbers)
    assert inside == vault.number_tags("0xabc", numbers) == {n: vault.number_tag("0xABC", n) for n in numbers}
    secret = vault._ring.key(vault._ring.current).derive("number-tag")
    assert inside["N2"] == "t:" + hmac.new(secret, b"0xabc\x00N2", hashlib.sha256).hexdigest()


def test_keys_wrapped_inside_a_hold_are_under_the_epoch_current_when_it_began(tmp_path: Path) -> None:
    store = Store(tmp_path / "registry.db")
    vault = KeyVault(store, KEK(os.urandom(32)))
    with vault.wrapping():
        _, wrapped = vault.new_wrapped_key("c1")
        with vault.wrapping():
            _, nested = vault.new_wrapped_key("c2")
    epoch = vault._ring.current
    assert wrapped[1:5] == nested[1:5] == epoch.to_bytes(4, "big")
    vault.close_epoch()
    _, after = vault.new_wrapped_key("c3")
    assert after[1:5] == (epoch + 1).to_bytes(4, "big")
    assert vault._pinned.current is None


def spec(number: str, fingerprint: bytes = b"f") -> dict[str, Any]:
    return {"issuer": "0xI", "number": number, "copy": 0, "fingerprint": fingerprint, "document_hash": os.urandom(32),
            "sealed": True, "record": False, "key": False, "mode": "hash-only"}


@pytest.mark.parametrize("count", [1, 501, 1200])
def test_lookups_past_one_in_list_find_every_number(tmp_path: Path, count: int) -> None:
    store = Store(tmp_path / "registry.db")
    store.attach_sealer(Many())
    items = [new_item(spec(f"N{i}"), i) for i in range(count)]
    rows = store.insert_certificates(items)
    assert store.by_numbers("0xI", [f"N{i}" for i in range(count)]) == {row.certificate_number: row for row in rows}
    assert store.by_numbers("0xI", []) == {}
    assert store.insert_certificates(items) == rows
    with pytest.raises(ConflictError, match=f"N{count - 1} is already registered"):
        store.insert_certificates([new_item(spec(f"N{count - 1}", b"g"), count)])
