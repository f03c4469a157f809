"""The verifiable-credential alternative (DESIGN §7), for a like-for-like comparison.

The same :class:`~registry.certificate.Certificate` issued as a W3C VC Data Model
2.0 credential secured as ``vc+jwt`` (VC-JOSE-COSE, Ed25519), the issuer a
``did:web`` or ``did:key``, revocation through a Bitstring Status List v1.0
credential. Verification returns the same :class:`~registry.report.VerificationReport`
as the chain path, check by check.
"""
