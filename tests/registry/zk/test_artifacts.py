"""The committed zero-knowledge artifacts are what scripts/build_circuits.py builds from the sources.

A full rebuild runs phase 1 of the ceremony (minutes), so `make test` rebuilds one circuit from the committed
phase-1 file and compares it byte for byte, and checks the rest by the manifest: every artifact's SHA-256,
and the digest of what determines them (circuit and contract sources, tool versions, ceremony settings).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from registry.zk.build import (
    CIRCUITS,
    CONTRACTS_ARTIFACT,
    PTAU,
    build,
    contract_name,
    load_manifest,
    sha256_of,
    sources_digest,
)
from registry.zk.node import ARTIFACTS

REBUILT = "days_between_at_most"
"""The smallest circuit: the one rebuilt in full."""


def test_every_committed_artifact_is_the_one_the_manifest_names_for_these_sources() -> None:
    manifest = load_manifest()
    assert manifest["sources_digest"] == sources_digest(), "circuits or settings changed: run scripts/build_circuits.py"
    assert set(manifest["circuits"]) == set(CIRCUITS)
    assert sha256_of(ARTIFACTS / PTAU) == manifest["ptau"]
    assert sha256_of(ARTIFACTS / CONTRACTS_ARTIFACT) == manifest["contracts"]
    for circuit, entry in manifest["circuits"].items():
        for kind, name in (("wasm", f"{circuit}.wasm"), ("zkey", f"{circuit}.zkey"), ("vkey", f"{circuit}.vkey.json"),
                           ("verifier", f"{contract_name(circuit)}.sol")):
            assert sha256_of(ARTIFACTS / name) == entry[kind], f"registry/zk/artifacts/{name} is stale"


def test_a_circuit_and_the_contracts_rebuild_byte_identical(tmp_path: Path) -> None:
    for circuit in CIRCUITS:
        if circuit != REBUILT:
            shutil.copy(ARTIFACTS / f"{contract_name(circuit)}.sol", tmp_path)
    manifest = build(tmp_path, circuits=(REBUILT,), ptau=ARTIFACTS / PTAU)
    committed = load_manifest()
    assert manifest["circuits"][REBUILT] == committed["circuits"][REBUILT]
    for name in (f"{REBUILT}.wasm", f"{REBUILT}.zkey", f"{REBUILT}.vkey.json", f"{contract_name(REBUILT)}.sol",
                 CONTRACTS_ARTIFACT):
        assert (tmp_path / name).read_bytes() == (ARTIFACTS / name).read_bytes(), f"{name} differs when rebuilt"
