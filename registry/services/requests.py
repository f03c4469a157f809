"""Retroactive verification requests: importing Customs asks, the issuing body or its authority answers.

The request and its answer are on chain (a not-confirmed answer revokes the
certificate there); the reason and the answer texts stay on the nodes, the reason
delivered to the issuing node, each checked against its hash on chain.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from registry.chain.customs import CustomsLedger, RequestState
from registry.chain.refusals import Refusal
from registry.custody.apikeys import Principal, Role
from registry.domain.reasons import RevocationReason
from registry.domain.states import FINAL_STATUSES, CertificateStatus
from registry.errors import (
    ConflictError,
    ContractRevertError,
    NotFoundError,
    PeerError,
    PermissionDenied,
    ValidationError,
    WritePending,
)
from registry.pipelines.effects import hexes
from registry.sealing.document import SealedDocument, terms_claim
from registry.sealing.merkle import keccak
from registry.services.context import Service, ServiceContext
from registry.storage.customs import CustomsRecords
from registry.storage.store import CertificateRow
from registry.storage.writelog import ChainWrite, WriteKind
from registry.types import hex32, parse_hex32, same_account

if TYPE_CHECKING:
    pass

from registry.services.documents import (
    Documents,
    iso_time,
    now_seconds,
    root_of,
)
from registry.services.utilisation import Utilisation

log = logging.getLogger("coo.customs")


class Requests(Service):
    """Open, deliver, answer and list verification requests."""

    def __init__(self, ctx: ServiceContext, documents: Documents, utilisation: Utilisation) -> None:
        super().__init__(ctx)
        self.documents = documents
        self.utilisation = utilisation
        self.ledger = CustomsLedger(ctx.chain)
        self.records = CustomsRecords(ctx.store)
        self.outbox.on_settled(WriteKind.REQUEST, self._requested)
        self.outbox.on_settled(WriteKind.ANSWER, self._answered)

    def open_request(self, principal: Principal, ref: str, reason: str,
                     document: SealedDocument | None = None) -> dict[str, Any]:
        """Open a retroactive verification request; the reason text stays on this node."""
        signer = self.documents.customs_signer(principal)
        sealed = self.documents.document(None, ref, document)
        terms, _, _ = terms_claim(sealed)
        self.documents.check_importing(terms, principal)
        self.documents.check_anchoring(sealed)
        document_hash, proof = parse_hex32(sealed.document_hash), [parse_hex32(p) for p in sealed.proof.path]
        nonce = str(uuid.uuid4())  # the request id is known only once it is on chain
        local = {"nonce": nonce, "reason": self.documents.seal_text(document_hash, f"reason|pending|{nonce}", reason)}
        try:
            with contextlib.suppress(WritePending):  # the request waits behind the terms
                self.utilisation.ensure_terms(signer, sealed)
            write = self.outbox.submit(WriteKind.REQUEST, signer, {
                "document_hash": hex32(document_hash), "root": hex32(root_of(sealed)),
                "reason_hash": hex32(keccak(reason.encode())), "proof": hexes(proof)}, local=local)
        except ContractRevertError as error:
            raise self.utilisation.refusal(error, sealed) from error
        return self.request(principal, int((write.result or {})["request_id"]))

    def _requested(self, write: ChainWrite) -> None:
        """Keep the reason of a request now on chain, and send it to the issuing node."""
        document_hash = parse_hex32(write.args["document_hash"])
        request_id = int((write.result or {})["request_id"])
        if write.local is not None:
            pending = f"reason|pending|{write.local['nonce']}"
            reason = self.documents.open_text(document_hash, pending, write.local["reason"]) or ""
            self.records.set_request_text(request_id,
                                          reason=self.documents.seal_text(document_hash, f"reason|{request_id}",
                                                                          reason))
            self._deliver_reason(document_hash, [parse_hex32(p) for p in write.args["proof"]], request_id, reason)
        self.ctx.refresh_index()

    def _deliver_reason(self, document_hash: bytes, proof: Sequence[bytes], request_id: int, reason: str) -> None:
        """Send the reason text to the issuing country's node, when it is another configured node (best effort:
        the request stands on chain either way, and its hash lets the issuer check the text whenever it arrives)."""
        if self.ctx.store.by_document_hash(document_hash) is not None:
            return  # issued here: the text is already on this node
        country = self.ctx.chain.inspect(document_hash, proof).country or ""
        peer = self.documents.peer(country)
        if peer is None:
            return
        try:
            self.documents.peers.send_reason(*peer, request_id, reason)
        except (PeerError, PermissionDenied, NotFoundError) as error:
            log.warning("verification request %s: reason not delivered to %s: %s", request_id, country, error)

    def receive_reason(self, principal: Principal, request_id: int, reason: str) -> None:
        """Keep the reason text of a request on one of this node's certificates, delivered by the
        requesting country's node; it must hash to the reason hash on chain.

        Raises:
            NotFoundError: no such request on a certificate of this node destined for the caller's country.
            ValidationError: the text is not the one whose hash is on chain.
        """
        if principal.role is not Role.CUSTOMS:
            raise PermissionDenied("reasons are delivered by Customs of the importing country")
        found = self.ledger.request_of(request_id)
        row = self.ctx.store.by_document_hash(found.document_hash) if found is not None else None
        if found is None or row is None or row.importing_country != principal.country:
            raise NotFoundError("verification request", str(request_id))
        if not hmac.compare_digest(keccak(reason.encode()), found.reason_hash):
            raise ValidationError("reason: this is not the text whose hash the request carries on chain",
                                  [{"loc": "reason", "msg": "does not match the on-chain reason hash"}])
        self.records.set_request_text(request_id,
                                      reason=self.documents.seal_text(found.document_hash, f"reason|{request_id}",
                                                                      reason))

    def answer_request(self, principal: Principal, request_id: int, confirmed: bool,
                       remarks: str | None = None) -> dict[str, Any]:
        """Answer a request as the issuing body or its authority; not confirmed revokes the certificate."""
        if principal.role not in (Role.ISSUER, Role.AUTHORITY):
            raise PermissionDenied("only the issuing body or its authority may answer a verification request")
        signer = self.ctx.signer_for(principal, principal.role)
        found = self.ledger.request_of(request_id)
        if found is None:
            raise NotFoundError("verification request", str(request_id))
        answer = remarks or ("confirmed" if confirmed else "not confirmed")
        try:
            self.outbox.submit(WriteKind.ANSWER, signer, {
                "request_id": request_id, "confirmed": confirmed, "answer_hash": hex32(keccak(answer.encode())),
                "document_hash": hex32(found.document_hash)}, subject=f"request:{request_id}",
                local={"answer": self.documents.seal_text(found.document_hash, f"answer|{request_id}", answer)})
        except ContractRevertError as error:
            if error.name == Refusal.NOT_ISSUER:
                raise PermissionDenied("only the issuing body of this certificate or its authority may "
                                       "answer") from error
            if error.name == Refusal.REQUEST_CLOSED:
                raise ConflictError(f"verification request {request_id} has already been answered") from error
            raise
        return self.request(principal, request_id)

    def _answered(self, write: ChainWrite) -> None:
        """Keep the answer now on chain; a not-confirmed answer revoked the certificate (the contract did)."""
        document_hash, request_id = parse_hex32(write.args["document_hash"]), int(write.args["request_id"])
        if write.local is not None:
            self.records.set_request_text(request_id, answer=write.local["answer"])
        row = self.ctx.store.by_document_hash(document_hash)
        if not write.args["confirmed"] and row is not None and row.status not in FINAL_STATUSES:
            self.ctx.store.set_status(row.id, CertificateStatus.REVOKED, reason=int(RevocationReason.NOT_CONFIRMED))
        self.ctx.refresh_index()

    def requests(self, principal: Principal, status: str | None = None) -> list[dict[str, Any]]:
        """Verification requests the caller is party to, newest state from the index."""
        self.ctx.refresh_index()
        state = {None: None, "all": None, "open": RequestState.OPEN, "confirmed": RequestState.CONFIRMED,
                 "not-confirmed": RequestState.NOT_CONFIRMED}
        if status not in state:
            raise ValidationError("status: use open, confirmed, not-confirmed or all",
                                  [{"loc": "status", "msg": "unknown status"}])
        wanted = state[status]
        rows = self.records.requests(state=None if wanted is None else int(wanted))
        return self._visible(principal, rows)

    def request(self, principal: Principal, request_id: int) -> dict[str, Any]:
        """One verification request the caller is party to."""
        self.ctx.refresh_index()
        found = self._visible(principal, self.records.requests(request_id=request_id))
        if not found:
            raise NotFoundError("verification request", str(request_id))
        return found[0]

    def _visible(self, principal: Principal, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The rows the caller is party to, presented."""
        out = []
        for row in rows:
            mine = self.ctx.store.by_document_hash(row["document_hash"])
            if self._party(principal, row, mine):
                out.append(self._present(row, mine))
        return out

    @staticmethod
    def _party(principal: Principal, row: dict[str, Any], mine: CertificateRow | None) -> bool:
        if principal.role is Role.ADMIN:
            return True
        if principal.role is Role.CUSTOMS:
            return row["customs_country"] == principal.country or same_account(row["customs"], principal.account)
        if mine is None:
            return False
        if principal.role is Role.ISSUER:
            return same_account(mine.issuer, principal.account)
        return principal.role is Role.AUTHORITY and mine.exporting_country == principal.country

    def _present(self, row: dict[str, Any], mine: CertificateRow | None) -> dict[str, Any]:
        answered = row["answered_at"]
        digest, request_id = row["document_hash"], row["id"]
        return {
            "id": row["id"], "document_hash": hex32(row["document_hash"]),
            "certificate_id": mine.id if mine else None,
            "certificate_number": mine.certificate_number if mine else None,
            "status": RequestState(row["state"]).slug, "opened_by": row["customs"],
            "country": row["customs_country"],
            "reason": self.documents.open_text(digest, f"reason|{request_id}", row["reason"]),
            "reason_hash": hex32(row["reason_hash"]),
            "opened_at": iso_time(row["opened_at"]),
            "age_seconds": max(0, (answered or now_seconds()) - row["opened_at"]),
            "answered_at": iso_time(answered) if answered else None, "answered_by": row["answered_by"],
            "answer": self.documents.open_text(digest, f"answer|{request_id}", row["answer"]),
        }


__all__ = ["Requests"]
