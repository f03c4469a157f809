"""The hot routes: no thread hand-off but one, a deadline on blocking work, and the same answer bytes."""

from __future__ import annotations

import asyncio
import inspect
import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import HTTPException
from fastapi.routing import APIRoute

from api import offload
from api.routers import certificates, verification
from api.routers.verification import _public
from api.schemas import VerificationPublic
from registry.domain.report import Check, CheckStatus, Verdict, VerificationReport
from registry.services.verification import VerificationReceipt

HOT = [("POST", "/v1/verify"), ("GET", "/v1/verify"), ("GET", "/v1/verify/{document_hash}"),
       ("POST", "/v1/certificates"), ("POST", "/v1/certificates/batch")]


def dependency_calls(dependant: Any) -> list[Any]:
    found = []
    for sub in dependant.dependencies:
        found.append(sub.call)
        found.extend(dependency_calls(sub))
    return found


def runs_on_the_loop(call: Any) -> bool:
    return inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(type(call).__call__)


@pytest.mark.parametrize("method, path", HOT)
def test_hot_routes_and_every_dependency_they_take_run_on_the_event_loop(method: str, path: str) -> None:
    routes = [*certificates.router.routes, *verification.router.routes]
    route = next(r for r in routes if isinstance(r, APIRoute) and r.path == path and method in r.methods)
    assert inspect.iscoroutinefunction(route.endpoint)
    sync = [getattr(call, "__name__", repr(call)) for call in dependency_calls(route.dependant)
            if not runs_on_the_loop(call)]
    assert not sync, f"{method} {path}: sync dependencies hand the request to a thread: {sync}"


def test_blocking_work_past_its_deadline_answers_503() -> None:
    release = threading.Event()
    try:
        with pytest.raises(HTTPException) as late:
            asyncio.run(offload.blocking(release.wait, 30, timeout=0.05))  # cannot finish before release
    finally:
        release.set()
    assert late.value.status_code == 503 and late.value.headers == {"Retry-After": "5"}
    assert asyncio.run(offload.blocking(len, "after")) == 5


def test_a_call_still_queued_at_its_deadline_is_dropped_not_run_late() -> None:
    release, all_busy = threading.Event(), threading.Barrier(offload.WORKERS + 1)
    ran: list[str] = []

    def hold() -> None:
        all_busy.wait(30)
        release.wait(30)

    async def scenario() -> None:
        holders = [asyncio.ensure_future(offload.blocking(hold)) for _ in range(offload.WORKERS)]
        await asyncio.get_running_loop().run_in_executor(None, all_busy.wait, 30)  # every pool thread is held
        try:
            with pytest.raises(HTTPException):
                await offload.blocking(ran.append, "queued", timeout=0.05)
        finally:
            release.set()
        await asyncio.gather(*holders)
        await offload.blocking(ran.append, "after")

    asyncio.run(scenario())
    assert ran == ["after"]


def report() -> VerificationReport:
    checks = [Check(name="integrity", status=CheckStatus.PASS, reason="ok", details={}),
              Check(name="anchored", status=CheckStatus.PASS, reason="anchored", details={"issuer": "0xab", "n": 3}),
              Check(name="status", status=CheckStatus.WARN, reason="pending", details={"local_status": "revoked"})]
    return VerificationReport(verdict=Verdict.VALID_WITH_WARNINGS, summary="VALID WITH WARNINGS: pending",
                              checks=checks, document_hash="0x" + "12" * 32, certificate_number="SG-1",
                              issuer="0x" + "ab" * 20, issuer_name="Body é", exporting_country="SG",
                              checked_at=datetime(2026, 3, 14, 1, 2, 3, tzinfo=UTC), chain_id=31337, chain_head=9,
                              disclosed={"goods": [{"hs_code": "848180"}, None], "remarks": "x"},
                              withheld=["goods[1]"])


@pytest.mark.parametrize("shown", [report(), report().model_copy(update={"disclosed": None, "withheld": None,
                                                                         "document_hash": None})])
def test_a_report_with_its_receipt_serialises_to_the_bytes_of_a_validated_copy(shown: VerificationReport) -> None:
    receipt = VerificationReceipt("r-1", "0x" + "34" * 32, "2026-03-14T01:02:03+00:00", 9, "0x" + "cd" * 20,
                                  "0x" + "56" * 65)
    validated = VerificationPublic(**shown.model_dump(), receipt_id=receipt.receipt_id,
                                   receipt_signature=receipt.signature, node_account=receipt.node_account)
    assert _public(shown, receipt).model_dump_json() == validated.model_dump_json()


def test_a_key_this_process_checked_before_is_looked_up_on_the_loop_and_an_unseen_one_in_the_pool(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from api import deps
    from api.limits import FailureLimiter
    from registry.custody.apikeys import Principal, Role

    seen = Principal("a" * 16, Role.CUSTOMS, "JP", None, "officer")
    keys = SimpleNamespace(known=lambda token: seen if token == "seen" else None)
    ctx = SimpleNamespace(api_keys=keys)
    request = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(auth_failures=FailureLimiter(),
                                                                        node=SimpleNamespace(context=ctx))),
                              client=SimpleNamespace(host="127.0.0.1"))
    handed_off: list[str] = []

    async def pool(function: Any, *args: Any) -> Principal:
        handed_off.append(args[-1])
        return seen

    monkeypatch.setattr(deps, "blocking", pool)
    assert asyncio.run(deps._principal(request, "seen")) is seen  # type: ignore[arg-type]
    assert handed_off == []
    asyncio.run(deps._principal(request, "unseen"))  # type: ignore[arg-type]
    assert handed_off == ["unseen"]
