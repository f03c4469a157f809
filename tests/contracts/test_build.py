"""The committed contract build matches a fresh compile of the sources."""

from __future__ import annotations

from registry.chain.compiler import compile_contracts, load_artifact


def test_committed_artifacts_match_a_fresh_compile() -> None:
    fresh = compile_contracts()
    assert fresh, "no deployable contract compiled"
    for name, artifact in fresh.items():
        committed = load_artifact(name)
        assert committed == artifact.to_json(), f"registry/chain/artifacts/{name}.json is stale: run `make contracts`"
