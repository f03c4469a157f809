"""``coo up``: open the node, optionally set up the demo consortium, and serve."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import uvicorn
from rich.console import Console

from api.app import create_app, node_config
from api.config import Settings
from registry.custody.apikeys import Principal, Role
from registry.runtime import Node, open_node, write_json_private

DEMO_FILE = "demo-keys.json"
console = Console(stderr=True)


def set_up_demo(node: Node, base_url: str) -> Path:
    """Create the demo consortium once (SG exporting, JP importing) and write its keys.

    Returns the path of ``demo-keys.json`` (mode 0600) in the data directory.
    """
    path = node.config.data_dir / DEMO_FILE
    if path.exists():
        return path
    governance = node.governance
    admin = Principal("demo", Role.ADMIN, None, node.context.node_account.address, "demo admin")
    admin_key = node.context.api_keys.mint(Role.ADMIN, label="demo admin")
    sg_authority, sg_authority_key = governance.admit_country(admin, "SG", None, "Singapore Customs (demo authority)")
    jp_authority, jp_authority_key = governance.admit_country(admin, "JP", None, "Japan Customs (demo authority)")
    sg = Principal("demo", Role.AUTHORITY, "SG", sg_authority, "demo authority SG")
    issuer, issuer_key = governance.authorise_issuer(sg, "Singapore Customs (demo issuing body)", None)
    jp = Principal("demo", Role.AUTHORITY, "JP", jp_authority, "demo authority JP")
    customs, customs_key = governance.authorise_customs(jp, "Japan Customs (demo)")
    keys: dict[str, Any] = {
        "node": base_url,
        "admin": {"role": "admin", "api_key": admin_key},
        "authority": {"role": "authority", "country": "SG", "account": sg_authority, "api_key": sg_authority_key},
        "authority_jp": {"role": "authority", "country": "JP", "account": jp_authority, "api_key": jp_authority_key},
        "issuer": {"role": "issuer", "country": "SG", "account": issuer, "api_key": issuer_key},
        "customs": {"role": "customs", "country": "JP", "account": customs, "api_key": customs_key},
    }
    write_json_private(path, keys)
    return path


def serve(overrides: dict[str, Any], demo: bool = False) -> None:
    """Run a node in the foreground until interrupted."""
    settings = Settings(**overrides)
    node = open_node(node_config(settings))
    try:
        console.print(f"chain: {node.context.chain.w3.provider.endpoint_uri}  "  # type: ignore[attr-defined]
                      f"registry contract: {node.context.chain.address}", highlight=False)
        if node.admin_key_path is not None:
            console.print(f"admin API key: in {node.admin_key_path} (mode 0600)", highlight=False)
        if demo:
            path = set_up_demo(node, settings.base_url)
            console.print(f"demo consortium keys: {path} (roles: {', '.join(json.loads(path.read_text()))})",
                          highlight=False)
        console.print(f"serving on {settings.base_url}  (verification page: {settings.base_url}/)", highlight=False)
        # The app's lifespan closes the node (worker, follower, managed Anvil) on shutdown:
        # uvicorn re-raises SIGTERM/SIGINT after a graceful shutdown, so code after run() may never execute.
        uvicorn.run(create_app(settings, node, close_node=True), host=settings.host, port=settings.port,
                    log_level="warning")
    except BaseException:
        node.close()
        raise
