"""Build the zero-knowledge artifacts: circuits, a local Groth16 ceremony, keys and Solidity verifiers.

Every step is deterministic, so a fresh clone rebuilds byte-identical artifacts:

1. Phase 1 (powers of tau, BN254, 2^12): ``snarkjs powersoftau new``, one contribution made by a
   *beacon* with the fixed hash :data:`PTAU_BEACON` (snarkjs' ``contribute`` mixes in fresh OS entropy
   and so is not reproducible; ``beacon`` derives the contribution from its hash alone), then
   ``prepare phase2``. The result is committed (``pot12.ptau``): phase 1 takes minutes.
2. Per circuit: ``circom2 --O2`` (r1cs and witness wasm), ``groth16 setup``, one phase-2 contribution
   by the beacon :data:`ZKEY_BEACON`, the verification key and the Solidity verifier snarkjs exports
   (renamed ``<Circuit>Verifier``).
3. The Solidity verifiers and :file:`contracts/ZkClaimLog.sol` compiled with the project's solc-js
   (``ZkContracts.json``), and a manifest of every artifact's SHA-256 with the sources' digest.

WARNING: a ceremony whose every contribution is public is no ceremony: anyone can recompute the toxic
waste from the beacons and forge proofs. It is what lets tests and a fresh clone rebuild the keys; a
production deployment needs the multi-party phase 2 that ``docs/zero-knowledge.md`` describes.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry.zk.node import ARTIFACTS

PACKAGE = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE.parents[1]
CIRCUITS_DIR = PACKAGE / "circuits"
CONTRACTS_DIR = PACKAGE / "contracts"
NODE_MODULES = PROJECT_ROOT / "node_modules"
CIRCUITS: tuple[str, ...] = ("rvc_at_least", "hs_prefix", "value_at_most", "value_at_least", "days_between_at_most")
"""Every predicate, by circuit name (the file ``circuits/<name>.circom``)."""
PTAU_POWER = 12
PTAU = "pot12.ptau"
PTAU_BEACON = hashlib.sha256(b"coo-registry zk phase 1: a public beacon, NOT a secret (local ceremony)").hexdigest()
ZKEY_BEACON = hashlib.sha256(b"coo-registry zk phase 2: a public beacon, NOT a secret (local ceremony)").hexdigest()
BEACON_ITERATIONS = 10
"""2^10 hash iterations per beacon (snarkjs' ``numIterationsExp``)."""
CIRCOM_FLAGS: tuple[str, ...] = ("--r1cs", "--wasm", "--O2")
MANIFEST = "manifest.json"
CONTRACTS_ARTIFACT = "ZkContracts.json"


def contract_name(circuit: str) -> str:
    """``rvc_at_least`` → ``RvcAtLeastVerifier``."""
    return "".join(part.capitalize() for part in circuit.split("_")) + "Verifier"


@dataclass(frozen=True)
class Tools:
    """The Node tools, run from the project's own node_modules."""

    node: str

    @classmethod
    def find(cls) -> Tools:
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("building the circuits needs Node.js (node) on the PATH")
        return cls(node)

    def circom(self, cwd: Path, *args: str) -> None:
        _run([self.node, str(NODE_MODULES / "circom2" / "cli.js"), *args], cwd)

    def snarkjs(self, cwd: Path, *args: str) -> None:
        _run([self.node, str(NODE_MODULES / "snarkjs" / "build" / "cli.cjs"), *args], cwd)


def _run(command: list[str], cwd: Path) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(command[1]).name} {' '.join(command[2:4])} failed:\n{done.stdout[-2000:]}"
                           f"{done.stderr[-2000:]}")


def versions() -> dict[str, str]:
    """The versions of the npm packages the artifacts are built with."""
    out = {}
    for name in ("circom2", "circomlib", "snarkjs"):
        data = json.loads((NODE_MODULES / name / "package.json").read_text(encoding="utf-8"))
        out[name] = str(data["version"])
    return out


def sources_digest() -> str:
    """SHA-256 over what determines the artifacts: circuit sources, tool versions, ceremony settings, contracts."""
    digest = hashlib.sha256()
    settings = {"ptau_power": PTAU_POWER, "ptau_beacon": PTAU_BEACON, "zkey_beacon": ZKEY_BEACON,
                "iterations": BEACON_ITERATIONS, "circom": list(CIRCOM_FLAGS), "circuits": list(CIRCUITS),
                "tools": versions()}
    digest.update(json.dumps(settings, sort_keys=True).encode())
    for path in sorted([*CIRCUITS_DIR.glob("*.circom"), *CONTRACTS_DIR.glob("*.sol")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _workspace(work: Path) -> None:
    """Copy the circuits and circomlib into *work* (circom2's WASI sandbox cannot follow a symlinked node_modules)."""
    for source in CIRCUITS_DIR.glob("*.circom"):
        shutil.copy(source, work / source.name)
    shutil.copytree(NODE_MODULES / "circomlib" / "circuits", work / "node_modules" / "circomlib" / "circuits")


def build_ptau(tools: Tools, out: Path) -> Path:
    """Phase 1 of the ceremony, deterministic (see the module docstring); the prepared ptau in *out*."""
    with tempfile.TemporaryDirectory(prefix="coo-ptau-") as tmp:
        work = Path(tmp)
        tools.snarkjs(work, "powersoftau", "new", "bn128", str(PTAU_POWER), "pot0.ptau")
        tools.snarkjs(work, "powersoftau", "beacon", "pot0.ptau", "pot1.ptau", PTAU_BEACON, str(BEACON_ITERATIONS),
                      "-n=coo-registry local beacon")
        tools.snarkjs(work, "powersoftau", "prepare", "phase2", "pot1.ptau", "final.ptau")
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy(work / "final.ptau", out / PTAU)
    return out / PTAU


def build_circuit(tools: Tools, circuit: str, ptau: Path, out: Path) -> dict[str, Any]:
    """Compile one circuit and run its phase 2; write ``<circuit>.{wasm,zkey,vkey.json}`` and its verifier
    ``<Circuit>Verifier.sol`` into *out*. Returns its manifest entry."""
    with tempfile.TemporaryDirectory(prefix="coo-circuit-") as tmp:
        work = Path(tmp)
        _workspace(work)
        tools.circom(work, f"{circuit}.circom", *CIRCOM_FLAGS, "-l", "node_modules", "-o", ".")
        tools.snarkjs(work, "groth16", "setup", f"{circuit}.r1cs", str(ptau.resolve()), "phase0.zkey")
        tools.snarkjs(work, "zkey", "beacon", "phase0.zkey", "final.zkey", ZKEY_BEACON, str(BEACON_ITERATIONS),
                      "-n=coo-registry local beacon")
        tools.snarkjs(work, "zkey", "export", "verificationkey", "final.zkey", "vkey.json")
        tools.snarkjs(work, "zkey", "export", "solidityverifier", "final.zkey", "verifier.sol")
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy(work / f"{circuit}_js" / f"{circuit}.wasm", out / f"{circuit}.wasm")
        shutil.copy(work / "final.zkey", out / f"{circuit}.zkey")
        shutil.copy(work / "vkey.json", out / f"{circuit}.vkey.json")
        solidity = (work / "verifier.sol").read_text(encoding="utf-8")
        (out / f"{contract_name(circuit)}.sol").write_text(
            solidity.replace("contract Groth16Verifier", f"contract {contract_name(circuit)}"), encoding="utf-8")
        r1cs = sha256_of(work / f"{circuit}.r1cs")
    vkey = json.loads((out / f"{circuit}.vkey.json").read_text(encoding="utf-8"))
    return {"r1cs": r1cs, "public_inputs": int(vkey["nPublic"]),
            **{kind: sha256_of(out / name) for kind, name in _files(circuit).items()}}


def _files(circuit: str) -> dict[str, str]:
    return {"wasm": f"{circuit}.wasm", "zkey": f"{circuit}.zkey", "vkey": f"{circuit}.vkey.json",
            "verifier": f"{contract_name(circuit)}.sol"}


def compile_contracts(out: Path) -> dict[str, Any]:
    """Compile the generated verifiers and the claim log with the project's solc-js; the artifact written."""
    import solcx  # only the build needs it

    from registry.chain.compiler import SETTINGS, SHIM, compiler_version

    sources = {f"{contract_name(c)}.sol": (out / f"{contract_name(c)}.sol").read_text(encoding="utf-8")
               for c in CIRCUITS}
    sources.update({path.name: path.read_text(encoding="utf-8") for path in sorted(CONTRACTS_DIR.glob("*.sol"))})
    request = {"language": "Solidity", "sources": {name: {"content": text} for name, text in sorted(sources.items())},
               "settings": SETTINGS}
    output = solcx.compile_standard(request, solc_binary=SHIM, allow_empty=False)
    problems = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if problems:
        raise RuntimeError("\n".join(e.get("formattedMessage", e["message"]) for e in problems))
    contracts = {name: {"abi": compiled["abi"], "bytecode": "0x" + compiled["evm"]["bytecode"]["object"]}
                 for unit in output["contracts"].values() for name, compiled in unit.items()}
    artifact = {"compiler": compiler_version(), "contracts": dict(sorted(contracts.items()))}
    (out / CONTRACTS_ARTIFACT).write_text(json.dumps(artifact, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return artifact


def build(out: Path = ARTIFACTS, *, circuits: tuple[str, ...] = CIRCUITS, ptau: Path | None = None,
          contracts: bool = True) -> dict[str, Any]:
    """Build *circuits* into *out*: phase 1 unless *ptau* is given, then each circuit, the contracts and the
    manifest. Returns the manifest."""
    tools = Tools.find()
    out.mkdir(parents=True, exist_ok=True)
    if ptau is None:
        ptau = build_ptau(tools, out)
    elif ptau.resolve() != (out / PTAU).resolve():
        shutil.copy(ptau, out / PTAU)
    entries = {circuit: build_circuit(tools, circuit, ptau, out) for circuit in circuits}
    if contracts:
        compile_contracts(out)
    manifest = {"sources_digest": sources_digest(), "tools": versions(), "ptau": sha256_of(out / PTAU),
                "ceremony": {"ptau_power": PTAU_POWER, "ptau_beacon": PTAU_BEACON, "zkey_beacon": ZKEY_BEACON,
                             "beacon_iterations": BEACON_ITERATIONS, "local": True},
                "circuits": entries}
    if contracts:
        manifest["contracts"] = sha256_of(out / CONTRACTS_ARTIFACT)
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return manifest


def load_manifest(directory: Path = ARTIFACTS) -> dict[str, Any]:
    """The committed manifest."""
    data: dict[str, Any] = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    return data
