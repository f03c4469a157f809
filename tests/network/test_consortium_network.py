"""A real consortium network: four EthereumJS chain nodes sealing one Clique chain; SG's and JP's API nodes
each on its own chain node (``scripts/demo_network.py``, step by step).

The scenario runs once for the module (it is one story: kill, rejoin, kill more) and
each test checks one thing it showed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts import demo_network
from scripts.demo_network import (
    Members,
    across_a_partition,
    after_rejoin,
    beyond_tolerance,
    without_sg_chain_node,
)
from tests.support.network import (
    NODES,
    Consortium,
    RunningNetwork,
    needs_ethereumjs,
    processes_of,
)

pytestmark = [needs_ethereumjs, pytest.mark.slow, pytest.mark.network]


@pytest.fixture(scope="module")
def story(consortium_members: Consortium) -> Iterator[dict[str, Any]]:
    """The whole scenario, once, with what each step showed."""
    seen: dict[str, Any] = {"said": list(consortium_members.said)}
    say = seen["said"].append
    members, issued = consortium_members.members, consortium_members.issued
    network = members.network
    head = network.heads()[members.jp_chain_node]
    seen["sealers"] = _sealers(members, first=1, count=head[0] if head else 2 * NODES)  # the chain so far
    try:
        seen["down"] = without_sg_chain_node(members, issued, say)
        seen["left_after_kill"] = processes_of(network.nodes[demo_network.SG_CHAIN_NODE].directory)
        seen["rejoined"] = after_rejoin(members, issued, say)
        seen["heads_after_rejoin"] = network.heads()
        seen["partition"] = across_a_partition(members, issued, say)
        seen["beyond"] = beyond_tolerance(members, issued, say)
    except BaseException:
        network.make_whole()  # a step that failed half-way leaves no node down, no link cut, for the next module
        raise
    yield seen


def _sealers(members: Members, first: int, count: int) -> list[str]:
    return [str(sealer) for sealer in members.network.sealers_of(members.jp_chain_node, range(first, first + count))]


def test_the_network_seals_its_first_block_within_a_minute(consortium_network: RunningNetwork,
                                                           ) -> None:
    assert consortium_network.started_in < 60


def test_blocks_are_sealed_in_turn_by_every_member_of_the_network(story: dict[str, Any],
                                                                  consortium_network: RunningNetwork,
                                                                  ) -> None:
    members = {m.sealer for m in consortium_network.network.members}
    assert set(story["sealers"]) == members
    assert all(story["sealers"][i] != story["sealers"][i + 1] for i in range(len(story["sealers"]) - 1))


def test_with_sg_chain_node_killed_blocks_go_on_and_jp_verifies_utilises_and_sees_the_revocation(
        story: dict[str, Any]) -> None:
    down = story["down"]
    assert down["blocks_went_on"][1] > down["blocks_went_on"][0]
    assert down["verdict"] == "VALID"
    assert down["utilised"] is True  # settled on chain while SG's chain node was down
    assert down["revoked"] == "REVOKED"


def test_a_killed_chain_node_leaves_no_process_and_catches_up_when_it_rejoins(story: dict[str, Any]) -> None:
    assert story["left_after_kill"] == []
    heads = story["heads_after_rejoin"]
    assert all(h is not None and h[0] >= story["rejoined"]["caught_up_to"] for h in heads)
    assert story["rejoined"]["remaining_at_sg"][1] == "700"  # 1200 certified, 500 drawn by JP meanwhile


def test_cut_off_from_the_others_sg_settles_nothing_on_its_own_fork_and_answers_unavailable(
        story: dict[str, Any]) -> None:
    cut = story["partition"]
    # SG's lone sealer built a block of its own after the cut (the others' blocks in flight may come first)
    assert cut["fork_point"] < cut["sg_fork_block"][0] <= cut["fork_point"] + 3
    assert cut["fork_block_sealer"] == cut["sg_sealer"]
    assert cut["sg_settled_during"] is False  # one block on a fork is not the Clique depth
    assert cut["sg_during"] == "UNAVAILABLE"  # its chain stalled: never a VALID from a state it cannot confirm
    assert cut["jp_during"] == "VALID"  # the revocation is not on the chain JP can reach: it is not recorded yet


def test_when_the_cut_heals_sg_fork_is_reorganised_away_and_its_writes_settle_on_the_majority_chain(
        story: dict[str, Any]) -> None:
    cut = story["partition"]
    assert len(cut["canonical_at_fork_height"]) == 1  # every node agrees on the block at that height
    assert cut["canonical_at_fork_height"] != [cut["sg_fork_block"][1]]  # and it is not SG's fork block
    assert cut["jp_after"] == "REVOKED"  # SG's revocation, made while cut off, reached the chain
    assert cut["fresh_at_jp"] == "VALID"  # so did the certificate SG issued while cut off
    assert cut["remaining_at_sg"][1] == "600"  # and SG sees JP's utilisation made meanwhile, drawn once


def test_beyond_what_clique_tolerates_jp_answers_unavailable_never_valid_and_recovers(story: dict[str, Any]) -> None:
    beyond = story["beyond"]
    assert beyond["stalled"] == "UNAVAILABLE"
    assert "stalled" in beyond["summary"]
    assert beyond["verdicts_while_down"][-1] == "UNAVAILABLE"
    assert beyond["back"] == "VALID"


def test_the_network_directory_holds_no_key_outside_the_members_key_files(consortium_network: RunningNetwork,
                                                                          ) -> None:
    directory: Path = consortium_network.network.directory
    description = (directory / "network.json").read_text()
    for node in consortium_network.network.nodes:
        for secret in ("nodekey", "signer.key"):
            key = (node.directory / secret).read_text().strip()
            assert key not in description
            assert key not in (node.directory / "node.log").read_text()
