"""``coo network``: the Besu configuration it writes, and one readable line for every refusal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from registry.chain.besu import qbft_validators

runner = CliRunner()


def test_network_up_with_besu_writes_the_qbft_configuration_and_starts_nothing(tmp_path: Path) -> None:
    result = runner.invoke(app, ["network", "up", "--besu", str(tmp_path / "besu"), "--nodes", "5"])
    assert result.exit_code == 0, result.output
    assert "not started" in result.output
    genesis = json.loads((tmp_path / "besu" / "genesis.json").read_text())
    assert len(qbft_validators(genesis["extraData"])) == 5
    assert not (tmp_path / "besu" / "network.json").exists()


@pytest.mark.parametrize("arguments", [
    ["network", "down", "--dir", "{tmp}/nowhere"],
    ["network", "up", "--besu", "{tmp}/besu", "--nodes", "3"],
])
def test_a_refused_network_command_exits_2_with_one_line(tmp_path: Path, arguments: list[str]) -> None:
    result = runner.invoke(app, [a.format(tmp=tmp_path) for a in arguments])
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and result.output.count("\n") == 1
    assert "Traceback" not in result.output


def test_network_up_without_the_client_says_so_and_writes_nothing(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COO_EJS_CLIENT", str(tmp_path / "no-client"))
    result = runner.invoke(app, ["network", "up", "--dir", str(tmp_path / "net")])
    assert result.exit_code == 2
    assert "@ethereumjs/client not installed" in result.output and result.output.count("\n") == 1
    assert not (tmp_path / "net").exists()


def test_a_besu_directory_is_never_overwritten(tmp_path: Path) -> None:
    assert runner.invoke(app, ["network", "up", "--besu", str(tmp_path / "b")]).exit_code == 0
    key = (tmp_path / "b" / "node-0" / "key").read_text()
    again = runner.invoke(app, ["network", "up", "--besu", str(tmp_path / "b")])
    assert again.exit_code == 2 and "already holds" in again.output
    assert (tmp_path / "b" / "node-0" / "key").read_text() == key
