"""The daily CLI tools against a node over HTTP: list, download, keys list/revoke; disclose offline; --version."""

from __future__ import annotations

import json
import os
import stat
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

import api.cli
from api.cli import app
from registry.custody.apikeys import Role
from registry.runtime import Node
from tests.api.test_cli import served  # noqa: F401  (the module's node over real HTTP)
from tests.support.consortium import example

runner = CliRunner()
Keys = dict[str, dict[str, str]]


def coo(*args: str) -> Result:
    return runner.invoke(app, list(args))


def one_line_error(result: Result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


@pytest.fixture(scope="module")
def issuer(node: Node, demo_keys: Keys) -> str:
    """A fresh SG issuer's key, so that its listing holds only what these tests register."""
    authority = node.context.api_keys.authenticate(demo_keys["authority"]["api_key"])
    _, key = node.governance.authorise_issuer(authority, "CLI tools issuer", None)
    return key


@pytest.fixture(scope="module")
def registered(node: Node, issuer: str) -> list[str]:
    """Three anchored certificates of that issuer, oldest first."""
    principal = node.context.api_keys.authenticate(issuer)
    rows = [node.issuing.register(principal, [example()])[0] for _ in range(3)]
    node.context.anchorer.flush()
    return [r.id for r in rows]


def private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


# -- coo list ----------------------------------------------------------------------------------


def test_list_pages_follow_the_cursor_and_all_follows_every_page(
        served: str, issuer: str, registered: list[str]) -> None:  # noqa: F811
    first = coo("list", "--limit", "2", "--json", "--node", served, "--api-key", issuer)
    assert first.exit_code == 0, first.output
    page = json.loads(first.stdout)
    assert [c["id"] for c in page["certificates"]] == registered[:0:-1] and page["next"] == registered[1]
    rest = json.loads(coo("list", "--limit", "2", "--cursor", page["next"], "--json", "--node", served,
                          "--api-key", issuer).stdout)
    assert [c["id"] for c in rest["certificates"]] == [registered[0]] and rest["next"] is None
    every = json.loads(coo("list", "--all", "--limit", "1", "--json", "--node", served, "--api-key", issuer).stdout)
    assert [c["id"] for c in every["certificates"]] == registered[::-1]
    table = coo("list", "--limit", "2", "--node", served, "--api-key", issuer)
    assert table.exit_code == 0 and registered[2] in table.stdout and "JP" in table.stdout
    assert registered[0] not in table.stdout and f"--cursor {registered[1]}" in table.stderr
    none = json.loads(coo("list", "--status", "revoked", "--json", "--node", served, "--api-key", issuer).stdout)
    assert none == {"certificates": [], "next": None}


def test_list_filters_by_number_importing_country_and_time(
        served: str, issuer: str, registered: list[str], node: Node) -> None:  # noqa: F811
    number = node.context.store.certificate(registered[1]).certificate_number

    def ids(*options: str) -> list[str]:
        shown = coo("list", "--all", "--json", *options, "--node", served, "--api-key", issuer)
        assert shown.exit_code == 0, shown.output
        return [c["id"] for c in json.loads(shown.stdout)["certificates"]]

    assert ids("--number", number) == [registered[1]]
    assert set(ids("--importing", "JP")) == set(registered) and ids("--importing", "KR") == []
    assert ids("--since", "2999-01-01") == [] and set(ids("--until", "2999-01-01")) == set(registered)
    one_line_error(coo("list", "--since", "soon", "--node", served, "--api-key", issuer), "422", "since")


def test_list_refusals_are_one_line(served: str, issuer: str) -> None:  # noqa: F811
    one_line_error(coo("list", "--status", "lost", "--node", served, "--api-key", issuer), "422", "status")
    one_line_error(coo("list", "--cursor", "not-an-id", "--node", served, "--api-key", issuer), "422")
    one_line_error(coo("list", "--limit", "0", "--node", served, "--api-key", issuer), "422", "limit")
    one_line_error(coo("list", "--node", served), "401")
    one_line_error(coo("list", "--node", served, "--api-key", "coo_0123456789abcdef_wrong"), "401")


def test_another_issuers_list_holds_none_of_these(
        served: str, demo_keys: Keys, registered: list[str]) -> None:  # noqa: F811
    other = coo("list", "--all", "--json", "--node", served, "--api-key", demo_keys["issuer"]["api_key"])
    assert other.exit_code == 0 and not set(registered) & {c["id"] for c in json.loads(other.stdout)["certificates"]}


# -- coo download ------------------------------------------------------------------------------


def test_download_prints_the_sealed_document_or_writes_it_privately(
        served: str, issuer: str, registered: list[str], node: Node, tmp_path: Path) -> None:  # noqa: F811
    shown = coo("download", registered[0], "--node", served, "--api-key", issuer)
    assert shown.exit_code == 0, shown.output
    expected = node.issuing.sealed_document(None, registered[0]).model_dump(mode="json")
    assert json.loads(shown.stdout) == expected
    target = tmp_path / "sealed.json"
    target.write_text("old")
    target.chmod(0o644)
    written = coo("download", registered[0], "-o", str(target), "--node", served, "--api-key", issuer)
    assert written.exit_code == 0 and written.stdout == "", written.output
    assert json.loads(target.read_text()) == expected and private(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sealed.json"], "no temporary file left behind"


def test_download_qr_codes_png_to_a_file_svg_anywhere_never_binary_to_a_terminal(
        served: str, issuer: str, registered: list[str], tmp_path: Path,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    png = tmp_path / "qr.png"
    assert coo("download", registered[0], "--qr", "png", "-o", str(png), "--node", served,
               "--api-key", issuer).exit_code == 0
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and private(png)
    piped = coo("download", registered[0], "--qr", "png", "--node", served, "--api-key", issuer)
    assert piped.exit_code == 0 and piped.stdout_bytes == png.read_bytes()
    svg = coo("download", registered[0], "--qr", "svg", "--node", served, "--api-key", issuer)
    assert svg.exit_code == 0 and "<svg" in svg.stdout
    monkeypatch.setattr(api.cli, "_stdout_is_terminal", lambda: True)
    refused = coo("download", registered[0], "--qr", "png", "--node", served, "--api-key", issuer)
    one_line_error(refused, "refusing", "-o FILE")
    assert refused.stdout_bytes == b""
    assert "<svg" in coo("download", registered[0], "--qr", "svg", "--node", served, "--api-key", issuer).stdout


def test_download_refusals_are_one_line_and_leave_nothing_behind(
        served: str, issuer: str, registered: list[str], demo_keys: Keys, tmp_path: Path,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    key = ["--node", served, "--api-key", issuer]
    one_line_error(coo("download", registered[0], "-o", str(tmp_path), *key), "is a directory")
    one_line_error(coo("download", registered[0], "-o", str(tmp_path / "missing" / "x.json"), *key), "cannot write")
    one_line_error(coo("download", registered[0], "--qr", "jpeg", *key), "png or svg")
    one_line_error(coo("download", "00000000-0000-4000-8000-000000000000", *key), "404")
    one_line_error(coo("download", registered[0], "--node", served, "--api-key", demo_keys["customs"]["api_key"]),
                   "403")
    one_line_error(coo("download", registered[0], "--node", served, "--api-key", demo_keys["issuer"]["api_key"]),
                   "404")
    kept = tmp_path / "kept.json"
    kept.write_text("previous")

    def crash(*_: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    one_line_error(coo("download", registered[0], "-o", str(kept), *key), "cannot write", "No space left")
    assert kept.read_text() == "previous", "a failed write leaves the old file whole"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.json"]


# -- coo keys ----------------------------------------------------------------------------------


def test_keys_list_shows_who_each_key_speaks_for_and_never_a_secret(
        served: str, demo_keys: Keys) -> None:  # noqa: F811
    admin = demo_keys["admin"]["api_key"]
    table = coo("keys", "list", "--node", served, "--api-key", admin)
    assert table.exit_code == 0, table.output
    listed = json.loads(coo("keys", "list", "--json", "--node", served, "--api-key", admin).stdout)
    for entry in (v for v in demo_keys.values() if isinstance(v, dict)):
        key_id, secret = entry["api_key"].split("_", 2)[1:]
        assert key_id in table.stdout and key_id in {k["key_id"] for k in listed}
        assert secret not in table.stdout and secret not in json.dumps(listed)
    assert {k["role"] for k in listed} >= {"admin", "issuer", "customs", "authority"}
    one_line_error(coo("keys", "list", "--node", served, "--api-key", demo_keys["customs"]["api_key"]), "403")
    one_line_error(coo("keys", "list", "--node", served), "401")


def test_keys_revoke_stops_a_key_at_once(served: str, demo_keys: Keys, node: Node) -> None:  # noqa: F811
    admin = ["--node", served, "--api-key", demo_keys["admin"]["api_key"]]
    spare = node.context.api_keys.mint(Role.CUSTOMS, country="KR", label="CLI revoke")
    spare_id = spare.split("_")[1]
    assert coo("list", "--node", served, "--api-key", spare).exit_code == 0
    revoked = coo("keys", "revoke", spare_id, *admin)
    assert revoked.exit_code == 0 and revoked.stdout.strip() == f"{spare_id}\trevoked", revoked.output
    one_line_error(coo("list", "--node", served, "--api-key", spare), "401")
    one_line_error(coo("keys", "revoke", spare_id, *admin), "404")
    one_line_error(coo("keys", "revoke", "not-a-key-id", *admin), "422")
    other = node.context.api_keys.mint(Role.CUSTOMS, country="KR", label="CLI revoke, not by customs")
    one_line_error(coo("keys", "revoke", other.split("_")[1], "--node", served,
                       "--api-key", demo_keys["customs"]["api_key"]), "403")
    assert spare_id not in coo("keys", "list", *admin).stdout


# -- coo disclose (offline) and --version ----------------------------------------------------


def test_disclose_offline_gives_a_partial_document_that_verifies_and_holds_nothing_withheld(
        served: str, issuer: str, registered: list[str], node: Node, tmp_path: Path) -> None:  # noqa: F811
    sealed = tmp_path / "sealed.json"
    document = node.issuing.sealed_document(None, registered[1])
    sealed.write_text(document.model_dump_json())
    partial = coo("disclose", str(sealed), "--withhold", "exporter.address", "--withhold", "goods[1]")
    assert partial.exit_code == 0, partial.output
    out = json.loads(partial.stdout)
    gone = [p for p in document.salts if p == "exporter.address" or p.startswith("goods[1].")]
    assert sorted(out["withheld"]) == sorted(gone)
    assert not [p for p in gone if document.salts[p] in partial.stdout]
    assert document.certificate["goods"][1]["description"] not in partial.stdout
    target = tmp_path / "partial.json"
    assert coo("disclose", str(sealed), "--withhold", "goods", "-o", str(target)).exit_code == 0 and private(target)
    verified = coo("verify", str(target), "--node", served)
    assert verified.exit_code == 0 and "VALID" in verified.stdout, verified.output


def test_disclose_refusals_name_the_file_or_the_path(tmp_path: Path, node: Node, registered: list[str]) -> None:
    sealed = tmp_path / "sealed.json"
    sealed.write_text(node.issuing.sealed_document(None, registered[2]).model_dump_json())
    one_line_error(coo("disclose", str(sealed), "--withhold", "goods[0]", "--withhold", "goods[7]"),
                   "withhold[1]", "goods[7]")
    one_line_error(coo("disclose", str(tmp_path / "nope.json"), "--withhold", "goods"), "cannot read")
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{oops")
    one_line_error(coo("disclose", str(garbage), "--withhold", "goods"), "not valid JSON")
    garbage.write_text('{"certificate": {}}')
    one_line_error(coo("disclose", str(garbage), "--withhold", "goods"), "is not a sealed document")
    top = sorted({p.split(".")[0].split("[")[0] for p in json.loads(sealed.read_text())["salts"]})
    one_line_error(coo("disclose", str(sealed), *[a for t in top for a in ("--withhold", t)]), "nothing to disclose")
    assert coo("disclose", str(sealed)).exit_code == 2, "--withhold is required"


def test_version_is_the_installed_packages() -> None:
    shown = coo("--version")
    assert shown.exit_code == 0 and shown.stdout.strip() == f"coo {version('coo-registry')}"
