"""Verify an OpenAttestation v2 document (a TradeTrust certificate) into our report's shape.

The checks, named as the registry's own (:class:`~registry.domain.report.CheckName`):

``integrity``
    the salted data hashes to ``signature.targetHash`` and the proof climbs to ``merkleRoot``
    (:meth:`~registry.openattestation.document.WrappedDocument.integrity_problem`). A document
    that fails is INVALID and nothing else is checked: its issuers are its own say-so.
``anchored``
    every issuer names a DocumentStore that lives on the chain this node is configured for and
    answers ``isIssued(merkleRoot)`` (a token registry or a DID-signed document is not supported).
``issuer_authorised``
    each issuer's DNS-TXT domain vouches for its store on this chain, or this node's trust list
    does (:mod:`~registry.openattestation.identity`); DNS unreachable and no trust list entry is
    UNAVAILABLE, never VALID.
``status``
    no store revoked the target hash, a hash on the proof's path, or the Merkle root.
``validity``
    skipped: OpenAttestation v2 has no validity period of its own.

The verdict: INVALID if integrity, anchoring or identity fails; UNAVAILABLE if the chain or
the identity could not be established; REVOKED if a store revoked it; else VALID.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from registry.chain.client import ChainClient
from registry.domain.report import Check, CheckName, CheckStatus, Verdict, VerificationReport
from registry.errors import ChainError, ChainUnavailableError
from registry.openattestation.document import DNS_TXT, Issuer, WrappedDocument
from registry.openattestation.hashing import climb
from registry.openattestation.identity import IdentityResolver, Vouch
from registry.openattestation.store import DocumentStore, checksum

PASS, FAIL, SKIPPED = CheckStatus.PASS, CheckStatus.FAIL, CheckStatus.SKIPPED
_HEX32 = re.compile(r"^[0-9a-fA-F]{64}$")


@dataclass
class _Findings:
    """What the chain and the identity step found, issuer by issuer."""

    not_issued: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    not_vouched: list[str] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)
    vouched_by: list[str] = field(default_factory=list)


class OpenAttestationVerifier:
    """Verify OpenAttestation v2 documents against the DocumentStores of one chain.

    Args:
        chain: the node's chain client (its chain is the one stores are read on).
        identity: DNS and the trust list.
        clock: "now" (UTC), injectable.
    """

    def __init__(self, chain: ChainClient, identity: IdentityResolver,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.chain = chain
        self.identity = identity
        self.clock = clock or (lambda: datetime.now(UTC))

    def verify(self, body: Mapping[str, Any]) -> VerificationReport:
        """Run every check on a wrapped v2 document.

        Raises:
            OpenAttestationDocumentError: the envelope is not a wrapped v2 document (naming the part).
        """
        document = WrappedDocument.parse(body)
        digest = "0x" + document.target_hash.lower() if _HEX32.match(document.target_hash) else None
        problem = document.integrity_problem()
        if problem is not None:
            return self._tampered(problem, digest)
        integrity = Check(name=CheckName.INTEGRITY, status=PASS,
                          reason="the salted data hashes to the target hash, and the proof reaches the Merkle root")
        issuers = document.issuers()
        unsupported = _unsupported(issuers)
        if unsupported:
            return self._report(document, [integrity, _check(CheckName.ANCHORED, FAIL, unsupported),
                                           *_skipped(f"not checked: {unsupported}")], Verdict.INVALID, None)
        try:
            chain_id, head = self.chain.chain_id, self.chain.block_number()
            findings = self._findings(document, issuers, chain_id)
        except ChainUnavailableError as error:
            return self._report(document, [integrity, *_skipped(f"the chain could not be reached ({error})",
                                                                with_anchored=True)], Verdict.UNAVAILABLE, None)
        checks = [integrity, *_checks(findings, chain_id, document)]
        return self._report(document, checks, _verdict(findings), head, findings)

    def _findings(self, document: WrappedDocument, issuers: list[Issuer], chain_id: int) -> _Findings:
        found = _Findings()
        path = climb(document.target, document.proofs)
        for issuer in issuers:
            assert issuer.document_store is not None and issuer.location is not None  # see _unsupported
            store = DocumentStore(self.chain.w3, checksum(issuer.document_store))
            if not store.has_code():
                found.not_issued.append(f"no contract lives at {store.address} on chain {chain_id}")
            elif not _issued(store, document.root):
                found.not_issued.append(f"{store.address} has not issued Merkle root 0x{document.merkle_root}")
            elif store.revoked_among(path):
                found.revoked.append(store.address)
            outcome = self.identity.check(issuer.location, chain_id, store.address)
            {Vouch.VOUCHED: found.vouched_by, Vouch.NOT_VOUCHED: found.not_vouched,
             Vouch.UNAVAILABLE: found.unavailable}[outcome.vouch].append(outcome.reason)
        return found

    def _tampered(self, problem: str, digest: str | None) -> VerificationReport:
        checks = [_check(CheckName.INTEGRITY, FAIL, problem),
                  *_skipped("not checked: the document is not intact, so nothing it says can be relied on",
                            with_anchored=True)]
        return VerificationReport(verdict=Verdict.INVALID, summary=f"INVALID: {problem}; do not rely on anything "
                                  "the document says", checks=checks, document_hash=digest, checked_at=self.clock())

    def _report(self, document: WrappedDocument, checks: list[Check], verdict: Verdict, head: int | None,
                findings: _Findings | None = None) -> VerificationReport:
        contents = document.contents()
        issuers = document.issuers()
        number = contents.get("id")
        vouched = findings is not None and not findings.not_vouched and not findings.unavailable
        return VerificationReport(
            verdict=verdict, summary=_summary(verdict, checks), checks=checks,
            document_hash="0x" + document.target_hash, certificate_number=number if isinstance(number, str) else None,
            issuer=_address(issuers[0].document_store) if issuers else None,
            issuer_name=issuers[0].location if vouched and issuers else None,
            checked_at=self.clock(), chain_id=self._chain_id(), chain_head=head, disclosed=contents)

    def _chain_id(self) -> int | None:
        try:
            return self.chain.chain_id
        except ChainError:
            return None


def _summary(verdict: Verdict, checks: list[Check]) -> str:
    if verdict is Verdict.VALID:
        return "VALID: intact, issued on its DocumentStore, its issuer's identity vouched for, not revoked"
    if verdict is Verdict.UNAVAILABLE:
        why = next((c.reason for c in checks if c.status is SKIPPED), "see the checks")
        return f"UNAVAILABLE: {why}; do not accept the document on this basis"
    failing = [c for c in checks if c.status is FAIL]
    return f"{verdict.value}: " + (failing[0].reason if failing else "see the checks")


def _issued(store: DocumentStore, root: bytes) -> bool:
    try:
        return store.is_issued(root)
    except ChainUnavailableError:
        raise
    except ChainError:
        return False  # not a DocumentStore (a call without an answer): nothing was issued on it


def _unsupported(issuers: list[Issuer]) -> str | None:
    """Why these issuers cannot be checked here (none; a token registry; no store; not DNS-TXT), or None."""
    if not issuers:
        return "the document names no issuers"
    for i, issuer in enumerate(issuers):
        who = issuer.name or f"issuer {i + 1}"
        if issuer.other_method and not issuer.document_store:
            return f"{who} issues through a token registry (transferable records are not supported)"
        if issuer.document_store is None or _address(issuer.document_store) is None:
            return f"{who} names no DocumentStore address"
        if issuer.identity_type != DNS_TXT or not issuer.location:
            return f"{who} does not prove its identity by DNS-TXT (only DNS-TXT is supported)"
    return None


def _address(value: str | None) -> str | None:
    try:
        return checksum(value) if value else None
    except ValueError:
        return None


def _check(name: CheckName, status: CheckStatus, reason: str, **details: Any) -> Check:
    return Check(name=name.value, status=status, reason=reason, details=details)


def _skipped(why: str, *, with_anchored: bool = False) -> list[Check]:
    names = [CheckName.ANCHORED] if with_anchored else []
    names += [CheckName.ISSUER_AUTHORISED, CheckName.STATUS, CheckName.VALIDITY]
    return [_check(name, SKIPPED, why) for name in names]


def _checks(found: _Findings, chain_id: int, document: WrappedDocument) -> list[Check]:
    root = "0x" + document.merkle_root
    anchored = (_check(CheckName.ANCHORED, FAIL, "; ".join(found.not_issued)) if found.not_issued else
                _check(CheckName.ANCHORED, PASS, f"Merkle root {root} is issued on its DocumentStore on chain "
                                                 f"{chain_id}", merkle_root=root))
    if found.not_vouched:
        identity = _check(CheckName.ISSUER_AUTHORISED, FAIL, "; ".join(found.not_vouched))
    elif found.unavailable:
        identity = _check(CheckName.ISSUER_AUTHORISED, SKIPPED, "; ".join(found.unavailable))
    else:
        identity = _check(CheckName.ISSUER_AUTHORISED, PASS, "; ".join(found.vouched_by))
    if found.not_issued:
        status = _check(CheckName.STATUS, SKIPPED, "not checked: the document is not issued")
    elif found.revoked:
        status = _check(CheckName.STATUS, FAIL, f"revoked by its DocumentStore {', '.join(found.revoked)}")
    else:
        status = _check(CheckName.STATUS, PASS, "no DocumentStore revoked the target hash, its proof or its root")
    validity = _check(CheckName.VALIDITY, SKIPPED, "OpenAttestation v2 documents carry no validity period")
    return [anchored, identity, status, validity]


def _verdict(found: _Findings) -> Verdict:
    if found.not_issued or found.not_vouched:
        return Verdict.INVALID
    if found.unavailable:
        return Verdict.UNAVAILABLE
    if found.revoked:
        return Verdict.REVOKED
    return Verdict.VALID


def verify_offline(body: Mapping[str, Any], *, rpc_url: str, identity: IdentityResolver) -> VerificationReport:
    """Verify an OpenAttestation v2 document straight against the chain at *rpc_url* (no node).

    Raises:
        OpenAttestationDocumentError: not a wrapped v2 envelope.
    """
    return OpenAttestationVerifier(ChainClient.connect(rpc_url), identity).verify(body)


__all__ = ["OpenAttestationVerifier", "verify_offline"]
