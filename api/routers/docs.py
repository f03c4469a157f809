"""The API reference (Swagger UI), served by the node itself: it works on a network without internet."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from api.limits import GuardedRoute

SWAGGER_UI = Path(__file__).resolve().parents[2] / "node_modules" / "swagger-ui-dist"
"""The npm package ``swagger-ui-dist`` the project's setup installs (``package.json``)."""
ASSETS = "/static/swagger-ui"
"""Where the node serves it."""

router = APIRouter(route_class=GuardedRoute, include_in_schema=False)


@router.get("/docs")
def docs() -> HTMLResponse:
    """Swagger UI over this node's OpenAPI schema, every asset from this node."""
    if not (SWAGGER_UI / "swagger-ui-bundle.js").is_file():
        return HTMLResponse("<!doctype html><title>API reference</title><p>Swagger UI is not installed on this node "
                            "(<code>make setup</code> installs it). The schema is at "
                            "<a href=\"/openapi.json\">/openapi.json</a>.</p>", status_code=503)
    return get_swagger_ui_html(openapi_url="/openapi.json", title="Certificate of Origin registry: API",
                               swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
                               swagger_css_url=f"{ASSETS}/swagger-ui.css",
                               swagger_favicon_url=f"{ASSETS}/favicon-32x32.png")
