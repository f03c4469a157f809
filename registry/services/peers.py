"""Talking to other member nodes: key release from, and request reasons to, an issuing node.

An importing country's node holds a Customs API key of the issuing country's node
(configured with ``PUT /v1/governance/peers/{country}``). With it, it asks for the
data key of an encrypted-mode certificate (``POST /v1/certificates/{hash}/key-release``)
and delivers the reason text of a verification request it opened, whose hash is on
chain (``PUT /v1/verification-requests/{id}/reason``).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import httpx

from registry.errors import (
    KeyDestroyedError,
    NotFoundError,
    PeerError,
    PermissionDenied,
)
from registry.types import hex32

TIMEOUT = 10.0


def fetch_key(url: str, api_key: str, document_hash: bytes) -> bytes:
    """Ask the node at *url* to release the data key of *document_hash*.

    Raises:
        NotFoundError: the peer knows no such certificate (or not for this caller).
        KeyDestroyedError: the peer erased it.
        PermissionDenied: the peer refused this node's key.
        PeerError: the peer could not be reached or answered nonsense.
    """
    answer = _request("POST", url, f"/v1/certificates/{hex32(document_hash)}/key-release", api_key)
    detail = _detail(answer)
    if answer.status_code == 404:
        raise NotFoundError("certificate at the issuing node", f"{hex32(document_hash)} ({detail})")
    if answer.status_code == 410:
        raise KeyDestroyedError(hex32(document_hash))
    if answer.status_code in (401, 403):
        raise PermissionDenied(f"the issuing node refused the key release: {detail}")
    if answer.status_code != 200:
        raise PeerError(f"the issuing node answered {answer.status_code}: {detail}")
    try:
        text = str(answer.json()["data_key"])
        key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise PeerError("the issuing node's key release was malformed") from None
    if len(key) != 32:
        raise PeerError("the issuing node released a key of the wrong size")
    return key


def send_reason(url: str, api_key: str, request_id: int, reason: str) -> None:
    """Deliver the reason text of verification request *request_id* to the issuing node at *url*.

    Raises:
        PeerError: the peer could not be reached or refused it.
    """
    answer = _request("PUT", url, f"/v1/verification-requests/{request_id}/reason", api_key, json={"reason": reason})
    if answer.status_code != 204:
        raise PeerError(f"the issuing node answered {answer.status_code}: {_detail(answer)}")


def acknowledge_erasure(url: str, api_key: str, document_hash: bytes, acknowledgement: dict[str, str]) -> None:
    """Tell the issuing node at *url* that this node destroyed its copy of the key of *document_hash*.

    Raises:
        PeerError: the peer could not be reached or refused it.
    """
    answer = _request("POST", url, f"/v1/certificates/{hex32(document_hash)}/erasure/acknowledgements", api_key,
                      json=acknowledgement)
    if answer.status_code not in (200, 201, 204):
        raise PeerError(f"the issuing node answered {answer.status_code}: {_detail(answer)}")


def _request(method: str, url: str, path: str, api_key: str, **kwargs: Any) -> httpx.Response:
    """One authenticated call to the peer at *url*; unreachable becomes :class:`PeerError`."""
    try:
        return httpx.request(method, f"{url}{path}", headers={"Authorization": f"Bearer {api_key}"},
                             timeout=TIMEOUT, **kwargs)
    except httpx.HTTPError as error:
        raise PeerError(f"the issuing node at {url} could not be reached ({type(error).__name__})") from None


def _detail(answer: httpx.Response) -> str:
    try:
        return str(answer.json().get("detail", answer.reason_phrase))
    except ValueError:
        return answer.reason_phrase


__all__ = ["acknowledge_erasure", "fetch_key", "send_reason"]
