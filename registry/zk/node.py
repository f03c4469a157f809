"""Run the Node side of the zero-knowledge layer (``zk.cjs``: circomlibjs' Poseidon, snarkjs' Groth16).

One subprocess per call, every request of the call in one JSON document on stdin, so a batch of
certificates or a bundle of claims pays Node's start-up once. Nothing of the request (openings carry
confidential figures) is logged or put into an error message.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from registry.errors import RegistryError

SHIM = Path(__file__).resolve().parent / "zk.cjs"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
"""The committed circuits, proving and verification keys (``scripts/build_circuits.py`` writes them)."""
TIMEOUT = 300.0


class ZkToolError(RegistryError):
    """The zero-knowledge tooling (Node, circomlibjs, snarkjs) could not run."""

    title = "Zero-knowledge tooling failed"


def run(request: dict[str, Any], timeout: float = TIMEOUT) -> dict[str, Any]:
    """Send one request to ``zk.cjs`` and return its answer.

    Raises:
        ZkToolError: Node is missing, the shim failed or timed out, or answered something that is not JSON.
    """
    node = shutil.which("node")
    if node is None:
        raise ZkToolError("zero-knowledge proofs need Node.js (node) on the PATH")
    try:
        done = subprocess.run([node, str(SHIM)], input=json.dumps(request), capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise ZkToolError(f"the zero-knowledge tooling did not answer within {timeout:.0f} s") from None
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["no message"])[0][:200]
        raise ZkToolError(f"the zero-knowledge tooling failed: {first}")
    try:
        answer: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise ZkToolError("the zero-knowledge tooling answered something that is not JSON") from None
    return answer


def poseidon_commitments(openings: list[dict[str, Any]]) -> list[int]:
    """The commitment of each opening (:meth:`registry.zk.commitment.Opening.as_input`), as field elements."""
    if not openings:
        return []
    return [int(c) for c in run({"op": "commit", "openings": openings})["commitments"]]


def poseidon(inputs: list[list[int]]) -> list[int]:
    """Plain Poseidon (circomlib's, BN254) of each list of field elements: for cross-checks of the encoding."""
    answer = run({"op": "hash", "inputs": [[str(v) for v in one] for one in inputs]})
    return [int(h) for h in answer["hashes"]]


def prove(requests: list[dict[str, Any]], artifacts: Path = ARTIFACTS) -> list[dict[str, Any]]:
    """Groth16 proofs, one per request (``circuit``, ``opening``, ``item``, ``params``): each
    ``{"proof", "publicSignals"}`` or ``{"error"}`` (the witness does not satisfy the circuit)."""
    results: list[dict[str, Any]] = run({"op": "prove", "artifacts": str(artifacts), "requests": requests})["results"]
    return results


def verify(requests: list[dict[str, Any]], artifacts: Path = ARTIFACTS) -> list[bool | dict[str, Any]]:
    """Groth16 verification, one per request (``circuit``, ``proof``, ``publicSignals``): True, False or
    ``{"error"}`` (a proof snarkjs cannot read)."""
    results: list[bool | dict[str, Any]] = run({"op": "verify", "artifacts": str(artifacts),
                                                "requests": requests})["results"]
    return results
