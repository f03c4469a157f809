"""The CLI under bad input: `coo issue` reports per file and carries on, `coo up` checks its settings before
starting anything, `coo verify` tells a missing file from an unknown code."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from registry.chain.ports import free_port
from registry.runtime import Node
from tests.api import test_cli
from tests.support.consortium import example

runner = CliRunner()
served = test_cli.served
"""The session's node over HTTP, as the CLI tests serve it."""


def _bad_hs_code() -> dict[str, object]:
    body = example()
    body["goods"] = [{**body["goods"][0], "hs_code": "12"}]  # type: ignore[index]
    return body


def test_issue_reports_every_file_and_carries_on_past_the_bad_ones(
    served: str, demo_keys: dict[str, dict[str, str]], tmp_path: Path, node: Node
) -> None:
    bodies = {name: example() for name in ("a", "b", "c", "d")}
    for name, body in bodies.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(body))
    (tmp_path / "bad.json").write_text(json.dumps(_bad_hs_code()))
    (tmp_path / "broken.json").write_text("{oops")
    (tmp_path / "list.json").write_text("[]")
    names = ["a", "b", "bad", "missing", "broken", "list", "c", "d"]
    files = [str(tmp_path / f"{n}.json") for n in names]
    result = runner.invoke(app, ["issue", *files, "--node", served, "--api-key", demo_keys["issuer"]["api_key"]])
    assert result.exit_code == 2, result.output
    lines = [line.split("\t") for line in result.stdout.strip().splitlines()]
    assert [Path(line[0]).stem for line in lines] == ["a", "b", "c", "d"]
    for line in lines:
        number = str(bodies[Path(line[0]).stem]["certificate_number"])
        assert line[4] == number and line[2] == "pending"
        row = node.context.store.by_number(demo_keys["issuer"]["account"], number)
        assert row is not None and row.id == line[1]
    problems = result.stderr.strip().splitlines()
    assert len(problems) == 5, result.stderr
    assert "bad.json: 422" in problems[0] and "goods[0].hs_code" in problems[0]
    assert "missing.json: cannot read it" in problems[1]
    assert "broken.json: not valid JSON" in problems[2]
    assert "list.json: does not hold a certificate" in problems[3]
    assert "4 of 8 files not registered" in problems[4] and "bad.json" in problems[4]


def test_issue_stops_when_the_node_cannot_be_reached_and_names_the_files_not_tried(tmp_path: Path) -> None:
    files = []
    for name in ("one", "two", "three"):
        (tmp_path / f"{name}.json").write_text(json.dumps(example()))
        files.append(str(tmp_path / f"{name}.json"))
    result = runner.invoke(app, ["issue", *files, "--node", f"http://127.0.0.1:{free_port()}"])
    assert result.exit_code == 2 and result.stdout == ""
    problems = result.stderr.strip().splitlines()
    assert "one.json: cannot reach the node" in problems[0]
    assert "not tried" in problems[1] and "two.json" in problems[1] and "three.json" in problems[1]
    assert "3 of 3 files not registered" in problems[2]


# -- coo up ------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def _coo_up(*args: str, data: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`coo up` as its own process (a hang fails the test by its timeout instead of holding the suite)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("COO_")}
    return subprocess.run([sys.executable, "-m", "api.cli", "up", "--data-dir", str(data), *args],
                          env={**clean, **(env or {})}, cwd=ROOT, capture_output=True, text=True, timeout=60)


def _assert_nothing_started(result: subprocess.CompletedProcess[str], data: Path) -> None:
    output = result.stdout + result.stderr
    assert "registry contract" not in output and "serving" not in output and "Traceback" not in output, output
    assert not data.exists(), sorted(p.name for p in data.iterdir())


@pytest.fixture
def never_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    """`coo up` in this process must stop before it opens a node (else the test fails at once, not hangs)."""
    def opened(*_: object, **__: object) -> None:
        raise AssertionError("the node was opened")

    monkeypatch.setattr("api.serve.open_node", opened)
    for name in [k for k in os.environ if k.startswith("COO_")]:
        monkeypatch.delenv(name)


@pytest.mark.parametrize("args,env,named", [
    (["--port", "99999"], {}, "--port '99999': not a port number"),
    (["--port", "-1"], {}, "--port '-1': not a port number"),
    (["--port", "eighty"], {}, "--port 'eighty'"),
    (["--host", "not a host!"], {}, "--host 'not a host!': not an IP address or host name"),
    (["--host", "no-such-host.invalid"], {}, "cannot listen on no-such-host.invalid: unknown host"),
    (["--host", "192.0.2.1"], {}, "cannot listen on 192.0.2.1"),
    ([], {"COO_PORT": "0"}, "COO_PORT '0'"),
    ([], {"COO_BATCH_MAX_SIZE": "many"}, "COO_BATCH_MAX_SIZE 'many'"),
    ([], {"COO_PUBLIC_URL": "registry.example"}, "COO_PUBLIC_URL 'registry.example': not an http"),
    ([], {"COO_RPC_URL": "localhost:8545"}, "COO_RPC_URL"),
    ([], {"COO_CONTRACT_ADDRESS": "0x1234"}, "COO_CONTRACT_ADDRESS"),
], ids=["port-too-big", "port-negative", "port-not-a-number", "host-malformed", "host-unknown", "host-not-here",
        "env-port-zero", "env-not-a-number", "env-public-url", "env-rpc-url", "env-contract"])
def test_coo_up_checks_its_settings_before_starting_anything(
    never_opened: None, tmp_path: Path, args: list[str], env: dict[str, str], named: str
) -> None:
    data = tmp_path / "data"
    result = runner.invoke(app, ["up", "--data-dir", str(data), *args], env=env)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0], result.stderr
    assert "serving" not in result.output and not data.exists()


def test_several_bad_settings_are_named_on_one_line() -> None:
    from api.config import SettingsError, load_settings

    with pytest.raises(SettingsError) as caught:
        load_settings({"port": "99999", "host": "a b"})
    assert "--port" in str(caught.value) and "--host" in str(caught.value) and "\n" not in str(caught.value)


def test_a_secret_setting_is_never_repeated_in_the_error() -> None:
    from api.config import SettingsError, load_settings

    with pytest.raises(SettingsError) as caught:
        load_settings({"kek": ["s3cr3t-kek-value"]})
    assert "COO_KEK" in str(caught.value) and "s3cr3t" not in str(caught.value)


def test_a_busy_port_stops_coo_up_before_any_chain_is_started_or_contract_deployed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _coo_up("--port", str(port), data=data)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0] and "in use" in lines[0], result.stderr
    _assert_nothing_started(result, data)


# -- coo verify --------------------------------------------------------------------------------


@pytest.mark.parametrize("subject", ["missing.json", "MISSING.JSON", "./sealed", "docs/none", "~/no-such-sealed"])
def test_verify_says_a_path_that_does_not_exist_is_no_such_file(subject: str, tmp_path: Path) -> None:
    for extra in ([], ["--rpc-url", "http://127.0.0.1:9"]):
        result = runner.invoke(app, ["verify", subject, "--node", "http://127.0.0.1:9", *extra])
        assert result.exit_code == 2, result.output
        assert result.stderr.strip() == f"error: {subject}: no such file", result.stderr


def test_verify_says_a_directory_is_not_a_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["verify", str(tmp_path), "--node", "http://127.0.0.1:9"])
    assert result.exit_code == 2 and result.stderr.strip() == f"error: {tmp_path}: not a file"


@pytest.mark.parametrize("subject", ["0x" + "11" * 32, "11" * 32, "k1.AbC-_x9", "4f0c3c0e-2c52-4a53-9a3a-1e1e1e1e1e1e",
                                     "http://127.0.0.1:9/v/4f0c3c0e"])
def test_verify_sends_hashes_codes_and_links_to_the_node(subject: str) -> None:
    result = runner.invoke(app, ["verify", subject, "--node", f"http://127.0.0.1:{free_port()}"])
    assert result.exit_code == 2 and "cannot reach the node" in result.stderr, result.stderr


def test_verify_of_an_unknown_code_says_the_code_is_unknown(served: str) -> None:
    result = runner.invoke(app, ["verify", "no-such-code", "--node", served])
    assert result.exit_code == 2 and "not found" in result.stderr and "no such file" not in result.stderr
