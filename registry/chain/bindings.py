"""One typed face per contract: ``TrustRegistry`` (governance) and ``CertificateRegistry`` (anchors and statuses)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from registry.chain.models import (
    ANCHOR_GAS_LIMIT,
    BatchRecord,
    ChainEvent,
    Deployment,
    DocumentState,
    DocumentView,
    TxResult,
    _address_or_none,
    _b2,
    _country,
    _document_view,
    _iso_country,
)
from registry.chain.transport import Transport
from registry.errors import (
    ChainError,
    ChainUnavailableError,
)


class TrustRegistryBinding(Transport):
    """Countries, their authorities and their issuing bodies over time."""

    # -- trust registry ---------------------------------------------------------------------

    def admit_country(self, admin: LocalAccount, country: str, authority: str) -> TxResult:
        """Admit *country* with its competent *authority* (consortium admin only).

        Raises:
            ValidationError: *country* is not an ISO 3166-1 alpha-2 code (checked before sending).
        """
        return self.transact(admin, "admitCountry", _iso_country(country), to_checksum_address(authority))

    def replace_authority(self, admin: LocalAccount, country: str, authority: str) -> TxResult:
        """Replace the competent authority of *country* (consortium admin only).

        Raises:
            ValidationError: *country* is not an ISO 3166-1 alpha-2 code (checked before sending).
        """
        return self.transact(admin, "replaceAuthority", _iso_country(country), to_checksum_address(authority))

    def authorise_issuer(self, authority: LocalAccount, issuer: str) -> TxResult:
        """Authorise *issuer* for the authority's country."""
        return self.transact(authority, "authoriseIssuer", to_checksum_address(issuer))

    def suspend_issuer(self, authority: LocalAccount, issuer: str) -> TxResult:
        """Suspend *issuer* (its country's authority only)."""
        return self.transact(authority, "suspendIssuer", to_checksum_address(issuer))

    def reinstate_issuer(self, authority: LocalAccount, issuer: str) -> TxResult:
        """Reinstate a suspended *issuer* (its country's authority only)."""
        return self.transact(authority, "reinstateIssuer", to_checksum_address(issuer))

    def name_issuer(self, authority: LocalAccount, issuer: str, name: str) -> TxResult:
        """Register the name verifiers show for *issuer* (its country's authority only)."""
        return self.transact(authority, "nameIssuer", to_checksum_address(issuer), name)

    def name_authority(self, admin: LocalAccount, country: str, name: str) -> TxResult:
        """Register the name verifiers show for *country*'s current authority (consortium admin only)."""
        return self.transact(admin, "nameAuthority", _iso_country(country), name)

    def name_of(self, account: str) -> str | None:
        """The name governance registered for an issuer or authority account, or None."""
        return str(self.call("nameOf", to_checksum_address(account))) or None

    def authority_of(self, country: str) -> str | None:
        """The competent authority of *country*, or None."""
        return _address_or_none(self.call("authorityOf", _b2(country)))

    def country_of_authority(self, authority: str) -> str | None:
        """The country *authority* speaks for, or None."""
        return _country(self.call("countryOfAuthority", to_checksum_address(authority)))

    def issuer_country(self, issuer: str) -> str | None:
        """The country *issuer* issues for, or None if unknown."""
        return _country(self.call("issuerCountry", to_checksum_address(issuer)))

    def is_authorised(self, issuer: str) -> bool:
        """Whether *issuer* may anchor now."""
        return bool(self.call("isAuthorised", to_checksum_address(issuer)))

    def was_authorised_at(self, issuer: str, country: str, block: int) -> bool:
        """Whether *issuer* was authorised for *country* at the end of block number *block*."""
        return bool(self.call("wasAuthorisedAt", to_checksum_address(issuer), _b2(country), block))


class CertificateRegistryBinding(Transport):
    """Deployment, anchoring, status changes and what the registry says about one document."""

    # -- deployment -----------------------------------------------------------------------

    def deploy(self, admin: LocalAccount) -> Deployment:
        """Deploy a fresh registry with *admin* as consortium admin and use it."""
        data = self._bytecode + abi_encode(["address"], [admin.address]).hex()
        receipt = self._send(admin, None, data, gas=None)
        address = receipt["contractAddress"]
        self.use(address)
        return Deployment(self.chain_id, str(address), int(receipt["blockNumber"]),
                          "0x" + bytes(receipt["transactionHash"]).hex())

    def ensure_deployed(self, admin: LocalAccount, record: Path) -> Deployment:
        """Reuse the deployment recorded in *record* if it is live on this chain, else deploy.

        Idempotent: a node restarted against the same chain (or Anvil state file)
        keeps its contract and every anchored root.
        """
        if record.exists():
            known = json.loads(record.read_text(encoding="utf-8"))
            if known.get("chain_id") == self.chain_id:
                self.use(known["address"])
                if self.is_deployed():
                    return Deployment(**known)
        deployment = self.deploy(admin)
        record.parent.mkdir(parents=True, exist_ok=True)
        tmp = record.with_suffix(".tmp")
        tmp.write_text(json.dumps(deployment.to_json(), indent=2) + "\n", encoding="utf-8")
        tmp.replace(record)
        return deployment

    # -- certificates -------------------------------------------------------------------------

    def anchor(self, issuer: LocalAccount, root: bytes, document_count: int) -> TxResult:
        """Anchor a batch *root* of *document_count* documents (hash-only mode).

        Sent with a fixed gas limit (no ``eth_estimateGas`` round trip): the cost
        does not depend on the batch size. A refusal still surfaces as the decoded
        custom error, read back with ``eth_call``.
        """
        return self.transact(issuer, "anchor", root, document_count, gas=ANCHOR_GAS_LIMIT)

    def anchor_with_payloads(
        self, issuer: LocalAccount, root: bytes, document_hashes: Sequence[bytes], payloads: Sequence[bytes]
    ) -> TxResult:
        """Anchor *root* and publish each document's ciphertext in the event log."""
        return self.transact(issuer, "anchorWithPayloads", root, list(document_hashes), list(payloads))

    def revoke(self, signer: LocalAccount, document_hash: bytes, proof: Sequence[bytes], reason: int) -> TxResult:
        """Revoke one document with a *reason* code (issuer or its authority)."""
        return self.transact(signer, "revoke", document_hash, list(proof), reason)

    def supersede(
        self, signer: LocalAccount, document_hash: bytes, proof: Sequence[bytes],
        replacement: bytes, replacement_proof: Sequence[bytes],
    ) -> TxResult:
        """Mark one document superseded by the anchored *replacement*."""
        return self.transact(signer, "supersede", document_hash, list(proof), replacement, list(replacement_proof))

    def erase(self, signer: LocalAccount, document_hash: bytes, proof: Sequence[bytes]) -> TxResult:
        """Record on chain that the key of one document was destroyed (terminal)."""
        return self.transact(signer, "erase", document_hash, list(proof))

    def revoke_batch(self, signer: LocalAccount, root: bytes, reason: int) -> TxResult:
        """Revoke every document of the batch *root* at once."""
        return self.transact(signer, "revokeBatch", root, reason)

    def batch_of(self, root: bytes) -> BatchRecord:
        """The anchoring record of *root*."""
        return _batch_record(root, self.call("batchOf", root))

    def inspect(self, document_hash: bytes, proof: Sequence[bytes] = ()) -> DocumentView:
        """Anchoring, authorisation and status of *document_hash* in one call."""
        raw = self.call("inspect", document_hash, list(proof))
        return _document_view(document_hash, raw)

    def status_change(self, document_hash: bytes, root: bytes, from_block: int) -> tuple[int, str] | None:
        """Block time and sender of the latest status event of the certificate (*root*, *document_hash*), if any,
        looked for from *from_block* (the anchoring's, or earlier) on.

        Needed for documents anchored alone, whose status lives in the batch slot
        without a timestamp (see ``CertificateRegistry``). Events under another root
        (another certificate with the same hash) are ignored.
        """
        topic0 = [sig for sig, name in self._events.items()
                  if name in ("CertificateRevoked", "CertificateSuperseded", "KeyDestroyed", "BatchRevoked")]
        found = [e for e in self.events(from_block, topics=[topic0, "0x" + document_hash.hex()])
                 if bytes(e.args["root"]) == root]
        if not found:
            return None
        last = found[-1]
        return self.block_timestamp(last.block_number), str(last.args.get("by"))

    def inspect_at_head(self, document_hash: bytes, proof: Sequence[bytes] = ()) -> tuple[DocumentView, int]:
        """:meth:`inspect` and the block number in one JSON-RPC batch (one round trip).

        Falls back to two requests on providers without batching (the in-process chain).
        """
        self._require_address()

        def batched() -> list[Any]:
            with self.w3.batch_requests() as batch:
                batch.add(self.contract.functions.inspect(document_hash, list(proof)))
                batch.add(self.w3.eth.get_block_number())
                return list(batch.execute())

        try:
            raw, head = self._rpc(batched)
        except ChainUnavailableError:
            raise
        except (ChainError, NotImplementedError, TypeError, ValueError):
            return self.inspect(document_hash, proof), self.block_number()
        return _document_view(document_hash, raw), int(head)

    def anchorings(self, root: bytes, from_block: int) -> list[ChainEvent]:
        """The ``BatchAnchored`` events of *root* (one, unless a reorg replayed it) from *from_block* on, in chain
        order."""
        return self.events(from_block, names={"BatchAnchored"}, topics=[None, "0x" + root.hex()])

    def publications(self, document_hash: bytes, from_block: int) -> list[ChainEvent]:
        """The ``PayloadPublished`` events of *document_hash* (its encrypted-mode anchorings) from *from_block*
        on, in chain order."""
        return self.events(from_block, names={"PayloadPublished"},
                           topics=[self.event_topic("PayloadPublished"), "0x" + document_hash.hex()])

    def batches_of(self, roots: Sequence[bytes]) -> list[BatchRecord]:
        """:meth:`batch_of` of every root in *roots*, in one JSON-RPC batch (one request per root on providers
        without batching, the in-process chain)."""
        self._require_address()
        if not roots:
            return []

        def batched() -> list[Any]:
            with self.w3.batch_requests() as batch:
                for root in roots:
                    batch.add(self.contract.functions.batchOf(root))
                return list(batch.execute())

        try:
            answers = self._rpc(batched)
        except ChainUnavailableError:
            raise
        except (NotImplementedError, TypeError, ValueError):
            return [self.batch_of(root) for root in roots]
        return [_batch_record(root, answer) for root, answer in zip(roots, answers, strict=True)]

    def payloads(self, root: bytes, from_block: int) -> dict[bytes, bytes]:
        """Ciphertexts published with *root* in encrypted-payload mode, by document hash."""
        events = self.events(from_block, names={"PayloadPublished"}, topics=[None, None, "0x" + root.hex()])
        return {bytes(e.args["documentHash"]): bytes(e.args["ciphertext"]) for e in events}


def _batch_record(root: bytes, answer: Sequence[Any]) -> BatchRecord:
    issuer, anchored_at, count, state, reason = answer
    return BatchRecord(root, _address_or_none(issuer), int(anchored_at), int(count), DocumentState(int(state)),
                       int(reason))
