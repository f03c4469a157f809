"""Dependencies: settings, the node's use-case services, and who is calling."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.config import Settings
from api.limits import FailureLimiter, authenticate
from registry.custody.apikeys import Principal, Role
from registry.errors import AuthenticationError, PermissionDenied
from registry.runtime import Node
from registry.services.context import ServiceContext
from registry.services.documents import Documents
from registry.services.governance import Governance
from registry.services.issuing import Issuing
from registry.services.key_release import KeyRelease
from registry.services.requests import Requests
from registry.services.utilisation import Utilisation
from registry.services.verification import Verification

_bearer = HTTPBearer(auto_error=False, description="API key minted by the node: `coo_<id>_<secret>`")


def get_settings(request: Request) -> Settings:
    """The node's settings."""
    settings: Settings = request.app.state.settings
    return settings


def get_context(request: Request) -> ServiceContext:
    """What the node's services share (store, chain, workers)."""
    node: Node = request.app.state.node
    return node.context


def get_issuing(request: Request) -> Issuing:
    """Issuing: register, revoke, replace, erase."""
    node: Node = request.app.state.node
    return node.issuing


def get_verification(request: Request) -> Verification:
    """Verification and receipts."""
    node: Node = request.app.state.node
    return node.verification


def get_governance(request: Request) -> Governance:
    """Admissions, authorisations, standing, API keys, chain writes."""
    node: Node = request.app.state.node
    return node.governance


def get_node(request: Request) -> Node:
    """The running node (its service, workers and managed processes)."""
    node: Node = request.app.state.node
    return node


def get_documents(request: Request) -> Documents:
    """Resolving and opening certificates; peer nodes."""
    node: Node = request.app.state.node
    return node.documents


def get_utilisation(request: Request) -> Utilisation:
    """Utilisation against import declarations."""
    node: Node = request.app.state.node
    return node.utilisation


def get_requests(request: Request) -> Requests:
    """Retroactive verification requests."""
    node: Node = request.app.state.node
    return node.requests


def get_key_release(request: Request) -> KeyRelease:
    """Key release and erasure acknowledgements."""
    node: Node = request.app.state.node
    return node.key_release


SettingsDep = Annotated[Settings, Depends(get_settings)]
DocumentsDep = Annotated[Documents, Depends(get_documents)]
UtilisationDep = Annotated[Utilisation, Depends(get_utilisation)]
RequestsDep = Annotated[Requests, Depends(get_requests)]
KeyReleaseDep = Annotated[KeyRelease, Depends(get_key_release)]
NodeDep = Annotated[Node, Depends(get_node)]
ContextDep = Annotated[ServiceContext, Depends(get_context)]
IssuingDep = Annotated[Issuing, Depends(get_issuing)]
VerificationDep = Annotated[Verification, Depends(get_verification)]
GovernanceDep = Annotated[Governance, Depends(get_governance)]


def current_principal(
    request: Request,
    ctx: ContextDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, from its bearer API key; a client with too many invalid keys lately waits.

    Raises:
        AuthenticationError: with no key or an invalid one.
        TooManyAttemptsError: the client is over its limit of failed keys.
    """
    if credentials is None:
        raise AuthenticationError("this endpoint needs an API key: send `Authorization: Bearer <key>`")
    return _authenticate(request, ctx, credentials.credentials)


def _authenticate(request: Request, ctx: ServiceContext, token: str) -> Principal:
    limiter: FailureLimiter = request.app.state.auth_failures
    return authenticate(ctx.api_keys, limiter, request.client.host if request.client else "unknown", token)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def optional_principal(
    request: Request,
    ctx: ContextDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    """The caller if it sent an API key (public endpoints that show more to entitled callers).

    Raises:
        AuthenticationError: an invalid key (no key at all is fine).
        TooManyAttemptsError: the client is over its limit of failed keys.
    """
    return None if credentials is None else _authenticate(request, ctx, credentials.credentials)


MaybePrincipal = Annotated[Principal | None, Depends(optional_principal)]


def require(*roles: Role):  # type: ignore[no-untyped-def]
    """Router/endpoint dependency admitting only *roles*."""

    def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles:
            allowed = " or ".join(r.value for r in roles)
            raise PermissionDenied(f"a {principal.role.value} key cannot do this; it needs a {allowed} key")
        return principal

    return check


CurrentIssuer = Annotated[Principal, Depends(require(Role.ISSUER))]
CurrentIssuerOrAuthority = Annotated[Principal, Depends(require(Role.ISSUER, Role.AUTHORITY))]
CurrentReader = Annotated[Principal, Depends(require(Role.ISSUER, Role.AUTHORITY, Role.CUSTOMS, Role.ADMIN))]
CurrentAdmin = Annotated[Principal, Depends(require(Role.ADMIN))]
CurrentGovernor = Annotated[Principal, Depends(require(Role.ADMIN, Role.AUTHORITY))]
CurrentAuthority = Annotated[Principal, Depends(require(Role.AUTHORITY))]
CurrentCustoms = Annotated[Principal, Depends(require(Role.CUSTOMS))]
