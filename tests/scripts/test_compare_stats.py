"""The comparison's statistics: no percentile from fewer than 100 samples, IQRs, and the cross-run figures."""

from __future__ import annotations

from scripts.compare_stats import MIN_PERCENTILE_SAMPLES, N_TOO_SMALL, across_runs, describe, iqr, percentile


def test_a_percentile_needs_a_hundred_samples() -> None:
    assert MIN_PERCENTILE_SAMPLES == 100 and percentile([1.0] * 99, 0.99) == N_TOO_SMALL
    values = [float(i) for i in range(1, 101)]
    assert percentile(values, 0.99) == 99.0 and percentile(values, 0.5) == 50.0


def test_the_iqr_is_the_inclusive_quartiles_and_needs_two_values() -> None:
    assert iqr([3.0]) is None
    assert iqr([1.0, 2.0, 3.0, 4.0, 5.0]) == [2.0, 4.0]


def test_describe_and_across_runs_count_what_they_summarise() -> None:
    figures = describe([4.0, 1.0, 3.0, 2.0])
    assert figures["n"] == 4 and figures["median"] == 2.5 and figures["min"] == 1.0 and figures["max"] == 4.0
    assert figures["p95"] == N_TOO_SMALL
    assert describe([]) == {"n": 0}
    runs = across_runs([5.0, 1.0, 3.0, None])  # type: ignore[list-item]
    assert runs["runs"] == 3 and runs["median"] == 3.0 and runs["iqr"] == [2.0, 4.0]
