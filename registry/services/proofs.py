"""Zero-knowledge proofs on this node: its issuers prove claims about their certificates, anyone verifies a bundle.

The holder of a full sealed document proves offline (``coo prove``, :func:`registry.zk.prover.prove`);
the issuing node offers the same for its issuer, from the sealed record it keeps. Verification of a
bundle files a signed receipt like every other verification (:class:`~registry.services.verification.Verification`).
"""

from __future__ import annotations

from collections.abc import Sequence

from registry.custody.apikeys import Principal, Role
from registry.domain.report import VerificationReport
from registry.errors import PermissionDenied
from registry.services.context import Service, ServiceContext
from registry.services.verification import Verification, VerificationReceipt
from registry.types import same_account
from registry.zk.bundle import ProofBundle
from registry.zk.prover import prove


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
