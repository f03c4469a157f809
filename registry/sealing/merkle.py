"""Merkle trees that OpenZeppelin v5's ``MerkleProof`` accepts.

Hashing
    A parent is ``keccak256(min(a, b) ‖ max(a, b))``: the two 32-byte children
    sorted as unsigned big-endian numbers (bytewise) and concatenated. That is
    ``Hashes.commutativeKeccak256``, the step ``MerkleProof.processProof`` and
    ``MerkleProof.verify`` take, so a proof is just the list of siblings from the
    leaf up to the root, with no left/right flags.

Layout (fixed; the roots the registry anchors depend on it)
    Leaves stay in the order given (no sorting, no de-duplication). Each level
    hashes adjacent pairs ``(0, 1), (2, 3), …``; when a level has an odd number of
    nodes the last one is promoted unchanged to the next level (it is not hashed
    with itself). A tree of one leaf has that leaf as its root and an empty proof.
    Example, five leaves ``A…E``::

        root = H(H(H(A, B), H(C, D)), E)        proof(E) = [H(H(A, B), H(C, D))]

Leaves
    Every leaf is a 32-byte value that is itself a hash of a longer, tagged
    preimage (the registry's document hashes are ``keccak256("CoO-document-v1" ‖ …)``,
    47 bytes). Never make a leaf the keccak of a 64-byte string: such a leaf could
    be reinterpreted as an inner node, the second-preimage trap in the WARNING of
    OpenZeppelin's ``MerkleProof.sol``.

Cost: building is O(n) hashes (n - 1 exactly); a proof is O(log n) lookups.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

from registry.errors import ValidationError

try:  # safe-pysha3's C Keccak is about ten times faster than eth-hash's pycryptodome backend
    from sha3 import keccak_256 as _keccak_256  # type: ignore[import-untyped]

    def keccak(data: bytes) -> bytes:
        """Return keccak256 of *data* (Ethereum's Keccak, not NIST SHA3-256)."""
        return _keccak_256(data).digest()  # type: ignore[no-any-return]

    def keccak_each(preimages: Iterable[bytes]) -> list[bytes]:
        """:func:`keccak` of each of *preimages*, in order, iterated in C (no Python call per hash)."""
        return list(map(_digest, map(_keccak_256, preimages)))
except ImportError:  # pragma: no cover - safe-pysha3 is a declared dependency
    from eth_hash.auto import keccak as _eth_hash_keccak

    def keccak(data: bytes) -> bytes:
        """Return keccak256 of *data* (Ethereum's Keccak, not NIST SHA3-256)."""
        return _eth_hash_keccak(data)

    def keccak_each(preimages: Iterable[bytes]) -> list[bytes]:
        """:func:`keccak` of each of *preimages*, in order."""
        return [_eth_hash_keccak(preimage) for preimage in preimages]

_digest = operator.methodcaller("digest")

NODE_SIZE = 32
"""Bytes in every leaf and inner node."""


def hash_pair(a: bytes, b: bytes) -> bytes:
    """OpenZeppelin's ``Hashes.commutativeKeccak256`` of two nodes.

    Args:
        a: one 32-byte node.
        b: the other 32-byte node.

    Returns:
        ``keccak256(min(a, b) ‖ max(a, b))``.
    """
    return keccak(a + b) if a < b else keccak(b + a)


def _level_above(level: Sequence[bytes]) -> list[bytes]:
    """The next level up: adjacent pairs ``(0, 1), (2, 3), …`` hashed (as :func:`hash_pair`), an odd last node
    promoted unchanged."""
    above = keccak_each([a + b if a < b else b + a for a, b in zip(level[0::2], level[1::2], strict=False)])
    if len(level) % 2:
        above.append(level[-1])
    return above


def _check_node(node: bytes, what: str) -> None:
    if not isinstance(node, bytes) or len(node) != NODE_SIZE:
        raise ValidationError(f"{what} must be {NODE_SIZE} bytes")


class MerkleTree:
    """An immutable tree built once over a batch: O(n) to build, O(log n) per proof.

    Args:
        leaves: the 32-byte leaves, in tree order (at least one).

    Raises:
        ValidationError: no leaves, or a leaf that is not 32 bytes.
    """

    __slots__ = ("_index", "_levels")
    _levels: tuple[tuple[bytes, ...], ...]
    _index: dict[bytes, int]

    def __init__(self, leaves: Sequence[bytes]) -> None:
        if not leaves:
            raise ValidationError("a Merkle tree needs at least one leaf")
        for position, leaf in enumerate(leaves):
            _check_node(leaf, f"Merkle leaf {position}")
        level = tuple(leaves)
        levels = [level]
        while len(level) > 1:
            level = tuple(_level_above(level))
            levels.append(level)
        index: dict[bytes, int] = {}
        for position, leaf in enumerate(levels[0]):
            index.setdefault(leaf, position)  # a repeated leaf is proved at its first position
        object.__setattr__(self, "_levels", tuple(levels))
        object.__setattr__(self, "_index", index)

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __len__(self) -> int:
        return len(self._levels[0])

    def __contains__(self, leaf: object) -> bool:
        return leaf in self._index

    def __repr__(self) -> str:
        return f"MerkleTree(leaves={len(self)}, root=0x{self.root.hex()})"

    @property
    def root(self) -> bytes:
        """The 32-byte Merkle root."""
        return self._levels[-1][0]

    @property
    def leaves(self) -> list[bytes]:
        """A copy of the leaves, in tree order."""
        return list(self._levels[0])

    def proof(self, index: int) -> list[bytes]:
        """Siblings from leaf *index* up to the root, as ``MerkleProof.verify`` takes them.

        Args:
            index: position of the leaf, ``0 <= index < len(self)``.

        Returns:
            The proof; empty for a one-leaf tree.

        Raises:
            IndexError: *index* out of range.
        """
        if not 0 <= index < len(self._levels[0]):
            raise IndexError(f"leaf index {index} out of range for {len(self)} leaves")
        path = []
        for level in self._levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):  # else: this node is the promoted odd one, no sibling here
                path.append(level[sibling])
            index //= 2
        return path

    def proof_for(self, leaf: bytes) -> list[bytes]:
        """Proof of *leaf* (of its first position if it occurs more than once).

        Args:
            leaf: a 32-byte leaf of this tree.

        Returns:
            The proof from *leaf* to :attr:`root`.

        Raises:
            KeyError: *leaf* is not in the tree.
        """
        return self.proof(self._index[leaf])


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """Root of the tree over *leaves* (layout in the module docstring).

    Args:
        leaves: 32-byte leaves, in order; at least one.

    Returns:
        The 32-byte root, that of :class:`MerkleTree` (computed level by level without keeping the
        levels or the index a tree keeps for its proofs).

    Raises:
        ValidationError: no leaves, or a leaf that is not 32 bytes.
    """
    if not leaves or not all(type(leaf) is bytes and len(leaf) == NODE_SIZE for leaf in leaves):
        return MerkleTree(leaves).root  # refuses it, naming the first bad leaf (or a subclass of bytes: kept)
    level: Sequence[bytes] = leaves
    while len(level) > 1:
        level = _level_above(level)
    return level[0]


def merkle_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """Proof for ``leaves[index]``; build a :class:`MerkleTree` instead when proving many.

    Args:
        leaves: 32-byte leaves, in order; at least one.
        index: position of the leaf to prove.

    Returns:
        The sibling path from that leaf to the root.

    Raises:
        ValidationError: no leaves, or a leaf that is not 32 bytes.
        IndexError: *index* out of range.
    """
    return MerkleTree(leaves).proof(index)


def process_proof(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root *proof* leads to from *leaf*, exactly as ``MerkleProof.processProof``.

    Args:
        leaf: the 32-byte leaf.
        proof: 32-byte siblings, leaf level first.

    Returns:
        The computed root (*leaf* itself for an empty proof).

    Raises:
        ValidationError: *leaf* or a proof element is not 32 bytes.
    """
    _check_node(leaf, "Merkle leaf")
    node = leaf
    for position, sibling in enumerate(proof):
        _check_node(sibling, f"Merkle proof element {position}")
        node = hash_pair(node, sibling)
    return node


def verify_proof(leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """Whether *proof* leads from *leaf* to *root* (``MerkleProof.verify``).

    Args:
        leaf: the 32-byte leaf.
        proof: 32-byte siblings, leaf level first.
        root: the expected 32-byte root.

    Returns:
        True when the computed root equals *root*; False otherwise, including for
        a malformed (wrong-length) leaf, proof element or root.
    """
    try:
        return process_proof(leaf, proof) == root and len(root) == NODE_SIZE
    except ValidationError:
        return False
