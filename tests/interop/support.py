"""Run the independent implementations (small Node scripts in ``js/``) and read their one-line JSON answers.

Each script uses the peers' own libraries, pinned as npm devDependencies (``jose``, ``jsonld``, Digital
Bazaar's VC stack) and a document loader that serves only the VC 2.0 context, this project's context
file and the documents a test hands over: nothing reaches the network.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from registry.runtime import Node
from registry.vc.issuer import VcIssuer
from registry.vc.jose import b64url_encode
from registry.vc.keys import IssuerKey, public_jwk

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).resolve().parent / "js"
TIMEOUT = 60.0

requires_node = pytest.mark.skipif(
    shutil.which("node") is None or not (ROOT / "node_modules" / "@digitalbazaar" / "vc").is_dir(),
    reason="node and the pinned npm devDependencies are needed (make setup installs them)")


def node(script: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Run ``js/<script>`` on *payload* and return its answer (``ok`` says whether it succeeded).

    Raises:
        AssertionError: the script printed something other than one JSON object.
    """
    with tempfile.TemporaryDirectory(prefix="coo-interop-") as directory:
        given = Path(directory) / "input.json"
        given.write_text(json.dumps(payload))
        done = subprocess.run(["node", str(SCRIPTS / script), str(given)], capture_output=True, text=True,
                              timeout=TIMEOUT, cwd=ROOT, check=False)
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 0 and len(lines) == 1, f"{script} failed: {done.stdout}\n{done.stderr}"
    answer: dict[str, Any] = json.loads(lines[0])
    return answer


def private_jwk(issuer: IssuerKey, kid: str | None = None) -> dict[str, str]:
    """The issuer's private JWK: what we give the other libraries so they sign as the issuer.

    WARNING: a private key leaves its holder; for tests with throw-away keys only.
    """
    seed = issuer.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    jwk = dict(public_jwk(issuer.public_bytes)) | {"d": b64url_encode(seed)}
    return jwk | ({"kid": kid} if kid else {})


def documents_of(issuer: IssuerKey, more: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The documents a loader serves for *issuer*: its DID document as the node serves it, and *more* by URL."""
    return {issuer.did: issuer.did_document(), **{url: dict(doc) for url, doc in (more or {}).items()}}


def real_now() -> datetime:
    """The wall clock, second precision: the other libraries check validity against it."""
    return datetime.now(UTC).replace(microsecond=0)


def vc_issuer(node: Node) -> VcIssuer:
    """The node's credential issuer (every node has one)."""
    assert node.vc_issuer is not None
    return node.vc_issuer
