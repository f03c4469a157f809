"""Random bytes served from per-thread blocks (:mod:`registry.entropy`): never the same bytes twice,
not across threads, not across a fork, and nothing handed out kept behind in the block."""

from __future__ import annotations

import os
import threading
import uuid

import pytest

from registry import entropy
from registry.entropy import BLOCK, DIRECT, random_bytes, random_uuid


def test_draws_have_their_length_and_never_repeat_across_many_blocks() -> None:
    draws = [random_bytes(n) for _ in range(3 * BLOCK // 8) for n in (12, 16, 32)]
    assert [len(d) for d in draws[:3]] == [12, 16, 32]
    assert len(set(draws)) == len(draws)


def test_threads_drawing_at_once_never_get_the_same_bytes() -> None:
    found: list[list[bytes]] = [[] for _ in range(8)]
    start = threading.Barrier(8)

    def draw(i: int) -> None:
        start.wait()
        found[i] = [random_bytes(16) for _ in range(2 * BLOCK // 16)]

    threads = [threading.Thread(target=draw, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [d for part in found for d in part]
    assert len(set(every)) == len(every) == 8 * 2 * BLOCK // 16


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_does_not_hand_out_what_its_parent_will() -> None:
    random_bytes(12)  # the parent's block now holds bytes it has not handed out
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child)
        os.write(write, random_bytes(12) + random_bytes(32))
        os._exit(0)
    os.close(write)
    from_child = b""
    while chunk := os.read(read, 64):
        from_child += chunk
    os.close(read)
    os.waitpid(child, 0)
    assert len(from_child) == 44
    assert from_child != random_bytes(12) + random_bytes(32)


def test_what_was_handed_out_is_wiped_from_the_block() -> None:
    drawn = random_bytes(32)
    block = entropy._block
    assert drawn not in bytes(block.data)
    assert bytes(block.data[block.offset - 32:block.offset]) == bytes(32)


def test_large_draws_come_from_the_kernel_directly() -> None:
    block = entropy._block
    before = (bytes(block.data), block.offset)
    assert len(random_bytes(DIRECT + 1)) == DIRECT + 1
    assert (bytes(block.data), block.offset) == before


def test_a_random_uuid_is_version_4_of_the_rfc_variant() -> None:
    ids = {random_uuid() for _ in range(1000)}
    assert len(ids) == 1000
    assert {i.version for i in ids} == {4}
    assert {i.variant for i in ids} == {uuid.RFC_4122}
