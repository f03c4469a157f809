"""A real `coo up --demo` process: the README walk-through and the API reference (the verification page:
test_page.py)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import live

ROOT = live.ROOT


@pytest.fixture(scope="module")
def live_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`coo up --demo` on a free port with a fresh data directory."""
    data = tmp_path_factory.mktemp("live-node")
    with live.live_node(data) as url:
        yield url, data


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
    browser = live.browser()
    try:
        browser.get(url + "/docs")
        WebDriverWait(browser, 20).until(ready.presence_of_element_located((By.CSS_SELECTOR, ".opblock")))
        assert "/v1/certificates" in browser.find_element(By.ID, "swagger-ui").text
    finally:
        browser.quit()
