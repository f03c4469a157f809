"""Dependencies: settings, the registry service, and who is calling."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.config import Settings
from api.limits import FailureLimiter, authenticate
from registry.custody.apikeys import Principal, Role
from registry.services.customs import CustomsDesk
from registry.errors import AuthenticationError, PermissionDenied
from registry.runtime import Node
from registry.services.core import RegistryService

_bearer = HTTPBearer(auto_error=False, description="API key minted by the node: `coo_<id>_<secret>`")


def get_settings(request: Request) -> Settings:
    """The node's settings."""
    settings: Settings = request.app.state.settings
    return settings


def get_registry(request: Request) -> RegistryService:
    """The node's registry service."""
    registry: RegistryService = request.app.state.registry
    return registry


def get_node(request: Request) -> Node:
    """The running node (its service, workers and managed processes)."""
    node: Node = request.app.state.node
    return node


def get_customs(request: Request) -> CustomsDesk:
    """The node's Customs desk."""
    desk: CustomsDesk | None = request.app.state.node.customs
    assert desk is not None
    return desk


SettingsDep = Annotated[Settings, Depends(get_settings)]
CustomsDep = Annotated[CustomsDesk, Depends(get_customs)]
NodeDep = Annotated[Node, Depends(get_node)]
RegistryDep = Annotated[RegistryService, Depends(get_registry)]


def current_principal(
    request: Request,
    registry: RegistryDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, from its bearer API key; a client with too many invalid keys lately waits.

    Raises:
        AuthenticationError: with no key or an invalid one.
        TooManyAttemptsError: the client is over its limit of failed keys.
    """
    if credentials is None:
        raise AuthenticationError("this endpoint needs an API key: send `Authorization: Bearer <key>`")
    return _authenticate(request, registry, credentials.credentials)


def _authenticate(request: Request, registry: RegistryService, token: str) -> Principal:
    limiter: FailureLimiter = request.app.state.auth_failures
    return authenticate(registry.api_keys, limiter, request.client.host if request.client else "unknown", token)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def optional_principal(
    request: Request,
    registry: RegistryDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    """The caller if it sent an API key (public endpoints that show more to entitled callers).

    Raises:
        AuthenticationError: an invalid key (no key at all is fine).
        TooManyAttemptsError: the client is over its limit of failed keys.
    """
    return None if credentials is None else _authenticate(request, registry, credentials.credentials)


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
