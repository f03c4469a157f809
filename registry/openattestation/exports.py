"""Our certificates as OpenAttestation v2 documents, issued on a DocumentStore this node deploys.

``export`` turns an anchored certificate into a wrapped v2 document whose issuer is this node's
DocumentStore, vouched for by the node's identity domain (the operator publishes
``openatts net=ethereum netId=<chain id> addr=<store>`` there), and issues its Merkle root on
the store through the chain-write outbox (:data:`~registry.storage.writelog.WriteKind.OA_ISSUE`):
recorded first, sent once, settled like every other write. The document is the same every
time it is asked for: its salts derive from the certificate's own (secret) salts, so nothing
more is stored, and erasing the certificate's key leaves nothing to rebuild it from.

When the certificate is revoked, superseded or erased, :func:`follow_status_changes` records an
:data:`~registry.storage.writelog.WriteKind.OA_REVOKE` of each exported document's target hash:
OpenAttestation's verifiers then say it is revoked too.

The store is deployed once per data directory, on first export (``openattestation-store.json``
beside ``deployment.json``), from ``@govtechsg/document-store``'s contract, owned by an account
of the node's account book that does nothing else.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from registry.custody.apikeys import Principal
from registry.domain.states import CertificateStatus
from registry.errors import ConflictError, WritePending
from registry.openattestation.document import DNS_TXT, wrap
from registry.openattestation.hashing import derived_salts
from registry.openattestation.store import DocumentStore, StoreDeployment
from registry.pipelines.outbox import WriteQueue
from registry.sealing.document import SealedDocument
from registry.services.context import PENDING_STATUS, Service, ServiceContext, canonical_json, status_subject
from registry.storage.store import CertificateRow, Store
from registry.storage.writelog import ChainWrite, WriteKind, WriteState

log = logging.getLogger("coo.openattestation")

RECORD = "openattestation-store.json"
"""The store's record in the data directory."""
_DEPLOYING = threading.Lock()


def export_subject(certificate_id: str) -> str:
    """The outbox subject of a certificate's OpenAttestation writes (issue, then revoke)."""
    return f"openattestation:{certificate_id}"


class OpenAttestationExports(Service):
    """Export certificates as OpenAttestation v2 documents on this node's DocumentStore.

    Args:
        ctx: the node's service context.
        data_dir: the node's data directory (the store's record lives there).
        identity_domain: the domain whose DNS-TXT record vouches for the store.
        base_url: the node's public URL (the document links back to its status check).
    """

    def __init__(self, ctx: ServiceContext, data_dir: Path, identity_domain: str, base_url: str) -> None:
        super().__init__(ctx)
        self.record = data_dir / RECORD
        self.domain = identity_domain
        self.base_url = base_url.rstrip("/")

    def export(self, principal: Principal, certificate_id: str) -> dict[str, Any]:
        """The certificate as a wrapped v2 document, its root issued on this node's DocumentStore.

        Raises:
            NotFoundError: unknown, or not the caller's (its issuer or its country's authority).
            ConflictError: not anchored yet, or revoked, superseded (or being so): nothing valid to export.
            KeyDestroyedError: erased.
            WritePending: the document's issuance is recorded but not on chain yet (ask again).
        """
        row = self.ctx.certificate(principal, certificate_id)
        sealed = self.ctx.sealed_of(row)
        self._check_exportable(row)
        store = self.store_deployment()
        document = wrap(self._data(row, sealed, store), derived_salts(_seed(sealed)))
        self._issue(row, store, document["signature"]["merkleRoot"])
        return document

    def _check_exportable(self, row: CertificateRow) -> None:
        waiting = self.outbox.pending_for(status_subject(row.document_hash))
        status = PENDING_STATUS[waiting[-1].kind] if waiting else CertificateStatus(row.status)
        if status is not CertificateStatus.ANCHORED:
            raise ConflictError(f"certificate {row.id} is {status.value}: there is no valid certificate to export")

    def _data(self, row: CertificateRow, sealed: SealedDocument, store: StoreDeployment) -> dict[str, Any]:
        certificate = dict(sealed.certificate)
        consignee = certificate.get("consignee")
        data: dict[str, Any] = {
            "id": row.certificate_number, "name": "Certificate of Origin",
            "issuers": [{"name": f"Certificate of Origin registry ({self.domain})", "documentStore": store.address,
                         "identityProof": {"type": DNS_TXT, "location": self.domain}}],
            "certificateOfOrigin": certificate,
            "registry": {"chainId": sealed.anchor.chain_id, "contract": sealed.anchor.contract,
                         "documentHash": sealed.document_hash, "batchRoot": sealed.proof.batch_root,
                         "statusUrl": f"{self.base_url}/v1/verify/{sealed.document_hash}"},
        }
        if isinstance(consignee, dict) and isinstance(consignee.get("name"), str):
            data["recipient"] = {"name": consignee["name"]}
        return data

    def _issue(self, row: CertificateRow, store: StoreDeployment, merkle_root: str) -> None:
        """Issue *merkle_root* once: a write already recorded for it is waited for, not repeated."""
        subject = export_subject(row.id)
        for write in self.outbox.log.about(subject, WriteKind.OA_ISSUE):
            if write.args["merkle_root"] == "0x" + merkle_root and write.args["store"] == store.address:
                if write.state is WriteState.SETTLED:
                    return
                raise WritePending(write.id, write.kind.value, "the document's issuance is not on chain yet")
        args = {"store": store.address, "merkle_root": "0x" + merkle_root, "target_hash": "0x" + merkle_root,
                "certificate": row.id}
        self.outbox.submit(WriteKind.OA_ISSUE, self._operator(store), args, subject=subject)

    def _operator(self, store: StoreDeployment) -> LocalAccount:
        signer = self.accounts.get(store.operator)
        if signer is None:
            raise ConflictError(f"this node holds no key for its DocumentStore's operator {store.operator}")
        return signer

    def store_deployment(self) -> StoreDeployment:
        """This node's DocumentStore: the recorded one while it is live on this chain, else a new one (once)."""
        with _DEPLOYING:
            known = self._recorded()
            if known is not None:
                return known
            operator = self.accounts.get(self.ctx.new_funded_account())
            assert operator is not None  # just created in the book
            deployment = DocumentStore(self.chain.w3).deploy(operator, f"Certificate of Origin registry "
                                                                       f"({self.domain})")
            tmp = self.record.with_suffix(".tmp")
            tmp.write_text(json.dumps(deployment.to_json(), indent=2) + "\n", encoding="utf-8")
            tmp.replace(self.record)
            log.info("deployed the OpenAttestation DocumentStore %s on chain %s; publish the DNS TXT record "
                     "'openatts net=ethereum netId=%s addr=%s' at %s", deployment.address, deployment.chain_id,
                     deployment.chain_id, deployment.address, self.domain)
            return deployment

    def _recorded(self) -> StoreDeployment | None:
        if not self.record.exists():
            return None
        known = StoreDeployment(**json.loads(self.record.read_text(encoding="utf-8")))
        if known.chain_id != self.chain.chain_id or not DocumentStore(self.chain.w3, known.address).is_deployed():
            return None
        return known


def _seed(sealed: SealedDocument) -> bytes:
    """The secret the document's salts derive from: every salt of the certificate (none is in a partial
    disclosure of it, all are in the full sealed document, whose holder sees every value anyway)."""
    return hashlib.sha256(b"coo-oa-seed/1|" + canonical_json({"salts": sealed.salts,
                                                              "document_hash": sealed.document_hash})).digest()


def follow_status_changes(outbox: WriteQueue, store: Store) -> None:
    """Revoke a certificate's exported OpenAttestation documents when it is revoked, superseded or erased.

    Each of those writes, once settled, also records (after the node's own bookkeeping for it) an
    ``oa-revoke`` of every document exported for the certificate; the outbox sends it.
    """
    for kind in (WriteKind.REVOKE, WriteKind.SUPERSEDE, WriteKind.ERASE):
        outbox.on_settled(kind, _also_revoking(outbox, store, outbox.applier_for(kind)))


def _also_revoking(outbox: WriteQueue, store: Store, before: Any) -> Any:
    def applier(write: ChainWrite) -> None:
        if before is not None:
            before(write)
        revoke_exports(outbox, store, bytes.fromhex(str(write.args["document_hash"]).removeprefix("0x")))

    return applier


def revoke_exports(outbox: WriteQueue, store: Store, document_hash: bytes) -> list[ChainWrite]:
    """Record an ``oa-revoke`` for each document exported for the certificate *document_hash* (idempotent)."""
    row = store.by_document_hash(document_hash)
    if row is None:
        return []
    subject = export_subject(row.id)
    revoking = {(w.args["store"], w.args["target_hash"]) for w in outbox.log.about(subject, WriteKind.OA_REVOKE)}
    recorded = []
    for issued in outbox.log.about(subject, WriteKind.OA_ISSUE):
        key = (issued.args["store"], issued.args["target_hash"])
        if key in revoking:
            continue
        revoking.add(key)
        recorded.append(outbox.log.add(WriteKind.OA_REVOKE, issued.signer,
                                       {"store": key[0], "target_hash": key[1], "certificate": row.id},
                                       subject=subject))
    return recorded


__all__ = ["RECORD", "OpenAttestationExports", "export_subject", "follow_status_changes", "revoke_exports"]
