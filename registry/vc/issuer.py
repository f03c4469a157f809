"""A node as a verifiable-credential issuer: its DID key, its context and its published status lists.

The Ed25519 key is kept encrypted under the node's KEK (AES-GCM) in the data
directory; the status list (bits and assigned indexes) is saved after every
change. The node serves the DID document at ``/.well-known/did.json`` and the
one status list in both securing mechanisms: as a ``vc+jwt`` at
:data:`STATUS_PATH` and with an ``eddsa-jcs-2022`` proof at
:data:`STATUS_DI_PATH`, each re-signed after a change and before half its
validity has run out. A certificate credential points at the list secured the
way it is. Credentials name the project's context under the node's public URL
(:func:`registry.vc.context.context_base`).

Besides certificates issued straight to the VC path (:meth:`VcIssuer.issue`),
the node issues a *hybrid* credential for a certificate anchored in the
registry (:meth:`VcIssuer.issue_hybrid`): the same sealed certificate as the
subject, and a ``CertificateRegistryStatus`` entry pointing at its record on
chain instead of a status list bit (:mod:`registry.vc.registry_status`).
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
from registry.sealing.document import SealedDocument
from registry.vc.context import context_base, context_url
from registry.vc.credential import IssuedCredential, StatusEntry, build_credential
from registry.vc.errors import CredentialFormatError
from registry.vc.keys import IssuerKey
from registry.vc.registry_status import RegistryStatus
from registry.vc.securing import SecuredCredential, Securing, secure
from registry.vc.status_list import StatusAllocation, StatusList, build_status_list_credential

STATUS_PATH = "/v1/status-lists/revocation-1"
"""Where the node publishes its revocation list credential as a ``vc+jwt``."""

STATUS_DI_PATH = STATUS_PATH + "/data-integrity"
"""Where the node publishes the same list with an ``eddsa-jcs-2022`` Data Integrity proof."""

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
        base_url: where the node is reachable (for the status list URLs, and the
            context URL unless it is a loopback address).
    """

    def __init__(self, directory: Path, kek: KEK, did: str, base_url: str) -> None:
        self.directory = directory
        self.base_url = base_url.rstrip("/")
        self.status_url = self.base_url + STATUS_PATH
        self.status_urls: dict[Securing, str] = {"vc+jwt": self.status_url, "di": self.base_url + STATUS_DI_PATH}
        self.context = context_url(context_base(self.base_url))
        self.key = IssuerKey(self._load_key(kek), did)
        self.status = self._load_status()
        self._lock = threading.Lock()
        self._published: dict[Securing, tuple[datetime, SecuredCredential]] = {}

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

    def _reserved(self, securing: Securing) -> StatusAllocation:
        return self.status.reserve(self.status_urls[securing])

    def issue(self, certificate: Mapping[str, Any], now: datetime | None = None) -> IssuedCredential:
        """Issue a certificate as a ``vc+jwt`` with a fresh random status index.

        Raises:
            CredentialFormatError: the certificate cannot become a credential.
            StatusListFullError: the list has no free index left.
        """
        secured, index = self.issue_secured(certificate, "vc+jwt", now)
        assert isinstance(secured.secured, str)
        return IssuedCredential(secured.secured, secured.credential, index)

    def issue_secured(self, certificate: Mapping[str, Any], securing: Securing,
                      now: datetime | None = None) -> tuple[SecuredCredential, int]:
        """Issue a certificate secured either way, with a status index in the list secured the same way.

        Returns:
            The credential and its status index.

        Raises:
            CredentialFormatError: the certificate cannot become a credential.
            StatusListFullError: the list has no free index left.
        """
        with self._lock:
            allocation = self._reserved(securing)
            try:
                secured = self._secure(certificate, allocation, securing, now or datetime.now(UTC))
            except Exception:
                self.status.release_unissued(allocation.index)
                raise
            self._save_status()
            return secured, allocation.index

    def issue_hybrid(self, document: SealedDocument, securing: Securing,
                     now: datetime | None = None) -> SecuredCredential:
        """Issue an anchored certificate as a hybrid credential: its status is its record on chain.

        Args:
            document: the certificate's full sealed document (its subject, and where it is anchored).
            securing: ``vc+jwt`` or ``di``.
            now: the moment of issue.

        Raises:
            CredentialFormatError: the document withholds fields, or the certificate cannot become a
                credential (e.g. it has expired).
        """
        if document.withheld:
            raise CredentialFormatError("a hybrid credential carries the whole certificate; this sealed document "
                                        f"withholds {', '.join(sorted(document.withheld))}")
        return self._secure(document.certificate, RegistryStatus.of(document), securing, now or datetime.now(UTC))

    def _secure(self, certificate: Mapping[str, Any], status: StatusEntry, securing: Securing,
                now: datetime) -> SecuredCredential:
        credential = build_credential(certificate, issuer_did=self.key.did, status=status, now=now,
                                      context=self.context)
        return secure(credential, self.key, securing, now)

    def revoke(self, index: int) -> None:
        """Revoke the credential at status *index* (verifiers see it once their cached list lapses)."""
        with self._lock:
            self.status.revoke(index)
            self._save_status()
            self._published.clear()

    def published_list(self, securing: Securing, now: datetime | None = None) -> SecuredCredential:
        """The current status list credential secured *securing*'s way (re-signed after a change or half
        its validity)."""
        moment = now or datetime.now(UTC)
        with self._lock:
            published = self._published.get(securing)
            if published is None or moment - published[0] > STATUS_VALIDITY / 2:
                credential = build_status_list_credential(self.status, issuer_did=self.key.did,
                                                          url=self.status_urls[securing], now=moment,
                                                          valid_for=STATUS_VALIDITY,
                                                          ttl_ms=STATUS_TTL_SECONDS * 1000)
                published = (moment, secure(credential, self.key, securing, moment))
                self._published[securing] = published
            return published[1]

    def status_list(self, now: datetime | None = None) -> str:
        """The current status list credential as a ``vc+jwt``."""
        token = self.published_list("vc+jwt", now).secured
        assert isinstance(token, str)
        return token
