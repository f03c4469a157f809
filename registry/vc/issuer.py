"""A node as a verifiable-credential issuer: its DID key, its context and its published status lists.

The Ed25519 key is kept encrypted under the node's KEK (AES-GCM) in the data
directory; the status lists (bits and assigned indexes) are kept by
:class:`~registry.vc.status_store.StatusStore`, one journal line per change.
When a list has no free index left the next credential goes on a new list
(list *n* is published at ``/v1/status-lists/revocation-<n>``; indexes are
never reused). The node serves the DID document at ``/.well-known/did.json``
and each status list in both securing mechanisms: as a ``vc+jwt`` at
:func:`status_path` and with an ``eddsa-jcs-2022`` proof at the same path
plus ``/data-integrity``, each re-signed after a change and before half its
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
from registry.vc.errors import CredentialFormatError, StatusListError
from registry.vc.keys import IssuerKey
from registry.vc.registry_status import RegistryStatus
from registry.vc.securing import SecuredCredential, Securing, secure
from registry.vc.status_list import MIN_ENTRIES, StatusAllocation, StatusList, build_status_list_credential
from registry.vc.status_store import StatusStore

STATUS_PATH = "/v1/status-lists/revocation-1"
"""Where the node publishes its first revocation list credential as a ``vc+jwt``."""

STATUS_DI_PATH = STATUS_PATH + "/data-integrity"
"""Where the node publishes the same list with an ``eddsa-jcs-2022`` Data Integrity proof."""

STATUS_TTL_SECONDS = 60
"""The list's ``ttl`` hint; HTTP ``Cache-Control: max-age`` should say the same."""

STATUS_VALIDITY = timedelta(days=1)
"""How long a signed list stays valid (bounds the replay of a stale copy)."""


def status_path(number: int = 1, securing: Securing = "vc+jwt") -> str:
    """Where list *number* (from 1) is published, secured *securing*'s way."""
    path = f"/v1/status-lists/revocation-{number}"
    return path if securing == "vc+jwt" else path + "/data-integrity"


class VcIssuer:
    """Issue and revoke certificate credentials as this node.

    Args:
        directory: where the key and the status lists live.
        kek: the node's key-encryption key.
        did: this node's ``did:web``.
        base_url: where the node is reachable (for the status list URLs, and the
            context URL unless it is a loopback address).
        list_size: entries per status list (the specification's minimum by default).
    """

    def __init__(self, directory: Path, kek: KEK, did: str, base_url: str, *, list_size: int = MIN_ENTRIES) -> None:
        self.directory = directory
        self.base_url = base_url.rstrip("/")
        self.list_size = list_size
        self.status_url = self.base_url + STATUS_PATH
        self.status_urls: dict[Securing, str] = {"vc+jwt": self.status_url, "di": self.base_url + STATUS_DI_PATH}
        self.context = context_url(context_base(self.base_url))
        self.key = IssuerKey(self._load_key(kek), did)
        self._store = StatusStore(directory)
        self.lists = self._store.load()
        self._lock = threading.Lock()
        self._published: dict[tuple[int, Securing], tuple[datetime, SecuredCredential]] = {}

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

    @property
    def status(self) -> StatusList:
        """The list new credentials go on (the last one)."""
        return self.lists[-1]

    def status_list_url(self, number: int = 1, securing: Securing = "vc+jwt") -> str:
        """The URL of list *number* secured *securing*'s way."""
        return self.base_url + status_path(number, securing)

    def did_document(self) -> dict[str, Any]:
        """The DID document served at ``/.well-known/did.json``."""
        return self.key.did_document()

    def _reserve(self, securing: Securing) -> tuple[int, StatusAllocation]:
        """A fresh index on the current list, or on a new one once it is full (the caller holds the lock)."""
        if self.status.full:
            self.lists.append(StatusList(self.list_size))
        number = len(self.lists)
        allocation = self.status.reserve(self.status_list_url(number, securing))
        self._store.record("a", number, allocation.index, self.lists)
        return number, allocation

    def allocate(self, securing: Securing = "vc+jwt") -> tuple[int, StatusAllocation]:
        """Reserve a status entry for a credential secured some other way (e.g. an SD-JWT VC).

        Returns:
            The list number and the allocation (what goes in the credential's status).
        """
        with self._lock:
            return self._reserve(securing)

    def issue(self, certificate: Mapping[str, Any], now: datetime | None = None) -> IssuedCredential:
        """Issue a certificate as a ``vc+jwt`` with a fresh random status index.

        Raises:
            CredentialFormatError: the certificate cannot become a credential.
        """
        secured, index, number = self._issue(certificate, "vc+jwt", now)
        assert isinstance(secured.secured, str)
        return IssuedCredential(secured.secured, secured.credential, index, number)

    def issue_secured(self, certificate: Mapping[str, Any], securing: Securing,
                      now: datetime | None = None) -> tuple[SecuredCredential, int]:
        """Issue a certificate secured either way, with a status index in the list secured the same way.

        Returns:
            The credential and its status index (on :attr:`status`'s list at the time).

        Raises:
            CredentialFormatError: the certificate cannot become a credential.
        """
        secured, index, _ = self._issue(certificate, securing, now)
        return secured, index

    def _issue(self, certificate: Mapping[str, Any], securing: Securing,
               now: datetime | None) -> tuple[SecuredCredential, int, int]:
        with self._lock:
            number, allocation = self._reserve(securing)
            try:
                secured = self._secure(certificate, allocation, securing, now or datetime.now(UTC))
            except Exception:
                self.lists[number - 1].release_unissued(allocation.index)
                self._store.record("u", number, allocation.index, self.lists)
                raise
            return secured, allocation.index, number

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

    def revoke(self, index: int, number: int = 1) -> None:
        """Revoke the credential at status *index* of list *number* (verifiers see it once their cached list
        lapses).

        Raises:
            StatusListError: no such list, or the index is out of range.
        """
        with self._lock:
            if not 1 <= number <= len(self.lists):
                raise StatusListError(f"this node has no status list {number}")
            self.lists[number - 1].revoke(index)
            self._store.record("r", number, index, self.lists)
            for key in [k for k in self._published if k[0] == number]:
                del self._published[key]

    def published_list(self, securing: Securing, now: datetime | None = None, number: int = 1) -> SecuredCredential:
        """List *number*'s current status list credential secured *securing*'s way (re-signed after a change or
        half its validity).

        Raises:
            StatusListError: no such list.
        """
        moment = now or datetime.now(UTC)
        with self._lock:
            if not 1 <= number <= len(self.lists):
                raise StatusListError(f"this node has no status list {number}")
            published = self._published.get((number, securing))
            if published is None or moment - published[0] > STATUS_VALIDITY / 2:
                credential = build_status_list_credential(self.lists[number - 1], issuer_did=self.key.did,
                                                          url=self.status_list_url(number, securing), now=moment,
                                                          valid_for=STATUS_VALIDITY,
                                                          ttl_ms=STATUS_TTL_SECONDS * 1000)
                published = (moment, secure(credential, self.key, securing, moment))
                self._published[(number, securing)] = published
            return published[1]

    def status_list(self, now: datetime | None = None, number: int = 1) -> str:
        """List *number*'s current status list credential as a ``vc+jwt``."""
        token = self.published_list("vc+jwt", now, number).secured
        assert isinstance(token, str)
        return token

    def close(self) -> None:
        """Close the status journal."""
        self._store.close()
