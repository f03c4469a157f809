"""Runs last: no key of any kind appears in the session's logs, in error bodies, or in the repository."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import httpx

from api.app import create_app
from api.config import Settings
from registry.runtime import Node
from tests.support import CAPTURED_LOGS
from tests.support.consortium import example

ROOT = Path(__file__).resolve().parent.parent


async def error_bodies(client: httpx.AsyncClient, demo_keys: dict[str, dict[str, str]]) -> list[str]:
    issuer = {"Authorization": f"Bearer {demo_keys['issuer']['api_key']}"}
    return [
        (await client.post("/v1/certificates", json={"bad": 1}, headers={"Authorization": "Bearer coo_x_y"})).text,
        (await client.post("/v1/certificates", json={"bad": 1}, headers=issuer)).text,
        (await client.get("/v1/certificates/nope", headers=issuer)).text,
        (await client.post("/v1/certificates/nope/erase", headers=issuer)).text,
    ]


def secrets_of(node: Node, demo_keys: dict[str, dict[str, str]]) -> dict[str, str]:
    service = node.context
    issuer = service.api_keys.authenticate(demo_keys["issuer"]["api_key"])
    row = node.issuing.register(issuer, [example()])[0]
    found = {
        "KEK": (node.config.data_dir / "kek").read_text().strip(),
        "node private key": service.node_account.key.hex(),
        "data key": service.vault.data_key(row.id).unsafe_bytes().hex(),
    }
    for role, entry in demo_keys.items():
        if isinstance(entry, dict) and "api_key" in entry:
            found[f"{role} API key"] = entry["api_key"]
            if "account" in entry and (account := service.accounts.get(entry["account"])) is not None:
                found[f"{role} private key"] = account.key.hex()
    return {name: value.removeprefix("0x") for name, value in found.items()}


async def test_no_secret_appears_in_logs_errors_or_the_repository(
    node: Node, demo_keys: dict[str, dict[str, str]]
) -> None:
    secrets = secrets_of(node, demo_keys)
    assert len(secrets) >= 8
    app = create_app(Settings(public_url="http://testserver"), node)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        bodies = await error_bodies(client, demo_keys)
    logs = "\n".join(CAPTURED_LOGS)
    for name, value in secrets.items():
        assert value.lower() not in logs.lower(), f"{name} found in the logs"
        assert all(value not in body for body in bodies), f"{name} found in an error body"
        grep = subprocess.run(["git", "grep", "-q", "-i", "-F", value], cwd=ROOT)
        assert grep.returncode == 1, f"{name} is committed to the repository"
    for path in (node.config.data_dir / "kek", node.config.data_dir / "node-account.json",
                 node.config.data_dir / "admin-api-key", node.config.data_dir / "demo-keys.json"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert node.context.store.load_api_key(demo_keys["admin"]["api_key"].split("_")[1]).digest != \
        demo_keys["admin"]["api_key"].encode()
