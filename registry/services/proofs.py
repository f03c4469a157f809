"""Zero-knowledge proofs on this node: its issuers prove claims about their certificates, anyone verifies a bundle.

The holder of a full sealed document proves offline (``coo prove``, :func:`registry.zk.prover.prove`);
the issuing node offers the same for its issuer, from the sealed record it keeps. Verification of a
bundle files a signed receipt like every other verification (:class:`~registry.services.verification.Verification`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from registry.custody.apikeys import Principal, Role
from registry.domain.report import VerificationReport
from registry.errors import ConflictError, PermissionDenied
from registry.services.context import Service, ServiceContext
from registry.services.verification import Verification, VerificationReceipt
from registry.storage.writelog import ChainWrite, WriteKind, WriteState
from registry.types import same_account
from registry.zk.bundle import ProofBundle
from registry.zk.prover import prove
from registry.zk.writes import claim_args


@dataclass(frozen=True)
class RecordedClaim:
    """A claim verified on chain and recorded by ``ZkClaimLog`` (event ``ClaimVerified``)."""

    claim: str
    tx_hash: str
    block_number: int
    gas_used: int


class Proofs(Service):
    """Prove for a certificate's issuer; verify proof bundles."""

    def __init__(self, ctx: ServiceContext, verification: Verification) -> None:
        super().__init__(ctx)
        self.verification = verification

    def prove(self, principal: Principal, certificate_id: str, claims: Sequence[str]) -> ProofBundle:
        """Prove *claims* about one of the caller's own anchored certificates.

        Raises:
            NotFoundError: unknown, or not visible to the caller.
            PermissionDenied: visible but not the caller's (only its issuer holds the confidential figures).
            ConflictError: not anchored yet.
            KeyDestroyedError: erased (the figures are gone with its key).
            ValidationError: a claim that is not one, or that the committed values do not satisfy.
        """
        row = self.ctx.certificate(principal, certificate_id)
        if principal.role is not Role.ISSUER or not same_account(principal.account, row.issuer):
            raise PermissionDenied("only the certificate's issuing body proves claims about its confidential figures")
        return prove(self.ctx.sealed_of(row), claims)

    def verify(self, bundle: ProofBundle,
               principal: Principal | None = None) -> tuple[VerificationReport, VerificationReceipt]:
        """Verify a proof bundle and sign a receipt (filed in *principal*'s history when given)."""
        return self.verification.verify_bundle(bundle, principal)

    def record(self, principal: Principal,
               bundle: ProofBundle) -> tuple[VerificationReport, VerificationReceipt, str, list[RecordedClaim]]:
        """Verify *bundle* here, then have the chain verify each claim again and record it (``ClaimVerified``),
        signed by the calling Customs officer's account, through the outbox (one ``zk-claim`` write per claim,
        sent in order by the process that sends the node's transactions; the claim log is deployed on first use).

        Returns:
            The report and receipt of the verification here, the claim log's address, and one record per claim.

        Raises:
            PermissionDenied: not a Customs key with an account this node signs for.
            ConflictError: the bundle does not verify here (nothing is recorded), or the chain refused a claim.
            WritePending: the claims are recorded, the last not on chain yet (it names that write).
        """
        signer = self.ctx.signer_for(principal, Role.CUSTOMS)
        report, receipt = self.verify(bundle, principal)
        if not report.accepted:
            raise ConflictError(f"the bundle does not verify, so nothing is recorded: {report.summary}")
        done = self._record_claims(signer, bundle)
        return report, receipt, str((done[-1].result or {}).get("claim_log")), [_recorded(w) for w in done]

    def _record_claims(self, signer: LocalAccount, bundle: ProofBundle) -> list[ChainWrite]:
        """One ``zk-claim`` write per claim, in order; each once settled.

        Raises:
            ConflictError: the chain refused a claim.
            WritePending: the last claim is not on chain yet (the ones before it go first).
        """
        head = self.chain.block_number()
        *first, last = [claim_args(bundle, claim, head) for claim in bundle.claims]
        writes = [self.outbox.record(WriteKind.ZK_CLAIM, signer, args) for args in first]
        writes.append(self.outbox.submit(WriteKind.ZK_CLAIM, signer, last))  # one certificate's writes go in order
        done = [self.outbox.log.get(write.id) for write in writes]
        refused = next((write for write in done if write.state is not WriteState.SETTLED), None)
        if refused is not None:
            raise ConflictError(f"the chain refused the claim {refused.args['claim']!r}: {refused.error}")
        return done


def _recorded(write: ChainWrite) -> RecordedClaim:
    return RecordedClaim(write.args["claim"], write.tx_hash or "", write.block_number or 0,
                         int((write.result or {}).get("gas_used") or 0))


