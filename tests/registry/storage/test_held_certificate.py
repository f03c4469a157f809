"""What a verification reads of a certificate (schema version 14): the row, its wrapped key and its terms sealed
apart, or the whole sealed document until they are; the terms go with the sealed document on erasure."""

from __future__ import annotations

from pathlib import Path

from registry.storage.store import Store
from tests.registry.storage.test_store import item


def test_the_terms_are_read_apart_once_sealed_and_go_with_the_sealed_document_on_erasure(tmp_path: Path) -> None:
    store = Store(tmp_path / "registry.db")
    row = store.insert_certificate(item())
    held = store.held_certificate(row.document_hash, with_record=True)
    assert held is not None and (held.wrapped_key, held.sealed_record, held.sealed_terms) == (b"wk", b"ct", None)
    bare = store.held_certificate(row.document_hash)
    assert bare is not None and (bare.wrapped_key, bare.sealed_record, bare.sealed_terms) == (b"wk", None, None)
    store.put_sealed_terms(row.id, b"terms")
    store.put_sealed_terms(row.id, b"other terms")  # kept once: the first stays
    held = store.held_certificate(row.document_hash, with_record=True)
    assert held is not None and (held.sealed_record, held.sealed_terms) == (None, b"terms")
    store.shred(row.id, {"certificate_id": row.id})
    store.put_sealed_terms(row.id, b"terms again")  # after erasure: nothing to keep them in
    held = store.held_certificate(row.document_hash, with_record=True)
    assert held is not None and (held.wrapped_key, held.sealed_record, held.sealed_terms) == (None, None, None)
    assert store.query("SELECT COUNT(*) FROM sealed_documents WHERE certificate_id = ?", (row.id,))[0][0] == 0
    assert store.held_certificate(b"\0" * 32) is None
