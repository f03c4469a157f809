"""The refusal table names errors the deployed contract really has."""

from __future__ import annotations

from registry.chain.compiler import load_artifact
from registry.chain.models import CONTRACT_NAME
from registry.chain.refusals import Refusal


def test_every_refusal_the_node_handles_is_a_custom_error_of_the_deployed_contract() -> None:
    errors = {entry["name"] for entry in load_artifact(CONTRACT_NAME)["abi"] if entry["type"] == "error"}
    unknown = [refusal.value for refusal in Refusal if refusal.value not in errors]
    assert not unknown, f"not errors of {CONTRACT_NAME} (renamed in the contracts?): {unknown}"
