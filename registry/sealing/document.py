"""Sealing: salted field leaves, the document hash, and selective disclosure.

Fields
    A certificate (its JSON form: objects, lists, strings, booleans, integers up
    to 2^53, nulls; no floats) is flattened into one field per scalar, named by
    path: ``exporter.name``, ``goods[0].hs_code``. The index is in the path, so
    reordering a list changes the hash; an empty object or list (``{}``/``[]``) and
    a null are fields too, so nothing can be added or dropped silently. Object keys
    must be non-empty and free of ``.``, ``[``, ``]`` and NUL, so paths are
    unambiguous (``{"a.b": 1}`` cannot pose as ``{"a": {"b": 1}}``) and NUL-free.

Leaves and the document hash (each field has a fresh 256-bit random salt, so a
low-entropy value such as an HS code cannot be brute-forced from its leaf, and
destroying the salts unlinks the hash from any guess)::

    leaf          = keccak256(salt ‖ utf8(path) ‖ 0x00 ‖ rfc8785(value))
    fields_root   = merkle_root(sorted(leaves))          # registry.merkle layout
    document_hash = keccak256(b"CoO-document-v1" ‖ fields_root)

Why the domain tag
    Document hashes are the leaves of the batch tree anchored on chain, whose inner
    nodes are keccak256 of 64 bytes. Untagged, a document hash would be too (the
    top of the fields tree): a "document" made only of two withheld leaves equal
    to two document hashes of a batch would hash to a batch inner node, and the
    rest of the batch proof would carry it to an anchored root. Tagged, the
    preimage is 15 + 32 = 47 bytes, never 64, so no document hash is an inner node
    (the second-preimage WARNING of OpenZeppelin's ``MerkleProof.sol``).

Selective disclosure
    :func:`disclose` moves fields to ``withheld`` (path → leaf hash) and drops
    their salts; :func:`withhold` does the same, given the fields to withhold
    rather than those to keep. Both drop the zero-knowledge commitment's opening (the
    confidential figures and the commitment's salt) and keep the commitment itself.
    In ``certificate`` a withheld key disappears, an object or list left empty by
    withholding disappears, and a list element
    withheld in full becomes ``null`` so later indices keep their places. This
    shape is canonical: :func:`recompute_document_hash` rebuilds it from the
    disclosed fields and withheld paths and refuses any other. WARNING: only
    disclosed values are authenticated. Withheld paths are labels a holder could
    rename, and withheld leaves could be merged into one inner node of the fields
    tree: a verifier must draw no conclusion from them.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from registry.errors import SealedDocumentError, ValidationError
from registry.sealing.fields import _HEX32, SEALED_VERSION, Sealed, assemble, document_hash_of, flatten, leaf_hash
from registry.sealing.merkle import MerkleTree, process_proof
from registry.sealing.terms import SealedTerms, Terms
from registry.types import hex32, parse_hex32
from registry.zk.commitment import SealedCommitment


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BatchProof(_Frozen):
    """Proof that a document hash is a leaf of a batch: sibling path, leaf level first."""

    batch_root: str = Field(pattern=_HEX32)
    path: list[Annotated[str, Field(pattern=_HEX32)]] = Field(default_factory=list, max_length=64)


class AnchorRef(_Frozen):
    """Where the batch root is anchored: chain, certificate-registry contract, root."""

    chain_id: int = Field(ge=1)
    contract: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")
    batch_root: str = Field(pattern=_HEX32)


class SealedDocument(_Frozen):
    """What the exporter hands over (``coo-sealed/1``).

    Salts and withheld leaves are plain strings: a malformed one is reported by the
    integrity check, naming its path, rather than refused at parsing. ``terms`` (when
    the issuer committed them) are always disclosed: they are what importing Customs
    needs to record a use on chain. ``zk`` is the zero-knowledge commitment: its ``opening`` (the
    confidential figures) is the holder's private part, present in the full document only.
    """

    version: Literal["coo-sealed/1"] = SEALED_VERSION
    certificate: dict[str, Any]
    salts: dict[str, str] = Field(default_factory=dict)
    withheld: dict[str, str] = Field(default_factory=dict)
    terms: SealedTerms | None = None
    zk: SealedCommitment | None = None
    document_hash: str = Field(pattern=_HEX32)
    proof: BatchProof
    anchor: AnchorRef


# Complexity (radon C): the anchor-or-(chain_id, contract) argument rule and the document's three self-checks
def build_sealed_document(
    certificate: Mapping[str, Any], sealed: Sealed, batch_root: bytes, proof: Sequence[bytes],
    anchor: AnchorRef | None = None, *, chain_id: int | None = None, contract: str | None = None,
) -> SealedDocument:
    """Assemble the full (nothing withheld) sealed document, and check it.

    Args:
        certificate: the certificate exactly as it was sealed.
        sealed: the result of :func:`seal` (only ``document_hash`` and ``salts`` are used).
        batch_root: root of the batch the document hash was anchored in.
        proof: path from the document hash to *batch_root*.
        anchor: where the root is anchored; or give *chain_id* and *contract* instead.
        chain_id: chain id, when *anchor* is not given.
        contract: certificate-registry address, when *anchor* is not given.

    Returns:
        The sealed document.

    Raises:
        TypeError: neither or both of *anchor* and (*chain_id*, *contract*).
        SealedDocumentError: certificate and salts do not give ``sealed.document_hash``,
            the proof misses *batch_root*, or the anchor names another root.
    """
    if anchor is None:
        if chain_id is None or contract is None:
            raise TypeError("build_sealed_document needs anchor, or chain_id and contract")
        anchor = AnchorRef(chain_id=chain_id, contract=contract, batch_root=hex32(batch_root))
    elif chain_id is not None or contract is not None:
        raise TypeError("build_sealed_document takes anchor or chain_id and contract, not both")
    document = SealedDocument(
        certificate=copy.deepcopy(dict(certificate)),
        salts={path: "0x" + salt.hex() for path, salt in sealed.salts.items()},
        terms=sealed.terms,
        zk=sealed.zk,
        document_hash=hex32(sealed.document_hash),
        proof=BatchProof(batch_root=hex32(batch_root), path=[hex32(p) for p in proof]),
        anchor=anchor,
    )
    if recompute_document_hash(document) != sealed.document_hash:
        raise SealedDocumentError("certificate: does not hash to the sealed document hash (changed after sealing?)")
    if process_proof(sealed.document_hash, proof) != batch_root:
        raise SealedDocumentError("proof: does not lead from the document hash to the batch root")
    if parse_hex32(anchor.batch_root) != batch_root:
        raise SealedDocumentError("anchor.batch_root: not the batch root the proof leads to")
    return document


def disclose(document: SealedDocument, keep: Iterable[str]) -> SealedDocument:
    """Withhold every field not under one of the *keep* paths.

    ``goods`` keeps every goods field, ``goods[1]`` the second item, ``exporter.name``
    one value. Fields already withheld stay withheld.

    Args:
        document: a full or already selectively disclosed sealed document.
        keep: paths or path prefixes to keep disclosed.

    Returns:
        A new document: withheld values removed from ``certificate`` (shape in the
        module docstring), their salts dropped, their leaf hashes in ``withheld``, and
        the commitment's opening dropped.

    Raises:
        SealedDocumentError: *document* itself is malformed (see :func:`recompute_document_hash`).
    """
    prefixes = [keep] if isinstance(keep, str) else list(keep)
    disclosed, withheld = _split(document)
    salts: dict[str, str] = {}
    kept: list[tuple[str, Any]] = []
    new_withheld = {path: hex32(leaf) for path, leaf in withheld.items()}
    for path, value, salt in disclosed:
        if any(_under(path, k) for k in prefixes):
            kept.append((path, value))
            salts[path] = document.salts[path]
        else:
            new_withheld[path] = hex32(leaf_hash(salt, path, value))
    certificate = assemble(kept, new_withheld)
    zk = document.zk.public() if document.zk is not None else None
    return document.model_copy(update={"certificate": certificate, "salts": salts, "withheld": new_withheld,
                                       "zk": zk})


def withhold(document: SealedDocument, paths: Iterable[str]) -> SealedDocument:
    """Withhold the fields under each of *paths*, disclosing the rest: the complement of :func:`disclose`.

    Paths and prefixes as :func:`disclose`: ``goods`` withholds every goods field,
    ``goods[1]`` the second item, ``exporter.address`` the exporter's address. A path
    naming a field already withheld is fine (it stays withheld). Withholding every
    disclosed field is refused: such a document says nothing its document hash does not,
    and asking for it is more likely a slip than a wish (share the hash for a status-only
    check instead). The terms are not certificate fields and cannot be withheld: they are
    what importing Customs needs to record a use on chain.

    Args:
        document: a full or already selectively disclosed sealed document.
        paths: paths or path prefixes to withhold (at least one).

    Returns:
        A new document as :func:`disclose` makes it: no value and no salt of a withheld field.

    Raises:
        ValidationError: naming ``withhold[i]`` and the path: no path given, a path that names
            no field of the certificate, or nothing left to disclose.
        SealedDocumentError: *document* itself is malformed (see :func:`recompute_document_hash`).
    """
    wanted = [paths] if isinstance(paths, str) else list(paths)
    disclosed, withheld = _split(document)
    _check_withheld_paths(wanted, [path for path, _, _ in disclosed] + list(withheld))
    keep = [path for path, _, _ in disclosed if not any(_under(path, w) for w in wanted)]
    if not keep:
        raise ValidationError("withhold: that withholds every field, leaving nothing to disclose; share the document "
                              "hash for a status-only check instead",
                              [{"loc": "withhold", "msg": "nothing left to disclose"}])
    return disclose(document, keep)


def _check_withheld_paths(wanted: Sequence[str], known: Sequence[str]) -> None:
    """At least one path, and each names a field (disclosed or withheld) of the document."""
    if not wanted:
        raise ValidationError("withhold: name at least one path to withhold",
                              [{"loc": "withhold", "msg": "no path given"}])
    for i, path in enumerate(wanted):
        if not any(_under(field, path) for field in known):
            raise ValidationError(f"withhold[{i}]: {path!r} names no field of this certificate",
                                  [{"loc": f"withhold[{i}]", "msg": f"{path!r} names no field of this certificate"}])


def _under(path: str, prefix: str) -> bool:
    """Whether field *path* is *prefix* itself or inside it (``goods[1]`` holds ``goods[1].hs_code``)."""
    return path == prefix or path.startswith((prefix + ".", prefix + "["))


def recompute_document_hash(document: SealedDocument) -> bytes:
    """Recompute the document hash from disclosed values + salts and withheld leaves.

    Args:
        document: a full or selectively disclosed sealed document.

    Returns:
        The 32-byte document hash those fields give.

    Raises:
        SealedDocumentError: naming the path: a disclosed field lacks its salt, a salt
            or withheld leaf is not 32-byte hex, a path is both disclosed and withheld
            or is invalid, a salt has no field, or the certificate's shape is not the
            one its fields give (a stray ``null`` or empty container).
    """
    return document_hash_of(document_leaves(document))


def document_leaves(document: SealedDocument) -> list[bytes]:
    """Every leaf of the document's field tree: disclosed, withheld, the terms leaf and the commitment leaf.

    A full document (nothing withheld) whose every field has a well-formed salt and which
    has no other salt takes one pass over its fields (:func:`_full_document_leaves`); any
    other, or one with a fault, takes the general path, which names the fault. The two give
    the same leaves and the same errors (a property test in ``tests/registry/sealing``).

    Raises:
        SealedDocumentError: as :func:`recompute_document_hash`.
    """
    fields = _full_document_leaves(document)
    if fields is None:
        disclosed, withheld = _split(document)
        fields = [leaf_hash(salt, path, value) for path, value, salt in disclosed]
    else:
        withheld = {}
    if document.terms is not None:
        fields.append(document.terms.leaf())
    if document.zk is not None:
        fields.append(_commitment_leaf(document.zk))
    return [*fields, *withheld.values()]


def _full_document_leaves(document: SealedDocument) -> list[bytes] | None:
    """The field leaves of a regular full document in one pass, or None for the general path to judge.

    Regular: something to seal, nothing withheld, a 32-byte hex salt for every field and no other
    salt. Then the general path's shape check cannot fail (the certificate is the tree its own
    fields assemble into: no placeholder, no gap, no conflict), so it is skipped.
    """
    if document.withheld or not document.certificate:
        return None
    salts = document.salts
    leaves: list[bytes] = []
    try:
        for path, value in flatten(document.certificate):
            text = salts.get(path)
            if text is None:
                return None
            leaves.append(leaf_hash(parse_hex32(text), path, value))
    except (SealedDocumentError, ValueError, TypeError):
        return None
    return leaves if len(leaves) == len(salts) else None  # paths are unique: more salts means a stray one


def _commitment_leaf(zk: SealedCommitment) -> bytes:
    try:
        return zk.leaf()
    except ValueError:
        raise SealedDocumentError("zk.commitment: not a 32-byte hex commitment") from None


def commitment_claim(document: SealedDocument) -> tuple[SealedCommitment, list[bytes]]:
    """The commitment and the proof from its leaf to the field root (what a proof bundle carries).

    Raises:
        SealedDocumentError: the document carries no commitment, or is malformed.
    """
    if document.zk is None:
        raise SealedDocumentError("zk: this certificate was sealed without confidential figures, so without a "
                                  "commitment; nothing can be proven about it in zero knowledge")
    tree = MerkleTree(sorted(document_leaves(document)))
    return document.zk, tree.proof_for(_commitment_leaf(document.zk))


def terms_claim(document: SealedDocument) -> tuple[Terms, bytes, list[bytes]]:
    """The committed terms, their salt, and the proof from the terms leaf to the field root.

    Raises:
        SealedDocumentError: the document carries no terms, or is malformed.
    """
    if document.terms is None:
        raise SealedDocumentError("terms: this certificate was sealed without terms; it cannot be utilised on chain")
    terms, salt = document.terms.unpack()
    tree = MerkleTree(sorted(document_leaves(document)))
    return terms, salt, tree.proof_for(terms.leaf(salt))


# Complexity (radon C): a disclosed document's consistency rules (salt per field, no stray salt, shape) in one pass
def _split(document: SealedDocument) -> tuple[list[tuple[str, Any, bytes]], dict[str, bytes]]:
    """Validate *document*; return its disclosed ``(path, value, salt)`` and withheld leaves."""
    disclosed: list[tuple[str, Any, bytes]] = []
    fields = dict(flatten(document.certificate))
    for path, value in fields.items():
        text = document.salts.get(path)
        if (text is not None or value not in (None, {}, [])) and path in document.withheld:
            raise SealedDocumentError(f"{path}: both disclosed and withheld")
        if text is not None:
            disclosed.append((path, value, _hex32_of(text, f"salts.{path}", "salt")))
        elif value not in (None, {}, []):
            raise SealedDocumentError(f"{path}: disclosed without its salt")
        # else: a placeholder (a list element or the root left empty by withholding); the shape check vouches
    stray = set(document.salts) - {path for path, _, _ in disclosed}
    if stray:
        raise SealedDocumentError(f"salts.{min(stray)}: salt for a field that is not disclosed")
    withheld = {path: _hex32_of(text, f"withheld.{path}", "leaf hash") for path, text in document.withheld.items()}
    expected = dict(flatten(assemble([(path, value) for path, value, _ in disclosed], withheld)))
    for path in [*fields, *expected]:  # the flat fields determine the shape: paths are unambiguous
        if path not in fields or path not in expected or fields[path] != expected[path]:
            raise SealedDocumentError(f"{path or 'certificate'}: certificate shape does not match its "
                                      "disclosed and withheld fields")
    return disclosed, withheld


def _hex32_of(text: str, where: str, what: str) -> bytes:
    try:
        return parse_hex32(text)
    except (ValueError, TypeError):
        raise SealedDocumentError(f"{where}: not a 32-byte hex {what}") from None


@dataclass(frozen=True)
class IntegrityResult:
    """Outcome of :func:`check_integrity`: ok, a human reason, and what was computed."""

    ok: bool
    reason: str
    computed_hash: bytes | None = None
    computed_root: bytes | None = None


def check_integrity(document: SealedDocument) -> IntegrityResult:
    """Check that the fields hash to the document hash and the proof reaches the anchored root.

    Args:
        document: a full or selectively disclosed sealed document.

    Returns:
        ``ok`` only if the disclosed fields and withheld leaves give ``document_hash``,
        the proof leads from it to ``proof.batch_root``, and that is ``anchor.batch_root``;
        otherwise ``reason`` says which check failed. Never raises for a bad document.
    """
    try:
        computed = recompute_document_hash(document)
    except SealedDocumentError as error:
        return IntegrityResult(False, f"malformed sealed document: {error}")
    except RecursionError:
        return IntegrityResult(False, "malformed sealed document: nested too deeply")
    try:
        claimed, batch_root, anchored_root = (parse_hex32(text) for text in (
            document.document_hash, document.proof.batch_root, document.anchor.batch_root))
        root = process_proof(computed, [parse_hex32(p) for p in document.proof.path])
    except (ValueError, ValidationError):
        return IntegrityResult(False, "malformed sealed document: a hash is not 32-byte hex", computed)
    if computed != claimed:
        reason = "the fields do not hash to the document hash: contents altered, salts swapped, fields added or removed"
        return IntegrityResult(False, reason, computed)
    if root != batch_root:
        return IntegrityResult(False, "the Merkle proof does not lead from the document hash to the batch root",
                               computed, root)
    if anchored_root != batch_root:
        return IntegrityResult(False, "the proof's batch root is not the root in the anchor reference", computed, root)
    return IntegrityResult(True, "the fields hash to the document hash; the proof reaches the anchored root",
                           computed, root)


def build_batch(document_hashes: Sequence[bytes]) -> MerkleTree:
    """The batch tree over *document_hashes*, in the order given.

    Raises:
        ValidationError: no document hashes, or one that is not 32 bytes.
    """
    return MerkleTree(document_hashes)
