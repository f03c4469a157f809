"""Every custom error of the compiled contract reads as a sentence, its arguments decoded; the API and the CLI
show the sentence and keep the error's name for machines."""

from __future__ import annotations

import string

import httpx
import pytest
from eth_account import Account

from api.app import create_app
from api.cli import _describe
from api.config import Settings
from registry.chain.messages import SENTENCES, SYNTHETIC, declared_errors, describe, describe_refusal
from registry.errors import ContractRevertError
from registry.runtime import Node

SAMPLE = {"address": "0x" + "ab" * 20, "bytes2": b"SG", "bytes32": b"\x11" * 32}


def _sample(kind: str) -> object:
    return SAMPLE.get(kind, 1)


def test_every_custom_error_the_compiled_contract_declares_has_a_sentence() -> None:
    declared = declared_errors()
    assert len(declared) > 30  # the ABI was read: TrustRegistry, CertificateRegistry, CustomsRegistry, OpenZeppelin
    missing = sorted(set(declared) - set(SENTENCES))
    assert not missing, f"contract errors without a sentence in registry/chain/messages.py: {missing}"
    stale = sorted(set(SENTENCES) - set(declared))
    assert not stale, f"sentences for errors the contract no longer declares (renamed?): {stale}"
    assert not set(SYNTHETIC) & set(declared)


@pytest.mark.parametrize("name", sorted(declared_errors()))
def test_each_sentence_uses_only_the_errors_own_arguments_and_never_shows_the_raw_name(name: str) -> None:
    inputs = declared_errors()[name]
    template = SENTENCES[name]
    if isinstance(template, str):
        fields = {field for _, field, _, _ in string.Formatter().parse(template) if field}
        assert fields <= {n for n, _ in inputs}, f"{name}: {fields - {n for n, _ in inputs}} are not its arguments"
    sentence = describe_refusal(name, tuple(_sample(kind) for _, kind in inputs))
    assert name not in sentence and "{" not in sentence and not sentence.startswith("the contract refused"), sentence


def test_arguments_are_decoded_for_people() -> None:
    lower = "0x99d0d7949c5b8d3b3a0b3e2f9a1c6d9e1e2f3a4b"
    checksummed = Account.create().address
    assert describe(ContractRevertError("TrustRegistryCountryAlreadyAdmitted", (b"SG",))) == "SG is already admitted"
    assert describe_refusal("TrustRegistryInvalidCountry", (b"sg",)).startswith("0x7367 is not a country code")
    assert describe_refusal("TrustRegistryNotCountryAuthority", (lower, b"JP")) == \
        "0x99d0d7949c5B8D3b3a0b3e2F9a1C6d9e1E2f3a4b is not the competent authority of JP"
    assert checksummed in describe_refusal("TrustRegistryUnknownIssuer", (checksummed.lower(),))
    assert "of any country" in describe_refusal("CustomsRegistryNotCustoms", (lower, bytes(2)))
    overdrawn = describe_refusal("CustomsRegistryOverdrawn", (b"\x11" * 32, 0, 1_500_000, 250_000))
    assert "drawing 1.5 of goods item 1" in overdrawn and "0.25 remain" in overdrawn
    assert "is revoked" in describe_refusal("CertificateRegistryInvalidStatusChange", (b"\x11" * 32, 1))
    assert "already answered (not-confirmed)" in describe_refusal("CustomsRegistryRequestClosed", (7, 3))
    assert "valid until 2025-12-31" in describe_refusal("CustomsRegistryExpired", (b"\x11" * 32, 1_767_225_599))
    assert "consortium admin role" in describe_refusal("AccessControlUnauthorizedAccount", (lower, bytes(32)))


def test_an_error_the_node_does_not_know_still_reads_as_a_sentence_with_its_raw_data() -> None:
    assert describe_refusal("UnknownRevert", ("0xdeadbeef",)) == \
        "the contract refused with an error this node does not know (0xdeadbeef)"
    assert describe_refusal("SomethingNew", (1, b"\x01")) == "the contract refused: SomethingNew(1, 0x01)"


def test_the_cli_prints_the_sentence() -> None:
    assert _describe(ContractRevertError("TrustRegistryCountryAlreadyAdmitted", (b"SG",))) == "SG is already admitted"


async def test_the_api_answers_a_refusal_with_the_sentence_and_the_errors_name_as_its_code(
    node: Node, demo_keys: dict[str, dict[str, str]]
) -> None:
    app = create_app(Settings(data_dir=node.config.data_dir, public_url="http://testserver"), node)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        answer = await http.post("/v1/governance/countries", json={"country": "SG"},
                                 headers={"Authorization": f"Bearer {demo_keys['admin']['api_key']}"})
    assert answer.status_code == 409, answer.text
    problem = answer.json()
    assert problem["detail"] == "SG is already admitted"
    assert problem["code"] == problem["contract_error"] == "TrustRegistryCountryAlreadyAdmitted"
