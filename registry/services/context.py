"""What the use-case services share: the node's parts, and the few things every service needs.

A service (:mod:`~registry.services.issuing`, :mod:`~registry.services.verification`,
:mod:`~registry.services.governance`, the Customs services) takes the one
:class:`ServiceContext` the runtime builds, and reaches the store, the vault, the chain and
the workers through it; none holds another service's state.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount

from registry.chain.client import ChainClient
from registry.custody.accounts import AccountBook
from registry.custody.apikeys import ApiKeys, Principal, Role
from registry.custody.vault import KeyVault
from registry.domain.states import CertificateStatus
from registry.errors import (
    ChainError,
    ConflictError,
    NotFoundError,
    PermissionDenied,
)
from registry.pipelines.indexer import Follower
from registry.pipelines.outbox import WriteQueue
from registry.pipelines.relay import AnchorQueue
from registry.pipelines.verify import ChainReads
from registry.sealing.document import SealedDocument, build_sealed_document
from registry.sealing.record import parse_sealed_record
from registry.storage.store import (
    CertificateRow,
    Store,
)
from registry.storage.writelog import WriteKind
from registry.types import hex32, parse_hex32, same_account

_PREFIX_SCAN = 500
"""Rows read at a time while matching a certificate-number prefix."""


@dataclass(frozen=True)
class CertificateFilter:
    """What a caller asks of a certificate listing; every field given must match."""

    status: str | None = None
    number_prefix: str | None = None
    importing_country: str | None = None
    created_since: float | None = None
    """Registered at or after (POSIX seconds)."""
    created_before: float | None = None
    """Registered before (POSIX seconds)."""


@dataclass
class ServiceContext:
    """The node's parts, shared by every service."""

    store: Store
    vault: KeyVault
    chain: ChainClient
    accounts: AccountBook
    node_account: LocalAccount
    api_keys: ApiKeys
    anchorer: AnchorQueue
    """The anchoring worker, or in an API worker process the relay that wakes the writer's."""
    follower: Follower
    outbox: WriteQueue
    """The chain-write outbox, or in an API worker process the queue that leaves the sending to the writer."""
    reads: ChainReads | None = None
    """The chain as verification reads it when that is not ``chain`` alone: a quorum of endpoints."""
    standing: dict[str, tuple[float, bool]] = field(default_factory=dict)
    """Issuer standing (monotonic time, active) as this node last set or read it."""

    def certificate(self, principal: Principal, certificate_id: str) -> CertificateRow:
        """A certificate the caller may see (its issuer, its authority, importing Customs, admin).

        Raises:
            NotFoundError: unknown, or not visible to the caller (no existence oracle).
        """
        row = self.store.certificate(certificate_id)
        visible = (
            principal.role is Role.ADMIN
            or (principal.role is Role.ISSUER and same_account(principal.account, row.issuer))
            or (principal.role is Role.AUTHORITY and principal.country == row.exporting_country)
            or (principal.role is Role.CUSTOMS and principal.country == row.importing_country)
        )
        if not visible:
            raise NotFoundError("certificate", certificate_id)
        return row

    def certificates(self, principal: Principal, wanted: CertificateFilter | None = None, *,
                     after: str | None = None, limit: int = 50) -> list[CertificateRow]:
        """The certificates the caller may see (as :meth:`certificate`) that match *wanted*, newest first,
        a page at a time (*after*: the id of the previous page's last one).

        Raises:
            PermissionDenied: a key whose role sees no certificates (an issuer key without an account).
        """
        wanted = wanted or CertificateFilter()
        scope: dict[str, Any] = {}
        if principal.role is Role.ISSUER:
            if not principal.account:
                raise PermissionDenied("this issuer key has no account")
            scope["issuer"] = checksum_address(principal.account)
        elif principal.role is Role.AUTHORITY:
            scope["exporting_country"] = principal.country
        elif principal.role is Role.CUSTOMS:
            scope["importing_country"] = principal.country
        if wanted.importing_country is not None:
            if scope.get("importing_country") not in (None, wanted.importing_country):
                return []  # a Customs key asking for another country's imports
            scope["importing_country"] = wanted.importing_country
        query = dict(scope, status=wanted.status, created_since=wanted.created_since,
                     created_before=wanted.created_before)
        if not wanted.number_prefix:
            return self.store.certificates(**query, after=after, limit=limit)
        return self._by_number_prefix(query, wanted.number_prefix, after, limit)

    def _by_number_prefix(self, query: dict[str, Any], prefix: str, after: str | None,
                          limit: int) -> list[CertificateRow]:
        """Numbers are stored sealed (an erased one leaves nothing to match), so a prefix is matched here,
        on the rows the other filters select, scanning them a page at a time until *limit* match."""
        found: list[CertificateRow] = []
        scan = max(limit, _PREFIX_SCAN)
        while len(found) < limit:
            rows = self.store.certificates(**query, after=after, limit=scan)
            found += [r for r in rows if r.status != CertificateStatus.ERASED
                      and (r.certificate_number or "").startswith(prefix)]
            if len(rows) < scan:
                break
            after = rows[-1].id
        return found[:limit]

    def sealed_of(self, row: CertificateRow) -> SealedDocument:
        """The sealed document of one of this node's anchored certificates (no access check).

        Raises:
            ConflictError: not anchored yet.
            KeyDestroyedError: erased.
        """
        if row.proof is None or row.batch_id is None:
            raise ConflictError(f"certificate {row.id} is not anchored yet; try again in a moment")
        certificate, sealed = parse_sealed_record(self.vault.decrypt_record(row.id, row.issuer), row.document_hash)
        batch = self.store.batch(row.batch_id)
        assert batch.root is not None
        return build_sealed_document(certificate, sealed, batch.root, [parse_hex32(p) for p in row.proof],
                                     chain_id=self.chain.chain_id, contract=self.chain.address)

    def refresh_index(self) -> None:
        """Index our own change now, so this node's next verification already sees it."""
        with contextlib.suppress(ChainError):  # the follower catches up; until then verification reads the chain
            self.follower.poll()

    def signer_for(self, principal: Principal, role: Role) -> LocalAccount:
        """The signing account of a caller with *role* (the node account for an admin).

        Raises:
            PermissionDenied: another role, or this node holds no key for the caller's account.
        """
        if principal.role is not role:
            raise PermissionDenied(f"this needs {role.article} {role.value} key")
        address = principal.account or (self.node_account.address if role is Role.ADMIN else None)
        signer = self.accounts.get(address) if address else None
        if signer is None and role is Role.ADMIN:
            signer = self.node_account
        if signer is None:
            raise PermissionDenied("this node holds no signing key for the caller's account")
        return signer

    def new_funded_account(self) -> str:
        """Create an account in this node's book and fund it where the chain allows; its address."""
        account = self.accounts.create()
        # a permissioned network funds accounts (or charges no gas) by its own rules
        with contextlib.suppress(ChainError):
            self.chain.fund(account.address)
        return account.address


class Service:
    """A use-case service: its context, and the parts it uses most under their own names."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.vault = ctx.vault
        self.chain = ctx.chain
        self.accounts = ctx.accounts
        self.node_account = ctx.node_account
        self.api_keys = ctx.api_keys
        self.anchorer = ctx.anchorer
        self.follower = ctx.follower
        self.outbox = ctx.outbox


PENDING_STATUS = {WriteKind.REVOKE: CertificateStatus.REVOKED, WriteKind.SUPERSEDE: CertificateStatus.SUPERSEDED,
                  WriteKind.ERASE: CertificateStatus.ERASED}
"""The status a pending status write stands for."""


def status_subject(document_hash: bytes) -> str:
    """The outbox subject of a certificate's status changes."""
    return f"status:{hex32(document_hash)}"


def canonical_json(body: Any) -> bytes:
    """Deterministic JSON of our own records (sorted keys, no spaces), for their hashes and fingerprints."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def checksum_address(address: str) -> str:
    """*address* in EIP-55 form (as given when it is not an address)."""
    from eth_utils.address import to_checksum_address

    try:
        return str(to_checksum_address(address))
    except ValueError:
        return address


def proof_of(row: CertificateRow) -> list[bytes]:
    """The Merkle proof of an anchored certificate, as bytes."""
    return [parse_hex32(p) for p in row.proof or []]


__all__ = ["PENDING_STATUS", "Service", "ServiceContext", "canonical_json", "checksum_address", "proof_of",
           "status_subject"]
