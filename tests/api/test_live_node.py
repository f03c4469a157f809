"""A real `coo up --demo` process: the README walk-through, and the verification page in Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from registry.chain.nodes import free_port
from tests.support.consortium import example

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def live_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`coo up --demo` on a free port with a fresh data directory."""
    data = tmp_path_factory.mktemp("live-node")
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
        yield url, data
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def walkthrough_script() -> str:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- walkthrough:start -->\s*```sh\n(.*?)```\s*<!-- walkthrough:end -->", readme, re.S)
    assert block, "README has no walk-through block"
    return block.group(1)


def test_the_readme_walkthrough_runs_as_written(live_node: tuple[str, Path], tmp_path: Path) -> None:
    url, data = live_node
    checkout, scratch = tmp_path / "checkout", tmp_path / "tmp"
    checkout.mkdir()
    scratch.mkdir()
    (checkout / "examples").symlink_to(ROOT / "examples")
    env = {**os.environ, "NODE": url, "COO_DATA_DIR": str(data), "TMPDIR": str(scratch),
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", walkthrough_script()], cwd=checkout, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert '"anchored"' in out
    assert out.index("VALID ") < out.index("REVOKED")
    assert "refused: exit 1" in out
    assert [p.name for p in checkout.iterdir()] == ["examples"], "the walk-through wrote into the checkout"
    (out_dir,) = scratch.iterdir()
    assert f"sealed document and QR code: {out_dir}" in out
    assert (out_dir / "sealed.json").exists() and (out_dir / "qr.svg").read_bytes().startswith(b"<?xml")


def test_the_readme_walkthrough_needs_no_jq() -> None:
    assert not re.search(r"\bjq\b", walkthrough_script())


def test_coo_up_warns_that_qr_codes_encode_its_own_address_without_a_public_url(
    live_node: tuple[str, Path]
) -> None:
    url, data = live_node
    warnings = [line for line in (data / "node.log").read_text().splitlines() if "COO_PUBLIC_URL" in line]
    assert len(warnings) == 1 and warnings[0].startswith("warning:") and url in warnings[0], warnings


def _browser():  # type: ignore[no-untyped-def]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1200,1600"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium not installed (make test installs it)")
def test_the_verification_page_shows_both_verdicts(live_node: tuple[str, Path], tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    url, data = live_node
    keys = json.loads((data / "demo-keys.json").read_text())
    headers = {"Authorization": f"Bearer {keys['issuer']['api_key']}"}
    body = json.loads((ROOT / "examples" / "non-preferential-chamber.json").read_text())
    body["certificate_number"] = "PAGE-TEST-1"
    body["exporting_country"] = "SG"
    body["exporter"]["country"] = "SG"
    body["transport"]["port_of_loading"] = "SGSIN"
    created = httpx.post(f"{url}/v1/certificates", json=body, headers=headers).json()
    for _ in range(100):
        if httpx.get(f"{url}/v1/certificates/{created['id']}", headers=headers).json()["status"] == "anchored":
            break
        time.sleep(0.1)
    document = httpx.get(f"{url}/v1/certificates/{created['id']}/document", headers=headers).json()
    sealed = tmp_path / "sealed.json"
    sealed.write_text(json.dumps(document))
    tampered = json.loads(json.dumps(document))
    tampered["certificate"]["goods"][0]["quantity"] = "99"

    ARTIFACTS.mkdir(exist_ok=True)
    browser = _browser()
    try:
        browser.get(url + "/")
        browser.find_element(By.ID, "file").send_keys(str(sealed))
        WebDriverWait(browser, 10).until(ready.text_to_be_present_in_element((By.ID, "file-name"), "sealed.json"))
        browser.find_element(By.ID, "verify-button").click()
        WebDriverWait(browser, 20).until(ready.text_to_be_present_in_element((By.ID, "verdict"), "VALID"))
        assert browser.find_element(By.ID, "verdict").text == "Verdict: VALID"
        assert "pass" in browser.find_element(By.ID, "checks").text
        browser.save_screenshot(str(ARTIFACTS / "verification-page-valid.png"))

        browser.execute_script("document.getElementById('pasted').value = arguments[0];", json.dumps(tampered))
        browser.find_element(By.ID, "verify-button").click()
        WebDriverWait(browser, 20).until(ready.text_to_be_present_in_element((By.ID, "verdict"), "INVALID"))
        assert "altered" in browser.find_element(By.ID, "checks").text
        browser.save_screenshot(str(ARTIFACTS / "verification-page-tampered.png"))
    finally:
        browser.quit()


def test_the_api_reference_loads_nothing_from_outside_the_node(live_node: tuple[str, Path]) -> None:
    url, _ = live_node
    page = httpx.get(f"{url}/docs")
    assert page.status_code == 200, page.text
    assets = (re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
              + re.findall(r"url: ['\"]([^'\"]+)['\"]", page.text))
    assert assets and all(a.startswith("/") for a in assets), f"assets from elsewhere: {assets}"
    for asset in assets:
        assert httpx.get(url + asset).status_code == 200, asset


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium not installed (make test installs it)")
def test_the_api_reference_renders_in_a_browser_without_internet(live_node: tuple[str, Path]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    url, _ = live_node
    browser = _browser()
    try:
        browser.get(url + "/docs")
        WebDriverWait(browser, 20).until(ready.presence_of_element_located((By.CSS_SELECTOR, ".opblock")))
        assert "/v1/certificates" in browser.find_element(By.ID, "swagger-ui").text
    finally:
        browser.quit()


def _anchored_document(url: str, data: Path, number: str) -> dict[str, Any]:
    """The sealed document of a fresh SG certificate, once anchored."""
    keys = json.loads((data / "demo-keys.json").read_text())
    headers = {"Authorization": f"Bearer {keys['issuer']['api_key']}"}
    created = httpx.post(f"{url}/v1/certificates", json=example(certificate_number=number), headers=headers).json()
    for _ in range(100):
        if httpx.get(f"{url}/v1/certificates/{created['id']}", headers=headers).json()["status"] == "anchored":
            break
        time.sleep(0.1)
    document: dict[str, Any] = httpx.get(f"{url}/v1/certificates/{created['id']}/document", headers=headers).json()
    return document


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium not installed (make test installs it)")
def test_the_page_verifies_the_input_chosen_last_and_says_what_it_checked(live_node: tuple[str, Path],
                                                                          tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    url, data = live_node
    document = _anchored_document(url, data, "PAGE-TEST-2")
    tampered = json.loads(json.dumps(document))
    tampered["certificate"]["goods"][0]["quantity"] = "99"
    tampered_file = tmp_path / "tampered.json"
    tampered_file.write_text(json.dumps(tampered))
    browser = _browser()
    try:
        browser.get(url + "/")
        verdict = (By.ID, "verdict")
        browser.find_element(By.ID, "verify-button").click()  # nothing entered: no verdict at all
        WebDriverWait(browser, 10).until(ready.text_to_be_present_in_element(verdict, "Not verified"))
        assert "INVALID" not in browser.find_element(*verdict).text

        browser.find_element(By.ID, "pasted").send_keys(document["document_hash"])  # a hash: status only
        browser.find_element(By.ID, "verify-button").click()
        WebDriverWait(browser, 20).until(ready.text_to_be_present_in_element(verdict, "VALID"))
        assert "status only" in browser.find_element(*verdict).text

        browser.find_element(By.ID, "file").send_keys(str(tampered_file))  # then a tampered file: it is verified
        WebDriverWait(browser, 10).until(ready.text_to_be_present_in_element((By.ID, "file-name"), "tampered.json"))
        browser.find_element(By.ID, "verify-button").click()
        WebDriverWait(browser, 20).until(ready.text_to_be_present_in_element(verdict, "INVALID"))
        assert browser.find_element(By.ID, "pasted").get_attribute("value") == ""
    finally:
        browser.quit()
