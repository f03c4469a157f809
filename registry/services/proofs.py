"""Zero-knowledge proofs on this node: its issuers prove claims about their certificates, anyone verifies a bundle.

The holder of a full sealed document proves offline (``coo prove``, :func:`registry.zk.prover.prove`);
the issuing node offers the same for its issuer, from the sealed record it keeps. Verification of a
bundle files a signed receipt like every other verification (:class:`~registry.services.verification.Verification`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from registry.custody.apikeys import Principal, Role
from registry.domain.report import VerificationReport
from registry.errors import ChainError, ConflictError, PermissionDenied
from registry.services.context import Service, ServiceContext
from registry.services.verification import Verification, VerificationReceipt
from registry.types import same_account
from registry.zk.bundle import ProofBundle
from registry.zk.onchain import ClaimLog, ZkDeployment, load_deployment, save_deployment
from registry.zk.prover import prove

DEPLOYMENT_FILE = "zk-contracts.json"
_DEPLOYING = threading.Lock()


@dataclass(frozen=True)
class RecordedClaim:
    """A claim verified on chain and recorded by ``ZkClaimLog`` (event ``ClaimVerified``)."""

    claim: str
    tx_hash: str
    block_number: int
    gas_used: int


class Proofs(Service):
    """Prove for a certificate's issuer; verify proof bundles."""

    def __init__(self, ctx: ServiceContext, verification: Verification, data_dir: Path) -> None:
        super().__init__(ctx)
        self.verification = verification
        self.record_path = data_dir / DEPLOYMENT_FILE

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
        signed by the calling Customs officer's account. The verifiers and the log are deployed on first use.

        Returns:
            The report and receipt of the verification here, the claim log's address, and one record per claim.

        Raises:
            PermissionDenied: not a Customs key with an account this node signs for.
            ConflictError: the bundle does not verify here (nothing is sent).
            ContractRevertError: the chain refused a claim (the claims before it stay recorded).
        """
        signer = self.ctx.signer_for(principal, Role.CUSTOMS)
        report, receipt = self.verify(bundle, principal)
        if not report.accepted:
            raise ConflictError(f"the bundle does not verify, so nothing is recorded: {report.summary}")
        log = self.claim_log()
        recorded = []
        for claim in bundle.claims:
            result = log.record(signer, bundle, claim)
            recorded.append(RecordedClaim(claim.claim, result.tx_hash, result.block_number, result.gas_used))
        return report, receipt, log.address, recorded

    def claim_log(self) -> ClaimLog:
        """This node's ``ZkClaimLog``: the recorded one while it is live on this chain, else a new one (once)."""
        with _DEPLOYING:
            known = load_deployment(self.record_path)
            if known is not None and known.chain_id == self.chain.chain_id and self._live(known):
                return ClaimLog(self.chain.w3, known.log)
            deployer = self.accounts.get(self.ctx.new_funded_account())
            assert deployer is not None  # just created in the book
            log = ClaimLog(self.chain.w3)
            save_deployment(self.record_path, log.deploy_all(deployer))
            return log

    def _live(self, known: ZkDeployment) -> bool:
        try:
            return ClaimLog(self.chain.w3, known.log).has_code()
        except (ChainError, ValueError):
            return False
