"""Anyone: the code lists of the certificate dataset with the name of each code.

Why a route rather than names embedded in each report page: the page at ``/`` renders
documents a user pastes or drops in the browser, whose codes the server never sees
before the page needs their names, so the browser needs the tables anyway; one small,
public, unchanging table served once and cached (``Cache-Control`` and an ``ETag``) then
serves ``/``, ``/v/{token}`` and any other client (a CLI, an integrator) alike, and the
verification report keeps its one shape.
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Annotated

from fastapi import APIRouter, Header, Response

from api.limits import GuardedRoute
from api.schemas import CodeListsPublic
from registry.domain import codes

router = APIRouter(route_class=GuardedRoute, tags=["code lists"])

CACHE_CONTROL = "public, max-age=86400"
"""The tables change only with a release of the node: a day in any cache is safe."""


@cache
def _body() -> tuple[bytes, str]:
    tables = {name: dict(table) for name, table in codes.code_list_names().items()}
    body = CodeListsPublic(**tables, value_content=codes.VALUE_CONTENT_NAME).model_dump_json().encode()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


@router.get("/v1/code-lists", summary="The code lists with the name of each code", response_model=CodeListsPublic,
            responses={304: {"description": "not modified since the ETag given in If-None-Match"}})
def code_lists(if_none_match: Annotated[str | None, Header()] = None) -> Response:
    """Countries, currencies, units, transport modes, origin criteria and certificate types, code to name.
    Public and cacheable (`ETag`, `Cache-Control`); the verification page renders certificates with it."""
    body, etag = _body()
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if if_none_match is not None and _matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def _matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 If-None-Match: ``*`` or a list of (possibly weak) tags, compared weakly."""
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags
