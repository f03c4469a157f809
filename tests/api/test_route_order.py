"""The app's routers are included hottest first (verification), which is safe only while no two routers answer
the same request: then the order of the routers changes which routes are tried first, never which one answers."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Match

from api.app import create_app
from api.config import Settings


def routers(app: FastAPI) -> list[list[APIRoute]]:
    """The API routes of each included router, in inclusion order."""
    return [[r for r in included.original_router.routes if isinstance(r, APIRoute)]  # type: ignore[attr-defined]
            for included in app.router.routes if hasattr(included, "original_router")]


def overlaps(app: FastAPI) -> list[tuple[str, str, str]]:
    """(method, sample path, route) for every request one router answers that a route of another router matches."""
    found = []
    groups = routers(app)
    for index, group in enumerate(groups):
        for route in group:
            path = re.sub(r"\{[^}]+\}", "x1", route.path)
            for method in route.methods:
                scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": [],
                         "query_string": b""}
                found += [(method, path, other.path) for j, rest in enumerate(groups) if j != index
                          for other in rest if other.matches(scope)[0] is Match.FULL]
    return found


def test_no_request_is_answered_by_routes_of_two_routers(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    assert len(routers(app)) > 5
    assert overlaps(app) == []


def test_the_check_sees_a_router_that_would_answer_another_routers_request(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    shadow = APIRouter()

    @shadow.get("/v1/verify/{anything}")
    def shadowing(anything: str) -> str:
        return anything

    app.include_router(shadow)
    assert ("GET", "/v1/verify/x1", "/v1/verify/{anything}") in overlaps(app)


def test_the_hottest_router_is_tried_first(tmp_path: Path) -> None:
    first = routers(create_app(Settings(data_dir=tmp_path)))[0]
    assert {"/v1/verify", "/v1/verify/{document_hash}"} <= {r.path for r in first}
