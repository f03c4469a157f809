"""The demo consortium sets itself up on a chain that settles at a depth (Clique, QBFT), not only on Anvil.

There every governance write answers "pending" first: the set-up must wait for each to settle before the
next step signs as the account it admitted, never stop half-way with a ``WritePending``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.serve import set_up_demo
from registry.chain.nodes import NodeProcess
from registry.pipelines.anchoring import BatchPolicy
from registry.runtime import NodeConfig, open_node
from registry.storage.writelog import WriteState

DEPTH = 3


@pytest.fixture
def timed_anvil(tmp_path: Path) -> Iterator[NodeProcess]:
    """An Anvil sealing a block every 0.25 s, as a consortium chain does on its own schedule."""
    anvil = NodeProcess(kind="anvil", block_time=0.25)
    anvil.start()
    yield anvil
    anvil.stop()


def test_demo_set_up_waits_for_each_write_to_settle_at_the_confirmation_depth(
        timed_anvil: NodeProcess, tmp_path: Path) -> None:
    node = open_node(NodeConfig(data_dir=tmp_path / "node", rpc_url=timed_anvil.url,
                                batch=BatchPolicy(max_size=16, max_wait=0.05, confirmations=DEPTH)))
    try:
        keys = json.loads(set_up_demo(node, "http://testserver").read_text())
        chain = node.context.chain
        assert chain.authority_of("SG") == keys["authority"]["account"]
        assert chain.authority_of("JP") == keys["authority_jp"]["account"]
        assert chain.is_authorised(keys["issuer"]["account"])
        assert chain.issuer_country(keys["issuer"]["account"]) == "SG"
        left = {state: count for state, count in node.governance.outbox.log.counts().items()
                if count and state is not WriteState.SETTLED}
        assert not left, f"every write settled, none left: {left}"
    finally:
        node.close()
