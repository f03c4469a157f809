"""OpenAttestation (TradeTrust) v2 documents: verified here, and ours exported as one.

One concern per module: :mod:`~registry.openattestation.hashing` (salted values, the target
hash, the Merkle proof, byte for byte as ``@govtechsg/open-attestation``),
:mod:`~registry.openattestation.document` (the wrapped envelope, its issuers, wrapping),
:mod:`~registry.openattestation.store` (the ``DocumentStore`` contract),
:mod:`~registry.openattestation.identity` (DNS-TXT identity and the offline trust list),
:mod:`~registry.openattestation.verifier` (the checks and the verdict, in our report's shape)
and :mod:`~registry.openattestation.exports` (our certificates as OpenAttestation documents,
issued on a DocumentStore this node deploys, revoked with them). See
``docs/interop-openattestation.md``.
"""
