"""For each kind of chain write: how to send it, and how to tell whether the chain already has its effect.

The outbox (:mod:`registry.pipelines.outbox`) never sends a write blindly a second time:
it first asks the chain whether the write's *effect* is there (the certificate
is revoked, the draw under this declaration is recorded, the issuer is
suspended, …). That is what makes a re-send after a crash, a chain restart or
a reorg idempotent even for the one write the contract does not deduplicate by
itself, opening a verification request: a request already on chain with the
same certificate, reason and Customs account (and not claimed by another write)
is recognised as this write's.

Writes to this node's OpenAttestation DocumentStore (``oa-issue``, ``oa-revoke``) go to the store named in
their arguments, and their effect is what the store says (``isIssued``, ``isRevoked``).

Arguments are JSON: bytes as ``0x`` hex, lists of hex for proofs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from registry.chain.client import ChainClient, DocumentState, TxResult
from registry.chain.customs import CustomsLedger, RequestState
from registry.chain.refusals import Refusal
from registry.chain.transport import first_block_at
from registry.openattestation.store import REFUSED as STORE_REFUSED
from registry.openattestation.store import DocumentStore
from registry.sealing.merkle import process_proof
from registry.sealing.terms import Terms
from registry.storage.writelog import ChainWrite, WriteKind
from registry.types import parse_hex32, same_account


class Effect(Enum):
    """What the chain shows of a write's effect."""

    PRESENT = "present"
    ABSENT = "absent"
    WAIT = "wait"
    """Cannot be sent yet (the certificate is not anchored again yet, the request it answers is not back yet)."""
    PRECLUDED = "precluded"
    """Can never happen now (e.g. another authority is already admitted for the country)."""


@dataclass(frozen=True)
class Found:
    """A write's effect on chain, and what it yielded (a request id; the transaction of a draw)."""

    effect: Effect
    result: dict[str, Any] | None = None
    why: str | None = None


def hexes(values: Sequence[bytes]) -> list[str]:
    """Bytes as JSON-able ``0x`` hex strings."""
    return ["0x" + v.hex() for v in values]


def _b(args: Mapping[str, Any], key: str) -> bytes:
    return parse_hex32(args[key])


def _proof(args: Mapping[str, Any], key: str = "proof") -> list[bytes]:
    return [parse_hex32(p) for p in args[key]]


def terms_args(terms: Terms) -> dict[str, Any]:
    """A :class:`Terms` as write arguments."""
    return {"importing_country": terms.importing_country, "valid_until": terms.valid_until,
            "quantities": list(terms.quantities), "parent": "0x" + terms.parent.hex(),
            "parent_items": list(terms.parent_items)}


def _terms(args: Mapping[str, Any]) -> Terms:
    t = args["terms"]
    return Terms(t["importing_country"], int(t["valid_until"]), tuple(int(q) for q in t["quantities"]),
                 parse_hex32(t["parent"]), tuple(int(i) for i in t["parent_items"]))


ALREADY: dict[WriteKind, frozenset[str]] = {
    WriteKind.REVOKE: frozenset({Refusal.INVALID_STATUS_CHANGE}),
    WriteKind.SUPERSEDE: frozenset({Refusal.INVALID_STATUS_CHANGE}),
    WriteKind.ERASE: frozenset({Refusal.INVALID_STATUS_CHANGE}),
    WriteKind.UTILISE: frozenset({Refusal.DECLARATION_RECORDED}),
    WriteKind.ANSWER: frozenset({Refusal.REQUEST_CLOSED}),
    WriteKind.ADMIT_COUNTRY: frozenset({Refusal.COUNTRY_ALREADY_ADMITTED}),
    WriteKind.AUTHORISE_ISSUER: frozenset({Refusal.ISSUER_ALREADY_KNOWN}),
    WriteKind.AUTHORISE_CUSTOMS: frozenset({Refusal.ACCOUNT_IN_USE}),
    WriteKind.OA_ISSUE: frozenset({STORE_REFUSED}),
    WriteKind.OA_REVOKE: frozenset({STORE_REFUSED}),
}
"""The refusals that may mean "this write is on chain already" (then its effect is looked up). Any other
refusal (not the issuer, not this country's authority, overdrawn, …) stands, even if the chain happens to
show the state the write asked for."""

def _account(a: Mapping[str, Any]) -> tuple[Any, ...]:
    return (to_checksum_address(a["account"]),)


_CALLS: Mapping[WriteKind, tuple[str, Callable[[Mapping[str, Any]], tuple[Any, ...]]]] = {
    WriteKind.REVOKE: ("revoke", lambda a: (_b(a, "document_hash"), _proof(a), int(a["reason"]))),
    WriteKind.SUPERSEDE: ("supersede", lambda a: (_b(a, "document_hash"), _proof(a), _b(a, "replacement"),
                                                  _proof(a, "replacement_proof"))),
    WriteKind.ERASE: ("erase", lambda a: (_b(a, "document_hash"), _proof(a))),
    WriteKind.TERMS: ("registerTerms", lambda a: (_b(a, "document_hash"), _proof(a), _terms(a).as_abi(),
                                                  _b(a, "salt"), _proof(a, "terms_proof"), _b(a, "parent_root"))),
    WriteKind.UTILISE: ("utilise", lambda a: (_b(a, "document_hash"), _b(a, "root"), _b(a, "declaration"),
                                              list(a["items"]), list(a["quantities"]))),
    WriteKind.REQUEST: ("requestVerification", lambda a: (_b(a, "document_hash"), _b(a, "root"),
                                                          _b(a, "reason_hash"))),
    WriteKind.ANSWER: ("answerVerification", lambda a: (int(a["request_id"]), bool(a["confirmed"]),
                                                        _b(a, "answer_hash"))),
    WriteKind.ADMIT_COUNTRY: ("admitCountry", lambda a: (a["country"].encode("ascii"),
                                                         to_checksum_address(a["authority"]))),
    WriteKind.NAME_ISSUER: ("nameIssuer", lambda a: (to_checksum_address(a["account"]), str(a["name"]))),
    WriteKind.NAME_AUTHORITY: ("nameAuthority", lambda a: (a["country"].encode("ascii"), str(a["name"]))),
    WriteKind.AUTHORISE_ISSUER: ("authoriseIssuer", _account),
    WriteKind.SUSPEND_ISSUER: ("suspendIssuer", _account),
    WriteKind.REINSTATE_ISSUER: ("reinstateIssuer", _account),
    WriteKind.AUTHORISE_CUSTOMS: ("authoriseCustoms", _account),
    WriteKind.WITHDRAW_CUSTOMS: ("withdrawCustoms", _account),
}
"""Each kind of write: the contract function it calls, and its arguments from the write's recorded args."""

_STORE_CALLS: Mapping[WriteKind, tuple[str, str]] = {
    WriteKind.OA_ISSUE: ("issue", "merkle_root"),
    WriteKind.OA_REVOKE: ("revoke", "target_hash"),
}
"""Writes to this node's OpenAttestation DocumentStore (``args["store"]``): the function and its one argument."""

_STATUS = {WriteKind.REVOKE: DocumentState.REVOKED, WriteKind.SUPERSEDE: DocumentState.SUPERSEDED,
           WriteKind.ERASE: DocumentState.ERASED}


class WriteHandler(Protocol):
    """Sends writes of a kind that calls a contract other than the registry, and finds their effect."""

    def send(self, write: ChainWrite, signer: LocalAccount, wait: float | None) -> TxResult:
        """Send *write* signed by *signer* and wait (at most *wait* seconds) until mined."""

    def find(self, write: ChainWrite) -> Found:
        """Whether the chain shows *write*'s effect now."""

    def result_of(self, write: ChainWrite, tx: TxResult) -> dict[str, Any] | None:
        """What a mined write yields for the node."""


class ChainEffects:
    """Send a recorded write, or find its effect, on the registry behind *chain*.

    Args:
        chain: the registry contract client.
        claimed: the request ids other writes already took (so two identical
            requests are told apart).
    """

    def __init__(self, chain: ChainClient, claimed: Callable[[], set[Any]],
                 anchoring_block: Callable[[bytes], int | None] | None = None,
                 handlers: Mapping[WriteKind, WriteHandler] | None = None) -> None:
        self.chain = chain
        self.handlers = handlers if handlers is not None else {}
        """The kinds sent to other contracts, and what sends each (``WriteQueue.handle``)."""
        self.ledger = CustomsLedger(chain)
        self.claimed = claimed
        self.anchoring_block = anchoring_block
        """The block the store records for an anchoring (:meth:`~registry.storage.store.Store.anchoring_block`)."""

    def _since(self, root: bytes) -> int:
        """Where a scan for the events of a certificate under *root* starts: its anchoring block (as the store
        records it, else found from the anchoring's time), never block 0."""
        known = self.anchoring_block(root) if self.anchoring_block is not None else None
        return known if known is not None else first_block_at(self.chain, self.chain.batch_of(root).anchored_at)

    # -- sending ------------------------------------------------------------------------------

    def send(self, write: ChainWrite, signer: LocalAccount, wait: float | None = None) -> TxResult:
        """Send *write* signed by *signer* and wait (at most *wait* seconds, else the client's bound) until mined.

        Raises:
            ContractRevertError: the contract refuses it.
            ChainError: the chain failed, or it was not mined in time.
        """
        handler = self.handlers.get(write.kind)
        if handler is not None:
            return handler.send(write, signer, wait)
        if write.kind in _STORE_CALLS:
            function, key = _STORE_CALLS[write.kind]
            store = DocumentStore(self.chain.w3, write.args["store"])
            return store.transact(signer, function, _b(write.args, key), wait=wait)
        function, arguments = _CALLS[write.kind]
        return self._tx(signer, wait, function, *arguments(write.args))

    def _tx(self, signer: LocalAccount, wait: float | None, function: str, *args: Any) -> TxResult:
        return self.chain.transact(signer, function, *args, wait=wait)

    def result_of(self, write: ChainWrite, tx: TxResult) -> dict[str, Any] | None:
        """What a mined write yields for the node (a request's id)."""
        handler = self.handlers.get(write.kind)
        if handler is not None:
            return handler.result_of(write, tx)
        if write.kind is WriteKind.REQUEST:
            opened = [e for e in tx.events if e.name == "VerificationRequested"]
            return {"request_id": int(opened[0].args["id"])} if opened else None
        return None

    # -- finding effects -----------------------------------------------------------------------

    def find(self, write: ChainWrite) -> Found:
        """Whether the chain shows *write*'s effect now.

        Raises:
            ChainError: the chain failed.
        """
        a, kind = write.args, write.kind
        handler = self.handlers.get(kind)
        if handler is not None:
            return handler.find(write)
        if kind in _STORE_CALLS:
            return self._on_store(write)
        if kind in _STATUS:
            return self._status(a, _STATUS[kind])
        if kind is WriteKind.TERMS:
            document_hash = _b(a, "document_hash")
            if not self.chain.inspect(document_hash, _proof(a)).anchored:
                return Found(Effect.WAIT, why="the certificate is not anchored (again) yet")
            root = process_proof(document_hash, _proof(a))
            return Found(Effect.ABSENT if self.ledger.terms_of(document_hash, root) is None else Effect.PRESENT)
        if kind is WriteKind.UTILISE:
            return self._draw(write)
        if kind is WriteKind.REQUEST:
            return self._request(write)
        if kind is WriteKind.ANSWER:
            return self._answer(write)
        return self._governance(write)

    def _on_store(self, write: ChainWrite) -> Found:
        """Whether this node's DocumentStore shows the root issued (``oa-issue``) or the hash revoked."""
        store = DocumentStore(self.chain.w3, write.args["store"])
        if write.kind is WriteKind.OA_ISSUE:
            return Found(Effect.PRESENT if store.is_issued(_b(write.args, "merkle_root")) else Effect.ABSENT)
        return Found(Effect.PRESENT if store.is_revoked(_b(write.args, "target_hash")) else Effect.ABSENT)

    def _status(self, a: Mapping[str, Any], expected: DocumentState) -> Found:
        view = self.chain.inspect(_b(a, "document_hash"), _proof(a))
        if not view.anchored:
            return Found(Effect.WAIT, why="the certificate is not anchored (again) yet")
        if view.state is expected:
            return Found(Effect.PRESENT)
        if expected is DocumentState.SUPERSEDED and not self.chain.inspect(
                _b(a, "replacement"), _proof(a, "replacement_proof")).anchored:
            return Found(Effect.WAIT, why="the replacement is not anchored (again) yet")
        return Found(Effect.ABSENT)  # the contract's status rule refuses what can no longer happen

    def _draw(self, write: ChainWrite) -> Found:
        a = write.args
        wanted = list(zip(a["items"], a["quantities"], strict=True))
        found = self.ledger.draws(_b(a, "document_hash"), _b(a, "declaration"), self._since(_b(a, "root")))
        for event in found:
            if event.args["root"] == _b(a, "root") and \
                    list(zip(event.args["goodsItems"], event.args["quantities"], strict=True)) == wanted:
                return Found(Effect.PRESENT, {"tx_hash": event.tx_hash, "block_number": event.block_number})
        return Found(Effect.ABSENT)

    def _request(self, write: ChainWrite) -> Found:
        a = write.args
        if write.result is not None:  # it was on chain once: is that request still there?
            found = self.ledger.request_of(int(write.result["request_id"]))
            if found is not None and found.document_hash == _b(a, "document_hash") and \
                    found.reason_hash == _b(a, "reason_hash") and same_account(found.opened_by, write.signer):
                return Found(Effect.PRESENT, write.result)
        taken = self.claimed()
        opened = self.ledger.requests_opened(_b(a, "document_hash"), write.signer, self._since(_b(a, "root")))
        for event in opened:
            request_id = int(event.args["id"])
            if event.args["root"] == _b(a, "root") and event.args["reasonHash"] == _b(a, "reason_hash") and \
                    request_id not in taken:
                return Found(Effect.PRESENT, {"request_id": request_id})
        return Found(Effect.ABSENT)

    def _answer(self, write: ChainWrite) -> Found:
        a = write.args
        found = self.ledger.request_of(int(a["request_id"]))
        if found is None or found.document_hash != _b(a, "document_hash"):
            return Found(Effect.WAIT, why=f"verification request {a['request_id']} is not on chain (again) yet")
        if found.state is RequestState.OPEN:
            return Found(Effect.ABSENT)
        wanted = RequestState.CONFIRMED if a["confirmed"] else RequestState.NOT_CONFIRMED
        if found.state is wanted and found.answered_by is not None and same_account(found.answered_by, write.signer):
            return Found(Effect.PRESENT)
        return Found(Effect.PRECLUDED, why=f"verification request {a['request_id']} was answered otherwise")

    def _governance(self, write: ChainWrite) -> Found:
        a, kind = write.args, write.kind
        if kind is WriteKind.ADMIT_COUNTRY:
            authority = self.chain.authority_of(a["country"])
            if authority is None:
                return Found(Effect.ABSENT)
            return Found(Effect.PRESENT if same_account(authority, a["authority"]) else Effect.PRECLUDED,
                         why=f"{a['country']} has another authority")
        if kind in (WriteKind.NAME_ISSUER, WriteKind.NAME_AUTHORITY):
            return self._name(write)
        return Found(Effect.PRESENT if self._standing(write) else Effect.ABSENT)

    def _standing(self, write: ChainWrite) -> bool:
        """Whether the chain shows the authorisation, suspension, reinstatement or Customs change *write* asks."""
        account, kind = write.args["account"], write.kind
        if kind is WriteKind.AUTHORISE_ISSUER:  # known, and for the signing authority's own country
            country = self.chain.issuer_country(account)
            present = country is not None and country == self.chain.country_of_authority(write.signer)
        elif kind is WriteKind.SUSPEND_ISSUER:
            present = not self.chain.is_authorised(account)
        elif kind is WriteKind.REINSTATE_ISSUER:
            present = self.chain.is_authorised(account)
        elif kind is WriteKind.AUTHORISE_CUSTOMS:
            present = self.ledger.customs_country(account) is not None
        else:
            present = self.ledger.customs_country(account) is None
        return present

    def _name(self, write: ChainWrite) -> Found:
        a = write.args
        if write.kind is WriteKind.NAME_ISSUER:
            account: str | None = a["account"]
            if self.chain.issuer_country(a["account"]) is None:
                return Found(Effect.WAIT, why="the issuer is not authorised (again) yet")
        else:
            account = self.chain.authority_of(a["country"])
            if account is None:
                return Found(Effect.WAIT, why=f"{a['country']} is not admitted (again) yet")
        return Found(Effect.PRESENT if account and self.chain.name_of(account) == a["name"] else Effect.ABSENT)


__all__ = ["ALREADY", "ChainEffects", "Effect", "Found", "hexes", "terms_args"]
