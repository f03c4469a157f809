"""A node's verifiable-credential issuer: its DID key and its published status list.

The Ed25519 key is kept encrypted under the node's KEK (AES-GCM) in the data
directory; the status list (bits and assigned indexes) is saved after every
change. The node serves the DID document at ``/.well-known/did.json`` and the
signed status list credential at a stable URL.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from registry.accounts import write_private_file
from registry.keys import KEK, decrypt, encrypt
from registry.vc.credential import IssuedCredential, issue_credential, status_list_credential
from registry.vc.keys import IssuerKey, did_document
from registry.vc.status_list import StatusList

STATUS_PATH = "/v1/status-lists/revocation-1"


class VcIssuer:
    """Issue and revoke certificate credentials as this node.

    Args:
        directory: where the key and the status list live.
        kek: the node's key-encryption key.
        did: this node's did:web.
        base_url: where the node is reachable (for the status list URL).
    """

    def __init__(self, directory: Path, kek: KEK, did: str, base_url: str) -> None:
        self.directory = directory
        self.base_url = base_url.rstrip("/")
        self.status_url = self.base_url + STATUS_PATH
        self.key = IssuerKey(self._load_key(kek), did)
        self.status = self._load_status()
        self._lock = threading.Lock()
        self._published: str | None = None

    def _load_key(self, kek: KEK) -> Ed25519PrivateKey:
        path = self.directory / "vc-issuer-key"
        secret = kek.derive("vc-issuer-key")
        if path.exists():
            raw = decrypt(secret, path.read_bytes(), "vc-issuer-key", "node")
            return Ed25519PrivateKey.from_private_bytes(raw)
        key = Ed25519PrivateKey.generate()
        raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        write_private_file(path, encrypt(secret, raw, "vc-issuer-key", "node"))
        return key

    def _load_status(self) -> StatusList:
        path = self.directory / "vc-status-list.json"
        if not path.exists():
            return StatusList()
        data = json.loads(path.read_text())
        decoded = StatusList.decode(data["encodedList"])
        decoded.assigned = set(data["assigned"])
        return decoded

    def _save_status(self) -> None:
        path = self.directory / "vc-status-list.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"encodedList": self.status.encode(), "assigned": sorted(self.status.assigned)}))
        tmp.replace(path)

    def did_document(self) -> dict[str, Any]:
        """The DID document served at ``/.well-known/did.json``."""
        return did_document(self.key.did, self.key.public_bytes)

    def issue(self, certificate: Mapping[str, Any]) -> IssuedCredential:
        """Issue a certificate as a ``vc+jwt`` with a fresh random status index."""
        with self._lock:
            issued = issue_credential(certificate, self.key, self.status, self.status_url)
            self._save_status()
            return issued

    def revoke(self, index: int) -> None:
        """Revoke the credential at status *index* (visible once verifiers refetch the list)."""
        with self._lock:
            self.status.set(index)
            self._save_status()
            self._published = None

    def status_list(self) -> str:
        """The current signed status list credential (re-signed only after a change)."""
        with self._lock:
            if self._published is None:
                self._published = status_list_credential(self.status, self.key, self.status_url)[0]
            return self._published
