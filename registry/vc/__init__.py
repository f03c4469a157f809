"""The verifiable-credential alternative (DESIGN §7), for a like-for-like comparison.

The same certificates issued as W3C VC Data Model 2.0 credentials secured as
``vc+jwt`` (VC-JOSE-COSE, Ed25519), the issuer a ``did:web`` or ``did:key``,
revocation through a Bitstring Status List v1.0 credential. Verification
returns the same :class:`~registry.domain.report.VerificationReport` as the chain
path, check by check.

Modules: :mod:`~registry.vc.keys` (Ed25519 keys, ``did:key``, ``did:web``),
:mod:`~registry.vc.resolver` (DID resolution), :mod:`~registry.vc.jose`
(compact JWS), :mod:`~registry.vc.status_list`, :mod:`~registry.vc.credential`,
:mod:`~registry.vc.verify`, :mod:`~registry.vc.data_integrity`
(``eddsa-jcs-2022`` proofs), :mod:`~registry.vc.issuer` (a node as issuer) and
:mod:`~registry.vc.errors`. Pure domain code: no web framework, no chain.
"""
