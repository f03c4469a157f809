"""One place where errors become ``application/problem+json`` (RFC 9457).

Every :class:`registry.errors.RegistryError` maps to a status code by its
branch of the tree; request validation errors name the failing fields; nothing
else escapes as a 500 with a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from registry.errors import (
    AuthenticationError,
    ChainUnavailableError,
    ConflictError,
    ContractRevertError,
    KeyDestroyedError,
    NotFoundError,
    PermissionDenied,
    RegistryError,
    TooManyAttemptsError,
    ValidationError,
    WritePending,
)

log = logging.getLogger("coo.api")

PROBLEM_JSON = "application/problem+json"

_STATUS: list[tuple[type[RegistryError], int]] = [
    (ValidationError, 422),
    (NotFoundError, 404),
    (KeyDestroyedError, 410),
    (ConflictError, 409),
    (TooManyAttemptsError, 429),
    (AuthenticationError, 401),
    (PermissionDenied, 403),
    (ContractRevertError, 409),
    (ChainUnavailableError, 503),
    (RegistryError, 502),
]


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    """Build a problem+json response."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    body.update(extra)
    headers = {"Retry-After": "5"} if status == 503 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def status_for(error: RegistryError) -> int:
    """HTTP status of a registry error, by its branch of the exception tree."""
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 500


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def install(app: FastAPI) -> None:
    """Register the exception handlers on *app*."""

    @app.exception_handler(RegistryError)
    async def registry_error(_: Request, error: RegistryError) -> JSONResponse:
        extra: dict[str, Any] = {}
        if isinstance(error, ValidationError) and error.errors:
            extra["errors"] = [dict(e) for e in error.errors]
        if isinstance(error, ContractRevertError):
            extra["contract_error"] = error.name
        status = status_for(error)
        response = problem(status, error.title, str(error), **extra)
        if status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        if isinstance(error, TooManyAttemptsError):
            response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.exception_handler(WritePending)
    async def write_pending(_: Request, pending: WritePending) -> JSONResponse:
        url = f"/v1/chain-writes/{pending.write_id}"
        body = {"status": "pending", "detail": str(pending), "write_id": pending.write_id, "kind": pending.kind,
                "status_url": url, **pending.shown}
        return JSONResponse(body, status_code=202, headers={"Location": url, "Retry-After": "1"})

    @app.exception_handler(RequestValidationError)
    async def request_invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": _field_path([p for p in e.get("loc", ()) if p != "body"]), "msg": str(e.get("msg", ""))}
            for e in error.errors()
        ]
        first = errors[0] if errors else {"loc": "", "msg": "invalid request"}
        detail = f"{first['loc']}: {first['msg']}" if first["loc"] else first["msg"]
        return problem(422, "Invalid request", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        response = problem(error.status_code, _title(error.status_code), str(error.detail))
        for key, value in (error.headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.error("unexpected %s on %s %s", type(error).__name__, request.method, request.url.path)
        return problem(500, "Internal error", "the node hit an unexpected error; it has been logged")


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
