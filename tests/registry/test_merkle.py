"""Merkle trees: known answers, and proofs OpenZeppelin's MerkleProof accepts on chain."""

from __future__ import annotations

import os

import pytest
from eth_hash.auto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.chain import ChainClient
from registry.errors import ValidationError
from registry.merkle import MerkleTree, hash_pair, merkle_proof, merkle_root, process_proof, verify_proof
from tests.conftest import Consortium

A, B, C = (keccak(bytes([i])) for i in range(3))


def test_one_leaf_is_its_own_root_with_an_empty_proof() -> None:
    assert merkle_root([A]) == A and merkle_proof([A], 0) == []


def test_pairs_are_hashed_sorted_like_openzeppelin() -> None:
    low, high = sorted([A, B])
    assert hash_pair(A, B) == hash_pair(B, A) == keccak(low + high)
    assert merkle_root([A, B]) == keccak(low + high)


def test_an_odd_last_node_is_promoted_unchanged() -> None:
    assert merkle_root([A, B, C]) == hash_pair(hash_pair(A, B), C)
    assert merkle_proof([A, B, C], 2) == [hash_pair(A, B)]


def test_leaves_must_be_32_bytes_and_present() -> None:
    with pytest.raises(ValidationError):
        MerkleTree([])
    with pytest.raises(ValidationError):
        MerkleTree([b"short"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=70, unique=True), st.data())
def test_every_proof_leads_to_the_root_and_no_other(leaves: list[bytes], data: st.DataObject) -> None:
    tree = MerkleTree(leaves)
    index = data.draw(st.integers(0, len(leaves) - 1))
    proof = tree.proof(index)
    assert verify_proof(leaves[index], proof, tree.root)
    assert tree.proof_for(leaves[index]) == proof
    assert not verify_proof(os.urandom(32), proof, tree.root)


def test_a_ten_thousand_leaf_batch_builds_and_proves() -> None:
    leaves = [os.urandom(32) for _ in range(10_000)]
    tree = MerkleTree(leaves)
    assert all(process_proof(leaves[i], tree.proof(i)) == tree.root for i in (0, 4_999, 9_999))


def test_openzeppelin_merkle_proof_accepts_our_proofs_on_chain(chain: ChainClient, people: Consortium) -> None:
    leaves = [os.urandom(32) for _ in range(37)]
    tree = MerkleTree(leaves)
    chain.anchor(people.sg_issuer, tree.root, len(leaves))
    for index in (0, 1, 18, 35, 36):
        assert chain.inspect(leaves[index], tree.proof(index)).root == tree.root
        assert chain.inspect(leaves[index], tree.proof(index)).anchored
