"""Verifying a proof bundle: the certificate's standing on chain first, then the commitment, then each claim.

The chain checks are those of a status-only verification of the document hash
(:meth:`registry.pipelines.verify.Verifier.verify_hash`): a revoked, superseded or erased certificate
verifies as such whatever its claims say (the status rule applies first, and its claims are not
checked). Then ``commitment``: the commitment's leaf leads to the document hash, whose batch proof
leads to the anchored root the bundle names, on the chain and registry this verifier trusts. Then one
``claim`` check per claim: its public inputs are derived here from the claim's text and the
commitment (never taken from the proof), and the Groth16 proof is checked against the committed
verification key (snarkjs, off chain).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError as PydanticValidationError

from registry.chain.client import ChainClient
from registry.chain.quorum import QuorumReader, check_quorum, distinct_urls
from registry.domain.report import Check, CheckName, CheckStatus, Verdict, VerificationReport
from registry.errors import ChainError, ValidationError
from registry.pipelines.verify import NodeFacts, Verifier
from registry.sealing.fields import DOMAIN_TAG
from registry.sealing.merkle import keccak, process_proof
from registry.types import parse_hex32
from registry.zk import node
from registry.zk.bundle import ClaimProof, ProofBundle
from registry.zk.claims import Claim, parse_claim
from registry.zk.commitment import commitment_leaf, parse_commitment

PASS, FAIL, SKIPPED = CheckStatus.PASS, CheckStatus.FAIL, CheckStatus.SKIPPED
ACCEPTED = (Verdict.VALID, Verdict.VALID_WITH_WARNINGS)


def _check(name: CheckName, status: CheckStatus, reason: str, **details: object) -> Check:
    return Check(name=name.value, status=status, reason=reason, details=dict(details))


def verify_bundle(verifier: Verifier, bundle: ProofBundle, facts: NodeFacts | None = None,
                  artifacts: Path = node.ARTIFACTS) -> VerificationReport:
    """Verify *bundle* against the registry *verifier* trusts (see the module docstring).

    Returns:
        The report: the chain checks, ``commitment`` and one ``claim`` check per claim. The verdict is the
        status-only verdict (REVOKED, ERASED, … first), and INVALID when the commitment or a claim fails.

    Raises:
        ZkToolError: the Node side could not run (no verdict rather than a wrong one).
    """
    document_hash = parse_hex32(bundle.document_hash)
    batch_path = [parse_hex32(p) for p in bundle.proof.path]
    base = verifier.verify_hash(document_hash, batch_path, facts)
    commitment = _commitment_check(verifier, bundle, document_hash, batch_path)
    claims = _claim_checks(bundle, commitment, base, artifacts)
    checks: list[Check] = []
    for check in base.checks:
        if check.name == CheckName.INTEGRITY.value:
            check = _check(CheckName.INTEGRITY, SKIPPED, "a proof bundle discloses no field: the claims speak for "
                                                         "the committed values")
        checks.append(check)
        if check.name == CheckName.INTEGRITY.value:
            checks += [commitment, *claims]
    return _verdict(base, checks)


def _verdict(base: VerificationReport, checks: list[Check]) -> VerificationReport:
    failing = [c for c in checks if c.status is FAIL and c.name in (CheckName.COMMITMENT.value, CheckName.CLAIM.value)]
    proven = [c for c in checks if c.name == CheckName.CLAIM.value and c.status is PASS]
    if base.verdict not in ACCEPTED:
        return base.model_copy(update={"checks": checks})
    if failing:
        return base.model_copy(update={"checks": checks, "verdict": Verdict.INVALID,
                                       "summary": f"INVALID: {failing[0].reason}; do not rely on the claims"})
    said = f"; {len(proven)} claim(s) proven in zero knowledge, the values not disclosed"
    return base.model_copy(update={"checks": checks, "summary": base.summary + said})


# Complexity (radon C): the commitment's chain of bindings (registry, leaf, document hash, batch root), each its refusal
def _commitment_check(verifier: Verifier, bundle: ProofBundle, document_hash: bytes,
                      batch_path: Sequence[bytes]) -> Check:
    anchor = bundle.anchor
    try:
        chain_id, address = verifier.chain.chain_id, verifier.chain.address
    except ChainError:
        chain_id, address = anchor.chain_id, anchor.contract  # the anchoring checks report the outage
    if anchor.chain_id != chain_id or anchor.contract.lower() != address.lower():
        return _check(CheckName.COMMITMENT, FAIL, f"sealed for registry {anchor.contract} on chain {anchor.chain_id}, "
                                                  f"but this verifier trusts {address} on chain {chain_id}")
    try:
        leaf = commitment_leaf(parse_commitment(bundle.commitment.value))
    except ValueError:
        return _check(CheckName.COMMITMENT, FAIL, "the commitment is not a BN254 field element")
    fields_root = process_proof(leaf, [parse_hex32(p) for p in bundle.commitment.path])
    if keccak(DOMAIN_TAG + fields_root) != document_hash:
        return _check(CheckName.COMMITMENT, FAIL, "the commitment's leaf does not lead to the document hash: it is "
                                                  "not the commitment sealed in this certificate")
    root = process_proof(document_hash, list(batch_path))
    if root != parse_hex32(bundle.proof.batch_root) or root != parse_hex32(anchor.batch_root):
        return _check(CheckName.COMMITMENT, FAIL, "the batch proof does not lead from the document hash to the "
                                                  "anchored root the bundle names")
    return _check(CheckName.COMMITMENT, PASS, "the commitment is sealed in the document hash, and the proof reaches "
                                              "the batch root", commitment=bundle.commitment.value)


def _claim_checks(bundle: ProofBundle, commitment: Check, base: VerificationReport, artifacts: Path) -> list[Check]:
    skipped = _skipped(bundle, commitment, base)
    if skipped is not None:
        return skipped
    value = int(bundle.commitment.value, 16)
    checks: list[Check | None] = []
    pending: list[tuple[int, Claim, ClaimProof]] = []
    for index, given in enumerate(bundle.claims):
        refused, claim = _precheck(given, value, index)
        checks.append(refused)
        if refused is None and claim is not None:
            pending.append((index, claim, given))
    for index, check in _pairings(pending, artifacts):
        checks[index] = check
    return [c for c in checks if c is not None]


def _skipped(bundle: ProofBundle, commitment: Check, base: VerificationReport) -> list[Check] | None:
    """Every claim skipped, when the certificate is not relied on or the commitment is not its own; else None."""
    if base.verdict not in ACCEPTED:
        why = f"not checked: the certificate is {base.verdict.value}, so its claims are not relied on"
    elif commitment.status is not PASS:
        why = "not checked: the commitment is not bound to this certificate"
    else:
        return None
    return [_check(CheckName.CLAIM, SKIPPED, why, claim=c.claim) for c in bundle.claims]


def _pairings(pending: list[tuple[int, Claim, ClaimProof]], artifacts: Path) -> list[tuple[int, Check]]:
    """The Groth16 check of each pending claim (one Node process for all of them)."""
    if not pending:
        return []
    results = node.verify([{"circuit": c.circuit, "proof": g.proof.model_dump(), "publicSignals": g.public_inputs}
                           for _, c, g in pending], artifacts)
    return [(index, _outcome(claim, result)) for (index, claim, _), result in zip(pending, results, strict=True)]


def _precheck(given: ClaimProof, commitment: int, index: int) -> tuple[Check | None, Claim | None]:
    """A refusal found without the pairing check (an unknown claim, other public inputs), or the parsed claim."""
    try:
        claim = parse_claim(given.claim, f"claims[{index}]")
    except ValidationError as error:
        return _check(CheckName.CLAIM, FAIL, error.message, claim=given.claim), None
    expected = claim.public_inputs(commitment)
    if given.circuit != claim.circuit:
        return _check(CheckName.CLAIM, FAIL, f"{claim.text}: proven with circuit {given.circuit}, which does not "
                                             "prove this claim", claim=claim.text), None
    if given.public_inputs[:1] != expected[:1]:
        return _check(CheckName.CLAIM, FAIL, f"{claim.text}: the proof is about another commitment (another "
                                             "certificate's)", claim=claim.text), None
    if given.public_inputs != expected:
        return _check(CheckName.CLAIM, FAIL, f"{claim.text}: the proof was made for other parameters than the "
                                             "claim states", claim=claim.text), None
    return None, claim


def _outcome(claim: Claim, result: bool | dict[str, object]) -> Check:
    if result is True:
        return _check(CheckName.CLAIM, PASS, f"{claim.statement}: proven, value not disclosed", claim=claim.text,
                      statement=claim.statement, circuit=claim.circuit)
    why = "the proof does not verify" if result is False else "the proof cannot be read"
    return _check(CheckName.CLAIM, FAIL, f"{claim.text}: {why}", claim=claim.text, circuit=claim.circuit)


def is_bundle(data: object) -> bool:
    """Whether *data* (decoded JSON) says it is a proof bundle."""
    return isinstance(data, dict) and data.get("version") == "coo-proofs/1"


def parse_bundle(data: object) -> ProofBundle:
    """Validate the structure of a proof bundle.

    Raises:
        ValidationError: naming the first malformed part.
    """
    try:
        return ProofBundle.model_validate(data)
    except PydanticValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "bundle"
        raise ValidationError(f"{where}: {first['msg']}", [{"loc": where, "msg": first["msg"]}]) from None


def verify_bundle_offline(data: object, *, rpc_url: str | Sequence[str], contract: str | None,
                          quorum: int | None = None) -> VerificationReport:
    """Verify a proof bundle straight against the chain, through one endpoint or a quorum of several (as
    :func:`registry.pipelines.offline.verify_offline`); the registry address is never the bundle's own.

    Raises:
        ValidationError: no trusted contract address, a malformed bundle, the same endpoint twice, or a quorum
            outside 1..N.
    """
    if not contract:
        raise ValidationError("give the registry address you trust (--contract or COO_CONTRACT_ADDRESS); "
                              "the one inside a bundle proves nothing")
    urls = distinct_urls([rpc_url] if isinstance(rpc_url, str) else list(rpc_url))
    check_quorum(len(urls) if quorum is None else quorum, len(urls))
    bundle = parse_bundle(data)
    if len(urls) == 1 and quorum in (None, 1):
        return verify_bundle(Verifier(ChainClient.connect(urls[0], contract)), bundle)
    return verify_bundle(Verifier(QuorumReader.connect(urls, contract, quorum)), bundle)
