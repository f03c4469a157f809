"""The verification page in headless Chromium against a real `coo up --demo`: what an officer sees.

One node and one browser for the module. Screenshots and a PDF go to ``test-artifacts/``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from registry.sealing.document import SealedDocument, disclose
from tests.support import live
from tests.support.consortium import example
from tests.support.live import ARTIFACTS, needs_chromium

pytestmark = needs_chromium

Browser = Any  # selenium.webdriver.Chrome


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data = tmp_path_factory.mktemp("page-node")
    with live.live_node(data) as url:
        yield url, data


@pytest.fixture(scope="module")
def chrome() -> Iterator[Browser]:
    ARTIFACTS.mkdir(exist_ok=True)
    browser = live.browser()
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture
def certificate(node: tuple[str, Path]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A fresh anchored SG → JP certificate: its record and its sealed document."""
    url, data = node
    record = live.issue(url, data)
    return record, live.sealed_document(url, data, record["id"])


# -- helpers ---------------------------------------------------------------------------------


def wait_done(chrome: Browser) -> str:
    """Wait until the page shows a verdict or a problem; return the verdict line."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(chrome, 30).until(lambda b: b.execute_script("return document.body.dataset.state") == "done")
    text: str = chrome.find_element(By.ID, "verdict").text
    return text


def open_page(chrome: Browser, address: str) -> str:
    chrome.get(address)
    return wait_done(chrome)


def verify_file(chrome: Browser, url: str, path: Path) -> str:
    """On `/`, choose *path* and verify it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    chrome.get(url + "/")
    chrome.find_element(By.ID, "file").send_keys(str(path))
    WebDriverWait(chrome, 10).until(ready.text_to_be_present_in_element((By.ID, "file-name"), path.name))
    chrome.find_element(By.ID, "verify-button").click()
    return wait_done(chrome)


def write(tmp_path: Path, name: str, document: dict[str, Any] | SealedDocument) -> Path:
    path = tmp_path / name
    path.write_text(document.model_dump_json() if isinstance(document, SealedDocument) else json.dumps(document))
    return path


def text_of(chrome: Browser, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    text: str = chrome.find_element(By.ID, element_id).text
    return text


def check_rows(chrome: Browser) -> list[tuple[str, str, str]]:
    """(check, outcome, why) as shown, top to bottom."""
    rows: list[list[str]] = chrome.execute_script("return Array.from(document.querySelectorAll('#checks tbody tr'), "
                                                  "r => Array.from(r.cells, c => c.textContent))")
    return [(name, outcome, why) for name, outcome, why in rows]


def verdict_style(chrome: Browser) -> str:
    style: str = chrome.execute_script("return document.getElementById('verdict-box').dataset.style")
    return style


def screenshot(chrome: Browser, name: str) -> Path:
    """The whole page (beyond the viewport) as ``test-artifacts/<name>.png``."""
    shot = chrome.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    path = ARTIFACTS / f"{name}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


@contextmanager
def phone(chrome: Browser, width: int = 390) -> Iterator[None]:
    chrome.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    try:
        yield
    finally:
        chrome.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@contextmanager
def print_media(chrome: Browser) -> Iterator[None]:
    chrome.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        yield
    finally:
        chrome.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def answer_with(chrome: Browser, report: dict[str, Any], status: int = 200) -> None:
    """Make the page's next POST /v1/verify answer *report* (for report fields this node does not produce yet)."""
    chrome.execute_script("""
        const [report, status] = arguments, real = window.fetch;
        window.fetch = (url, options) => url === '/v1/verify'
          ? Promise.resolve(new Response(JSON.stringify(report),
                                         {status, headers: {'Content-Type': 'application/json'}}))
          : real(url, options);""", report, status)


def submit_text(chrome: Browser, text: str) -> str:
    from selenium.webdriver.common.by import By

    chrome.execute_script("document.getElementById('pasted').value = arguments[0];", text)
    chrome.find_element(By.ID, "verify-button").click()
    return wait_done(chrome)


# -- one input at a time, verdicts that cannot mislead -----------------------------------------


def test_a_tampered_file_chosen_after_a_hash_check_fails_and_no_pass_is_relied_on(
        node: tuple[str, Path], chrome: Browser, certificate: tuple[dict[str, Any], dict[str, Any]],
        tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    url, _ = node
    _, document = certificate
    tampered = json.loads(json.dumps(document))
    tampered["certificate"]["goods"][0]["quantity"] = "99"
    chrome.get(url + "/")
    verdict = submit_text(chrome, document["document_hash"])
    assert "VALID" in verdict and "status only" in verdict and verdict_style(chrome) == "status-only"
    assert "no contents" in text_of(chrome, "advice")

    chrome.find_element(By.ID, "file").send_keys(str(write(tmp_path, "tampered.json", tampered)))
    WebDriverWait(chrome, 10).until(ready.text_to_be_present_in_element((By.ID, "file-name"), "tampered.json"))
    chrome.find_element(By.ID, "verify-button").click()
    verdict = wait_done(chrome)
    screenshot(chrome, "page-tampered-after-hash")
    assert verdict == "Verdict: INVALID" and verdict_style(chrome) == "bad"
    assert chrome.find_element(By.ID, "pasted").get_attribute("value") == ""
    rows = check_rows(chrome)
    assert rows[0][0] == "integrity" and "fail" in rows[0][1] and "altered" in rows[0][2]
    assert not [r for r in rows if "pass" in r[1]], rows  # nothing green under a failed integrity
    assert all("relied on" in outcome + why for _, outcome, why in rows[1:]), rows  # skipped or not relied on
    assert chrome.find_elements(By.CSS_SELECTOR, "td.pass") == []
    assert "not shown" in text_of(chrome, "certificate-body") and "99" not in text_of(chrome, "certificate-body")
    assert document["certificate"]["certificate_number"] not in text_of(chrome, "identity")  # from the altered contents


def test_each_kind_of_answer_has_its_own_worded_style(node: tuple[str, Path], chrome: Browser, tmp_path: Path,
                                                       certificate: tuple[dict[str, Any], dict[str, Any]]) -> None:
    url, data = node
    record, document = certificate
    seen: dict[str, tuple[str, str, str]] = {}

    def note(kind: str) -> None:
        colour: str = chrome.execute_script(
            "return getComputedStyle(document.getElementById('verdict-box')).backgroundColor + ' '"
            " + getComputedStyle(document.getElementById('verdict-box')).borderLeftStyle")
        seen[kind] = (verdict_style(chrome), colour, text_of(chrome, "advice"))
        screenshot(chrome, f"page-style-{kind}")

    verify_file(chrome, url, write(tmp_path, "sealed.json", document))
    note("valid")
    copy = httpx.post(f"{url}/v1/certificates/{record['id']}/true-copy", headers=live.issuer_headers(data))
    assert copy.status_code == 200, copy.text
    copy_document = live.sealed_document(url, data, copy.json()["replacement"]["id"])
    assert "WITH WARNINGS" in verify_file(chrome, url, write(tmp_path, "copy.json", copy_document))
    assert "warning" in check_rows(chrome)[0][1]  # warnings before passes
    note("warning")
    assert "SUPERSEDED" in verify_file(chrome, url, write(tmp_path, "sealed.json", document))
    note("failed")
    chrome.get(url + "/")
    submit_text(chrome, copy_document["document_hash"])
    note("status-only")
    unavailable = httpx.post(f"{url}/v1/verify", json=copy_document).json()  # as the node answers without a chain
    why = "the chain could not be reached"
    unavailable.update(verdict="UNAVAILABLE", summary=f"UNAVAILABLE: {why}", disclosed=None, withheld=None,
                       issuer=None, chain_id=None, chain_head=None,
                       checks=[unavailable["checks"][0], *({"name": name, "status": "skipped", "reason": why}
                                                           for name in ("anchored", "issuer_authorised", "status"))])
    chrome.get(url + "/")
    answer_with(chrome, unavailable, 503)
    assert "UNAVAILABLE" in submit_text(chrome, json.dumps(copy_document))
    assert "nothing was verified" in text_of(chrome, "certificate-body")
    note("unavailable")
    chrome.get(url + "/")
    assert submit_text(chrome, "").startswith("Not verified: Nothing to verify")  # empty: no verdict at all
    assert "INVALID" not in text_of(chrome, "result")
    assert submit_text(chrome, "not-a-code").startswith("Not verified")  # a typo: none either
    note("input-error")

    styles = {kind: style for kind, (style, _, _) in seen.items()}
    assert styles == {"valid": "ok", "warning": "warn", "failed": "bad", "status-only": "status-only",
                      "unavailable": "unavailable", "input-error": "neutral"}
    assert len({look for _, look, _ in seen.values()}) == len(seen), seen  # each looks different
    assert len({words for _, _, words in seen.values()}) == len(seen), seen  # and says something different


def test_the_page_says_verifying_while_it_waits(node: tuple[str, Path], chrome: Browser) -> None:
    from selenium.webdriver.common.by import By

    url, _ = node
    chrome.get(url + "/")
    chrome.execute_script("""
        const real = window.fetch;
        window.release = null;
        window.fetch = (url, options) => url.startsWith('/v1/verify/')
          ? new Promise((resolve) => { window.release = () => resolve(real(url, options)); })
          : real(url, options);""")
    chrome.execute_script("document.getElementById('pasted').value = '0x' + 'ab'.repeat(32);")
    chrome.find_element(By.ID, "verify-button").click()
    assert text_of(chrome, "verdict") == "Verifying…"
    assert chrome.execute_script("return document.body.dataset.state") == "pending"
    chrome.execute_script("window.release()")
    assert "INVALID" in wait_done(chrome)  # a hash nobody anchored


# -- the certificate, as the form reads ---------------------------------------------------------


def test_the_certificate_reads_like_the_form_with_every_code_named(
        node: tuple[str, Path], chrome: Browser, certificate: tuple[dict[str, Any], dict[str, Any]],
        tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    url, _ = node
    _, document = certificate
    assert verify_file(chrome, url, write(tmp_path, "sealed.json", document)) == "Verdict: VALID"
    screenshot(chrome, "page-valid-certificate")
    number = document["certificate"]["certificate_number"]
    assert number in text_of(chrome, "cert-heading")
    assert "RCEP — Regional Comprehensive Economic Partnership" in text_of(chrome, "cert-heading")
    assert "JP — Japan" in text_of(chrome, "cert-heading") and "SG — Singapore" in text_of(chrome, "cert-heading")
    assert "Lion City Precision Components" in text_of(chrome, "cert-exporter")
    assert "Kanto Industrial Trading" in text_of(chrome, "cert-consignee")
    assert "SG — Singapore" in text_of(chrome, "cert-producer")
    transport = text_of(chrome, "cert-transport")
    assert "1 — maritime transport" in transport and "SGSIN (Singapore)" in transport
    goods = chrome.find_elements(By.CSS_SELECTOR, "#goods tbody tr")
    assert len(goods) == 3
    first = goods[0].text
    for shown in ("848180", "CTH — change of tariff heading", "1200 H87 — piece", "5400.5 kg",
                  "INV-26-11-0387", "SG — Singapore", "86400.00 USD", "40 wooden cases"):
        assert shown in first, (shown, first)
    assert "CTH+RVC40 — change of tariff heading and regional value content of at least 40 %" in goods[2].text
    assert "Tan Wei Ming" in text_of(chrome, "cert-exporter-declaration")
    assert "Trade Facilitation Branch" in text_of(chrome, "cert-certification")
    assert chrome.find_elements(By.ID, "cert-others") == []  # every field has its place
    identity = text_of(chrome, "identity")
    assert "SG — Singapore" in identity and document["document_hash"] in identity
    # the names governance registered on chain, from the node's real report (`coo up` names the demo bodies)
    assert "Singapore Customs (demo issuing body) (0x" in identity
    assert "Singapore Customs (demo authority) (0x" in identity
    assert chrome.find_element(By.ID, "summary").text.startswith("VALID")


def test_names_of_the_issuer_and_authority_and_unknown_fields_are_shown(
        node: tuple[str, Path], chrome: Browser, certificate: tuple[dict[str, Any], dict[str, Any]]) -> None:
    url, _ = node
    _, document = certificate
    report = httpx.post(f"{url}/v1/verify", json=document).json()
    issuer = report["issuer"]
    authority = "0x" + "ab" * 20
    report.update(issuer_name="Singapore Customs (demo issuing body)", authority=authority,
                  authority_name="Singapore authority")
    report["disclosed"]["inspection_note"] = "sealed at the factory"
    report["disclosed"]["goods"][0]["origin_note"] = "cast in Tuas"
    report["withheld"] = ["future.section"]
    chrome.get(url + "/")
    answer_with(chrome, report)
    submit_text(chrome, json.dumps(document))
    identity = text_of(chrome, "identity")
    assert f"Singapore Customs (demo issuing body) ({issuer[:8]}…{issuer[-4:]})" in identity
    assert f"Singapore authority ({authority[:8]}…{authority[-4:]})" in identity
    others = text_of(chrome, "cert-others")  # never silently dropped
    assert "inspection_note" in others and "sealed at the factory" in others
    assert "goods[0].origin_note" in others and "cast in Tuas" in others
    assert "future.section" in others and "withheld by the holder" in others
    screenshot(chrome, "page-names-and-unknown-fields")

    report.update(issuer_name=None, authority_name=None)
    chrome.get(url + "/")
    answer_with(chrome, report)
    submit_text(chrome, json.dumps(document))
    assert issuer in text_of(chrome, "identity") and authority in text_of(chrome, "identity")  # the address in full


def test_withheld_fields_are_marked_in_place_and_counted(
        node: tuple[str, Path], chrome: Browser, certificate: tuple[dict[str, Any], dict[str, Any]],
        tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    url, _ = node
    _, document = certificate
    keep = ["certificate_number", "certificate_type", "exporting_country", "importing_country", "issue_date",
            "valid_until", "exporter.name", "consignee", "transport", "goods[0]", "certification",
            *(f"goods[1].{f}" for f in ("item_number", "description", "quantity", "unit", "origin_criterion"))]
    partial = disclose(SealedDocument.model_validate(document), keep)
    withheld = sorted(partial.withheld)
    assert "goods[1].hs_code" in withheld and "exporter.address" in withheld
    assert verify_file(chrome, url, write(tmp_path, "partial.json", partial)) == "Verdict: VALID"
    screenshot(chrome, "page-withheld")
    note = text_of(chrome, "withheld-note")
    assert f"{len(withheld)} fields withheld by the holder" in note and "not" in note and "rename" in note
    exporter = text_of(chrome, "cert-exporter")
    assert "Lion City Precision Components" in exporter and "withheld by the holder" in exporter
    assert "21 Tuas South Avenue" not in exporter
    second = chrome.find_elements(By.CSS_SELECTOR, "#goods tbody tr")[1]
    hs = second.find_element(By.CSS_SELECTOR, "td[data-label='HS code']").text
    assert hs == "withheld by the holder" and "Machined aluminium" in second.text
    marks = second.find_element(By.CSS_SELECTOR, "td[data-label='Marks and packages']").text
    assert marks == "withheld by the holder"  # said once for the three fields of the cell
    third = chrome.find_elements(By.CSS_SELECTOR, "#goods tbody tr")[2]
    assert "withheld by the holder" in third.text and "392690" not in third.text
    assert "withheld by the holder" in text_of(chrome, "cert-producer")
    assert chrome.find_elements(By.ID, "cert-others") == []  # every withheld path found its place


def test_an_erased_certificate_shows_no_contents(node: tuple[str, Path], chrome: Browser,
                                                  certificate: tuple[dict[str, Any], dict[str, Any]],
                                                  tmp_path: Path) -> None:
    url, data = node
    record, document = certificate
    answer = httpx.post(f"{url}/v1/certificates/{record['id']}/erase", headers=live.issuer_headers(data))
    assert answer.status_code in (200, 202), answer.text
    live.wait_for_status(url, live.issuer_headers(data), record["id"], "erased")
    exporter = document["certificate"]["exporter"]["name"]
    assert "ERASED" in open_page(chrome, f"{url}/v/{record['id']}")
    screenshot(chrome, "page-erased")
    assert exporter not in chrome.find_element("tag name", "body").text and exporter not in chrome.page_source
    said = (verdict_style(chrome), text_of(chrome, "certificate-body"))
    assert "ERASED" in verify_file(chrome, url, write(tmp_path, "erased.json", document))  # the holder's own copy
    assert exporter not in chrome.find_element("tag name", "body").text
    assert "Erased" in text_of(chrome, "certificate-body")
    assert said[0] == "bad" and "Erased" in said[1]


def test_a_superseded_certificate_links_to_its_replacement_which_the_link_verifies(
        node: tuple[str, Path], chrome: Browser, certificate: tuple[dict[str, Any], dict[str, Any]]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url, data = node
    record, document = certificate
    answer = httpx.post(f"{url}/v1/certificates/{record['id']}/replace", headers=live.issuer_headers(data),
                        json=example(replaces=document["certificate"]["certificate_number"]))
    assert answer.status_code == 200, answer.text
    replacement = answer.json()["replacement"]
    assert "SUPERSEDED" in open_page(chrome, f"{url}/v/{record['id']}")
    assert "status" in check_rows(chrome)[0][0] and "fail" in check_rows(chrome)[0][1]  # the failure first
    link = chrome.find_element(By.ID, "replacement-link")
    assert replacement["document_hash"] in text_of(chrome, "replacement")
    screenshot(chrome, "page-superseded")
    link.click()
    WebDriverWait(chrome, 10).until(lambda b: "?hash=" in b.current_url)
    verdict = wait_done(chrome)
    assert chrome.current_url.endswith("/?hash=" + replacement["document_hash"])
    assert "VALID" in verdict and "SUPERSEDED" not in verdict
    assert replacement["document_hash"] in text_of(chrome, "identity")
    screenshot(chrome, "page-replacement")


def test_a_hostile_link_or_certificate_runs_nothing(node: tuple[str, Path], chrome: Browser) -> None:
    url, data = node
    script = "</script><script>window.pwned=1</script><img src=x onerror=\"window.pwned=2\">"
    record = live.issue(url, data, remarks=script)
    open_page(chrome, f"{url}/v/{record['id']}")
    assert chrome.execute_script("return window.pwned") is None
    assert script in text_of(chrome, "cert-remarks")
    assert open_page(chrome, f"{url}/?hash=%3Cscript%3Ealert(1)%3C/script%3E") == "Not verified: Not a document hash"
    assert chrome.execute_script("return window.pwned") is None


# -- /v/{token}: the same page ------------------------------------------------------------------


def test_the_token_page_renders_with_the_same_page_as_the_form(
        node: tuple[str, Path], chrome: Browser, certificate: tuple[dict[str, Any], dict[str, Any]],
        tmp_path: Path) -> None:
    url, _ = node
    record, document = certificate
    ids = "return Array.from(document.querySelectorAll('#result [id]'), e => e.id).filter(i => !i.startsWith('qr'))"
    verify_file(chrome, url, write(tmp_path, "sealed.json", document))
    on_form = chrome.execute_script(ids)
    form_text = text_of(chrome, "certificate-body")
    assert open_page(chrome, f"{url}/v/{record['id']}") == "Verdict: VALID"
    screenshot(chrome, "page-token")
    on_token = chrome.execute_script(ids)
    assert set(on_token) - set(on_form) == {"paper", "paper-link", "verification-code"}
    assert set(on_form) <= set(on_token)
    assert text_of(chrome, "certificate-body") == form_text
    assert not chrome.find_element("id", "verify-form").is_displayed()
    assert chrome.find_element("id", "again").is_displayed()


def test_an_unknown_code_gets_a_readable_page_not_json(node: tuple[str, Path], chrome: Browser) -> None:
    url, _ = node
    verdict = open_page(chrome, f"{url}/v/00000000-0000-4000-8000-000000000000")
    screenshot(chrome, "page-unknown-code")
    assert verdict == "Not verified: Unknown verification code" and verdict_style(chrome) == "neutral"
    body = chrome.find_element("tag name", "body").text
    assert "Check the code printed under the QR code" in body and "{" not in body
    answer = httpx.get(f"{url}/v/k1.garbage", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert answer.status_code == 404 and answer.headers["content-type"].startswith("text/html")
    as_json = httpx.get(f"{url}/v/k1.garbage", headers={"Accept": "application/json"})
    assert as_json.status_code == 404 and as_json.headers["content-type"] == "application/problem+json"


# -- phones and paper ---------------------------------------------------------------------------


def test_at_390_px_nothing_scrolls_sideways(node: tuple[str, Path], chrome: Browser, tmp_path: Path) -> None:
    url, data = node
    body = example()
    body["exporter"] = {"name": "Lion City Precision Components and Industrial Valve Manufacturing Holdings "
                        "(Asia-Pacific Regional Headquarters) Private Limited", "country": "SG",
                        "address": "Unit 21-04/05, Tuas South Avenue 6, Tuas Industrial Estate, " * 3 + "637021"}
    goods = body["goods"]
    assert isinstance(goods, list)
    goods[0]["marks_and_numbers"] = "LCPC/KIT/01-40/" + "X" * 90
    goods[0]["description"] = "Ball valves of stainless steel, " * 20
    goods[0]["invoice_number"] = "INV-" + "9" * 100
    body["remarks"] = "https://example.org/" + "a" * 300
    record = live.issue(url, data, body)
    partial = disclose(SealedDocument.model_validate(live.sealed_document(url, data, record["id"])),
                       ["certificate_number", "exporter", "goods[0]", "goods[2].hs_code", "remarks"])
    with phone(chrome):
        assert open_page(chrome, f"{url}/v/{record['id']}") == "Verdict: VALID"
        width = chrome.execute_script("return document.documentElement.scrollWidth")
        screenshot(chrome, "page-390px-token")
        assert width <= 390, width
        verify_file(chrome, url, write(tmp_path, "partial.json", partial))
        width = chrome.execute_script("return document.documentElement.scrollWidth")
        screenshot(chrome, "page-390px-partial")
        assert width <= 390, width
        chrome.get(url + "/")
        assert submit_text(chrome, record["document_hash"]).startswith("Verdict: VALID")
        assert chrome.execute_script("return document.documentElement.scrollWidth") <= 390


def test_the_print_view_has_the_certificate_its_qr_code_and_verification_code(
        node: tuple[str, Path], chrome: Browser, certificate: tuple[dict[str, Any], dict[str, Any]]) -> None:
    from selenium.webdriver.common.by import By

    url, _ = node
    record, _ = certificate
    open_page(chrome, f"{url}/v/{record['id']}")
    assert chrome.find_element(By.ID, "print-button").is_displayed()
    with print_media(chrome):
        screenshot(chrome, "page-print")
        for control in ("print-button", "again", "page-header", "checks"):
            assert not chrome.find_element(By.ID, control).is_displayed(), control
        assert chrome.find_element(By.CSS_SELECTOR, "#qr svg").is_displayed()
        assert chrome.find_element(By.ID, "verification-code").text == record["id"]
        for shown in ("goods", "cert-exporter", "verdict"):
            assert chrome.find_element(By.ID, shown).is_displayed(), shown
        pdf = chrome.execute_cdp_cmd("Page.printToPDF", {"printBackground": True, "paperWidth": 8.27,
                                                         "paperHeight": 11.69})
    document = base64.b64decode(pdf["data"])
    (ARTIFACTS / "page-print.pdf").write_bytes(document)
    assert document.startswith(b"%PDF")
    assert chrome.find_element(By.ID, "print-button").is_displayed()  # back on screen


def test_proven_claims_are_shown_beside_the_verdict_and_their_values_nowhere(
        node: tuple[str, Path], chrome: Browser, tmp_path: Path) -> None:
    url, data = node
    body = example()
    goods: list[dict[str, Any]] = body["goods"]  # type: ignore[assignment]
    goods[1] = {**goods[1], "non_originating_value": "9000.00"}
    record = live.issue(url, data, body)
    answer = httpx.post(f"{url}/v1/certificates/{record['id']}/proofs", headers=live.issuer_headers(data),
                        json={"claims": ["goods[1].rvc >= 40", "goods[0].hs_code startswith 8481"]}, timeout=120)
    assert answer.status_code == 200, answer.text
    assert verify_file(chrome, url, write(tmp_path, "proof.json", answer.json())) == "Verdict: VALID"
    assert verdict_style(chrome) == "ok" and "values themselves are not disclosed" in text_of(chrome, "advice")
    claims = text_of(chrome, "claims")
    assert "goods[1]: regional value content (build-down) ≥ 40 %: proven, value not disclosed" in claims
    assert "goods[0]: HS heading 8481: proven, value not disclosed" in claims
    assert "discloses no field" in text_of(chrome, "certificate-body")
    assert "9000.00" not in chrome.page_source and "90000000" not in chrome.page_source
    screenshot(chrome, "page-proven-claims")
