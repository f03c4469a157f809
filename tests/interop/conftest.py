"""An httpx AsyncClient on the app, wired to the session's node (for the routes that publish and issue credentials)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from api.app import create_app
from api.config import Settings
from registry.runtime import Node


@pytest.fixture
async def http(node: Node) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(data_dir=node.config.data_dir), node)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                                 base_url="http://testserver") as client:
        yield client
