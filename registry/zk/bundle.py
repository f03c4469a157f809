"""The proof bundle (``coo-proofs/1``): what a holder hands a verifier instead of the confidential figures.

It carries the document hash with its batch proof and anchor (as a sealed document does), the
commitment with the path from its leaf to the document's field root, and one Groth16 proof per
claim. No field value, no salt and no opening: the claims are all a verifier learns.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from registry.sealing.document import AnchorRef, BatchProof

BUNDLE_VERSION: Literal["coo-proofs/1"] = "coo-proofs/1"
MAX_CLAIMS = 32
_HEX32 = r"^0x[0-9a-fA-F]{64}$"
_FIELD = Annotated[str, Field(pattern=r"^(0|[1-9][0-9]{0,77})$")]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Groth16Proof(_Frozen):
    """A Groth16 proof as snarkjs writes it (projective coordinates, decimal strings)."""

    pi_a: list[_FIELD] = Field(min_length=3, max_length=3)
    pi_b: list[Annotated[list[_FIELD], Field(min_length=2, max_length=2)]] = Field(min_length=3, max_length=3)
    pi_c: list[_FIELD] = Field(min_length=3, max_length=3)
    protocol: Literal["groth16"] = "groth16"
    curve: Literal["bn128"] = "bn128"


class ClaimProof(_Frozen):
    """One claim (its text, :mod:`registry.zk.claims`), the circuit that proves it, its public inputs and proof."""

    claim: str = Field(min_length=1, max_length=200)
    circuit: str = Field(pattern=r"^[a-z_]{1,40}$")
    public_inputs: list[_FIELD] = Field(min_length=1, max_length=8)
    proof: Groth16Proof


class CommitmentRef(_Frozen):
    """The commitment and the path from its leaf to the document's field root (leaf level first)."""

    value: str = Field(pattern=_HEX32)
    path: list[Annotated[str, Field(pattern=_HEX32)]] = Field(default_factory=list, max_length=64)


class ProofBundle(_Frozen):
    """Claims about a sealed certificate, proven in zero knowledge (``coo-proofs/1``)."""

    version: Literal["coo-proofs/1"] = BUNDLE_VERSION
    document_hash: str = Field(pattern=_HEX32)
    proof: BatchProof
    anchor: AnchorRef
    commitment: CommitmentRef
    claims: list[ClaimProof] = Field(min_length=1, max_length=MAX_CLAIMS)
