"""Utilisation: importing Customs draws quantities of a certificate against an import declaration, on chain.

The rule lives in ``CustomsRegistry.sol`` (a draw never exceeds what the certificate,
and a back-to-back certificate's parent, certify; a declaration draws once); this
service registers the committed terms first, sends the draw through the chain-write
outbox and keeps the declaration, sealed, on this node.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from eth_account.signers.local import LocalAccount

from registry.chain.client import DocumentState
from registry.chain.customs import CustomsLedger
from registry.chain.refusals import Refusal
from registry.custody.apikeys import Principal, Role
from registry.entropy import random_uuid
from registry.errors import (
    ConflictError,
    ContractRevertError,
    NotFoundError,
    PermissionDenied,
    ValidationError,
    WritePending,
)
from registry.pipelines.effects import hexes, terms_args
from registry.sealing.document import SealedDocument, terms_claim
from registry.sealing.merkle import keccak, process_proof
from registry.sealing.terms import Terms, from_units, to_units
from registry.services.context import Service, ServiceContext
from registry.services.documents import (
    Documents,
    draw_json,
    goods_of,
    root_of,
)
from registry.storage.customs import CustomsRecords
from registry.storage.writelog import ChainWrite, WriteKind
from registry.types import hex32, parse_hex32

DECLARATION_TAG = b"coo-declaration/1\x00"
DATE_SKEW = timedelta(days=1)
"""How far past today (UTC) a declaration may be dated: a local date east of UTC (up to UTC+14) is
a day ahead of the UTC date; that day also absorbs a small clock skew between nodes."""
DECLARATION_MAX_AGE = timedelta(days=3 * 366)
"""The oldest declaration recorded: three years, the time most FTAs (RCEP among them) have importers and
Customs keep origin records. A declaration is also never dated before its certificate's issue date."""

@dataclass(frozen=True)
class Draw:
    """Quantity of one goods item (by its ``item_number``) drawn by a declaration."""

    item_number: int
    quantity: Decimal


def declaration_hash(country: str, reference: str) -> bytes:
    """What the chain stores for an import declaration: keccak of country and reference, tagged."""
    return keccak(DECLARATION_TAG + country.encode() + b"\x00" + reference.strip().encode())


def check_declaration_date(declared_on: date, issued: date | None, today: date) -> None:
    """Refuse a declaration date no declaration can have.

    Args:
        declared_on: the import declaration's date.
        issued: the certificate's issue date, when disclosed.
        today: today's date (UTC).

    Raises:
        ValidationError: after ``today`` + :data:`DATE_SKEW`, before ``today`` −
            :data:`DECLARATION_MAX_AGE`, or before *issued* (located at ``date``).
    """
    why = None
    if declared_on > today + DATE_SKEW:
        why = f"{declared_on} is in the future (today is {today}, UTC)"
    elif declared_on < today - DECLARATION_MAX_AGE:
        why = f"{declared_on} is more than three years ago; older declarations are not recorded"
    elif issued is not None and declared_on < issued:
        why = f"{declared_on} is before the certificate's issue date {issued}"
    if why is not None:
        raise ValidationError(f"date: {why}", [{"loc": "date", "msg": why}])


def _issue_date(sealed: SealedDocument) -> date | None:
    """The certificate's issue date, if the document discloses it."""
    try:
        return date.fromisoformat(str(sealed.certificate["issue_date"]))
    except (KeyError, ValueError):
        return None


class Utilisation(Service):
    """Draw on a certificate, and show what remains."""

    def __init__(self, ctx: ServiceContext, documents: Documents) -> None:
        super().__init__(ctx)
        self.documents = documents
        self.ledger = CustomsLedger(ctx.chain)
        self.records = CustomsRecords(ctx.store)
        self.outbox.on_settled(WriteKind.UTILISE, self._utilised)

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
            ValidationError: unknown goods items or bad quantities; a declaration date in the future,
                over :data:`DECLARATION_MAX_AGE` old, or before the certificate's issue date.
        """
        signer = self.documents.customs_signer(principal)
        sealed = self.documents.document(principal if principal.role is not Role.CUSTOMS else None, ref, document)
        check_declaration_date(declared_on, _issue_date(sealed), datetime.now(UTC).date())
        terms, _, _ = terms_claim(sealed)
        self.documents.check_importing(terms, principal)
        self.documents.check_anchoring(sealed)
        document_hash = parse_hex32(sealed.document_hash)
        wanted = self._draws(sealed, terms, draws)
        declaration = declaration_hash(principal.country or "", reference)
        known = self._utilisation(document_hash, declaration)
        if known is not None:
            if known["draws"] == draw_json(sealed, wanted):
                return known, False, self._balance(sealed, terms)
            raise ConflictError(f"declaration {reference} has already drawn on this certificate with other quantities")
        root = root_of(sealed)
        record_id = str(random_uuid())
        local = {"record_id": record_id, "declared_on": declared_on.isoformat(), "draws": draw_json(sealed, wanted),
                 "declaration_reference": self.documents.seal_text(document_hash, f"declaration|{record_id}",
                                                                   reference)}
        try:
            with contextlib.suppress(WritePending):  # the draw waits behind the terms (same certificate: in order)
                self.ensure_terms(signer, sealed, parent_document)
            write = self.outbox.submit(WriteKind.UTILISE, signer, {
                "document_hash": hex32(document_hash), "root": hex32(root), "declaration": hex32(declaration),
                "items": [item for item, _ in wanted], "quantities": [quantity for _, quantity in wanted]},
                subject=f"draw:{hex32(document_hash)}:{hex32(declaration)}", local=local)
        except ContractRevertError as error:
            raise self.refusal(error, sealed) from error
        new = not (write.result or {}).get("already_on_chain")
        stored = self._utilisation(document_hash, declaration)
        assert stored is not None
        return stored, new, self._balance(sealed, terms)

    def _revealed(self, document_hash: bytes, record: dict[str, Any]) -> dict[str, Any]:
        """A utilisation record with its declaration reference opened."""
        reference = self.documents.open_text(document_hash, f"declaration|{record['id']}",
                                             record["declaration_reference"])
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
        sealed = self.documents.document(principal, ref, document)
        terms, _, _ = terms_claim(sealed)
        if principal.role is Role.CUSTOMS and principal.country != terms.importing_country:
            raise NotFoundError("certificate", ref)
        return self._balance(sealed, terms)

    def _balance(self, sealed: SealedDocument, terms: Terms) -> dict[str, Any]:
        """Certified, drawn and remaining quantity per goods item (from the chain), and the declarations here."""
        document_hash = parse_hex32(sealed.document_hash)
        used = self.ledger.utilisation_of(document_hash, root_of(sealed), len(terms.quantities))
        goods = goods_of(sealed)
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

    def ensure_terms(self, signer: LocalAccount, sealed: SealedDocument,
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

    def _register_parent(self, signer: LocalAccount, parent: bytes, given: SealedDocument | None) -> bytes:
        """Register the parent's terms unless they already are; return the parent's batch root."""
        try:
            parent_document = self.documents.document(None, hex32(parent), given)
        except NotFoundError:
            raise ConflictError(f"the parent certificate {hex32(parent)} of this back-to-back certificate is not "
                                "known here: include the parent's sealed document as 'parent_document'") from None
        self.ensure_terms(signer, parent_document)
        return root_of(parent_document)

    def _draws(self, sealed: SealedDocument, terms: Terms, draws: Sequence[Draw]) -> list[tuple[int, int]]:
        if not draws:
            raise ValidationError("items: draw at least one goods item", [{"loc": "items", "msg": "empty"}])
        numbers = [item.get("item_number") for item in goods_of(sealed)]
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

    def refusal(self, error: ContractRevertError, sealed: SealedDocument) -> Exception:
        """A contract refusal in plain words, as the error the API maps."""
        args = error.args_decoded
        name = error.name
        goods = goods_of(sealed)
        if name == Refusal.OVERDRAWN:
            subject, item, requested, remaining = args
            label = goods[item].get("item_number", item + 1) if item < len(goods) else item + 1
            whose = "this certificate" if subject == parse_hex32(sealed.document_hash) else (
                f"the parent certificate {hex32(subject)}")
            return ConflictError(f"refused on chain: drawing {from_units(requested)} of goods item {label} "
                                 "would exceed "
                                 f"the quantity certified by {whose}; {from_units(remaining)} remain")
        if name == Refusal.NOT_USABLE:
            state = DocumentState(args[1]).name.lower()
            whose = "this certificate" if args[0] == parse_hex32(sealed.document_hash) else "its parent certificate"
            return ConflictError(f"refused on chain: {whose} is {state} and cannot be used")
        if name == Refusal.EXPIRED:
            until = datetime.fromtimestamp(args[1], UTC).date().isoformat()
            return ConflictError(f"refused on chain: the certificate expired (valid until {until})")
        if name == Refusal.DECLARATION_RECORDED:
            return ConflictError("refused on chain: this declaration has already drawn on the certificate")
        if name == Refusal.NOT_CUSTOMS:
            return PermissionDenied("refused on chain: only Customs of the importing country may use this certificate")
        if name == Refusal.TERMS_NOT_REGISTERED:
            return ConflictError(f"refused on chain: the terms of {hex32(args[0])} are not registered")
        return error


__all__ = ["Draw", "Utilisation", "declaration_hash"]
