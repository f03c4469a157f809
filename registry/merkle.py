"""Merkle trees that OpenZeppelin's ``MerkleProof`` accepts.

Parents are ``keccak256(min(a, b) ‖ max(a, b))`` (sorted pairs, as
``Hashes.commutativeKeccak256``), so a proof is just the list of siblings from
leaf to root, with no left/right flags. Layout: leaves in the given order,
adjacent pairs hashed level by level, an odd last node promoted unchanged. A tree
of one leaf has that leaf as root and an empty proof.

Leaves must be 32-byte values that are themselves hashes with a domain tag (the
registry's document hashes are): never the raw 64-byte concatenation of two
nodes, which could pass for an inner node (see the WARNING in ``MerkleProof.sol``).
"""

from __future__ import annotations

from collections.abc import Sequence

from registry.errors import ValidationError

try:  # the C implementation is about six times faster than eth-hash's default backend
    from sha3 import keccak_256 as _keccak_256

    def keccak(data: bytes) -> bytes:
        """keccak256 of *data*."""
        return _keccak_256(data).digest()  # type: ignore[no-any-return]
except ImportError:  # pragma: no cover - safe-pysha3 is a declared dependency
    from eth_hash.auto import keccak


def hash_pair(a: bytes, b: bytes) -> bytes:
    """OpenZeppelin's commutative keccak256 of two nodes."""
    return keccak(a + b) if a < b else keccak(b + a)


def _check(leaves: Sequence[bytes]) -> None:
    if not leaves:
        raise ValidationError("a Merkle tree needs at least one leaf")
    for leaf in leaves:
        if len(leaf) != 32:
            raise ValidationError("Merkle leaves must be 32 bytes")


class MerkleTree:
    """A tree built once over a batch: O(n) to build, O(log n) per proof."""

    __slots__ = ("_index", "_levels")

    def __init__(self, leaves: Sequence[bytes]) -> None:
        _check(leaves)
        levels = [list(leaves)]
        while len(levels[-1]) > 1:
            below = levels[-1]
            above = [hash_pair(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
            if len(below) % 2:
                above.append(below[-1])
            levels.append(above)
        self._levels = levels
        self._index = {leaf: i for i, leaf in enumerate(leaves)}

    @property
    def root(self) -> bytes:
        """The Merkle root."""
        return self._levels[-1][0]

    @property
    def leaves(self) -> list[bytes]:
        """The leaves, in tree order."""
        return list(self._levels[0])

    def proof(self, index: int) -> list[bytes]:
        """Siblings from leaf *index* up to the root."""
        if not 0 <= index < len(self._levels[0]):
            raise IndexError(index)
        path = []
        for level in self._levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                path.append(level[sibling])
            index //= 2
        return path

    def proof_for(self, leaf: bytes) -> list[bytes]:
        """Proof of *leaf*.

        Raises:
            KeyError: if *leaf* is not in the tree.
        """
        return self.proof(self._index[leaf])


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """Root of the tree over *leaves*."""
    return MerkleTree(leaves).root


def merkle_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """Proof for ``leaves[index]``."""
    return MerkleTree(leaves).proof(index)


def process_proof(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root *proof* leads to from *leaf* (``MerkleProof.processProof``)."""
    node = leaf
    for sibling in proof:
        node = hash_pair(node, sibling)
    return node


def verify_proof(leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """True when *proof* leads from *leaf* to *root*."""
    return process_proof(leaf, proof) == root
