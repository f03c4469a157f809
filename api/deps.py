"""Dependencies: settings, the node's use-case services, and who is calling.

All are ``async``: they run on the event loop without a thread hand-off. A key this process
checked before is looked up on the loop (a cache, and one indexed read when several processes
share the store, so a key revoked by another process stops working at once); only a key not seen
yet goes to the bounded pool (:mod:`api.offload`), for scrypt. The rest only read attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.config import Settings
from api.limits import FailureLimiter, authenticate
from api.offload import blocking
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


async def get_settings(request: Request) -> Settings:
    """The node's settings."""
    settings: Settings = request.app.state.settings
    return settings


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


async def get_node(request: Request) -> Node:
    """The running node (its services, workers and managed processes)."""
    return _node(request)


def _part(name: str) -> Callable[[Request], Coroutine[Any, Any, Any]]:
    """A dependency answering one part of the running node (a service, or the context they share)."""

    async def part(request: Request) -> Any:
        return getattr(_node(request), name)

    part.__name__ = f"get_{name}"
    return part


SettingsDep = Annotated[Settings, Depends(get_settings)]
NodeDep = Annotated[Node, Depends(get_node)]
ContextDep = Annotated[ServiceContext, Depends(_part("context"))]
"""What the node's services share (store, chain, workers)."""
IssuingDep = Annotated[Issuing, Depends(_part("issuing"))]
VerificationDep = Annotated[Verification, Depends(_part("verification"))]
GovernanceDep = Annotated[Governance, Depends(_part("governance"))]
DocumentsDep = Annotated[Documents, Depends(_part("documents"))]
UtilisationDep = Annotated[Utilisation, Depends(_part("utilisation"))]
RequestsDep = Annotated[Requests, Depends(_part("requests"))]
KeyReleaseDep = Annotated[KeyRelease, Depends(_part("key_release"))]


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, from its bearer API key; a client with too many invalid keys lately waits.

    Raises:
        AuthenticationError: with no key or an invalid one.
        TooManyAttemptsError: the client is over its limit of failed keys.
    """
    if credentials is None:
        raise AuthenticationError("this endpoint needs an API key: send `Authorization: Bearer <key>`")
    return await _principal(request, credentials.credentials)


async def _principal(request: Request, token: str) -> Principal:
    """A key this process checked before, on the event loop (no hand-off: a cache look-up and at most one
    indexed read); any other key in the bounded pool (scrypt). The node's context is read from the request,
    not taken as one more dependency: each costs a round of FastAPI's dependency solving on every request."""
    ctx = _node(request).context
    limiter: FailureLimiter = request.app.state.auth_failures
    limiter.check(_client(request))
    known = ctx.api_keys.known(token)
    return known if known is not None else await blocking(_authenticate, request, ctx, token)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _authenticate(request: Request, ctx: ServiceContext, token: str) -> Principal:
    limiter: FailureLimiter = request.app.state.auth_failures
    return authenticate(ctx.api_keys, limiter, _client(request), token)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def optional_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    """The caller if it sent an API key (public endpoints that show more to entitled callers).

    Raises:
        AuthenticationError: an invalid key (no key at all is fine).
        TooManyAttemptsError: the client is over its limit of failed keys.
    """
    return None if credentials is None else await _principal(request, credentials.credentials)


MaybePrincipal = Annotated[Principal | None, Depends(optional_principal)]


def require(*roles: Role):  # type: ignore[no-untyped-def]
    """Router/endpoint dependency admitting only *roles*."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles:
            allowed = " or ".join(r.value for r in roles)
            raise PermissionDenied(f"{principal.role.article} {principal.role.value} key cannot do this; "
                                   f"it needs {roles[0].article} {allowed} key")
        return principal

    return check


CurrentIssuer = Annotated[Principal, Depends(require(Role.ISSUER))]
CurrentIssuerOrAuthority = Annotated[Principal, Depends(require(Role.ISSUER, Role.AUTHORITY))]
CurrentReader = Annotated[Principal, Depends(require(Role.ISSUER, Role.AUTHORITY, Role.CUSTOMS, Role.ADMIN))]
CurrentAdmin = Annotated[Principal, Depends(require(Role.ADMIN))]
CurrentGovernor = Annotated[Principal, Depends(require(Role.ADMIN, Role.AUTHORITY))]
CurrentAuthority = Annotated[Principal, Depends(require(Role.AUTHORITY))]
CurrentCustoms = Annotated[Principal, Depends(require(Role.CUSTOMS))]
