"""A node as a verifiable-credential issuer: its DID key and its published status list.

The Ed25519 key is kept encrypted under the node's KEK (AES-GCM) in the data
directory; the status list (bits and assigned indexes) is saved after every
change. The node serves the DID document at ``/.well-known/did.json`` and the
signed status list credential at :data:`STATUS_PATH`, re-signed after each
change and before half its validity has run out.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from registry.custody.accounts import write_private_file
from registry.custody.keys import KEK, decrypt, encrypt
from registry.vc.credential import IssuedCredential, issue_credential
from registry.vc.keys import IssuerKey
from registry.vc.status_list import StatusList, issue_status_list_credential

STATUS_PATH = "/v1/status-lists/revocation-1"
"""Where the node publishes its revocation list credential."""

STATUS_TTL_SECONDS = 60
"""The list's ``ttl`` hint; HTTP ``Cache-Control: max-age`` should say the same."""

STATUS_VALIDITY = timedelta(days=1)
"""How long a signed list stays valid (bounds the replay of a stale copy)."""


class VcIssuer:
    """Issue and revoke certificate credentials as this node.

    Args:
        directory: where the key and the status list live.
        kek: the node's key-encryption key.
        did: this node's ``did:web``.
        base_url: where the node is reachable (for the status list URL).
    """

    def __init__(self, directory: Path, kek: KEK, did: str, base_url: str) -> None:
        self.directory = directory
        self.base_url = base_url.rstrip("/")
        self.status_url = self.base_url + STATUS_PATH
        self.key = IssuerKey(self._load_key(kek), did)
        self.status = self._load_status()
        self._lock = threading.Lock()
        self._published: tuple[datetime, str] | None = None

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
        return StatusList.decode(data["encodedList"], purpose=data.get("purpose", "revocation"),
                                 assigned=data["assigned"])

    def _save_status(self) -> None:
        path = self.directory / "vc-status-list.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"purpose": self.status.purpose, "encodedList": self.status.encode(),
                                   "assigned": sorted(self.status.assigned)}))
        tmp.replace(path)

    def did_document(self) -> dict[str, Any]:
        """The DID document served at ``/.well-known/did.json``."""
        return self.key.did_document()

    def issue(self, certificate: Mapping[str, Any], now: datetime | None = None) -> IssuedCredential:
        """Issue a certificate as a ``vc+jwt`` with a fresh random status index.

        Raises:
            CredentialFormatError: the certificate cannot become a credential.
            StatusListFullError: the list has no free index left.
        """
        with self._lock:
            allocation = self.status.reserve(self.status_url)
            try:
                issued = issue_credential(certificate, self.key, allocation, now or datetime.now(UTC))
            except Exception:
                self.status.release_unissued(allocation.index)
                raise
            self._save_status()
            return issued

    def revoke(self, index: int) -> None:
        """Revoke the credential at status *index* (verifiers see it once their cached list lapses)."""
        with self._lock:
            self.status.revoke(index)
            self._save_status()
            self._published = None

    def status_list(self, now: datetime | None = None) -> str:
        """The current signed status list credential (re-signed after a change or half its validity)."""
        moment = now or datetime.now(UTC)
        with self._lock:
            if self._published is None or moment - self._published[0] > STATUS_VALIDITY / 2:
                signed = issue_status_list_credential(self.status, self.key, self.status_url, moment,
                                                      valid_for=STATUS_VALIDITY, ttl_ms=STATUS_TTL_SECONDS * 1000)
                self._published = (moment, signed.jwt)
            return self._published[1]
