"""The fault matrix's consortium cells, measured on the session's network of four chain nodes
(``scripts/compare_consortium.py``): every cell present and measured, every verdict one a verifier gives,
every time sane, and the network whole again afterwards. Which verdict a cell shows is the measurement, not
asserted here.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest

from registry.chain.network import head
from registry.domain.report import Verdict
from scripts.compare_consortium import HEAL_DEADLINE_S, REVOKED_WINDOW_S, member_cells
from scripts.compare_faults import Cell
from tests.support.network import (
    Consortium,
    RunningNetwork,
    needs_ethereumjs,
)

pytestmark = [needs_ethereumjs, pytest.mark.slow, pytest.mark.network]
FAULTS = {"one_validator_down", "more_validators_down_than_tolerated", "importing_node_down",
          "importing_node_partitioned"}
CERTIFICATES = ("untouched", "revoked_before", "revoked_during")
VERDICTS = {v.value for v in Verdict}


@pytest.fixture(scope="module")
def cells(consortium_members: Consortium) -> Iterator[list[Cell]]:
    yield member_cells(consortium_members.members, consortium_members.issued)


def _longest_watch(network: RunningNetwork) -> float:
    from registry.chain.finality import clique_stall_after

    stall = clique_stall_after(network.network.block_time, len(network.network.nodes))
    return max(60.0, stall + 60) + REVOKED_WINDOW_S + 30  # a deadline, plus one slow round of polls


def test_every_consortium_fault_has_a_measured_cell_saying_what_was_done(cells: list[Cell]) -> None:
    assert {c.fault for c in cells} == FAULTS
    for cell in cells:
        assert cell.measured and cell.path == "chain"
        assert cell.action and "chain node" in cell.action


def test_every_verdict_seen_is_one_a_verifier_gives(cells: list[Cell]) -> None:
    for cell in cells:
        assert set(cell.verdicts) == {f"{phase}:{name}" for phase in ("before_fault", "during_fault", "after_heal")
                                      for name in CERTIFICATES}
        assert set(cell.verdicts.values()) <= VERDICTS, cell.verdicts
        for phase in ("during_fault", "after_heal"):
            for name in CERTIFICATES:
                assert {v for _, v in cell.timeline[phase][name]} <= VERDICTS, (cell.fault, phase, name)


def test_every_time_is_non_negative_in_order_and_within_the_watch(cells: list[Cell],
                                                                  consortium_network: RunningNetwork,
                                                                  ) -> None:
    bounds = {"during_fault": _longest_watch(consortium_network), "after_heal": HEAL_DEADLINE_S + 30}
    for cell in cells:
        for phase, bound in bounds.items():
            for name in CERTIFICATES:
                times = [t for t, _ in cell.timeline[phase][name]]
                assert times and times == sorted(times) and times[0] >= 0 and times[-1] <= bound, (cell.fault, name)
                assert cell.times_s[phase][name] == times[-1]
        for took in ("fault_injection_took", "heal_took", "heal_until_every_node_agreed"):
            assert 0 <= cell.times_s[took] < math.inf, (cell.fault, took)
        assert cell.times_s["heal_took"] <= cell.times_s["heal_until_every_node_agreed"]


def test_each_revocation_during_a_fault_records_sgs_answer_and_whether_jp_saw_it(cells: list[Cell]) -> None:
    for cell in cells:
        record: dict[str, Any] = cell.revocation
        assert isinstance(record["answer"], str) and record["answer"] and record["seconds"] >= 0
        for when in ("seen_during_fault", "seen_after_heal"):
            assert isinstance(record[when], bool)
            after = record[f"{when}_after_s"]
            assert (after is not None) == record[when]
            assert after is None or after >= 0
        for figure in ("on_sgs_chain_node_during_fault_after_s", "jp_still_valid_after_sg_saw_it_s"):
            assert record[figure] is None or record[figure] >= 0, (cell.fault, figure)


def test_the_network_is_whole_again_after_the_cells(cells: list[Cell],
                                                    consortium_network: RunningNetwork,
                                                    ) -> None:
    network = consortium_network.network
    assert all(node.running for node in network.nodes)
    heads = [head(url) for url in network.urls]
    assert all(h is not None for h in heads)
    network.wait_for_block(max(h[0] for h in heads if h is not None), timeout=60)
