"""The coo CLI: progress over many files, exit codes, one-line errors, offline verification."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app
from api.config import Settings
from registry.chain.nodes import NodeProcess
from registry.chain.ports import free_port
from registry.runtime import Node
from tests.support.consortium import example
from tests.support.http import served_over_http

runner = CliRunner()


@pytest.fixture(scope="module")
def served(node: Node) -> Iterator[str]:
    """The session's node served over real HTTP on a free port."""
    port = free_port()
    with served_over_http(create_app(Settings(port=port), node), port) as url:
        yield url


def test_issue_registers_every_file_then_verify_exit_codes_follow_the_verdict(
    served: str, demo_keys: dict[str, dict[str, str]], tmp_path: Path, node: Node
) -> None:
    files = []
    for i in range(3):
        path = tmp_path / f"c{i}.json"
        path.write_text(json.dumps(example()))
        files.append(str(path))
    key = demo_keys["issuer"]["api_key"]
    result = runner.invoke(app, ["issue", *files, "--node", served, "--api-key", key])
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.stdout.strip().splitlines()]
    assert len(lines) == 3 and all(line[2] == "pending" for line in lines)
    node.context.anchorer.flush()
    document = node.issuing.sealed_document(None, lines[0][1])
    sealed = tmp_path / "sealed.json"
    sealed.write_text(document.model_dump_json())
    assert runner.invoke(app, ["verify", str(sealed), "--node", served]).exit_code == 0
    assert runner.invoke(app, ["verify", document.document_hash, "--node", served]).exit_code == 0
    assert runner.invoke(app, ["revoke", lines[0][1], "--node", served, "--api-key", key]).exit_code == 0
    refused = runner.invoke(app, ["verify", str(sealed), "--node", served])
    assert refused.exit_code == 1 and "REVOKED" in refused.stdout


def test_offline_verification_needs_only_an_rpc_url_and_the_trusted_address(
    node: Node, node_anvil: NodeProcess, demo_keys: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    service = node.context
    issuer = service.api_keys.authenticate(demo_keys["issuer"]["api_key"])
    row = node.issuing.register(issuer, [example()])[0]
    service.anchorer.flush()
    sealed = tmp_path / "sealed.json"
    sealed.write_text(node.issuing.sealed_document(issuer, row.id).model_dump_json())
    ok = runner.invoke(app, ["verify", str(sealed), "--rpc-url", node_anvil.url, "--contract", service.chain.address])
    assert ok.exit_code == 0 and "VALID" in ok.stdout
    names = [service.chain.name_of(demo_keys[role]["account"]) for role in ("issuer", "authority")]
    assert all(name and name in ok.stdout for name in names), (names, ok.stdout)  # other tests may rename them
    untrusted = runner.invoke(app, ["verify", str(sealed), "--rpc-url", node_anvil.url])
    assert untrusted.exit_code == 2 and "registry address you trust" in untrusted.stderr


def test_errors_are_one_readable_line(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["issue", str(tmp_path / "nope.json"), "--node", "http://127.0.0.1:9"])
    assert missing.exit_code == 2 and len(missing.stderr.strip().splitlines()) == 1 and "cannot read" in missing.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    broken = runner.invoke(app, ["issue", str(bad)])
    assert broken.exit_code == 2 and "not valid JSON" in broken.stderr
    down = runner.invoke(app, ["verify", "0x" + "11" * 32, "--node", f"http://127.0.0.1:{free_port()}"])
    assert down.exit_code == 2 and "cannot reach the node" in down.stderr
    assert runner.invoke(app, ["erase", "x"]).exit_code == 2


def test_customs_utilise_and_request_commands(served: str, demo_keys: dict[str, dict[str, str]], node: Node) -> None:
    service = node.context
    issuer = service.api_keys.authenticate(demo_keys["issuer"]["api_key"])
    row = node.issuing.register(issuer, [example()])[0]
    service.anchorer.flush()
    customs, issuer_key = demo_keys["customs"]["api_key"], demo_keys["issuer"]["api_key"]
    used = runner.invoke(app, ["utilise", row.id, "--declaration", "CLI-0001", "--item", "1=200", "--item", "3=0.5",
                               "--node", served, "--api-key", customs])
    assert used.exit_code == 0, used.output
    assert "1000" in used.stdout and "2399.5" in used.stdout
    over = runner.invoke(app, ["utilise", row.id, "--declaration", "CLI-0002", "--item", "2=601",
                               "--node", served, "--api-key", customs])
    assert over.exit_code == 2 and "600 remain" in over.stderr and len(over.stderr.strip().splitlines()) == 1
    malformed = runner.invoke(app, ["utilise", row.id, "--declaration", "CLI-0003", "--item", "two",
                                    "--node", served, "--api-key", customs])
    assert malformed.exit_code == 2 and "ITEM_NUMBER=QUANTITY" in malformed.stderr

    opened = runner.invoke(app, ["requests", "open", row.id, "--reason", "check producer", "--node", served,
                                 "--api-key", customs])
    assert opened.exit_code == 0, opened.output
    request_id = opened.stdout.split("\t")[0]
    listed = runner.invoke(app, ["requests", "list", "--node", served, "--api-key", issuer_key])
    assert listed.exit_code == 0 and "check producer" in listed.stdout
    answered = runner.invoke(app, ["requests", "answer", request_id, "--not-confirmed", "--node", served,
                                   "--api-key", issuer_key])
    assert answered.exit_code == 0 and answered.stdout.strip().endswith("not-confirmed")
    assert service.store.certificate(row.id).status == "revoked"


def test_erase_prints_the_receipt_with_its_state_and_erasure_shows_it_again(
        served: str, demo_keys: dict[str, dict[str, str]], node: Node) -> None:
    key = demo_keys["issuer"]["api_key"]
    service = node.context
    row = node.issuing.register(service.api_keys.authenticate(key), [example()])[0]
    service.anchorer.flush()
    erased = runner.invoke(app, ["erase", row.id, "--yes", "--node", served, "--api-key", key])
    assert erased.exit_code == 0, erased.output
    assert json.loads(erased.stdout)["state"] == "erased"
    shown = runner.invoke(app, ["erasure", row.id, "--node", served, "--api-key", key])
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.strip() == f"{row.id}\terased\t0 peer(s) confirmed"


def test_a_change_the_chain_has_not_taken_yet_prints_pending_and_exits_3_until_it_settles(
    served: str, demo_keys: dict[str, dict[str, str]], node: Node
) -> None:
    service, outbox = node.context, node.context.outbox
    issuer = service.api_keys.authenticate(demo_keys["issuer"]["api_key"])
    row = node.issuing.register(issuer, [example()])[0]
    service.anchorer.flush()
    key = demo_keys["issuer"]["api_key"]
    with node.paused():
        outbox.failures, outbox._chain_down = 1, True  # as after a round that could not reach the chain
        try:
            result = runner.invoke(app, ["revoke", row.id, "--reason", "fraud", "--node", served, "--api-key", key])
        finally:
            outbox.failures, outbox._chain_down = 0, False
        assert result.exit_code == 3, result.output
        line = result.stdout.strip()
        assert line.startswith("pending\tchain write ") and "(revoke)" in line, line
        write_id = line.split()[3]
        shown = runner.invoke(app, ["chain-write", write_id, "--node", served, "--api-key", key])
        assert shown.exit_code == 0 and shown.stdout.split("\t")[2].strip() == "pending", shown.output
        assert service.store.certificate(row.id).status == "anchored"  # not done yet, and not said to be
        outbox.round()
    shown = runner.invoke(app, ["chain-write", write_id, "--node", served, "--api-key", key])
    assert shown.stdout.split("\t")[2].strip() == "settled", shown.output
    assert service.store.certificate(row.id).status == "revoked"
