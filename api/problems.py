"""One place where errors become ``application/problem+json`` (RFC 9457).

Every :class:`registry.errors.RegistryError` maps to a status code by its
branch of the tree; a contract refusal reads as a sentence
(:mod:`registry.chain.messages`) with the Solidity error's name in ``code``;
request validation errors name the failing fields, and a body that is not JSON
gets 415; nothing else escapes as a 500 with a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from registry.chain.messages import describe
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


_NOT_AN_OBJECT = frozenset({"dict_type", "model_attributes_type", "model_type"})


def _located(error: Mapping[str, Any]) -> dict[str, str]:
    """A pydantic error as ``{"loc", "msg"}``: the field path without the ``body`` prefix (``body`` for the whole)."""
    loc = tuple(error.get("loc", ()))
    path = _field_path([p for p in loc[1:]] if loc[:1] == ("body",) else list(loc))
    if not path:
        message = "expected a JSON object" if error.get("type") in _NOT_AN_OBJECT else str(error.get("msg", ""))
        return {"loc": "body", "msg": message}
    return {"loc": path, "msg": str(error.get("msg", ""))}


def is_json(content_type: str | None) -> bool:
    """Whether *content_type* is JSON (``application/json`` or ``application/…+json``, any parameters)."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _sent_other_than_json(request: Request, errors: list[Any]) -> bool:
    """A body the route could not read because it is not JSON (the route then sees bytes, or nothing)."""
    if not any(tuple(e.get("loc", ()))[:1] == ("body",) for e in errors):
        return False
    headers = request.headers
    has_body = headers.get("content-length", "0") not in ("", "0") or "transfer-encoding" in headers
    return has_body and not is_json(headers.get("content-type"))


def install(app: FastAPI) -> None:
    """Register the exception handlers on *app*."""

    @app.exception_handler(RegistryError)
    async def registry_error(_: Request, error: RegistryError) -> JSONResponse:
        extra: dict[str, Any] = {}
        listed = getattr(error, "errors", None)  # a ValidationError's failing fields, a refused batch's items
        if isinstance(listed, list) and listed:
            extra["errors"] = [dict(e) for e in listed]
        detail = str(error)
        if isinstance(error, ContractRevertError):
            detail = describe(error)
            extra.update(code=error.name, contract_error=error.name)
        status = status_for(error)
        response = problem(status, error.title, detail, **extra)
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
    async def request_invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        found = list(error.errors())
        if _sent_other_than_json(request, found):
            got = request.headers.get("content-type") or "no Content-Type"
            return problem(415, "Unsupported Media Type",
                           f"this route takes a JSON body: send it with Content-Type: application/json (got {got})",
                           errors=[{"loc": "body", "msg": "expected application/json"}])
        errors = [_located(e) for e in found]
        first = errors[0] if errors else {"loc": "body", "msg": "invalid request"}
        return problem(422, "Invalid request", f"{first['loc']}: {first['msg']}", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == 404 and _page_wanted(request):  # a mistyped QR link on a phone: a page, not JSON
            from api.pages import problem_page

            return problem_page(404, NotFoundError("verification code", request.url.path.removeprefix("/v/")))
        response = problem(error.status_code, _title(error.status_code), str(error.detail))
        for key, value in (error.headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.error("unexpected %s on %s %s", type(error).__name__, request.method, request.url.path)
        return problem(500, "Internal error", "the node hit an unexpected error; it has been logged")


def _page_wanted(request: Request) -> bool:
    """A browser asking under the QR path (``/v/…``) for something no route serves."""
    accept = request.headers.get("accept", "text/html")
    return request.url.path.startswith("/v/") and ("text/html" in accept or "application/json" not in accept)


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
