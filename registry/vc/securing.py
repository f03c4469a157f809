"""The two ways a credential is secured, side by side: ``vc+jwt`` and Data Integrity.

``vc+jwt`` (VC-JOSE-COSE) wraps the credential as the payload of a compact
JWS; Data Integrity embeds an ``eddsa-jcs-2022`` proof in it
(:mod:`registry.vc.data_integrity`). Both sign with the issuer's Ed25519 key
and name the same verification method, so one DID document serves both. Every
credential a node issues (a certificate, a hybrid certificate, a status list)
comes in either form; each points at the status list secured the same way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from registry.vc.credential import credential_issuer, secure_credential
from registry.vc.data_integrity import add_proof
from registry.vc.errors import CredentialFormatError
from registry.vc.jose import VC_JWT_MEDIA_TYPE
from registry.vc.keys import IssuerKey

Securing = Literal["vc+jwt", "di"]
"""``vc+jwt`` (a compact JWS) or ``di`` (an embedded ``eddsa-jcs-2022`` proof)."""

SECURINGS: tuple[Securing, ...] = get_args(Securing)

VC_MEDIA_TYPE = "application/vc"
"""Media type of a credential secured with an embedded proof (VC Data Model 2.0 §6.3)."""


@dataclass(frozen=True)
class SecuredCredential:
    """A credential and its secured form.

    Attributes:
        securing: how it is secured.
        credential: the credential without its securing.
        secured: the compact JWS, or the credential with its ``proof``.
    """

    securing: Securing
    credential: dict[str, Any]
    secured: str | dict[str, Any]

    @property
    def media_type(self) -> str:
        """``application/vc+jwt`` or ``application/vc``."""
        return VC_JWT_MEDIA_TYPE if self.securing == "vc+jwt" else VC_MEDIA_TYPE

    def body(self) -> bytes:
        """What to send: the token, or the document as compact UTF-8 JSON."""
        if isinstance(self.secured, str):
            return self.secured.encode("ascii")
        return json.dumps(self.secured, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def secure(credential: Mapping[str, Any], issuer: IssuerKey, securing: Securing, now: datetime) -> SecuredCredential:
    """Secure *credential* with *issuer*'s key, as a ``vc+jwt`` or with a Data Integrity proof.

    Args:
        credential: the unsecured credential; its ``issuer`` must be *issuer*'s DID.
        issuer: the signing key.
        securing: ``vc+jwt`` or ``di``.
        now: the proof's ``created`` time (Data Integrity only).

    Returns:
        The secured credential.

    Raises:
        CredentialFormatError: the credential names another issuer, is not
            JSON-serialisable, or already carries a proof.
        ValueError: an unknown *securing*.
    """
    if securing == "vc+jwt":
        return SecuredCredential(securing, dict(credential), secure_credential(credential, issuer))
    if securing != "di":
        raise ValueError(f"unknown securing {securing!r}; expected one of {SECURINGS}")
    if credential_issuer(credential) != issuer.did:
        raise CredentialFormatError(f"the credential names issuer {credential_issuer(credential)!r}, "
                                    f"but the key signs as {issuer.did}")
    document = add_proof(credential, issuer.private_key, verification_method=issuer.kid, created=now)
    return SecuredCredential(securing, dict(credential), document)
