"""An httpx AsyncClient on the app, wired to the session's node on a real Anvil."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from api.app import create_app
from api.config import Settings
from registry.runtime import Node


@pytest.fixture
async def client(node: Node) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(data_dir=node.config.data_dir, public_url="http://testserver"), node)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def keys(demo_keys: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    return demo_keys
