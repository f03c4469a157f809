"""Customs-to-Customs work on a node: utilisation, verification requests, key release.

The importing country's Customs records each use of a certificate on chain
(:class:`~registry.chain.customs.CustomsLedger`), opens retroactive verification requests
that the issuing side answers, and, for certificates anchored in encrypted-payload
mode, opens the ciphertext the anchoring transaction logged, with a data key
released to it: by the bearer of the QR code (a *key token*) or by the issuing
node over an authenticated endpoint (:mod:`registry.services.peers`).

A certificate is named by this node's certificate id or by its document hash;
a node that did not issue it needs the sealed document (given in the request),
or a released key to open the on-chain ciphertext.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Protocol, cast

from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from registry.chain.client import DocumentState
from registry.chain.customs import CustomsLedger, RequestState
from registry.custody.acknowledgements import (
    checked_acknowledgement,
    sign_acknowledgement,
)
from registry.custody.apikeys import Principal, Role
from registry.custody.keys import KEK, DataKey
from registry.domain.reasons import RevocationReason
from registry.domain.states import FINAL_STATUSES, CertificateStatus, Mode
from registry.errors import (
    ConflictError,
    ContractRevertError,
    DecryptionError,
    KeyDestroyedError,
    NotFoundError,
    PeerError,
    PermissionDenied,
    ValidationError,
    WritePending,
)
from registry.pipelines.anchoring import open_chain_payload
from registry.pipelines.effects import hexes, terms_args
from registry.sealing.document import (
    SealedDocument,
    build_sealed_document,
    check_integrity,
    parse_sealed_record,
    terms_claim,
)
from registry.sealing.merkle import MerkleTree, keccak, process_proof
from registry.sealing.terms import Terms, from_units, to_units
from registry.services.context import ServiceContext
from registry.services.governance import Governance
from registry.services.verification import Verification
from registry.storage.store import CertificateRow, CustomsRecords
from registry.storage.writelog import ChainWrite, WriteKind
from registry.types import hex32, parse_hex32

if TYPE_CHECKING:
    from registry.domain.report import VerificationReport
    from registry.services.verification import VerificationReceipt

log = logging.getLogger("coo.customs")

DECLARATION_TAG = b"coo-declaration/1\x00"
_SEALED_TEXT = "s1:"
_TEXT_AAD = b"coo-customs-text/1|"
ACK_RETRY_SECONDS = 5.0
"""How long to wait before sending erasure acknowledgements again after a peer could not be reached."""
KEY_TOKEN_PREFIX = "k1."
"""Key tokens: ``k1.`` + base64url(document hash ‖ data key), no padding."""

class Peers(Protocol):
    """How a node talks to other member nodes (:mod:`registry.services.peers` over HTTP)."""

    def fetch_key(self, url: str, api_key: str, document_hash: bytes) -> bytes: ...

    def send_reason(self, url: str, api_key: str, request_id: int, reason: str) -> None: ...

    def acknowledge_erasure(self, url: str, api_key: str, document_hash: bytes,
                            acknowledgement: dict[str, str]) -> None: ...


@dataclass(frozen=True)
class Draw:
    """Quantity of one goods item (by its ``item_number``) drawn by a declaration."""

    item_number: int
    quantity: Decimal


@dataclass(frozen=True)
class _Published:
    """An encrypted-mode anchoring: its root, issuer, and the ciphertext of each document in tree order."""

    root: bytes
    issuer: str
    ciphertexts: dict[bytes, bytes]

    def proof(self, document_hash: bytes) -> list[bytes]:
        """Path from *document_hash* to the root (the batch tree is the documents in publication order)."""
        return MerkleTree(list(self.ciphertexts)).proof_for(document_hash)


@dataclass(frozen=True)
class ReleasedKey:
    """A data key released to an entitled party. Its repr never shows the key."""

    document_hash: bytes
    issuer: str
    key: bytes = field(repr=False)


def declaration_hash(country: str, reference: str) -> bytes:
    """What the chain stores for an import declaration: keccak of country and reference, tagged."""
    return keccak(DECLARATION_TAG + country.encode() + b"\x00" + reference.strip().encode())


def key_token(document_hash: bytes, key: bytes) -> str:
    """A bearer token that opens the on-chain ciphertext of one certificate at any node.

    WARNING: whoever holds it can read the certificate until it is erased.
    """
    return KEY_TOKEN_PREFIX + base64.urlsafe_b64encode(document_hash + key).rstrip(b"=").decode()


def parse_key_token(token: str) -> tuple[bytes, bytes] | None:
    """(document hash, data key) of a key token; None if *token* is not one."""
    if not token.startswith(KEY_TOKEN_PREFIX):
        return None
    body = token[len(KEY_TOKEN_PREFIX):]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        return None
    return (raw[:32], raw[32:]) if len(raw) == 64 else None


def _now() -> int:
    return int(datetime.now(UTC).timestamp())


class CustomsDesk:
    """Customs operations of one node, behind role checks.

    Args:
        ctx: what the node's services share (store, vault, chain, accounts, outbox).
        verification: verification on this node (key tokens, documents opened here).
        governance: admissions (Customs accounts go on chain through it).
        kek: the node's key-encryption key (wraps released keys and peer API keys).
        peers: how to reach other member nodes (HTTP by default).
    """

    def __init__(self, ctx: ServiceContext, verification: Verification, governance: Governance, kek: KEK,
                 peers: Peers | None = None) -> None:
        self.ctx = ctx
        self.verification = verification
        self.governance = governance
        self.ledger = CustomsLedger(ctx.chain)
        self.records = CustomsRecords(ctx.store)
        self._kek = kek
        self._peer_key = kek.derive("peer-api-keys")
        self._ack_retry_at = 0.0
        self.outbox = ctx.outbox
        self.outbox.on_settled(WriteKind.UTILISE, self._utilised)
        self.outbox.on_settled(WriteKind.REQUEST, self._requested)
        self.outbox.on_settled(WriteKind.ANSWER, self._answered)
        if peers is None:
            from registry.services import peers as http_peers

            peers = cast(Peers, http_peers)
        self._peers = peers

    # -- governance ----------------------------------------------------------------------

    def authorise_customs(self, principal: Principal, label: str, account: str | None = None) -> tuple[str, str]:
        """Admit a Customs account of the authority's country on chain; return (address, API key)."""
        authority = self.ctx.signer_for(principal, Role.AUTHORITY)
        address = to_checksum_address(account) if account else self.ctx.new_funded_account()
        key = self.ctx.api_keys.mint(Role.CUSTOMS, country=principal.country, account=address, label=label)
        self.governance.send_governance(WriteKind.AUTHORISE_CUSTOMS, authority, {"account": address},
                                     f"customs:{address.lower()}", account=address, api_key=key)
        return address, key

    def set_peer(self, principal: Principal, country: str, url: str, api_key: str) -> None:
        """Remember the node of *country* and the Customs API key this node holds there (admin)."""
        if principal.role is not Role.ADMIN:
            raise PermissionDenied("only an admin key may configure peer nodes")
        if not url.startswith(("http://", "https://")):
            raise ValidationError("url: must be an http(s) URL", [{"loc": "url", "msg": "must start with http(s)://"}])
        sealed = DataKey(self._peer_key).encrypt(api_key.encode(), b"coo-peer/1|" + country.encode())
        self.records.put_peer(country, url.rstrip("/"), sealed)

    # -- resolving a certificate ---------------------------------------------------------

    def document(self, principal: Principal | None, ref: str, given: SealedDocument | None = None) -> SealedDocument:
        """The sealed document named by *ref* (certificate id or document hash).

        Raises:
            ValidationError: *given* does not pass the integrity check or is another document.
            NotFoundError: this node cannot produce it.
            KeyDestroyedError: it was erased.
        """
        wanted = _hash_or_none(ref)
        if given is not None:
            integrity = check_integrity(given)
            if not integrity.ok:
                raise ValidationError(f"document: {integrity.reason}", [{"loc": "document", "msg": integrity.reason}])
            if wanted is not None and parse_hex32(given.document_hash) != wanted:
                raise ValidationError("document: it is not the certificate named in the path",
                                      [{"loc": "document", "msg": "another document hash"}])
            return given
        row = self._local(principal, ref, wanted)
        if row is not None:
            return self.ctx.sealed_of(row)
        if wanted is not None and self.records.released_key(wanted) is not None:
            return self.open_released(wanted)
        raise NotFoundError("certificate", f"{ref} (this node did not issue it and holds no key to open it: include "
                            "the sealed document as 'document', or fetch its key from the issuing node)")

    def _local(self, principal: Principal | None, ref: str, wanted: bytes | None) -> CertificateRow | None:
        if wanted is not None:
            row = self.ctx.store.by_document_hash(wanted)
            if row is None:
                return None
            ref = row.id
        else:
            try:
                uuid.UUID(ref)
            except ValueError:
                raise NotFoundError("certificate", ref) from None
        return self.ctx.store.certificate(ref) if principal is None else self.ctx.certificate(principal, ref)

    # -- utilisation ---------------------------------------------------------------------

    def utilise(self, principal: Principal, ref: str, reference: str, declared_on: date, draws: Sequence[Draw],
                document: SealedDocument | None = None, parent_document: SealedDocument | None = None,
                ) -> tuple[dict[str, Any], bool, dict[str, Any]]:
        """Record one use of a certificate against an import declaration, on chain.

        Returns:
            The utilisation record; whether it is new (False: the same declaration was
            already recorded with the same draws, so nothing was drawn again); and the
            certificate's balance afterwards (as :meth:`utilisation`).

        Raises:
            PermissionDenied: not Customs of the certificate's importing country.
            ConflictError: the chain refuses the draw (quantity, status, expiry, reuse).
            ValidationError: unknown goods items or bad quantities.
        """
        signer = self._customs_signer(principal)
        sealed = self.document(principal if principal.role is not Role.CUSTOMS else None, ref, document)
        terms, _, _ = terms_claim(sealed)
        self._check_importing(terms, principal)
        self._check_anchoring(sealed)
        document_hash = parse_hex32(sealed.document_hash)
        wanted = self._draws(sealed, terms, draws)
        declaration = declaration_hash(principal.country or "", reference)
        known = self._utilisation(document_hash, declaration)
        if known is not None:
            if known["draws"] == _draw_json(sealed, wanted):
                return known, False, self._balance(sealed, terms)
            raise ConflictError(f"declaration {reference} has already drawn on this certificate with other quantities")
        root = _root(sealed)
        record_id = str(uuid.uuid4())
        local = {"record_id": record_id, "declared_on": declared_on.isoformat(), "draws": _draw_json(sealed, wanted),
                 "declaration_reference": self._seal_text(document_hash, f"declaration|{record_id}", reference)}
        try:
            # the draw waits behind the terms (the same certificate's writes keep their order)
            with contextlib.suppress(WritePending):
                self._ensure_terms(signer, sealed, parent_document)
            write = self.outbox.submit(WriteKind.UTILISE, signer, {
                "document_hash": hex32(document_hash), "root": hex32(root), "declaration": hex32(declaration),
                "items": [item for item, _ in wanted], "quantities": [quantity for _, quantity in wanted]},
                subject=f"draw:{hex32(document_hash)}:{hex32(declaration)}", local=local)
        except ContractRevertError as error:
            raise self._refusal(error, sealed) from error
        new = not (write.result or {}).get("already_on_chain")
        stored = self._utilisation(document_hash, declaration)
        assert stored is not None
        return stored, new, self._balance(sealed, terms)

    def _seal_text(self, document_hash: bytes, binding: str, text: str | None) -> str | None:
        """A text about a certificate as kept here (declaration reference, request reason or answer):
        sealed under the certificate's data key when this node holds it, so erasing the certificate
        shreds it too; as given otherwise."""
        held = None if text is None else self.ctx.vault.key_for_document(document_hash)
        if text is None or held is None:
            return text
        blob = held[1].encrypt(text.encode(), _TEXT_AAD + binding.encode())
        return _SEALED_TEXT + base64.urlsafe_b64encode(blob).decode()

    def _open_text(self, document_hash: bytes, binding: str, kept: str | None) -> str | None:
        """Reverse :meth:`_seal_text` ("" once the certificate's key is gone)."""
        if kept is None or not kept.startswith(_SEALED_TEXT):
            return kept
        held = self.ctx.vault.key_for_document(document_hash)
        if held is None:
            return ""
        blob = base64.urlsafe_b64decode(kept[len(_SEALED_TEXT):])
        return held[1].decrypt(blob, _TEXT_AAD + binding.encode()).decode()

    def _revealed(self, document_hash: bytes, record: dict[str, Any]) -> dict[str, Any]:
        """A utilisation record with its declaration reference opened."""
        reference = self._open_text(document_hash, f"declaration|{record['id']}", record["declaration_reference"])
        return {**record, "declaration_reference": reference}

    def _utilisation(self, document_hash: bytes, declaration: bytes) -> dict[str, Any] | None:
        found = self.records.utilisation_by_declaration(document_hash, declaration)
        return None if found is None else self._revealed(document_hash, found)

    def _utilised(self, write: ChainWrite) -> None:
        """Keep the declaration of a draw now on chain (once)."""
        document_hash, declaration = parse_hex32(write.args["document_hash"]), parse_hex32(write.args["declaration"])
        local = write.local
        if local is not None and self.records.utilisation_by_declaration(document_hash, declaration) is None:
            self.records.add_utilisation({
                "id": local["record_id"], "document_hash": document_hash,
                "declaration_reference": local["declaration_reference"], "declaration_hash": declaration,
                "declared_on": local["declared_on"], "draws": local["draws"], "customs": write.signer,
                "tx_hash": write.tx_hash, "block_number": write.block_number,
            })
        self.ctx.refresh_index()

    def utilisation(self, principal: Principal, ref: str, document: SealedDocument | None = None) -> dict[str, Any]:
        """Certified, drawn and remaining quantity per goods item, and this node's declarations."""
        if principal.role not in (Role.CUSTOMS, Role.ISSUER, Role.AUTHORITY, Role.ADMIN):
            raise PermissionDenied("this needs a customs, issuer, authority or admin key")
        sealed = self.document(principal, ref, document)
        terms, _, _ = terms_claim(sealed)
        if principal.role is Role.CUSTOMS and principal.country != terms.importing_country:
            raise NotFoundError("certificate", ref)
        return self._balance(sealed, terms)

    def _balance(self, sealed: SealedDocument, terms: Terms) -> dict[str, Any]:
        """Certified, drawn and remaining quantity per goods item (from the chain), and the declarations here."""
        document_hash = parse_hex32(sealed.document_hash)
        used = self.ledger.utilisation_of(document_hash, _root(sealed), len(terms.quantities))
        goods = _goods(sealed)
        items = []
        for index, (certified, drawn) in enumerate(zip(terms.quantities, used.drawn, strict=True)):
            item = goods[index] if index < len(goods) else {}
            items.append({"item_number": item.get("item_number", index + 1), "unit": item.get("unit"),
                          "certified": str(from_units(certified)), "drawn": str(from_units(drawn)),
                          "remaining": str(from_units(max(certified - drawn, 0)))})
        return {"document_hash": hex32(document_hash), "items": items,
                "exhausted": all(d >= c for c, d in zip(terms.quantities, used.drawn, strict=True)),
                "open_verification_requests": used.open_requests,
                "declarations": [self._revealed(document_hash, u) for u in self.records.utilisations(document_hash)]}

    def _ensure_terms(self, signer: LocalAccount, sealed: SealedDocument,
                      parent_document: SealedDocument | None = None) -> None:
        """Register the committed terms of *sealed*, under the root its proof leads to, unless they already are;
        a back-to-back certificate's parent first (from *parent_document*, or this node's own records)."""
        terms, salt, terms_proof = terms_claim(sealed)
        document_hash, proof = parse_hex32(sealed.document_hash), [parse_hex32(p) for p in sealed.proof.path]
        root = process_proof(document_hash, proof)
        if self.ledger.terms_of(document_hash, root) is not None:
            return
        parent_root = self._register_parent(signer, terms.parent, parent_document) if terms.has_parent else bytes(32)
        self.outbox.submit(WriteKind.TERMS, signer, {
            "document_hash": hex32(document_hash), "proof": hexes(proof), "terms": terms_args(terms),
            "salt": hex32(salt), "terms_proof": hexes(terms_proof), "parent_root": hex32(parent_root)},
            subject=f"terms:{hex32(document_hash)}:{hex32(root)}")

    def _check_anchoring(self, sealed: SealedDocument) -> None:
        """Refuse a document whose proof leads to a batch anchored by an issuer of another country than the one
        it says it was exported from: that is another issuer's certificate with the same hash, not this one."""
        view = self.ctx.chain.inspect(parse_hex32(sealed.document_hash), [parse_hex32(p) for p in sealed.proof.path])
        exporting = sealed.certificate.get("exporting_country")
        if not view.anchored:
            raise ConflictError("this certificate is not anchored on chain under the batch its proof names")
        if exporting is not None and view.country != exporting:
            raise ConflictError(f"the batch this proof leads to was anchored by an issuer of {view.country}, but the "
                                f"certificate says it was exported from {exporting}: it is not this certificate")

    @staticmethod
    def _check_importing(terms: Terms, principal: Principal) -> None:
        if terms.importing_country != principal.country:
            raise PermissionDenied(f"this certificate is for import into {terms.importing_country}: only its Customs "
                                   f"may use it, not Customs of {principal.country}")

    def _register_parent(self, signer: LocalAccount, parent: bytes, given: SealedDocument | None) -> bytes:
        """Register the parent's terms unless they already are; return the parent's batch root."""
        try:
            parent_document = self.document(None, hex32(parent), given)
        except NotFoundError:
            raise ConflictError(f"the parent certificate {hex32(parent)} of this back-to-back certificate is not "
                                "known here: include the parent's sealed document as 'parent_document'") from None
        self._ensure_terms(signer, parent_document)
        return _root(parent_document)

    def _draws(self, sealed: SealedDocument, terms: Terms, draws: Sequence[Draw]) -> list[tuple[int, int]]:
        if not draws:
            raise ValidationError("items: draw at least one goods item", [{"loc": "items", "msg": "empty"}])
        numbers = [item.get("item_number") for item in _goods(sealed)]
        out = []
        for position, draw in enumerate(draws):
            where = f"items[{position}]"
            if draw.item_number in numbers:
                index = numbers.index(draw.item_number)
            elif not numbers and 1 <= draw.item_number <= len(terms.quantities):
                index = draw.item_number - 1  # goods withheld: items are numbered in order
            else:
                raise ValidationError(f"{where}.item_number: the certificate has no goods item {draw.item_number}",
                                      [{"loc": f"{where}.item_number", "msg": "no such goods item"}])
            try:
                out.append((index, to_units(draw.quantity)))
            except (ValidationError, InvalidOperation, ValueError):
                raise ValidationError(f"{where}.quantity: must be positive with at most six decimal places",
                                      [{"loc": f"{where}.quantity", "msg": "not a positive quantity"}]) from None
        return out

    def _refusal(self, error: ContractRevertError, sealed: SealedDocument) -> Exception:
        """A contract refusal in plain words, as the error the API maps."""
        args = error.args_decoded
        name = error.name
        goods = _goods(sealed)
        if name == "CustomsRegistryOverdrawn":
            subject, item, requested, remaining = args
            label = goods[item].get("item_number", item + 1) if item < len(goods) else item + 1
            whose = "this certificate" if subject == parse_hex32(sealed.document_hash) else (
                f"the parent certificate {hex32(subject)}")
            return ConflictError(f"refused on chain: drawing {from_units(requested)} of goods item {label} "
                                 f"would exceed the quantity certified by {whose}; {from_units(remaining)} remain")
        if name == "CustomsRegistryNotUsable":
            state = DocumentState(args[1]).name.lower()
            whose = "this certificate" if args[0] == parse_hex32(sealed.document_hash) else "its parent certificate"
            return ConflictError(f"refused on chain: {whose} is {state} and cannot be used")
        if name == "CustomsRegistryExpired":
            until = datetime.fromtimestamp(args[1], UTC).date().isoformat()
            return ConflictError(f"refused on chain: the certificate expired (valid until {until})")
        if name == "CustomsRegistryDeclarationRecorded":
            return ConflictError("refused on chain: this declaration has already drawn on the certificate")
        if name == "CustomsRegistryNotCustoms":
            return PermissionDenied("refused on chain: only Customs of the importing country may use this certificate")
        if name == "CustomsRegistryTermsNotRegistered":
            return ConflictError(f"refused on chain: the terms of {hex32(args[0])} are not registered")
        return error

    # -- verification requests -------------------------------------------------------------

    def open_request(self, principal: Principal, ref: str, reason: str,
                     document: SealedDocument | None = None) -> dict[str, Any]:
        """Open a retroactive verification request; the reason text stays on this node."""
        signer = self._customs_signer(principal)
        sealed = self.document(None, ref, document)
        terms, _, _ = terms_claim(sealed)
        self._check_importing(terms, principal)
        self._check_anchoring(sealed)
        document_hash, proof = parse_hex32(sealed.document_hash), [parse_hex32(p) for p in sealed.proof.path]
        nonce = str(uuid.uuid4())  # the request id is known only once it is on chain
        local = {"nonce": nonce, "reason": self._seal_text(document_hash, f"reason|pending|{nonce}", reason)}
        try:
            with contextlib.suppress(WritePending):  # the request waits behind the terms
                self._ensure_terms(signer, sealed)
            write = self.outbox.submit(WriteKind.REQUEST, signer, {
                "document_hash": hex32(document_hash), "root": hex32(_root(sealed)),
                "reason_hash": hex32(keccak(reason.encode())), "proof": hexes(proof)}, local=local)
        except ContractRevertError as error:
            raise self._refusal(error, sealed) from error
        return self.request(principal, int((write.result or {})["request_id"]))

    def _requested(self, write: ChainWrite) -> None:
        """Keep the reason of a request now on chain, and send it to the issuing node."""
        document_hash = parse_hex32(write.args["document_hash"])
        request_id = int((write.result or {})["request_id"])
        if write.local is not None:
            reason = self._open_text(document_hash, f"reason|pending|{write.local['nonce']}",
                                     write.local["reason"]) or ""
            self.records.set_request_text(request_id,
                                          reason=self._seal_text(document_hash, f"reason|{request_id}", reason))
            self._deliver_reason(document_hash, [parse_hex32(p) for p in write.args["proof"]], request_id, reason)
        self.ctx.refresh_index()

    def _deliver_reason(self, document_hash: bytes, proof: Sequence[bytes], request_id: int, reason: str) -> None:
        """Send the reason text to the issuing country's node, when it is another configured node (best effort:
        the request stands on chain either way, and its hash lets the issuer check the text whenever it arrives)."""
        if self.ctx.store.by_document_hash(document_hash) is not None:
            return  # issued here: the text is already on this node
        country = self.ctx.chain.inspect(document_hash, proof).country or ""
        peer = self._peer(country)
        if peer is None:
            return
        try:
            self._peers.send_reason(*peer, request_id, reason)
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
                                      reason=self._seal_text(found.document_hash, f"reason|{request_id}", reason))

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
                local={"answer": self._seal_text(found.document_hash, f"answer|{request_id}", answer)})
        except ContractRevertError as error:
            if error.name == "CertificateRegistryNotIssuer":
                raise PermissionDenied("only the issuing body of this certificate "
                                       "or its authority may answer") from error
            if error.name == "CustomsRegistryRequestClosed":
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
            return row["customs_country"] == principal.country or _same(row["customs"], principal.account)
        if mine is None:
            return False
        if principal.role is Role.ISSUER:
            return _same(mine.issuer, principal.account)
        return principal.role is Role.AUTHORITY and mine.exporting_country == principal.country

    def _present(self, row: dict[str, Any], mine: CertificateRow | None) -> dict[str, Any]:
        answered = row["answered_at"]
        digest, request_id = row["document_hash"], row["id"]
        return {
            "id": row["id"], "document_hash": hex32(row["document_hash"]),
            "certificate_id": mine.id if mine else None,
            "certificate_number": mine.certificate_number if mine else None,
            "status": RequestState(row["state"]).slug, "opened_by": row["customs"],
            "country": row["customs_country"], "reason": self._open_text(digest, f"reason|{request_id}", row["reason"]),
            "reason_hash": hex32(row["reason_hash"]),
            "opened_at": _iso(row["opened_at"]), "age_seconds": max(0, (answered or _now()) - row["opened_at"]),
            "answered_at": _iso(answered) if answered else None, "answered_by": row["answered_by"],
            "answer": self._open_text(digest, f"answer|{request_id}", row["answer"]),
        }

    # -- key release and encrypted records -----------------------------------------------

    def release_key(self, principal: Principal, ref: str) -> ReleasedKey:
        """The data key of one of this node's encrypted-mode certificates, for its importing Customs.

        WARNING: the released copy is out of this node's reach; erasing later stops the
        registry from opening it (nodes drop released keys on the on-chain erasure), but
        cannot unlearn it from a party that kept it elsewhere.

        Raises:
            NotFoundError: not a certificate of this node visible to the caller.
            KeyDestroyedError: erased.
            ConflictError: hash-only mode (there is no on-chain ciphertext to open).
        """
        if principal.role is not Role.CUSTOMS:
            raise PermissionDenied("keys are released only to Customs of the importing country")
        row = self._local(principal, ref, _hash_or_none(ref))
        if row is None:
            raise NotFoundError("certificate", ref)
        if row.mode != Mode.ENCRYPTED:
            raise ConflictError("this certificate was anchored in hash-only mode: there is no on-chain ciphertext; "
                                "ask the exporter for the sealed document")
        key = self.ctx.vault.export_key(row.id)
        self.ctx.store.append_audit(str(uuid.uuid4()), {
            "key_release": {"certificate_id": row.id, "document_hash": hex32(row.document_hash),
                            "to_country": principal.country, "key_id": principal.key_id,
                            "at": datetime.now(UTC).isoformat(timespec="seconds")}})
        return ReleasedKey(row.document_hash, row.issuer, key)

    def token_for(self, row: CertificateRow) -> str:
        """What the QR code of a certificate carries: a key token in encrypted mode, else its id."""
        if row.mode == Mode.ENCRYPTED and row.status != CertificateStatus.ERASED:
            try:
                return key_token(row.document_hash, self.ctx.vault.export_key(row.id))
            except (KeyDestroyedError, NotFoundError):
                return row.id
        return row.id

    def verify_key_token(self, token: str) -> tuple[VerificationReport, VerificationReceipt]:
        """Verify the certificate a key token names, opening its on-chain ciphertext with the token's key.

        Contents are shown only while the certificate is not erased on chain; afterwards
        the verdict is ERASED with no contents, though the ciphertext is still on chain.

        Raises:
            NotFoundError: not a key token, no ciphertext on chain, or a key that does not open it.
        """
        parsed = parse_key_token(token)
        if parsed is None:
            raise NotFoundError("verification code", token[:12] + "…")
        document_hash, key = parsed
        published = self._published(document_hash)
        try:
            document = self._open(published, document_hash, key)
        except KeyDestroyedError:
            return self.verification.verify_hash(document_hash, published.proof(document_hash))
        except DecryptionError:
            raise NotFoundError("verification code", "(its key does not open this certificate)") from None
        return self.verification.verify_document(document)

    def fetch(self, principal: Principal, ref: str) -> SealedDocument:
        """Obtain the key of another node's encrypted-mode certificate and open its on-chain record.

        Raises:
            NotFoundError: no on-chain ciphertext for this hash, or no peer node for the issuer's country.
            KeyDestroyedError: the certificate was erased.
        """
        self._customs_signer(principal)
        document_hash = _hash_or_none(ref)
        if document_hash is None:
            raise ValidationError("document_hash: expected 0x followed by 64 hex digits",
                                  [{"loc": "document_hash", "msg": "not a document hash"}])
        if self.records.released_key(document_hash) is None:
            issuer = self._published(document_hash).issuer
            country = self.ctx.chain.issuer_country(issuer) or ""
            peer = self._peer(country)
            if peer is None:
                raise NotFoundError("peer node", f"of {country} (configure it: PUT /v1/governance/peers/{country})")
            self.keep_key(document_hash, issuer, self._peers.fetch_key(*peer, document_hash))
        return self.open_released(document_hash)

    def acknowledge_erasures(self) -> int:
        """Send the issuing nodes a signed acknowledgement for each released key destroyed here.

        Unreachable peers are tried again next time. Returns how many were delivered.
        """
        sent = 0
        if time.monotonic() < self._ack_retry_at:
            return 0
        for document_hash, issuer in self.ctx.store.unacknowledged_erasures():
            peer = self._peer(self.ctx.chain.issuer_country(issuer) or "")
            if peer is None:
                continue
            try:
                self._peers.acknowledge_erasure(*peer, document_hash,
                                                sign_acknowledgement(self.ctx.node_account, document_hash))
            except PeerError as error:
                log.warning("erasure of %s: acknowledgement not delivered (retry in %.0f s): %s",
                            hex32(document_hash), ACK_RETRY_SECONDS, error)
                self._ack_retry_at = time.monotonic() + ACK_RETRY_SECONDS
                continue
            self.ctx.store.mark_acknowledged(document_hash)
            sent += 1
        return sent

    def receive_acknowledgement(self, principal: Principal, ref: str, given: Mapping[str, Any]) -> None:
        """Keep a peer node's signed acknowledgement that it destroyed its copy of one of this node's keys.

        Raises:
            PermissionDenied: not a Customs key.
            NotFoundError: not a certificate of this node visible to the caller.
            ConflictError: the certificate is not erased here.
            ValidationError: a malformed or wrongly signed acknowledgement.
        """
        if principal.role is not Role.CUSTOMS or not principal.country:
            raise PermissionDenied("erasure acknowledgements come from Customs nodes")
        row = self._local(principal, ref, _hash_or_none(ref))
        if row is None:
            raise NotFoundError("certificate", ref)
        if self.ctx.store.erasure(row.document_hash) is None:
            raise ConflictError(f"certificate {row.id} is not erased on this node")
        ack = checked_acknowledgement(row.document_hash, given)
        self.ctx.store.add_acknowledgement(row.document_hash, ack["node_account"], principal.country,
                                               ack["acknowledged_at"], ack["signature"])

    def _peer(self, country: str) -> tuple[str, str] | None:
        """(URL, API key) of *country*'s node, if configured."""
        found = self.records.peer(country)
        if found is None:
            return None
        url, sealed_key = found
        return url, DataKey(self._peer_key).decrypt(sealed_key, b"coo-peer/1|" + country.encode()).decode()

    def keep_key(self, document_hash: bytes, issuer: str, key: bytes) -> None:
        """Keep a released data key, wrapped under this node's current key epoch."""
        self.ctx.vault.keep_released(document_hash, issuer, key)

    def open_released(self, document_hash: bytes) -> SealedDocument:
        """Open the on-chain ciphertext of *document_hash* with the key released to this node."""
        key = self.ctx.vault.released_key(document_hash)
        if key is None:
            raise NotFoundError("released key", hex32(document_hash))
        return self.open_on_chain(document_hash, key.unsafe_bytes())

    def open_on_chain(self, document_hash: bytes, key: bytes) -> SealedDocument:
        """Decrypt the ciphertext logged when *document_hash* was anchored, and rebuild its sealed document.

        Raises:
            KeyDestroyedError: the certificate is erased on chain (the registry opens nothing after erasure).
            NotFoundError: no ciphertext on chain for this hash.
            DecryptionError: wrong key.
        """
        return self._open(self._published(document_hash), document_hash, key)

    def _open(self, published: _Published, document_hash: bytes, key: bytes) -> SealedDocument:
        proof = published.proof(document_hash)
        if self.ctx.chain.inspect(document_hash, proof).state is DocumentState.ERASED:
            self.ctx.vault.forget_released(document_hash, published.issuer)
            raise KeyDestroyedError(hex32(document_hash))
        record = open_chain_payload(key, published.ciphertexts[document_hash], document_hash, published.issuer)
        certificate, sealed = parse_sealed_record(record, document_hash)
        return build_sealed_document(certificate, sealed, published.root, proof,
                                     chain_id=self.ctx.chain.chain_id, contract=self.ctx.chain.address)

    def _published(self, document_hash: bytes) -> _Published:
        """The encrypted-mode anchoring of *document_hash*: root, issuer and the batch's ciphertexts."""
        chain = self.ctx.chain
        found = chain.events(0, names={"PayloadPublished"},
                             topics=[chain.event_topic("PayloadPublished"), hex32(document_hash)])
        if not found:
            raise NotFoundError("on-chain ciphertext", f"{hex32(document_hash)} (not anchored in encrypted mode)")
        root = bytes(found[0].args["root"])
        batch = chain.batch_of(root)
        ciphertexts = chain.payloads(root, from_block=found[0].block_number)
        if batch.issuer is None or document_hash not in ciphertexts:
            raise NotFoundError("anchored batch", hex32(root))
        return _Published(root, batch.issuer, ciphertexts)

    def _customs_signer(self, principal: Principal) -> LocalAccount:
        if principal.role is not Role.CUSTOMS:
            raise PermissionDenied("this needs a customs key")
        if not principal.account:
            raise PermissionDenied("this customs key has no on-chain account; ask your authority for one "
                                   "(POST /v1/governance/customs)")
        signer = self.ctx.accounts.get(principal.account)
        if signer is None:
            raise PermissionDenied("this node holds no signing key for the caller's account")
        return signer


def _hash_or_none(ref: str) -> bytes | None:
    if not ref.startswith("0x"):
        return None
    try:
        return parse_hex32(ref)
    except ValueError:
        raise ValidationError(f"{ref}: expected a certificate id or 0x followed by 64 hex digits",
                              [{"loc": "id", "msg": "not an id or document hash"}]) from None


def _goods(sealed: SealedDocument) -> list[dict[str, Any]]:
    goods = sealed.certificate.get("goods")
    return [g if isinstance(g, dict) else {} for g in goods] if isinstance(goods, list) else []


def _draw_json(sealed: SealedDocument, draws: Sequence[tuple[int, int]]) -> list[dict[str, Any]]:
    goods = _goods(sealed)
    return [{"item_number": goods[i].get("item_number", i + 1) if i < len(goods) else i + 1,
             "quantity": str(from_units(q))} for i, q in draws]


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.lower() == b.lower()


__all__ = ["CustomsDesk", "Draw", "ReleasedKey", "declaration_hash", "key_token", "parse_key_token"]


def _root(sealed: SealedDocument) -> bytes:
    """The batch root the proof of *sealed* leads to: with the document hash, the certificate on chain."""
    document_hash = parse_hex32(sealed.document_hash)
    return process_proof(document_hash, [parse_hex32(p) for p in sealed.proof.path])
