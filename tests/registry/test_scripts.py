"""The hardhat-free workflow: deploy and read events with our own scripts."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

from registry.chain.nodes import NodeProcess

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_deploy_is_idempotent_and_events_are_readable(anvil: NodeProcess, tmp_path: Path) -> None:
    first = run("scripts/deploy.py", "--rpc-url", anvil.url, "--data-dir", str(tmp_path))
    assert first.returncode == 0, first.stderr
    second = run("scripts/deploy.py", "--rpc-url", anvil.url, "--data-dir", str(tmp_path))
    assert json.loads(first.stdout)["address"] == json.loads(second.stdout)["address"]
    for secret in ("kek", "node-account.json"):
        assert stat.S_IMODE((tmp_path / secret).stat().st_mode) == 0o600
    events = run("scripts/events.py", "--rpc-url", anvil.url, "--data-dir", str(tmp_path))
    assert events.returncode == 0 and "RoleGranted" not in events.stderr


def test_deploy_reports_an_unreachable_chain_in_one_line(tmp_path: Path) -> None:
    result = run("scripts/deploy.py", "--rpc-url", "http://127.0.0.1:9", "--data-dir", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.strip().startswith("deploy failed:") and len(result.stderr.strip().splitlines()) == 1
