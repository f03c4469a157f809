"""Merkle trees: known answers, layout, proofs, and OpenZeppelin's MerkleProof accepting them on chain."""

from __future__ import annotations

import os
import time

import pytest
from eth_hash.auto import keccak as reference_keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.chain.client import ChainClient
from registry.errors import ValidationError
from registry.sealing.merkle import (
    MerkleTree,
    hash_pair,
    keccak,
    merkle_proof,
    merkle_root,
    process_proof,
    verify_proof,
)
from tests.support.consortium import Consortium

A, B, C, D, E = (reference_keccak(bytes([i])) for i in range(5))


def by_hand(x: bytes, y: bytes) -> bytes:
    """OpenZeppelin's commutativeKeccak256, written out with the reference keccak."""
    return reference_keccak(min(x, y) + max(x, y))


def test_the_fast_keccak_is_ethereum_keccak256_not_sha3() -> None:
    assert keccak(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    for data in (b"abc", A + B, os.urandom(47), os.urandom(1000)):
        assert keccak(data) == reference_keccak(data)


def test_one_leaf_is_its_own_root_with_an_empty_proof() -> None:
    tree = MerkleTree([A])
    assert merkle_root([A]) == tree.root == A
    assert merkle_proof([A], 0) == tree.proof_for(A) == []
    assert verify_proof(A, [], A)


def test_pairs_are_hashed_sorted_like_openzeppelin() -> None:
    assert hash_pair(A, B) == hash_pair(B, A) == by_hand(A, B)
    assert merkle_root([A, B]) == merkle_root([B, A]) == by_hand(A, B)


def test_an_odd_last_node_is_promoted_unchanged() -> None:
    assert merkle_root([A, B, C]) == by_hand(by_hand(A, B), C)
    assert merkle_proof([A, B, C], 2) == [by_hand(A, B)]
    assert merkle_proof([A, B, C], 0) == [B, C]


def test_five_leaves_pair_adjacent_nodes_level_by_level() -> None:
    expected = by_hand(by_hand(by_hand(A, B), by_hand(C, D)), E)
    assert merkle_root([A, B, C, D, E]) == expected
    assert expected.hex() == "11aeafa56c9b34805cc86b1c320c9331672c07e600f0a44317051cfa05a0c296"
    assert merkle_proof([A, B, C, D, E], 4) == [by_hand(by_hand(A, B), by_hand(C, D))]
    assert merkle_proof([A, B, C, D, E], 2) == [D, by_hand(A, B), E]


def test_leaf_order_is_kept_so_a_reordered_batch_has_another_root() -> None:
    assert merkle_root([A, B, C]) != merkle_root([C, B, A])


def test_leaves_must_be_present_and_32_bytes() -> None:
    with pytest.raises(ValidationError, match="at least one leaf"):
        MerkleTree([])
    with pytest.raises(ValidationError, match="leaf 1"):
        MerkleTree([A, b"short"])
    with pytest.raises(ValidationError):
        MerkleTree([A + B])  # a 64-byte value is never a leaf


def test_a_malformed_proof_is_refused_and_never_verifies() -> None:
    with pytest.raises(ValidationError, match="proof element 0"):
        process_proof(A, [b"\x00" * 31])
    assert not verify_proof(A, [B[:31]], by_hand(A, B))
    assert not verify_proof(A[:31], [B], by_hand(A, B))
    assert not verify_proof(A, [B], by_hand(A, B)[:31])


def test_the_tree_is_immutable() -> None:
    tree = MerkleTree([A, B])
    with pytest.raises(AttributeError):
        tree._levels = ()
    tree.leaves.append(C)
    assert len(tree) == 2 and tree.root == by_hand(A, B)


def test_proof_for_an_unknown_leaf_raises_and_a_repeated_leaf_is_proved_at_its_first_position() -> None:
    tree = MerkleTree([A, B, A])
    with pytest.raises(KeyError):
        tree.proof_for(C)
    with pytest.raises(IndexError):
        tree.proof(3)
    assert tree.proof_for(A) == tree.proof(0) and A in tree and C not in tree


@settings(max_examples=80, deadline=None)
@given(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=70, unique=True), st.data())
def test_every_proof_leads_to_the_root_and_no_other(leaves: list[bytes], data: st.DataObject) -> None:
    tree = MerkleTree(leaves)
    index = data.draw(st.integers(0, len(leaves) - 1))
    proof = tree.proof(index)
    assert len(proof) <= max(1, len(leaves) - 1).bit_length()
    assert proof == merkle_proof(leaves, index) and tree.proof_for(leaves[index]) == proof
    assert process_proof(leaves[index], proof) == tree.root == merkle_root(leaves)
    assert not verify_proof(os.urandom(32), proof, tree.root)
    if proof:
        position = data.draw(st.integers(0, len(proof) - 1))
        tampered = [*proof[:position], os.urandom(32), *proof[position + 1:]]
        assert not verify_proof(leaves[index], tampered, tree.root)


def test_a_ten_thousand_leaf_batch_builds_and_proves_quickly() -> None:
    leaves = [os.urandom(32) for _ in range(10_000)]
    started = time.perf_counter()
    tree = MerkleTree(leaves)
    proofs = [tree.proof_for(leaf) for leaf in leaves]
    elapsed = time.perf_counter() - started
    assert all(process_proof(leaves[i], proofs[i]) == tree.root for i in (0, 4_999, 9_998, 9_999))
    assert max(len(p) for p in proofs) == 14
    assert elapsed < 2.0, f"10,000-leaf build and proofs took {elapsed:.3f}s"


def test_openzeppelin_merkle_proof_accepts_our_proofs_on_chain(chain: ChainClient, people: Consortium) -> None:
    leaves = [os.urandom(32) for _ in range(37)]
    tree = MerkleTree(leaves)
    chain.anchor(people.sg_issuer, tree.root, len(leaves))
    for index in (0, 1, 18, 35, 36):
        view = chain.inspect(leaves[index], tree.proof(index))
        assert view.root == tree.root and view.anchored
