"""Finding and opening a certificate Customs works with, and the member nodes it comes from.

A certificate is named by this node's certificate id or by its document hash; a
node that did not issue it needs the sealed document (given in the request), or a
released key to open the ciphertext the anchoring transaction logged (encrypted
mode). Texts a node keeps about a certificate (declaration references, request
reasons, answers) are sealed under its data key here, so erasing it shreds them too.
The other member nodes are reached over :mod:`registry.services.peers`.
"""

from __future__ import annotations

import base64
import binascii
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, cast

from eth_account.signers.local import LocalAccount

from registry.chain.client import DocumentState
from registry.chain.customs import CustomsLedger
from registry.custody.apikeys import Principal, Role
from registry.custody.keys import KEK, DataKey
from registry.errors import (
    ConflictError,
    KeyDestroyedError,
    NotFoundError,
    PermissionDenied,
    ValidationError,
)
from registry.pipelines.anchoring import open_chain_payload
from registry.sealing.document import SealedDocument, build_sealed_document, check_integrity
from registry.sealing.merkle import MerkleTree, process_proof
from registry.sealing.record import parse_sealed_record
from registry.sealing.terms import Terms, from_units
from registry.services.context import Service, ServiceContext
from registry.services.verification import Verification
from registry.storage.customs import CustomsRecords
from registry.storage.store import CertificateRow
from registry.types import hex32, parse_hex32

if TYPE_CHECKING:
    pass


log = logging.getLogger("coo.customs")

DECLARATION_TAG = b"coo-declaration/1\x00"
_SEALED_TEXT = "s1:"
_TEXT_AAD = b"coo-customs-text/1|"
KEY_TOKEN_PREFIX = "k1."
"""Key tokens: ``k1.`` + base64url(document hash ‖ data key), no padding."""


class Peers(Protocol):
    """How a node talks to other member nodes (:mod:`registry.services.peers` over HTTP)."""

    def fetch_key(self, url: str, api_key: str, document_hash: bytes) -> bytes: ...

    def send_reason(self, url: str, api_key: str, request_id: int, reason: str) -> None: ...

    def acknowledge_erasure(self, url: str, api_key: str, document_hash: bytes,
                            acknowledgement: dict[str, str]) -> None: ...


@dataclass(frozen=True)
class _Published:
    """An encrypted-mode anchoring: its root, issuer, and the ciphertext of each document in tree order."""

    root: bytes
    issuer: str
    ciphertexts: dict[bytes, bytes]

    def proof(self, document_hash: bytes) -> list[bytes]:
        """Path from *document_hash* to the root (the batch tree is the documents in publication order)."""
        return MerkleTree(list(self.ciphertexts)).proof_for(document_hash)


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


def now_seconds() -> int:
    """Now, in whole seconds since the epoch (chain timestamps' unit)."""
    return int(datetime.now(UTC).timestamp())


class Documents(Service):
    """Resolve, open and seal what Customs works with; configure and reach peer nodes.

    Args:
        ctx: what the node's services share.
        verification: verification on this node (a document opened here is verified there).
        kek: the node's key-encryption key (wraps peer API keys).
        peers: how to reach other member nodes (HTTP by default).
    """

    def __init__(self, ctx: ServiceContext, verification: Verification, kek: KEK, peers: Peers | None = None) -> None:
        super().__init__(ctx)
        self.verification = verification
        self.ledger = CustomsLedger(ctx.chain)
        self.records = CustomsRecords(ctx.store)
        self._peer_key = kek.derive("peer-api-keys")
        if peers is None:
            from registry.services import peers as http_peers

            peers = cast(Peers, http_peers)
        self.peers = peers

    def document(self, principal: Principal | None, ref: str, given: SealedDocument | None = None) -> SealedDocument:
        """The sealed document named by *ref* (certificate id or document hash).

        Raises:
            ValidationError: *given* does not pass the integrity check or is another document.
            NotFoundError: this node cannot produce it.
            KeyDestroyedError: it was erased.
        """
        wanted = hash_or_none(ref)
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

    def seal_text(self, document_hash: bytes, binding: str, text: str | None) -> str | None:
        """A text about a certificate as kept here (declaration reference, request reason or answer):
        sealed under the certificate's data key when this node holds it, so erasing the certificate
        shreds it too; as given otherwise."""
        held = None if text is None else self.ctx.vault.key_for_document(document_hash)
        if text is None or held is None:
            return text
        blob = held[1].encrypt(text.encode(), _TEXT_AAD + binding.encode())
        return _SEALED_TEXT + base64.urlsafe_b64encode(blob).decode()

    def open_text(self, document_hash: bytes, binding: str, kept: str | None) -> str | None:
        """Reverse :meth:`_seal_text` ("" once the certificate's key is gone)."""
        if kept is None or not kept.startswith(_SEALED_TEXT):
            return kept
        held = self.ctx.vault.key_for_document(document_hash)
        if held is None:
            return ""
        blob = base64.urlsafe_b64decode(kept[len(_SEALED_TEXT):])
        return held[1].decrypt(blob, _TEXT_AAD + binding.encode()).decode()

    def check_anchoring(self, sealed: SealedDocument) -> None:
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
    def check_importing(terms: Terms, principal: Principal) -> None:
        if terms.importing_country != principal.country:
            raise PermissionDenied(f"this certificate is for import into {terms.importing_country}: only its Customs "
                                   f"may use it, not Customs of {principal.country}")

    def customs_signer(self, principal: Principal) -> LocalAccount:
        if principal.role is not Role.CUSTOMS:
            raise PermissionDenied("this needs a customs key")
        if not principal.account:
            raise PermissionDenied("this customs key has no on-chain account; ask your authority for one "
                                   "(POST /v1/governance/customs)")
        signer = self.ctx.accounts.get(principal.account)
        if signer is None:
            raise PermissionDenied("this node holds no signing key for the caller's account")
        return signer

    def set_peer(self, principal: Principal, country: str, url: str, api_key: str) -> None:
        """Remember the node of *country* and the Customs API key this node holds there (admin)."""
        if principal.role is not Role.ADMIN:
            raise PermissionDenied("only an admin key may configure peer nodes")
        if not url.startswith(("http://", "https://")):
            raise ValidationError("url: must be an http(s) URL", [{"loc": "url", "msg": "must start with http(s)://"}])
        sealed = DataKey(self._peer_key).encrypt(api_key.encode(), b"coo-peer/1|" + country.encode())
        self.records.put_peer(country, url.rstrip("/"), sealed)

    def peer(self, country: str) -> tuple[str, str] | None:
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
        return self.open_published(self.published(document_hash), document_hash, key)

    def open_published(self, published: _Published, document_hash: bytes, key: bytes) -> SealedDocument:
        proof = published.proof(document_hash)
        if self.ctx.chain.inspect(document_hash, proof).state is DocumentState.ERASED:
            self.ctx.vault.forget_released(document_hash, published.issuer)
            raise KeyDestroyedError(hex32(document_hash))
        record = open_chain_payload(key, published.ciphertexts[document_hash], document_hash, published.issuer)
        certificate, sealed = parse_sealed_record(record, document_hash)
        return build_sealed_document(certificate, sealed, published.root, proof,
                                     chain_id=self.ctx.chain.chain_id, contract=self.ctx.chain.address)

    def published(self, document_hash: bytes) -> _Published:
        """The encrypted-mode anchoring of *document_hash*: root, issuer and the batch's ciphertexts."""
        chain = self.ctx.chain
        found = chain.publications(document_hash, self.ctx.store.publication_block(document_hash))
        if not found:
            raise NotFoundError("on-chain ciphertext", f"{hex32(document_hash)} (not anchored in encrypted mode)")
        root = bytes(found[0].args["root"])
        batch = chain.batch_of(root)
        ciphertexts = chain.payloads(root, from_block=found[0].block_number)
        if batch.issuer is None or document_hash not in ciphertexts:
            raise NotFoundError("anchored batch", hex32(root))
        return _Published(root, batch.issuer, ciphertexts)


def hash_or_none(ref: str) -> bytes | None:
    """The document hash *ref* names, or None for a certificate id."""
    if not ref.startswith("0x"):
        return None
    try:
        return parse_hex32(ref)
    except ValueError:
        raise ValidationError(f"{ref}: expected a certificate id or 0x followed by 64 hex digits",
                              [{"loc": "id", "msg": "not an id or document hash"}]) from None


def goods_of(sealed: SealedDocument) -> list[dict[str, Any]]:
    """The disclosed goods items of *sealed* (empty when withheld)."""
    goods = sealed.certificate.get("goods")
    return [g if isinstance(g, dict) else {} for g in goods] if isinstance(goods, list) else []


def draw_json(sealed: SealedDocument, draws: Sequence[tuple[int, int]]) -> list[dict[str, Any]]:
    """Draws as the API shows them: item number and quantity in the unit of the certificate."""
    goods = goods_of(sealed)
    return [{"item_number": goods[i].get("item_number", i + 1) if i < len(goods) else i + 1,
             "quantity": str(from_units(q))} for i, q in draws]


def iso_time(timestamp: int) -> str:
    """A chain timestamp as ISO 8601 (UTC, seconds)."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")




def root_of(sealed: SealedDocument) -> bytes:
    """The batch root the proof of *sealed* leads to: with the document hash, the certificate on chain."""
    document_hash = parse_hex32(sealed.document_hash)
    return process_proof(document_hash, [parse_hex32(p) for p in sealed.proof.path])

__all__ = ["KEY_TOKEN_PREFIX", "Documents", "Peers", "draw_json", "goods_of", "hash_or_none", "iso_time", "key_token",
           "now_seconds", "parse_key_token", "root_of"]
