"""A real `coo up --demo` process and a headless Chromium to look at it (the browser tests' shared parts)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from registry.chain.ports import free_port
from tests.support.consortium import example

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
"""Screenshots and PDFs the browser tests leave for a person to look at."""
CLIENT_TIMEOUT_S = 30.0
"""How long a helper waits for one answer of the live node: these tests check what it answers, not how fast (a
node niced beside the network scenarios on 2 cores can take longer than httpx's default 5 s)."""

needs_chromium = pytest.mark.skipif(shutil.which("chromium") is None,
                                    reason="Debian chromium not installed (make test installs it)")


@contextmanager
def live_node(data: Path) -> Iterator[str]:
    """`coo up --demo` on a free port with the data directory *data*; yields its URL once ready."""
    port = free_port()
    env = {**os.environ, "COO_DATA_DIR": str(data), "COO_PORT": str(port)}
    log = (data / "node.log").open("wb")
    process = subprocess.Popen([str(Path(sys.executable).parent / "coo"), "up", "--demo"], env=env, cwd=ROOT,
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"coo up exited: {(data / 'node.log').read_text()}")
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200 and (data / "demo-keys.json").exists():
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError("coo up did not become ready")
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def browser():  # type: ignore[no-untyped-def]
    """A headless Debian Chromium (Selenium WebDriver), 1200 × 1600."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1200,1600"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)


def issuer_headers(data: Path) -> dict[str, str]:
    """The demo issuing body's bearer header."""
    keys = json.loads((data / "demo-keys.json").read_text())
    return {"Authorization": f"Bearer {keys['issuer']['api_key']}"}


def wait_for_status(url: str, headers: dict[str, str], certificate_id: str, wanted: str) -> dict[str, Any]:
    """Poll the certificate's record until its status is *wanted* (at most 20 s)."""
    deadline = time.monotonic() + 20
    while True:
        record: dict[str, Any] = httpx.get(f"{url}/v1/certificates/{certificate_id}", headers=headers,
                                             timeout=CLIENT_TIMEOUT_S).json()
        if record["status"] == wanted:
            return record
        if time.monotonic() > deadline:
            raise AssertionError(f"certificate {certificate_id} is {record['status']}, not {wanted}")
        time.sleep(0.1)


def issue(url: str, data: Path, body: dict[str, Any] | None = None, **changes: object) -> dict[str, Any]:
    """Register *body* (or an example SG → JP certificate with *changes*) and wait until it is anchored."""
    headers = issuer_headers(data)
    answer = httpx.post(f"{url}/v1/certificates", json=body or example(**changes), headers=headers,
                        timeout=CLIENT_TIMEOUT_S)
    assert answer.status_code == 202, answer.text
    return wait_for_status(url, headers, answer.json()["id"], "anchored")


def sealed_document(url: str, data: Path, certificate_id: str) -> dict[str, Any]:
    """The sealed document of one of the demo issuer's certificates."""
    document: dict[str, Any] = httpx.get(f"{url}/v1/certificates/{certificate_id}/document",
                                         headers=issuer_headers(data), timeout=CLIENT_TIMEOUT_S).json()
    return document

