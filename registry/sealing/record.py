"""The sealed record a node keeps (encrypted under the data key) and anchors in encrypted mode: the
certificate with its salts and terms, in one canonical byte string."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from registry.sealing.fields import Sealed
from registry.sealing.terms import SealedTerms
from registry.zk.commitment import SealedCommitment


def sealed_record(certificate: Mapping[str, Any], sealed: Sealed) -> bytes:
    """What a node keeps (encrypted) of a sealed certificate, and publishes on chain in encrypted
    mode: the certificate, its salts, its terms and its zero-knowledge commitment with the opening (the
    confidential figures), as JSON. The proof is added when anchored.

    The bytes of ``json.dumps`` of that record (default options), written member by member: without
    indentation ``json.dumps`` writes a nested value as it writes it alone, and the salts, a third of
    the record, are mostly written directly (:func:`_salts_json`).
    """
    members = [f'"certificate": {json.dumps(dict(certificate))}', f'"salts": {_salts_json(sealed.salts)}']
    if sealed.terms is not None:
        members.append(f'"terms": {json.dumps(sealed.terms.model_dump())}')
    if sealed.zk is not None:
        members.append(f'"zk": {json.dumps(sealed.zk.model_dump())}')
    return ("{" + ", ".join(members) + "}").encode()


_VERBATIM = re.compile(r'[ !#-\[\]-~]*')
"""Printable ASCII but ``"`` and ``\\``: what ``json.dumps`` writes in a string as it is."""


def _salts_json(salts: Mapping[str, bytes]) -> str:
    """``json.dumps({path: salt.hex()})``: written directly when every path is a plain ``str`` written verbatim
    (:data:`_VERBATIM`; a salt's hex always is), else by ``json.dumps``."""
    if set(map(type, salts)) <= {str} and _VERBATIM.fullmatch("".join(salts)):
        return "{" + ", ".join([f'"{path}": "{salt.hex()}"' for path, salt in salts.items()]) + "}"
    return json.dumps({path: salt.hex() for path, salt in salts.items()})


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
