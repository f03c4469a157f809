"""The state importing and exporting Customs share on chain: utilisation and verification requests.

A thin, typed layer over :class:`~registry.chain.client.ChainClient` for the functions
``CustomsRegistry`` adds to the certificate registry. A certificate is named by its
document hash and the batch root it was anchored under: terms, utilisation and
requests registered under another root belong to another certificate. It signs with the caller's
account and returns plain values; refusals surface as
:class:`~registry.errors.ContractRevertError` named after the custom error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from eth_account.signers.local import LocalAccount

from registry.chain.client import ChainClient, ChainEvent, TxResult
from registry.sealing.terms import Terms

_ZERO32 = bytes(32)


class RequestState(IntEnum):
    """Lifecycle of a verification request (mirrors ``ICustomsRegistry.RequestState``)."""

    NONE = 0
    OPEN = 1
    CONFIRMED = 2
    NOT_CONFIRMED = 3

    @property
    def slug(self) -> str:
        """The API spelling: ``open``, ``confirmed``, ``not-confirmed``."""
        return self.name.lower().replace("_", "-")


@dataclass(frozen=True)
class Registration:
    """Terms registered on chain for one certificate (and, back-to-back, its parent's root)."""

    root: bytes
    terms: Terms
    parent_root: bytes | None = None


@dataclass(frozen=True)
class Utilisation:
    """How much of a certificate has been drawn, and how many verification requests are open."""

    ledger: bytes
    drawn: tuple[int, ...]
    open_requests: int


@dataclass(frozen=True)
class ChainRequest:
    """One verification request as the chain holds it."""

    id: int
    document_hash: bytes
    root: bytes
    reason_hash: bytes
    opened_by: str
    opened_at: int
    state: RequestState
    answered_by: str | None
    answered_at: int


class CustomsLedger:
    """Utilisation and verification requests on the registry contract behind *chain*."""

    def __init__(self, chain: ChainClient) -> None:
        self.chain = chain

    # -- governance ----------------------------------------------------------------------

    def authorise_customs(self, authority: LocalAccount, account: str) -> TxResult:
        """Admit *account* as Customs of the authority's country."""
        return self.chain.transact(authority, "authoriseCustoms", account)

    def withdraw_customs(self, authority: LocalAccount, account: str) -> TxResult:
        """Withdraw a Customs account of the authority's country."""
        return self.chain.transact(authority, "withdrawCustoms", account)

    def customs_country(self, account: str) -> str | None:
        """Country of a Customs account, or None."""
        raw = bytes(self.chain.call("customsCountry", account))
        return None if raw == b"\0\0" else raw.decode("ascii")

    # -- utilisation ---------------------------------------------------------------------

    def register_terms(self, signer: LocalAccount, document_hash: bytes, proof: Sequence[bytes], terms: Terms,
                       salt: bytes, terms_proof: Sequence[bytes], parent_root: bytes = _ZERO32) -> TxResult:
        """Register the terms committed in *document_hash* for the certificate *proof* leads to
        (idempotent; anyone may). A back-to-back certificate names its parent's batch *parent_root*."""
        return self.chain.transact(signer, "registerTerms", document_hash, list(proof), terms.as_abi(), salt,
                                   list(terms_proof), parent_root)

    def terms_of(self, document_hash: bytes, root: bytes) -> Registration | None:
        """The registered terms of the certificate (*root*, *document_hash*), or None."""
        registered, country, valid_until, parent, quantities, parent_items, parent_root = self.chain.call(
            "termsOf", document_hash, root)
        if bytes(registered) == _ZERO32:
            return None
        terms = Terms(bytes(country).decode("ascii"), int(valid_until), tuple(int(q) for q in quantities),
                      bytes(parent), tuple(int(i) for i in parent_items))
        return Registration(bytes(registered), terms, None if bytes(parent_root) == _ZERO32 else bytes(parent_root))

    def utilise(self, signer: LocalAccount, document_hash: bytes, root: bytes, declaration: bytes,
                draws: Sequence[tuple[int, int]]) -> TxResult:
        """Draw ``(item index, quantity in millionths)`` pairs against an import *declaration* hash."""
        items = [item for item, _ in draws]
        quantities = [quantity for _, quantity in draws]
        return self.chain.transact(signer, "utilise", document_hash, root, declaration, items, quantities)

    def utilisation_of(self, document_hash: bytes, root: bytes, item_count: int) -> Utilisation:
        """Quantity drawn per item (first *item_count* items) and open verification requests."""
        ledger, drawn, open_requests = self.chain.call("utilisationOf", document_hash, root, item_count)
        return Utilisation(bytes(ledger), tuple(int(d) for d in drawn), int(open_requests))

    # -- verification requests -------------------------------------------------------------

    def request_verification(self, signer: LocalAccount, document_hash: bytes, root: bytes,
                             reason_hash: bytes) -> tuple[int, TxResult]:
        """Open a verification request (terms registered first); returns its id and the transaction."""
        result = self.chain.transact(signer, "requestVerification", document_hash, root, reason_hash)
        opened = [e for e in result.events if e.name == "VerificationRequested"]
        return int(opened[0].args["id"]), result

    def answer_verification(self, signer: LocalAccount, request_id: int, confirmed: bool,
                            answer_hash: bytes = _ZERO32) -> TxResult:
        """Answer request *request_id*; a not-confirmed answer revokes the certificate."""
        return self.chain.transact(signer, "answerVerification", request_id, confirmed, answer_hash)

    def request_of(self, request_id: int) -> ChainRequest | None:
        """Request *request_id*, or None if there is none."""
        raw = self.chain.call("requestOf", request_id)
        document_hash, root, reason_hash, opened_by, opened_at, state, answered_by, answered_at = raw
        if int(state) == RequestState.NONE:
            return None
        answered = None if int(answered_by, 16) == 0 else answered_by
        return ChainRequest(request_id, bytes(document_hash), bytes(root), bytes(reason_hash), opened_by,
                            int(opened_at), RequestState(int(state)), answered, int(answered_at))

    def draws(self, document_hash: bytes, declaration: bytes, from_block: int) -> list[ChainEvent]:
        """The ``CertificateUtilised`` events of one declaration on one document hash (any root) from *from_block*
        (the certificate's anchoring block, or earlier) on, in chain order."""
        return self.chain.events(from_block, names={"CertificateUtilised"},
                                 topics=[self.chain.event_topic("CertificateUtilised"), "0x" + document_hash.hex(),
                                         "0x" + declaration.hex()])

    def requests_opened(self, document_hash: bytes, customs: str, from_block: int) -> list[ChainEvent]:
        """The ``VerificationRequested`` events *customs* opened on *document_hash* (any root) from *from_block*
        (the certificate's anchoring block, or earlier) on, in chain order."""
        return self.chain.events(from_block, names={"VerificationRequested"},
                                 topics=[self.chain.event_topic("VerificationRequested"), None,
                                         "0x" + document_hash.hex(), "0x" + bytes(12).hex() + customs[2:].lower()])

    def request_count(self) -> int:
        """How many verification requests were ever opened."""
        return int(self.chain.call("requestCount"))


__all__ = ["ChainRequest", "CustomsLedger", "Registration", "RequestState", "Utilisation"]
