"""The chain head is read straight through the provider: what a node answers is checked before it is believed."""

from __future__ import annotations

from typing import Any

import pytest

from registry.chain.client import ChainClient
from registry.chain.transport import _quantity
from registry.errors import ChainError


@pytest.mark.parametrize("answer, head", [({"result": "0x0"}, 0), ({"result": "0x1f"}, 31), ({"result": 7}, 7)])
def test_a_block_number_is_read_from_a_hex_quantity_or_an_in_process_int(answer: dict[str, Any], head: int) -> None:
    assert _quantity(answer) == head


@pytest.mark.parametrize("answer", [
    {"error": {"code": -32000, "message": "header not found"}}, {"result": None}, {"result": "12"},
    {"result": "0x"}, {"result": "0xzz"}, {"result": -1}, {"result": True}, {"result": "0x" + "f" * 80}, [], "0x10",
])
def test_an_error_or_anything_but_a_quantity_is_a_chain_error_never_a_head(answer: Any) -> None:
    with pytest.raises(ChainError):
        _quantity(answer)


def test_a_lying_endpoint_answering_garbage_for_the_head_gives_a_chain_error(monkeypatch: pytest.MonkeyPatch) -> None:
    client = ChainClient.in_process()
    assert client.block_number() >= 0
    monkeypatch.setattr(client.w3.provider, "make_request", lambda method, params: {"result": "not a block"})
    with pytest.raises(ChainError, match="not a block number"):
        client.block_number()
