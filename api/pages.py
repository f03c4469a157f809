"""The verification page's shell, filled on the server for ``/v/{token}``.

One rendering code path: ``/`` serves ``static/index.html`` as it is and the browser asks for
a report; ``/v/{token}`` (what a phone opens from the QR code) serves the same file with the
report already embedded as JSON (``<script type="application/json" id="embedded-report">``),
which the same ``verify.js`` and ``certificate.js`` render into the same elements. The server
adds only what the browser cannot know: the QR code and verification code for the paper
copy (an inline SVG made by segno, no script library), and a ``<noscript>`` verdict. An
unknown code gets the same shell with the problem embedded instead, so a phone shows a
readable page, never raw JSON.

Embedded JSON escapes ``<``, ``>`` and ``&``, so no value can close the script element, and
every value reaches the page through ``textContent`` only. The pages carry the code in their
URL (in encrypted mode the code holds the certificate's data key): they are never cached
and send no referrer.
"""

from __future__ import annotations

import html
import json
from functools import cache
from pathlib import Path
from urllib.parse import quote

import segno
from fastapi.responses import HTMLResponse

from api.schemas import VerificationPublic
from registry.domain.report import Verdict
from registry.errors import NotFoundError, RegistryError

SHELL = Path(__file__).resolve().parent / "static" / "index.html"

HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
}
"""Sent with every page made here."""

_PAPER, _EMBEDDED = "<!--paper-->", "<!--embedded-->"


@cache
def _shell() -> str:
    text = SHELL.read_text(encoding="utf-8")
    if _PAPER not in text or _EMBEDDED not in text:
        raise RuntimeError(f"{SHELL.name} lacks the {_PAPER} or {_EMBEDDED} marker")
    return text


def verification_link(base_url: str, token: str) -> str:
    """The URL a QR code carries for *token* (the same one the issuer prints)."""
    return f"{base_url}/v/{quote(token, safe='.-_~')}"


def report_page(report: VerificationPublic, link: str, token: str) -> HTMLResponse:
    """The verification page for one report, with the QR code and verification code for the paper copy.

    Args:
        report: the signed verification report.
        link: the verification link the QR code encodes (see :func:`verification_link`).
        token: the verification code, shown under the QR code.

    Returns:
        200, or 503 with ``Retry-After`` when the verdict is ``UNAVAILABLE``.
    """
    unavailable = report.verdict is Verdict.UNAVAILABLE
    words = f"Verdict: {report.verdict.value.replace('_', ' ')}"
    page = _fill(_paper(link, token), _embed("embedded-report", report.model_dump(mode="json")),
                 words, report.summary)
    headers = {**HEADERS, "Retry-After": "5"} if unavailable else HEADERS
    return HTMLResponse(page, status_code=503 if unavailable else 200, headers=headers)


def problem_page(status: int, error: RegistryError) -> HTMLResponse:
    """The same page saying why nothing was verified (an unknown code: 404), never raw JSON."""
    if isinstance(error, NotFoundError):
        title = "Unknown verification code"
        detail = ("This node knows no certificate with this code. Check the code printed under the QR code, "
                  "or ask the issuing body for the certificate's verification link.")
    else:
        title, detail = error.title, str(error)
    problem = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    page = _fill("", _embed("embedded-problem", problem), f"Not verified: {title}", detail)
    return HTMLResponse(page, status_code=status, headers={**HEADERS, "Retry-After": "5"} if status == 503
                        else HEADERS)


def _fill(paper: str, embedded: str, heading: str, text: str) -> str:
    fallback = (f'<noscript><p class="noscript"><strong>{html.escape(heading)}</strong><br>{html.escape(text)}</p>'
                "<p>Turn on JavaScript to see the certificate and every check.</p></noscript>")
    return _shell().replace(_PAPER, paper, 1).replace(_EMBEDDED, fallback + embedded, 1)


def _embed(element_id: str, value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    safe = text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    return f'<script type="application/json" id="{element_id}">{safe}</script>'


def _paper(link: str, token: str) -> str:
    qr = segno.make(link, error="m").svg_inline(scale=3, title="Verify this certificate of origin")
    return (f'<aside id="paper" class="paper" aria-label="For the paper copy"><div id="qr" class="qr">{qr}</div>'
            f'<div><p class="paper-title">Verify this certificate</p><p>Scan the QR code or open '
            f'<span id="paper-link" class="hash">{html.escape(link)}</span></p><p>Verification code: '
            f'<code id="verification-code" class="hash">{html.escape(token)}</code></p></div></aside>')
