"""An API worker keeps its resident memory near what it uses (:mod:`api.heap`); the figure is the bench's."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from api import heap
from api.config import Settings
from api.workers import worker_environment


def test_api_workers_start_with_a_few_malloc_arenas_unless_the_operator_chose(tmp_path, monkeypatch) -> None:
    node = SimpleNamespace(context=SimpleNamespace(chain=SimpleNamespace(address="0x" + "11" * 20)), anvil=None,
                           config=SimpleNamespace(data_dir=tmp_path))
    settings = Settings(data_dir=tmp_path)
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert worker_environment(node, settings)["MALLOC_ARENA_MAX"] == str(heap.ARENAS)  # type: ignore[arg-type]
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")
    assert worker_environment(node, settings)["MALLOC_ARENA_MAX"] == "8"  # type: ignore[arg-type]


def test_the_trimmer_hands_free_pages_back_again_and_again_until_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    enough = threading.Event()

    def trim(pad: int) -> int:
        calls.append(pad)
        if len(calls) >= 3:
            enough.set()
        return 1

    monkeypatch.setattr(heap, "_malloc_trim", lambda: trim)
    trimmer = heap.HeapTrimmer(every=0.01).start()
    try:
        assert enough.wait(30)
    finally:
        trimmer.stop()
    assert calls[:3] == [0, 0, 0]


def test_the_real_trim_runs_where_the_c_library_has_it() -> None:
    trimmer = heap.HeapTrimmer()
    if not trimmer.available:
        pytest.skip("this C library has no malloc_trim (not glibc)")
    trimmer.trim()  # no error, nothing started
