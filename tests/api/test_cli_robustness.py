"""The CLI under bad input: `coo issue` reports per file and carries on, `coo up` checks its settings before
starting anything, `coo verify` tells a missing file from an unknown code."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app
from registry.chain.nodes import free_port
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
