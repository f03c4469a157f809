"""Compile the Solidity contracts with py-solc-x and the npm solc-js compiler.

Native solc downloads are unreachable on our machines, so py-solc-x is pointed at
``scripts/solc-shim.cjs``, a few lines of Node that expose the npm ``solc``
package as a ``solc --standard-json`` binary. Artifacts (ABI, creation and runtime
bytecode, compiler version, source digest) are written to ``registry/chain/artifacts/`` and
committed; a test recompiles and fails when they disagree with the sources.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONTRACTS_DIR = PROJECT_ROOT / "contracts"
BUILD_DIR = Path(__file__).resolve().parent / "artifacts"
"""Where the committed artifacts live: inside the package, so an installed wheel can deploy and use the contracts."""
SHIM = PROJECT_ROOT / "scripts" / "solc-shim.cjs"

DEPLOYABLE: tuple[str, ...] = ("CustomsRegistry",)
"""Contracts whose artifacts are written (the others are inherited or interfaces)."""

SETTINGS: dict[str, Any] = {
    "optimizer": {"enabled": True, "runs": 10_000},
    # Shanghai, the newest fork every supported chain runs (Ganache stops there; Anvil and Besu run later
    # ones): from Cancun on, solc copies memory with MCOPY, which an older chain rejects as an invalid opcode.
    "evmVersion": "shanghai",
    "outputSelection": {
        "*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]},
    },
}


@dataclass(frozen=True)
class Artifact:
    """One compiled contract, as committed under ``registry/chain/artifacts/``."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    compiler: str
    sources_digest: str

    def to_json(self) -> dict[str, Any]:
        """Return the artifact as the JSON object stored on disk."""
        return {
            "contractName": self.name,
            "abi": self.abi,
            "bytecode": self.bytecode,
            "deployedBytecode": self.deployed_bytecode,
            "compiler": self.compiler,
            "sourcesDigest": self.sources_digest,
        }


def source_files() -> dict[str, str]:
    """Map each project source unit name (``contracts/X.sol``) to its text."""
    return {
        f"contracts/{path.name}": path.read_text(encoding="utf-8")
        for path in sorted(CONTRACTS_DIR.glob("*.sol"))
    }


def sources_digest(sources: dict[str, str]) -> str:
    """SHA-256 over the project sources, to tie artifacts to what built them."""
    digest = hashlib.sha256()
    for name, text in sorted(sources.items()):
        digest.update(name.encode() + b"\0" + text.encode() + b"\0")
    return digest.hexdigest()


def compiler_version() -> str:
    """The full solc-js version string (with commit) the shim reports."""
    answer = subprocess.run([str(SHIM), "--version"], capture_output=True, text=True, check=True)
    return answer.stdout.strip().splitlines()[-1].removeprefix("Version: ")


def compile_contracts() -> dict[str, Artifact]:
    """Compile every project contract and return the deployable artifacts.

    Raises:
        RuntimeError: if solc reports an error (the message carries solc's text).
    """
    import solcx  # imported lazily: only the build and its test need it

    sources = source_files()
    request = {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": SETTINGS,
    }
    output = solcx.compile_standard(request, solc_binary=SHIM, allow_empty=False)
    problems = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if problems:
        raise RuntimeError("\n".join(e.get("formattedMessage", e["message"]) for e in problems))
    version = compiler_version()
    digest = sources_digest(sources)
    artifacts: dict[str, Artifact] = {}
    for unit in output["contracts"].values():
        for name, compiled in unit.items():
            if name not in DEPLOYABLE:
                continue
            artifacts[name] = Artifact(
                name=name,
                abi=compiled["abi"],
                bytecode="0x" + compiled["evm"]["bytecode"]["object"],
                deployed_bytecode="0x" + compiled["evm"]["deployedBytecode"]["object"],
                compiler=version,
                sources_digest=digest,
            )
    return artifacts


def write_artifacts(artifacts: dict[str, Artifact], build_dir: Path = BUILD_DIR) -> list[Path]:
    """Write artifacts as pretty, stable JSON; return the paths written."""
    build_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, artifact in sorted(artifacts.items()):
        path = build_dir / f"{name}.json"
        path.write_text(json.dumps(artifact.to_json(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written


def load_artifact(name: str, build_dir: Path = BUILD_DIR) -> dict[str, Any]:
    """Read a committed artifact (ABI and bytecode) by contract name."""
    data: dict[str, Any] = json.loads((build_dir / f"{name}.json").read_text(encoding="utf-8"))
    return data
