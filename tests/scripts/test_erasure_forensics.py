"""Forensics of erasure, on the issuing node and on the node the key was released to.

Two ``coo up`` processes on one Anvil (``scripts/demo_two_nodes.py``). SG registers
a certificate whose fields carry unique markers, verifies it (an audit record),
releases its key to JP (which verifies it, records a utilisation under a
marked declaration reference and opens a verification request with a marked
reason, delivered to SG), and erases it. Then every byte of
every file under both data directories is searched for the data key, each salt
and each marker (raw, hex, base64): first while another process holds a read
transaction open on each database through the erase (so SQLite can neither reset
nor truncate its WAL), then again after ``kill -9`` of both nodes. The stores are
never closed before a scan (closing the last connection deletes the WAL, which is
where a careless design leaves its evidence), and the nodes run with
``PRAGMA secure_delete=OFF`` so nothing rests on how SQLite was compiled.

The chain itself (Anvil's state lives outside both data directories) is not
searched: what it holds stays public by design.
"""

from __future__ import annotations

import base64
import json
import signal
import sqlite3
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from demo_two_nodes import EXAMPLE, ApiNode, set_up, two_nodes  # noqa: E402

from registry.custody.keys import KEK, DataKey, load_or_create_kek  # noqa: E402
from registry.errors import DecryptionError  # noqa: E402
from registry.services.documents import parse_key_token  # noqa: E402


def _encodings(secret: bytes) -> list[bytes]:
    """*secret* as raw bytes, hex (both cases) and base64 (standard and URL-safe, padded or not)."""
    std = base64.b64encode(secret)
    url = base64.urlsafe_b64encode(secret)
    return [secret, secret.hex().encode(), secret.hex().upper().encode(), std, std.rstrip(b"="), url,
            url.rstrip(b"=")]


def _salt_bytes(salt: str) -> bytes:
    if salt.startswith("0x"):
        return bytes.fromhex(salt[2:])
    return base64.urlsafe_b64decode(salt + "=" * (-len(salt) % 4))


def _hits(directory: Path, needles: dict[str, list[bytes]]) -> list[str]:
    """``file: needle`` for every needle found in any file under *directory*."""
    found = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        data = path.read_bytes()
        for name, forms in needles.items():
            if any(form in data for form in forms):
                found.append(f"{path.relative_to(directory.parent)}: {name}")
    return found


def _unwrappable(directory: Path, refs: list[str]) -> list[str]:
    """Wrapped data keys in any file under *directory* that the key files left there still open.

    The attacker's view of a disk image: the root KEK file, whatever epoch KEK files
    remain, and every byte of every other file. Any ``"E" ‖ epoch ‖ nonce ‖ ct ‖ tag``
    run that unwraps for one of *refs* (the erased certificate's binding names) is a hit.
    """
    root = load_or_create_kek(directory / "kek")
    epochs: dict[int, KEK] = {}
    for path in (directory / "keys").glob("epoch-*.key"):
        epoch = int(path.stem.split("-")[1])
        sealed = path.read_bytes()
        epochs[epoch] = KEK(DataKey(root.derive("epoch-keys")).decrypt(sealed, f"coo-epoch/1|{epoch}".encode()))
    found = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        data = path.read_bytes()
        at = data.find(b"E")
        while at != -1:
            kek = epochs.get(int.from_bytes(data[at + 1:at + 5], "big"))
            for ref in refs if kek is not None else []:
                try:
                    kek.unwrap(data[at + 5:at + 65], ref)
                    found.append(f"{path.relative_to(directory.parent)}@{at}: {ref}")
                except DecryptionError:
                    pass
            at = data.find(b"E", at + 1)
    return found


@contextmanager
def _reading(database: Path) -> Iterator[sqlite3.Connection]:
    """Another process's view: a read transaction held open on *database* (never closed here: see the module doc)."""
    conn = sqlite3.connect(database, isolation_level=None)
    conn.execute("BEGIN")
    conn.execute("SELECT COUNT(*) FROM certificates").fetchone()
    yield conn


def _marked_certificate(marker: str) -> tuple[dict[str, object], dict[str, str]]:
    body = json.loads(EXAMPLE.read_text())
    markers = {
        "certificate number": f"SG-{marker}-NUM",
        "exporter": f"Exporter {marker} Pte. Ltd.",
        "consignee": f"Consignee {marker} K.K.",
        "remarks": f"Remarks {marker} confidential",
        "invoice": f"INV-{marker}",
        "description": f"Valves {marker} of stainless steel",
    }
    body["certificate_number"] = markers["certificate number"]
    body["exporter"]["name"] = body["producer"]["name"] = markers["exporter"]
    body["consignee"]["name"] = markers["consignee"]
    body["remarks"] = markers["remarks"]
    for item in body["goods"]:
        item["invoice_number"] = markers["invoice"]
    body["goods"][0]["description"] = markers["description"]
    return body, markers


def _erased_at(node: ApiNode, timeout: float = 20) -> None:
    """Wait until *node*'s metrics show one erasure done and none waiting."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        metrics = node.http.get("/metrics").text
        if 'coo_erasures{state="erased"} 1' in metrics and 'coo_erasures{state="erasing"} 0' in metrics:
            return
        time.sleep(0.05)
    raise AssertionError(f"node {node.name} did not finish the erasure in {timeout:.0f} s:\n{metrics}")


def _kill(node: ApiNode) -> None:
    assert node.process is not None
    node.process.send_signal(signal.SIGKILL)
    node.process.wait()


def test_after_erasure_no_file_of_either_node_holds_the_key_a_salt_or_a_field_value(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COO_SQLITE_SECURE_DELETE", "false")
    marker = uuid.uuid4().hex[:16].upper()
    body, markers = _marked_certificate(marker)
    with two_nodes(tmp_path) as (_anvil, sg, jp):
        keys = set_up(sg, jp)
        issuer = keys["sg_issuer"]
        created = sg.call("POST", "/v1/certificates", issuer, 202, json=body, params={"mode": "encrypted"})
        record = sg.call("GET", f"/v1/certificates/{created['id']}", issuer)
        for _ in range(600):
            if record["status"] == "anchored":
                break
            record = sg.call("GET", f"/v1/certificates/{created['id']}", issuer)
        assert record["status"] == "anchored", record
        document = sg.call("GET", f"/v1/certificates/{created['id']}/document", issuer)
        assert sg.call("POST", "/v1/verify", json=document)["verdict"] == "VALID"
        link = sg.call("GET", f"/v1/certificates/{created['id']}/verification-link", issuer)
        token = link["url"].rsplit("/v/", 1)[1]
        parsed = parse_key_token(token)
        assert parsed is not None
        data_key = parsed[1]
        fetched = jp.call("POST", f"/v1/certificates/{record['document_hash']}/fetch", keys["jp_customs"])
        assert fetched["certificate"]["remarks"] == markers["remarks"]
        assert jp.call("POST", "/v1/verify", json=fetched)["verdict"] == "VALID"
        markers["declaration reference"] = f"JP-DECL-{marker}"
        used = jp.call("POST", f"/v1/certificates/{record['document_hash']}/utilisations", keys["jp_customs"], 201,
                       json={"declaration_reference": markers["declaration reference"], "date": "2026-11-23",
                             "items": [{"item_number": 1, "quantity": "5"}]})
        assert used["utilisation"]["declaration_reference"] == markers["declaration reference"]
        markers["request reason"] = f"check origin {marker} of item 1"
        request = jp.call("POST", f"/v1/certificates/{record['document_hash']}/verification-requests",
                          keys["jp_customs"], 201, json={"reason": markers["request reason"]})
        at_sg = sg.call("GET", f"/v1/verification-requests/{request['id']}", issuer)
        assert at_sg["reason"] == markers["request reason"]  # delivered to SG, kept there too

        refs = [created["id"], "released:" + record["document_hash"]]
        assert _unwrappable(sg.data, refs[:1]) and _unwrappable(jp.data, refs[1:]), "the key is wrapped on disk"
        needles = {"data key": _encodings(data_key), "key token": [token.encode()]}
        needles |= {f"salt {path}": _encodings(_salt_bytes(salt)) for path, salt in document["salts"].items()}
        needles |= {name: _encodings(value.encode()) for name, value in markers.items()}
        # the scan sees what the nodes wrote: the document hash (public, on chain) is in both databases
        probe = {"document hash": [bytes.fromhex(record["document_hash"][2:])]}
        assert {h.split("/")[0] for h in _hits(sg.data, probe) + _hits(jp.data, probe)} == {"node-sg", "node-jp"}

        with _reading(sg.data / "registry.db"), _reading(jp.data / "registry.db"):
            erased = sg.http.post(f"/v1/certificates/{created['id']}/erase", timeout=90,
                                  headers={"Authorization": f"Bearer {issuer}"})
            assert erased.status_code == 200, erased.text
            assert erased.json()["state"] == "erased"
            _erased_at(jp)  # JP drops its copy by itself once the chain says erased (no call to it needed)
            answer = jp.http.post(f"/v1/certificates/{record['document_hash']}/fetch",
                                  headers={"Authorization": f"Bearer {keys['jp_customs']}"})
            assert answer.status_code == 410, answer.text
            assert _hits(sg.data, needles) + _hits(jp.data, needles) == []
            _kill(sg)
            _kill(jp)
            assert _hits(sg.data, needles) + _hits(jp.data, needles) == []
            assert _unwrappable(sg.data, refs) + _unwrappable(jp.data, refs) == []
