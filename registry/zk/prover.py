"""Proving: the holder of a full sealed document turns claims into a proof bundle, offline.

Only the full sealed document can prove: it alone carries the commitment's opening. A claim the
committed values do not satisfy cannot be proven (the circuit has no witness), and is refused
without saying what the values are.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from registry.errors import ValidationError
from registry.sealing.document import SealedDocument, check_integrity, commitment_claim
from registry.types import hex32
from registry.zk import node
from registry.zk.bundle import ClaimProof, CommitmentRef, Groth16Proof, ProofBundle
from registry.zk.claims import Claim, parse_claim
from registry.zk.commitment import Opening


def _invalid(where: str, message: str) -> ValidationError:
    return ValidationError(f"{where}: {message}", [{"loc": where, "msg": message}])


def parse_claims(texts: Sequence[str]) -> list[Claim]:
    """Parse every claim (``claims[i]`` names a bad one).

    Raises:
        ValidationError: no claim, too many, or one that is not a claim.
    """
    from registry.zk.bundle import MAX_CLAIMS

    if not texts:
        raise _invalid("claims", "name at least one claim")
    if len(texts) > MAX_CLAIMS:
        raise _invalid("claims", f"at most {MAX_CLAIMS} claims in one bundle")
    return [parse_claim(text, f"claims[{i}]") for i, text in enumerate(texts)]


def _opening(document: SealedDocument) -> Opening:
    integrity = check_integrity(document)
    if not integrity.ok:
        raise _invalid("document", integrity.reason)
    if document.zk is None:
        raise _invalid("document", "this certificate was sealed without confidential figures, so without a "
                                   "commitment: nothing can be proven about it in zero knowledge")
    if document.zk.opening is None:
        raise _invalid("document", "this document carries the commitment but not its opening (a disclosed "
                                   "document): only the full sealed document can prove")
    return document.zk.opening


def prove(document: SealedDocument, texts: Sequence[str], artifacts: Path = node.ARTIFACTS) -> ProofBundle:
    """Prove each claim about *document*'s committed values.

    Args:
        document: the full sealed document (with the commitment's opening).
        texts: the claims (:mod:`registry.zk.claims`).
        artifacts: the circuits and proving keys.

    Returns:
        The proof bundle: document hash, batch proof, anchor, commitment with its path, one proof per claim.

    Raises:
        ValidationError: naming ``document`` (not intact, no commitment or no opening) or ``claims[i]`` (not a
            claim, an item the certificate does not have, or a claim the values do not satisfy).
        ZkToolError: the Node side could not run.
    """
    opening = _opening(document)
    claims = parse_claims(texts)
    for i, claim in enumerate(claims):
        if claim.item is not None and claim.item >= len(opening.items):
            raise _invalid(f"claims[{i}]", f"goods[{claim.item}]: the certificate has {len(opening.items)} goods "
                                           "item(s)")
    zk, path = commitment_claim(document)
    requests = [{"circuit": c.circuit, "opening": opening.as_input(), "item": c.item,
                 "params": {name: str(value) for name, value in c.params.items()}} for c in claims]
    results = node.prove(requests, artifacts)
    proofs = []
    for i, (claim, result) in enumerate(zip(claims, results, strict=True)):
        if "error" in result:
            raise _invalid(f"claims[{i}]", f"{claim.text!r} cannot be proven: the committed values do not "
                                           "satisfy it")
        if result["publicSignals"] != claim.public_inputs(zk.value):
            raise _invalid("document", "the commitment's opening does not open the commitment sealed in it")
        proof = result["proof"]
        proofs.append(ClaimProof(claim=claim.text, circuit=claim.circuit, public_inputs=result["publicSignals"],
                                 proof=Groth16Proof(pi_a=proof["pi_a"], pi_b=proof["pi_b"], pi_c=proof["pi_c"])))
    return ProofBundle(document_hash=document.document_hash, proof=document.proof, anchor=document.anchor,
                       commitment=CommitmentRef(value=zk.commitment, path=[hex32(p) for p in path]), claims=proofs)
