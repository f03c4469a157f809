"""The selective-disclosure VC baseline: certificates as SD-JWT VCs (the ``sd-jwt`` reference library).

Every leaf of the certificate is its own salted disclosure, as every field is
its own salted leaf on the chain path, and the holder presents the same field
set (:data:`DISCLOSED`) on both paths. The issuer signs with the same Ed25519
key and ``did:web`` as the ``vc+jwt`` baseline (``alg: EdDSA``, ``typ:
dc+sd-jwt``). Revocation uses the same Bitstring Status List: the SD-JWT VC
carries the list entry in a ``status.bitstring_status_list`` claim (the SD-JWT
VC drafts name the IETF Token Status List there; its cost, one fetched, signed,
compressed bitstring per list, is of the same kind). No key binding: the chain
path has no holder binding either.

The verifier checks, in order: the issuer is on the fetched trust list (before
its DID is resolved), the signature under the key its DID names, every
disclosure against the signed digests, the exporting country's trust entry,
the status bit, and the validity period. Any step that cannot be done for want
of a host gives ``UNAVAILABLE``; a bad signature or disclosure ``INVALID``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from registry.domain.report import Verdict
from registry.vc.credential import default_valid_until
from registry.vc.errors import CredentialFormatError, DidResolutionError, DidUnavailableError
from registry.vc.keys import IssuerKey
from registry.vc.resolver import DidResolver, resolve_signing_key
from registry.vc.status_check import StatusFetcher, check_status_list
from registry.vc.status_list import StatusAllocation

DISCLOSED = ("certificate_number", "certificate_type", "exporting_country", "importing_country", "issue_date",
             "valid_until", "exporter.name", "consignee.name", "goods")
"""The field set a holder shows importing Customs on every path (paths as ``registry.sealing.document.disclose``)."""

VCT = "urn:coo:certificate-of-origin:1"


def library() -> Any:
    """The ``sd_jwt`` package, or ``None`` when it is not installed."""
    try:
        import sd_jwt.common
        return sd_jwt
    except ImportError:
        return None


def _jwk(key: Any) -> Any:
    from jwcrypto.jwk import JWK
    return JWK.from_pyca(key)


def _leafwise(value: Any) -> Any:
    """Objects keep their shape with every leaf key disclosable; list items keep their place."""
    from sd_jwt.common import SDObj
    if isinstance(value, Mapping):
        return {(k if isinstance(v, Mapping | list) else SDObj(k)): _leafwise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_leafwise(item) for item in value]
    return value


def _subject(certificate: Mapping[str, Any]) -> dict[str, Any]:
    subject = dict(certificate)
    if not subject.get("valid_until"):
        from datetime import date
        subject["valid_until"] = default_valid_until(date.fromisoformat(str(subject["issue_date"]))).isoformat()
    return subject


def issue(certificate: Mapping[str, Any], issuer: IssuerKey, status: StatusAllocation, now: float) -> str:
    """The SD-JWT VC of *certificate* with all its disclosures (what the exporter holds)."""
    from sd_jwt.issuer import SDJWTIssuer

    subject = _subject(certificate)
    until = datetime.fromisoformat(f"{subject['valid_until']}T23:59:59+00:00").timestamp()
    claims = {"iss": issuer.did, "iat": int(now), "nbf": int(now) - 1, "exp": int(until), "vct": VCT,
              "status": {"bitstring_status_list": status.entry()}, **_leafwise(subject)}
    made = SDJWTIssuer(claims, _jwk(issuer.private_key), sign_alg="EdDSA",
                       extra_header_parameters={"typ": "dc+sd-jwt", "kid": issuer.kid})
    return str(made.sd_jwt_issuance)


def _wanted(paths: Sequence[str], certificate: Mapping[str, Any]) -> dict[str, Any]:
    """The holder library's disclosure spec for *paths*."""
    spec: dict[str, Any] = {}
    for path in paths:
        head, _, rest = path.partition(".")
        value = certificate.get(head)
        if isinstance(value, list):
            spec[head] = [{k: True for k in item} if isinstance(item, Mapping) else True for item in value]
        elif isinstance(value, Mapping):
            spec.setdefault(head, {})
            spec[head].update({rest: True} if rest else {k: True for k in value})
        else:
            spec[head] = True
    return spec


def present(issuance: str, certificate: Mapping[str, Any], paths: Sequence[str] = DISCLOSED) -> str:
    """What the holder shows: the SD-JWT with only the disclosures of *paths*."""
    from sd_jwt.holder import SDJWTHolder

    holder = SDJWTHolder(issuance)
    holder.create_presentation(_wanted(paths, certificate))
    return str(holder.sd_jwt_presentation)


def verify(presentation: str, *, resolver: DidResolver, fetcher: StatusFetcher,
           trusted: Mapping[str, set[str]], now: datetime) -> tuple[Verdict, str]:
    """Verify an SD-JWT VC presentation; returns the verdict and why."""
    from jwcrypto.common import JWException
    from sd_jwt.verifier import SDJWTVerifier

    everyone = set().union(*trusted.values()) if trusted else set()

    def issuer_key(iss: str, header: Mapping[str, Any]) -> Any:
        if iss not in everyone:
            raise PermissionError(f"{iss} is not on the trust list")
        return _jwk(resolve_signing_key(resolver, iss, str(header.get("kid", "")))[1])

    try:
        verifier = SDJWTVerifier(presentation, issuer_key)
        claims = verifier.get_verified_payload()
    except DidUnavailableError as error:
        return Verdict.UNAVAILABLE, str(error)
    except PermissionError as error:
        return Verdict.INVALID, str(error)
    except (DidResolutionError, CredentialFormatError, JWException, ValueError, KeyError) as error:
        return Verdict.INVALID, f"signature or disclosures rejected: {error}"
    if claims["iss"] not in trusted.get(str(claims.get("exporting_country")), set()):
        return Verdict.INVALID, "the issuer is not trusted for this exporting country"
    entry = claims.get("status", {}).get("bitstring_status_list")
    if not isinstance(entry, Mapping):
        return Verdict.INVALID, "no status entry"
    outcome = check_status_list(entry, claims["iss"], resolver, fetcher, now)
    if outcome.verdict is not None:
        return outcome.verdict, outcome.reason
    moment = now.timestamp()
    if moment < claims.get("nbf", 0):
        return Verdict.INVALID, "not yet valid"
    if moment > claims.get("exp", time.time() + 1):
        return Verdict.EXPIRED, "expired"
    return Verdict.VALID, "signature, disclosures, trust list, status and validity pass"
