"""The consortium cells' machinery without a network: how JP is watched, and what a run without the network
(or whose network cannot start) records. The cells measured on a real network: tests/network/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from registry.chain.network import CLIENT_ENV
from scripts import compare_consortium
from scripts.compare_consortium import CONSORTIUM_FAULTS, consortium_or_reason, last, seen, stale_valid_s, watch


class ScriptedJp:
    """An API node answering each verify with the next verdict of its script (the last one for ever)."""

    def __init__(self, script: list[str]) -> None:
        self.script, self.calls = script, 0

    def call(self, method: str, path: str, key: str | None = None, expect: Any = 200, **kwargs: Any) -> Any:
        verdict = self.script[min(self.calls, len(self.script) - 1)]
        self.calls += 1
        return {"verdict": verdict}


@pytest.fixture(autouse=True)
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compare_consortium, "POLL_S", 0.0)


def test_a_watch_records_each_change_of_verdict_once_and_stops_at_its_rule() -> None:
    jp = ScriptedJp(["VALID", "VALID", "UNAVAILABLE", "UNAVAILABLE", "VALID"])
    timeline = watch({"untouched": (jp, {})}, lambda v: v["untouched"] == "UNAVAILABLE", 60)  # type: ignore[dict-item]
    assert [v for _, v in timeline["untouched"]] == ["VALID", "UNAVAILABLE"]
    assert jp.calls == 3
    assert last(timeline, "untouched") == "UNAVAILABLE"
    assert seen(timeline, "untouched", "UNAVAILABLE") is not None and seen(timeline, "untouched", "REVOKED") is None
    assert "deadline_reached_s" not in timeline


def test_a_watch_that_reaches_its_deadline_says_so() -> None:
    timeline = watch({"untouched": (ScriptedJp(["VALID"]), {})}, lambda v: False, 0.0)  # type: ignore[dict-item]
    assert timeline["deadline_reached_s"] == [[0.0, "stopped watching"]]
    assert [v for _, v in timeline["untouched"]] == ["VALID"]


def test_an_error_the_api_lets_escape_is_recorded_not_hidden() -> None:
    class Broken(ScriptedJp):
        def call(self, *args: Any, **kwargs: Any) -> Any:
            return {"no verdict": True}

    timeline = watch({"untouched": (Broken([]), {})}, lambda v: True, 1)  # type: ignore[dict-item]
    assert last(timeline, "untouched").startswith("ERROR KeyError")


def test_the_stale_window_is_how_long_jp_said_valid_after_sgs_node_said_revoked() -> None:
    timeline = {"jp": [[0.5, "VALID"], [17.0, "UNAVAILABLE"]], "sg": [[0.5, "VALID"], [4.0, "REVOKED"]]}
    assert stale_valid_s(timeline, "jp", "sg") == 13.0
    assert stale_valid_s({"jp": [[0.5, "REVOKED"]], "sg": [[0.5, "REVOKED"]]}, "jp", "sg") == 0.0
    assert stale_valid_s({"jp": [[0.5, "UNAVAILABLE"], [8.0, "REVOKED"]], "sg": [[2.0, "REVOKED"]]}, "jp", "sg") == 0.0
    assert stale_valid_s({"jp": [[0.5, "VALID"]], "sg": [[0.5, "VALID"]]}, "jp", "sg") is None
    assert stale_valid_s({"jp": [[0.5, "VALID"]], "sg": [[2.0, "REVOKED"], [9.0, "VALID"]]}, "jp", "sg") == 7.0


def test_without_the_network_every_consortium_cell_says_why_it_was_not_measured() -> None:
    network, cells = consortium_or_reason(Path("/nonexistent"), skip="--no-network")
    assert "--no-network" in network
    assert [c.fault for c in cells] == list(CONSORTIUM_FAULTS)
    for cell in cells:
        assert not cell.measured and not cell.verdicts
        assert cell.note == "not measured in this run: --no-network"


def test_a_network_that_cannot_start_gives_its_error_as_the_reason(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CLIENT_ENV, str(tmp_path / "no-client-here"))
    _, cells = consortium_or_reason(tmp_path)
    for cell in cells:
        assert not cell.measured
        assert cell.note.startswith("not measured in this run: the consortium run failed: ChainUnavailableError")
        assert "@ethereumjs/client not installed" in cell.note
