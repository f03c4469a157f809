"""The verifiable-credential path (DESIGN §7): the comparison's baseline, and credentials for the ecosystem.

The same certificates issued as W3C VC Data Model 2.0 credentials, secured as
``vc+jwt`` (VC-JOSE-COSE, Ed25519) or with an ``eddsa-jcs-2022`` Data
Integrity proof, the issuer a ``did:web`` or ``did:key``, revocation through a
Bitstring Status List v1.0 credential published both ways, or (a hybrid
credential) through the certificate's record in the registry. Verification
returns the same :class:`~registry.domain.report.VerificationReport` as the
chain path, check by check. ``docs/interop.md`` states what other
implementations may rely on.

Modules: :mod:`~registry.vc.keys` (Ed25519 keys, ``did:key``, ``did:web``),
:mod:`~registry.vc.resolver` (DID resolution, key ids), :mod:`~registry.vc.jose`
(compact JWS), :mod:`~registry.vc.data_integrity` (``eddsa-jcs-2022`` proofs),
:mod:`~registry.vc.securing` (either way), :mod:`~registry.vc.context` (the
JSON-LD context), :mod:`~registry.vc.credential`, :mod:`~registry.vc.status_list`,
:mod:`~registry.vc.status_check` and :mod:`~registry.vc.registry_status` (the
``status`` check, from a list or from chain), :mod:`~registry.vc.envelope` and
:mod:`~registry.vc.verify` (verification), :mod:`~registry.vc.issuer` (a node
as issuer) and :mod:`~registry.vc.errors`. No web framework; the chain only
through the chain path's verifier, for hybrid credentials.
"""
