"""Put back on chain the status changes this node made that the chain no longer shows.

A revocation, supersession or erasure is recorded in the store once its
transaction was mined. If the chain then loses that block (a reorg, or a
managed Anvil killed within its state-dump interval restarting from an older
state file), the store says ``revoked`` while the chain says ``ACTIVE``, and a
verifier reading the chain would see ``VALID``. :class:`Reconciler` compares the
two for every change made within ``window`` seconds and sends the same change
again (with the issuer's key this node holds) where the chain lacks it; the
contract's own status rule makes a repeat harmless.

This covers status changes only. Governance, terms, utilisations and answers
are not yet reconciled (see the project's issue on one durable outbox for every
chain write).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from eth_account.signers.local import LocalAccount

from registry.chain import ChainClient, DocumentState
from registry.errors import ContractRevertError, NotFoundError
from registry.store import CertificateRow, Store
from registry.types import parse_hex32

log = logging.getLogger("coo.reconcile")

EXPECTED = {"revoked": DocumentState.REVOKED, "superseded": DocumentState.SUPERSEDED, "erased": DocumentState.ERASED}
"""The on-chain state each final local status stands for."""


class Reconciler:
    """Re-send status changes whose effect is missing on chain.

    Args:
        store: the node's store (what this node changed, and when).
        chain: the registry contract client.
        signer_for: the signing account of an issuer this node holds, by address.
        window: how far back (seconds of local time) changes are checked.
    """

    def __init__(self, store: Store, chain: ChainClient, signer_for: Callable[[str], LocalAccount | None],
                 window: float = 3600.0) -> None:
        self.store = store
        self.chain = chain
        self.signer_for = signer_for
        self.window = window

    def reconcile(self) -> int:
        """Check every recent status change against the chain; re-send what is missing.

        Returns:
            How many changes were sent again.

        Raises:
            ChainError: the chain failed (the next round tries again).
        """
        resent = 0
        nonces_reset = False
        for row in self.store.status_changes_since(time.time() - self.window):
            expected = EXPECTED[row.status]
            proof = [parse_hex32(p) for p in row.proof or []]
            view = self.chain.inspect(row.document_hash, proof)
            if not view.anchored or view.state is expected:
                continue  # not (yet again) anchored: the anchoring worker re-anchors it first
            if view.state is not DocumentState.ACTIVE:
                log.error("certificate %s is %s here but %s on chain; left as is", row.id, row.status, view.state.name)
                continue
            if not nonces_reset:  # the chain lost blocks: the nonces counted locally are ahead of it
                self.chain.reset_nonces()
                nonces_reset = True
            if self._resend(row, proof):
                resent += 1
        return resent

    def _resend(self, row: CertificateRow, proof: list[bytes]) -> bool:
        signer = self.signer_for(row.issuer)
        if signer is None:
            log.error("certificate %s is %s here but ACTIVE on chain, and this node holds no key for its issuer",
                      row.id, row.status)
            return False
        try:
            if row.status == "revoked":
                self.chain.revoke(signer, row.document_hash, proof, int(row.revocation_reason or 0))
            elif row.status == "erased":
                self.chain.erase(signer, row.document_hash, proof)
            else:
                replacement = self._replacement(row)
                if replacement is None:
                    return False
                self.chain.supersede(signer, row.document_hash, proof, replacement.document_hash,
                                     [parse_hex32(p) for p in replacement.proof or []])
        except ContractRevertError as error:
            log.error("re-sending the %s of certificate %s was refused: %s", row.status, row.id, error)
            return False
        log.warning("certificate %s: its %s was missing on chain (rolled back) and was sent again", row.id, row.status)
        return True

    def _replacement(self, row: CertificateRow) -> CertificateRow | None:
        """The anchored replacement of a superseded *row* (``None`` until it is anchored again)."""
        try:
            replacement = self.store.certificate(row.replaced_by) if row.replaced_by else None
        except NotFoundError:
            return None
        return replacement if replacement is not None and replacement.proof is not None else None  # [] when alone
