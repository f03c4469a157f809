"""The verification pipeline: a sealed document (or a hash) in, a report out.

Checks, in order (DESIGN §5): ``integrity``, ``anchored``, ``issuer_authorised``,
``status``, ``validity``, ``readable``, ``utilisation`` and, when an import
declaration is given, ``declaration_match``. The verdict is ``VALID`` only when
every check passes; a chain that cannot be reached gives ``UNAVAILABLE``, never a
stale ``VALID`` (fail closed).

The verifier needs nothing but a :class:`~registry.chain.client.ChainClient` (an RPC URL
and the contract address), so an importing administration can run it without the
issuer's node; or, so as to trust no single endpoint, any :class:`ChainReads`, such as
a :class:`~registry.chain.quorum.QuorumReader` over several (whose disagreement is an
``UNAVAILABLE`` naming what each endpoint said). The node adds what only it knows (whether the key still exists,
the committed terms of a certificate it holds) through :class:`NodeFacts`.
Utilisation and open verification requests come from the chain (or the node's
event index at the chain head), measured against the terms sealed in the document.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from registry.chain.client import (
    ChainClient,
    DocumentState,
    DocumentView,
    certificate_key,
)
from registry.chain.customs import CustomsLedger, Utilisation
from registry.chain.transport import first_block_at
from registry.domain.reasons import RevocationReason
from registry.domain.report import Check, CheckName, CheckStatus, Verdict, VerificationReport
from registry.domain.states import FINAL_STATUSES
from registry.errors import ChainError, ChainUnavailableError, QuorumError, SealedDocumentError
from registry.sealing.document import SealedDocument, check_integrity
from registry.sealing.terms import Terms, from_units, terms_disagreement
from registry.types import hex32, parse_hex32

PASS, FAIL, WARN, SKIPPED = CheckStatus.PASS, CheckStatus.FAIL, CheckStatus.WARN, CheckStatus.SKIPPED


@dataclass(frozen=True)
class Declaration:
    """The parts of an import declaration a certificate is matched against."""

    hs_code: str | None = None
    quantity: Decimal | None = None
    consignee: str | None = None
    importing_country: str | None = None


PENDING_ON_CHAIN = FINAL_STATUSES
"""Local statuses that the chain must show too (a pending or lost write is being sent: see
:mod:`registry.pipelines.outbox`)."""


@dataclass(frozen=True)
class NodeFacts:
    """What a node knows beyond the chain (all optional)."""

    key_exists: bool | None = None
    terms: Terms | None = None
    """The committed terms, when only a hash is verified but the node holds the document."""
    local_status: str | None = None
    """This node's own record of the certificate's status (``revoked``, ``superseded``, ``erased``…),
    when it issued it: a change recorded here but missing on chain is being sent again."""


class IndexSource(Protocol):
    """An up-to-date local copy of the chain's state (see :class:`registry.pipelines.indexer.Follower`)."""

    def fresh(self) -> bool: ...

    def inspect(self, document_hash: bytes, proof: list[bytes]) -> tuple[DocumentView, int]: ...

    def utilisation(self, document_hash: bytes, root: bytes, item_count: int) -> Utilisation: ...

    def anchoring_block(self, root: bytes) -> int: ...


class ChainReads(Protocol):
    """The chain as the verifier reads it: one endpoint (:class:`_DirectReads` over a
    :class:`~registry.chain.client.ChainClient`) or a quorum of them
    (:class:`~registry.chain.quorum.QuorumReader`)."""

    @property
    def chain_id(self) -> int: ...

    @property
    def address(self) -> str: ...

    def inspect_at_head(self, document_hash: bytes, proof: Sequence[bytes]) -> tuple[DocumentView, int]: ...

    def utilisation_of(self, document_hash: bytes, root: bytes, item_count: int, *,
                       block: int | None = None) -> Utilisation: ...

    def status_change(self, document_hash: bytes, root: bytes, from_block: int) -> tuple[int, str] | None: ...

    def block_number(self) -> int: ...

    def block_timestamp(self, block: int | str = ...) -> int: ...


class _DirectReads:
    """One endpoint, trusted alone: every read at its latest block, exactly as before quorums (*block* unused)."""

    def __init__(self, chain: ChainClient) -> None:
        self.chain = chain
        self.ledger = CustomsLedger(chain)

    @property
    def chain_id(self) -> int:
        return self.chain.chain_id

    @property
    def address(self) -> str:
        return self.chain.address

    def inspect_at_head(self, document_hash: bytes, proof: Sequence[bytes]) -> tuple[DocumentView, int]:
        return self.chain.inspect_at_head(document_hash, proof)

    def utilisation_of(self, document_hash: bytes, root: bytes, item_count: int, *,
                       block: int | None = None) -> Utilisation:
        return self.ledger.utilisation_of(document_hash, root, item_count)

    def status_change(self, document_hash: bytes, root: bytes, from_block: int) -> tuple[int, str] | None:
        return self.chain.status_change(document_hash, root, from_block)

    def block_number(self) -> int:
        return self.chain.block_number()

    def block_timestamp(self, block: int | str = "latest") -> int:
        return self.chain.block_timestamp(block)


@dataclass
class _Run:
    checks: list[Check] = field(default_factory=list)

    def add(self, name: str, status: CheckStatus, reason: str, /, **details: Any) -> None:
        self.checks.append(Check(name=CheckName(name).value, status=status, reason=reason, details=details))

    def status(self, name: str) -> CheckStatus | None:
        return next((c.status for c in self.checks if c.name == name), None)


class Verifier:
    """Verify sealed documents and hashes against one registry deployment.

    Args:
        chain: client of the registry contract this verifier trusts (one endpoint, trusted alone), or
            the reads of several endpoints agreed by a quorum (:class:`~registry.chain.quorum.QuorumReader`).
        clock: returns "now" (UTC); injectable for tests.
        index: the node's event index, used while it is at the chain head (fed through the same quorum).
    """

    def __init__(self, chain: ChainClient | ChainReads, clock: Callable[[], datetime] | None = None,
                 index: IndexSource | None = None) -> None:
        self.chain = chain
        self.reads: ChainReads = _DirectReads(chain) if isinstance(chain, ChainClient) else chain
        self.clock = clock or (lambda: datetime.now(UTC))
        self.index = index

    def _read(self, document_hash: bytes, proof: list[bytes]) -> tuple[DocumentView, int, bool]:
        """From the event index when it is at the chain head (no RPC), else from the chain; and whether the
        index answered (the utilisation is then read from it too, without asking again if it is fresh)."""
        if self.index is not None and self.index.fresh():
            view, head = self.index.inspect(document_hash, proof)
            if view.anchored:
                return view, head, True
            # a negative answer may only mean the follower has not seen the newest block: ask the chain
        view, head = self.reads.inspect_at_head(document_hash, proof)
        return view, head, False

    def _utilisation(self, document_hash: bytes, root: bytes, item_count: int, head: int,
                     indexed: bool) -> Utilisation:
        """From the index when it answered the view (*indexed*) or is fresh now, else from the chain at the
        block the view was read at."""
        if self.index is not None and (indexed or self.index.fresh()):
            return self.index.utilisation(document_hash, root, item_count)
        return self.reads.utilisation_of(document_hash, root, item_count, block=head)

    # Complexity (radon C): the check sequence: integrity causes, then chain checks, an outage caught at each read
    def verify_document(
        self, document: SealedDocument, declaration: Declaration | None = None, facts: NodeFacts | None = None
    ) -> VerificationReport:
        """Run every check on a full or selectively disclosed sealed document."""
        facts = facts or NodeFacts()
        run = _Run()
        certificate: Mapping[str, Any] = document.certificate
        try:
            document_hash = parse_hex32(document.document_hash)
        except ValueError:
            raise SealedDocumentError("document_hash: not a 32-byte hex value") from None
        integrity = check_integrity(document)
        binding = self._binding_problem(document)
        terms = document.terms.unpack()[0] if integrity.ok and document.terms is not None else None
        disagreement = terms_disagreement(terms, certificate) if terms is not None else None
        if not integrity.ok:
            run.add("integrity", FAIL, integrity.reason)
        elif binding:
            run.add("integrity", FAIL, binding)
        elif disagreement:
            run.add("integrity", FAIL, f"the committed terms disagree with the certificate: {disagreement}")
        else:
            run.add("integrity", PASS, "every disclosed field hashes to the document hash, "
                                       "and the proof reaches the batch root")
        if run.status("integrity") is FAIL:
            return self._untrusted(run, document_hash, certificate, declaration is not None)
        try:
            view, head, indexed = self._read(document_hash, [parse_hex32(p) for p in document.proof.path])
        except ChainUnavailableError as error:
            return self._unavailable(run, document_hash, certificate, error)
        claimed_root = document.proof.batch_root
        self._anchoring_checks(run, view, certificate, claimed_root)
        self._status_check(run, view, facts)
        self._validity_check(run, certificate)
        self._readable_check(run, view, facts, has_content=bool(certificate))
        try:
            self._utilisation_check(run, view, (head, indexed), terms, certificate)
        except ChainUnavailableError as error:
            return self._unavailable(run, document_hash, certificate, error)
        if declaration is not None:
            self._declaration_check(run, certificate, declaration)
        return self._report(run, document_hash, view, head, certificate, list(document.withheld))

    def verify_hash(self, document_hash: bytes, proof: list[bytes] | None = None,
                    facts: NodeFacts | None = None) -> VerificationReport:
        """Status-only check of a document hash (no contents, so no integrity or validity)."""
        facts = facts or NodeFacts()
        run = _Run()
        run.add("integrity", SKIPPED, "only a hash was given: contents not checked")
        try:
            view, head, indexed = self._read(document_hash, proof or [])
        except ChainUnavailableError as error:
            return self._unavailable(run, document_hash, {}, error)
        self._anchoring_checks(run, view, {}, None)
        self._status_check(run, view, facts)
        run.add("validity", SKIPPED, "only a hash was given: validity dates not known")
        self._readable_check(run, view, facts, has_content=False)
        try:
            self._utilisation_check(run, view, (head, indexed), facts.terms, {})
        except ChainUnavailableError as error:
            return self._unavailable(run, document_hash, {}, error)
        return self._report(run, document_hash, view, head, {})

    # -- checks ------------------------------------------------------------------------

    def _binding_problem(self, document: SealedDocument) -> str | None:
        """A document sealed for another chain or contract must not pass here."""
        try:
            chain_id, address = self.reads.chain_id, self.reads.address
        except ChainError:
            return None  # reported by the anchoring check
        anchor = document.anchor
        if anchor.chain_id != chain_id:
            return f"sealed for chain {anchor.chain_id}, but this verifier trusts chain {chain_id}"
        if anchor.contract.lower() != address.lower():
            return f"sealed for registry {anchor.contract}, but this verifier trusts {address}"
        if anchor.batch_root.lower() != document.proof.batch_root.lower():
            return "the anchoring reference and the proof name different batch roots"
        return None

    def _anchoring_checks(self, run: _Run, view: DocumentView, certificate: Mapping[str, Any],
                          claimed_root: str | None) -> None:
        if not view.anchored:
            run.add("anchored", FAIL, "no anchored batch on chain contains this document")
            run.add("issuer_authorised", SKIPPED, "not anchored")
            return
        if claimed_root is not None and claimed_root.lower() != hex32(view.root):
            run.add("anchored", FAIL, "the proof does not lead to the batch root the document names")
        else:
            when = _when(view.anchored_at)
            run.add("anchored", PASS, f"anchored by {view.issuer} on {when} (batch of {view.document_count})",
                    issuer=view.issuer, anchored_at=when, batch_root=hex32(view.root))
        exporting = certificate.get("exporting_country")
        if not view.authorised_at_anchoring:
            run.add("issuer_authorised", FAIL,
                    f"{view.issuer} was not an authorised issuer when it anchored this document")
        elif exporting is not None and exporting != view.country:
            run.add("issuer_authorised", FAIL,
                    f"the issuer is authorised for {view.country}, but "
                    f"the certificate says it was exported from {exporting}")
        else:
            note = "" if view.issuer_active else " (suspended since; earlier certificates stay valid)"
            run.add("issuer_authorised", PASS,
                    f"authorised by the competent authority of {view.country} at anchoring time{note}",
                    country=view.country)

    def _status_check(self, run: _Run, view: DocumentView, facts: NodeFacts) -> None:
        if not view.anchored:
            run.add("status", SKIPPED, "not anchored")
            return
        if view.state is DocumentState.ACTIVE and facts.local_status in PENDING_ON_CHAIN:
            run.add("status", WARN, f"the issuing body {facts.local_status} this certificate, "
                    "but the chain does not show "
                    "it yet (the change is being sent): treat it as "
                    f"{facts.local_status}", local_status=facts.local_status)
            return
        if view.state is DocumentState.ACTIVE:
            run.add("status", PASS, "not revoked, superseded or erased")
            return
        when, by = self._changed(view)
        if view.state is DocumentState.REVOKED:
            why = RevocationReason.describe(view.reason)
            run.add("status", FAIL, f"REVOKED on {when} by {by}: {why}", revocation_reason=view.reason,
                    changed_at=when)
        elif view.state is DocumentState.SUPERSEDED:
            link = hex32(view.replacement) if view.replacement else "unknown"
            run.add("status", FAIL, f"SUPERSEDED on {when}: replaced by the certificate with document hash {link}",
                    replacement=link, changed_at=when)
        else:
            run.add("status", FAIL, f"ERASED on {when}: its key was destroyed and its contents can no longer be opened",
                    changed_at=when)

    def _changed(self, view: DocumentView) -> tuple[str, str]:
        if view.changed_at:
            return _when(view.changed_at), str(view.changed_by)
        try:
            found = self.reads.status_change(view.document_hash, view.root, self._anchoring_block(view))
        except ChainError:
            found = None
        return (_when(found[0]), found[1]) if found else ("an unknown date", "the issuer or its authority")

    def _anchoring_block(self, view: DocumentView) -> int:
        """Where the scan for a certificate's status events starts: its anchoring block as the node's index
        records it, else the first block of the anchoring's time (never block 0)."""
        if self.index is not None:
            return self.index.anchoring_block(view.root)
        return first_block_at(self.reads, view.anchored_at)

    def _validity_check(self, run: _Run, certificate: Mapping[str, Any]) -> None:
        issue, until = _date(certificate.get("issue_date")), _date(certificate.get("valid_until"))
        if issue is None or until is None:
            run.add("validity", SKIPPED, "the validity dates were not disclosed")
            return
        today = self.clock().date()
        if today < issue:
            run.add("validity", FAIL, f"not valid before its issue date {issue}")
        elif today > until:
            run.add("validity", FAIL, f"EXPIRED: valid until {until}")
        else:
            run.add("validity", PASS, f"valid from {issue} until {until}")

    def _readable_check(self, run: _Run, view: DocumentView, facts: NodeFacts, *, has_content: bool) -> None:
        if view.state is DocumentState.ERASED or facts.key_exists is False:
            run.add("readable", FAIL, "the key was destroyed: the contents can no longer be read through the registry")
        elif has_content:
            run.add("readable", PASS, "the disclosed contents are in hand")
        elif facts.key_exists:
            run.add("readable", PASS, "the issuer's node still holds the key")
        else:
            run.add("readable", SKIPPED, "no contents given and no key information")

    # Complexity (radon C): the utilisation outcomes: unanchored, no terms, exhausted or remaining, open requests
    def _utilisation_check(self, run: _Run, view: DocumentView, read: tuple[int, bool], terms: Terms | None,
                           certificate: Mapping[str, Any]) -> None:
        """*read*: the head the view was read at, and whether the index answered it."""
        if not view.anchored:
            run.add("utilisation", SKIPPED, "not anchored")
            return
        used = self._utilisation(view.document_hash, view.root, len(terms.quantities) if terms else 0, *read)
        if terms is None:
            run.add("utilisation", SKIPPED, "no certified quantities in hand (the document carries no committed terms)")
        else:
            listed = certificate.get("goods")
            goods: list[Any] = listed if isinstance(listed, list) else []
            left: dict[str, str] = {}
            parts = []
            for index, (certified, drawn) in enumerate(zip(terms.quantities, used.drawn, strict=True)):
                item = goods[index] if index < len(goods) and isinstance(goods[index], dict) else {}
                label = str(item.get("item_number", index + 1))
                remaining = from_units(max(certified - drawn, 0))
                left[label] = str(remaining)
                parts.append(f"item {label}: {remaining} of {from_units(certified)} {item.get('unit', '')}".rstrip())
            carried = "" if used.ledger == certificate_key(view.root, view.document_hash) else (
                " (drawn together with the certificate it replaced)")
            if all(drawn >= certified for certified, drawn in zip(terms.quantities, used.drawn, strict=True)):
                run.add("utilisation", FAIL, f"EXHAUSTED: the certified quantity has been used in full{carried}",
                        remaining=left)
            else:
                run.add("utilisation", PASS, f"remaining quantity: {'; '.join(parts)}{carried}", remaining=left)
        if used.open_requests:
            run.add("verification_request", WARN,
                    f"{used.open_requests} retroactive verification request(s) open with the issuing body")

    # Complexity (radon C): one branch per declaration field (country, HS code, quantity, consignee), graded together
    def _declaration_check(self, run: _Run, certificate: Mapping[str, Any], declaration: Declaration) -> None:
        problems: list[str] = []
        minor: list[str] = []
        goods = [g for g in certificate.get("goods") or [] if isinstance(g, dict)]  # withheld items are null
        if (declaration.importing_country
                and certificate.get("importing_country") not in (None, declaration.importing_country)):
            problems.append(f"certificate is for import into {certificate.get('importing_country')}, "
                            f"declaration into {declaration.importing_country}")
        if declaration.hs_code:
            matching = [g for g in goods if str(g.get("hs_code", ""))[:6] == declaration.hs_code[:6]]
            if not matching:
                problems.append(f"no goods item with HS subheading {declaration.hs_code[:6]}")
            elif declaration.quantity is not None:
                certified = sum((_decimal(g.get("quantity")) for g in matching), Decimal(0))
                if declaration.quantity > certified:
                    problems.append(f"declared quantity {declaration.quantity} exceeds certified {certified}")
        if declaration.consignee:
            name = str((certificate.get("consignee") or {}).get("name", ""))
            if name and _norm(name) != _norm(declaration.consignee):
                minor.append(f"consignee differs: certificate {name!r}, declaration {declaration.consignee!r}")
        if problems:
            run.add("declaration_match", FAIL, "; ".join(problems + minor))
        elif minor:
            run.add("declaration_match", WARN, "; ".join(minor))
        else:
            run.add("declaration_match", PASS, "HS code, quantity, consignee and importing country match")

    # -- verdict -----------------------------------------------------------------------

    def _unavailable(self, run: _Run, document_hash: bytes, certificate: Mapping[str, Any],
                     error: ChainUnavailableError) -> VerificationReport:
        """UNAVAILABLE: no endpoint answered, too few of a quorum did, or they disagree (each one's answer
        in the checks' details and the summary: never a silent pick)."""
        if isinstance(error, QuorumError):
            reason = "the chain endpoints disagree" if error.disagree else "too few chain endpoints answered"
            summary = f"UNAVAILABLE: {error}"
            details: dict[str, Any] = {"endpoints": error.endpoints}
        else:
            reason, summary, details = "the chain could not be reached", (
                f"UNAVAILABLE: the chain could not be reached ({error})"), {}
        present = {check.name for check in run.checks}
        # the first chain read failed: its checks are skipped; a later one (utilisation): that one is
        for name in [n for n in ("anchored", "issuer_authorised", "status") if n not in present] or ["utilisation"]:
            run.add(name, SKIPPED, reason, **details)
        return VerificationReport(
            verdict=Verdict.UNAVAILABLE, checks=run.checks, document_hash=hex32(document_hash),
            summary=f"{summary}; do not accept the certificate on this basis",
            certificate_number=certificate.get("certificate_number"), checked_at=self.clock(),
            exporting_country=certificate.get("exporting_country"),
        )

    def _untrusted(self, run: _Run, document_hash: bytes, certificate: Mapping[str, Any],
                   with_declaration: bool) -> VerificationReport:
        """INVALID, and nothing else checked: what the chain says of the hash says nothing of these contents."""
        why = "not checked: the contents do not match the document hash, so nothing about them can be relied on"
        names = ["anchored", "issuer_authorised", "status", "validity", "readable", "utilisation"]
        for name in names + (["declaration_match"] if with_declaration else []):
            run.add(name, SKIPPED, why)
        return VerificationReport(
            verdict=Verdict.INVALID, checks=run.checks, document_hash=hex32(document_hash), checked_at=self.clock(),
            summary="INVALID: " + run.checks[0].reason + "; do not rely on anything the document says",
        )

    # Complexity (radon C): verdict, summary and disclosure are chosen together from the same checks
    def _report(self, run: _Run, document_hash: bytes, view: DocumentView, head: int,
                certificate: Mapping[str, Any], withheld: Sequence[str] = ()) -> VerificationReport:
        verdict = _verdict(run, view, certificate)
        # An erased certificate's contents are not shown, even when the holder sent them.
        trusted = run.status("integrity") is not FAIL and verdict is not Verdict.ERASED
        failing = [c for c in run.checks if c.status is FAIL]
        warnings = [c for c in run.checks if c.status is WARN]
        if verdict is Verdict.VALID:
            summary = "VALID: authentic, unaltered, issued by an authorised body and not revoked"
        elif verdict is Verdict.VALID_WITH_WARNINGS:
            summary = "VALID WITH WARNINGS: " + "; ".join(c.reason for c in warnings)
        else:
            summary = f"{verdict.value}: " + (failing[0].reason if failing else "see the checks")
        return VerificationReport(
            verdict=verdict, summary=summary, checks=run.checks, document_hash=hex32(document_hash),
            certificate_number=certificate.get("certificate_number"), issuer=view.issuer,
            issuer_name=view.issuer_name, authority=view.authority, authority_name=view.authority_name,
            exporting_country=certificate.get("exporting_country") or view.country, checked_at=self.clock(),
            chain_id=self.reads.chain_id, chain_head=head,
            disclosed=(dict(certificate) or None) if trusted else None,
            withheld=sorted(withheld) if trusted and certificate else None,
        )


# Complexity (radon C): the verdict precedence over the checks, case by case in order; splitting it would hide the order
def _verdict(run: _Run, view: DocumentView, certificate: Mapping[str, Any]) -> Verdict:
    for name in ("integrity", "anchored", "issuer_authorised"):
        if run.status(name) is FAIL:
            return Verdict.INVALID
    if run.status("status") is FAIL:
        return {DocumentState.REVOKED: Verdict.REVOKED, DocumentState.SUPERSEDED: Verdict.SUPERSEDED,
                DocumentState.ERASED: Verdict.ERASED}[view.state]
    if run.status("validity") is FAIL:
        return Verdict.EXPIRED
    if run.status("utilisation") is FAIL:
        return Verdict.EXHAUSTED
    if run.status("declaration_match") is FAIL or run.status("readable") is FAIL:
        return Verdict.INVALID
    flags = [f for f in ("issued_retrospectively", "certified_true_copy") if certificate.get(f)]
    for flag in flags:
        run.add("flags", WARN, f"the certificate is marked {flag.replace('_', ' ')}")
    if any(c.status is WARN for c in run.checks):
        return Verdict.VALID_WITH_WARNINGS
    return Verdict.VALID


def _when(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def _norm(text: str) -> str:
    return " ".join(text.lower().replace(".", " ").replace(",", " ").split())
