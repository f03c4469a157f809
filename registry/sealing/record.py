"""The sealed record a node keeps (encrypted under the data key) and anchors in encrypted mode: the
certificate with its salts and terms, in one canonical byte string."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from registry.sealing.fields import Sealed
from registry.sealing.terms import SealedTerms
from registry.zk.commitment import SealedCommitment


def sealed_record(certificate: Mapping[str, Any], sealed: Sealed) -> bytes:
    """What a node keeps (encrypted) of a sealed certificate, and publishes on chain in encrypted
    mode: the certificate, its salts, its terms and its zero-knowledge commitment with the opening (the
    confidential figures), as JSON. The proof is added when anchored."""
    record: dict[str, Any] = {"certificate": dict(certificate), "salts": {p: s.hex() for p, s in sealed.salts.items()}}
    if sealed.terms is not None:
        record["terms"] = sealed.terms.model_dump()
    if sealed.zk is not None:
        record["zk"] = sealed.zk.model_dump()
    return json.dumps(record).encode()


def parse_sealed_record(record: bytes, document_hash: bytes) -> tuple[dict[str, Any], Sealed]:
    """Inverse of :func:`sealed_record`: the certificate and its :class:`Sealed` (leaves not rebuilt)."""
    data = json.loads(record)
    terms = SealedTerms(**data["terms"]) if data.get("terms") else None
    zk = SealedCommitment(**data["zk"]) if data.get("zk") else None
    salts = {path: bytes.fromhex(salt) for path, salt in data["salts"].items()}
    return data["certificate"], Sealed(document_hash, salts, {}, terms, zk)


def published_record(record: bytes) -> bytes:
    """*record* as it may leave the issuing node (the encrypted-mode payload on chain, which a released key opens):
    the zero-knowledge commitment kept, its opening (the confidential figures and the commitment's salt) dropped.
    A record without a commitment is returned unchanged, byte for byte."""
    data = json.loads(record)
    if not data.get("zk") or data["zk"].get("opening") is None:
        return record
    data["zk"] = {**data["zk"], "opening": None}
    return json.dumps(data).encode()
