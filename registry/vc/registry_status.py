"""The hybrid credential: a VC whose ``credentialStatus`` is the certificate's record on chain.

A certificate anchored in the registry can also be handed over as a verifiable
credential (``vc+jwt`` or Data Integrity), signed with the node's DID key. Its
status entry is not a bit in a list the issuer publishes but a pointer into
the registry, defined in this project's context::

    {"type": "CertificateRegistryStatus",
     "chainId": 31337,                     # the EVM chain (EIP-155 id)
     "registry": "0x5FbD…0aa3",            # the CustomsRegistry contract
     "documentHash": "0x9c1e…",            # the sealed certificate's document hash
     "batchRoot": "0x41d0…",               # the anchored batch root it is a leaf of
     "batchProof": ["0x…", …]}             # the Merkle path from the hash to the root

The verifier reads that entry against the one registry it trusts, with the
chain path's own :class:`~registry.pipelines.verify.Verifier` (so the rules are
the same, word for word): the document is anchored under that root, its issuer
was authorised for the credential's exporting country when it anchored it, and
it is not revoked, superseded or erased. An entry naming another chain or
another contract is refused (``INVALID``): a credential cannot choose the
registry that vouches for it. A chain that cannot be reached gives
``UNAVAILABLE``.

WARNING: the registry vouches for the document hash, the issuer's signature for
the binding between that hash and the credential's subject (the salts that
would let a verifier recompute the hash stay with the sealed document). A
trusted issuer could point a credential at another of its own anchored
certificates; it cannot escape a revocation, an erasure or the authorisation
rules of the registry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from registry.domain.report import CheckStatus, Verdict
from registry.errors import ChainError
from registry.pipelines.verify import Verifier
from registry.sealing.document import SealedDocument
from registry.types import parse_hex32
from registry.vc.errors import CredentialFormatError
from registry.vc.status_check import Outcome

PASS, FAIL, SKIPPED = CheckStatus.PASS, CheckStatus.FAIL, CheckStatus.SKIPPED

REGISTRY_STATUS_TYPE = "CertificateRegistryStatus"
"""The ``credentialStatus`` type of a hybrid credential (defined in the project's context)."""

MAX_PROOF = 64
_HEX32 = re.compile(r"0x[0-9a-fA-F]{64}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_CHAIN_VERDICTS = {Verdict.REVOKED, Verdict.SUPERSEDED, Verdict.ERASED}


@dataclass(frozen=True)
class RegistryStatus:
    """Where a hybrid credential's certificate is recorded: chain, contract, document hash and batch proof."""

    chain_id: int
    registry: str
    document_hash: str
    batch_root: str
    batch_proof: tuple[str, ...] = ()

    @classmethod
    def of(cls, document: SealedDocument) -> RegistryStatus:
        """The entry for an anchored sealed document."""
        return cls(document.anchor.chain_id, document.anchor.contract, document.document_hash.lower(),
                   document.proof.batch_root.lower(), tuple(p.lower() for p in document.proof.path))

    def entry(self) -> dict[str, Any]:
        """The ``credentialStatus`` entry."""
        return {"type": REGISTRY_STATUS_TYPE, "chainId": self.chain_id, "registry": self.registry,
                "documentHash": self.document_hash, "batchRoot": self.batch_root,
                "batchProof": list(self.batch_proof)}

    # Complexity (radon C): one rule per member of the entry (chain id, contract, hash, root, proof)
    @classmethod
    def parse(cls, entry: Mapping[str, Any]) -> RegistryStatus:
        """Read a ``CertificateRegistryStatus`` entry, refusing anything malformed.

        Raises:
            CredentialFormatError: naming the member that is wrong.
        """
        chain_id, registry = entry.get("chainId"), entry.get("registry")
        if not isinstance(chain_id, int) or isinstance(chain_id, bool) or chain_id < 1:
            raise CredentialFormatError(f"the registry status entry's chainId {chain_id!r} is not a chain id")
        if not isinstance(registry, str) or not _ADDRESS.fullmatch(registry):
            raise CredentialFormatError(f"the registry status entry's registry {registry!r} is not a contract address")
        hashes = {name: entry.get(name) for name in ("documentHash", "batchRoot")}
        for name, value in hashes.items():
            if not isinstance(value, str) or not _HEX32.fullmatch(value):
                raise CredentialFormatError(f"the registry status entry's {name} is not a 32-byte 0x-hex value")
        proof = entry.get("batchProof", [])
        if not isinstance(proof, list) or len(proof) > MAX_PROOF \
                or not all(isinstance(p, str) and _HEX32.fullmatch(p) for p in proof):
            raise CredentialFormatError(f"the registry status entry's batchProof is not a list of at most "
                                        f"{MAX_PROOF} 32-byte 0x-hex values")
        return cls(chain_id, registry, str(hashes["documentHash"]).lower(), str(hashes["batchRoot"]).lower(),
                   tuple(p.lower() for p in proof))


def registry_entries(credential: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The credential's ``CertificateRegistryStatus`` entries."""
    status = credential.get("credentialStatus")
    entries = status if isinstance(status, list) else [status]
    return [e for e in entries if isinstance(e, Mapping) and e.get("type") == REGISTRY_STATUS_TYPE]


@dataclass(frozen=True)
class RegistryOutcome:
    """What the registry says of a hybrid credential, check by check."""

    anchored: Outcome
    issuer_authorised: Outcome
    status: Outcome


def _refused(reason: str, verdict: Verdict, status: CheckStatus = FAIL) -> RegistryOutcome:
    not_checked = Outcome(SKIPPED, f"not checked on chain: {reason}")
    return RegistryOutcome(not_checked, not_checked, Outcome(status, reason, verdict))


def _trust_problem(status: RegistryStatus, verifier: Verifier) -> str | None:
    chain_id, address = verifier.chain.chain_id, verifier.chain.address
    if status.chain_id != chain_id or status.registry.lower() != address.lower():
        return (f"the credential names registry {status.registry} on chain {status.chain_id}, but this verifier "
                f"trusts registry {address} on chain {chain_id}")
    return None


# Complexity (radon C): the chain report's outcomes (unreachable, another root, unanchored, unauthorised, status)
def check_registry_status(entry: Mapping[str, Any], verifier: Verifier | None,
                          exporting_country: str) -> RegistryOutcome:
    """Check a hybrid credential's registry entry on the chain *verifier* trusts.

    Args:
        entry: the ``CertificateRegistryStatus`` entry.
        verifier: the chain path's verifier for the trusted registry; ``None``
            when this verifier reads no chain.
        exporting_country: the credential subject's ``exporting_country``.

    Returns:
        The ``anchored``, ``issuer_authorised`` (on-chain half) and ``status``
        outcomes; ``status`` forces ``INVALID``, ``REVOKED``, ``SUPERSEDED``,
        ``ERASED`` or ``UNAVAILABLE`` when it is not a pass.
    """
    try:
        status = RegistryStatus.parse(entry)
    except CredentialFormatError as error:
        return _refused(error.message, Verdict.INVALID)
    if verifier is None:
        return _refused("status unknown: this verifier is connected to no registry", Verdict.UNAVAILABLE, SKIPPED)
    try:
        problem = _trust_problem(status, verifier)
    except ChainError as error:
        return _refused(f"status unknown: the chain could not be reached ({error})", Verdict.UNAVAILABLE, SKIPPED)
    if problem:
        return _refused(problem, Verdict.INVALID)
    try:
        report = verifier.verify_hash(parse_hex32(status.document_hash), [parse_hex32(p) for p in status.batch_proof])
    except ChainError as error:
        return _refused(f"status unknown: the chain did not answer ({error})", Verdict.UNAVAILABLE, SKIPPED)
    if report.verdict is Verdict.UNAVAILABLE:
        return _refused(f"status unknown: {report.summary.removeprefix('UNAVAILABLE: ')}", Verdict.UNAVAILABLE,
                        SKIPPED)
    anchored, authorised, state = (report.check(n) for n in ("anchored", "issuer_authorised", "status"))
    where = {"chain_id": status.chain_id, "registry": status.registry, "document_hash": status.document_hash}
    root = str(anchored.details.get("batch_root", "")).lower()
    if anchored.status is not PASS or root != status.batch_root:
        reason = anchored.reason if anchored.status is not PASS else (
            f"the batch proof leads to {root}, not to the batch root the credential names ({status.batch_root})")
        stop = Outcome(SKIPPED, "not checked: the document is not anchored as the credential says")
        return RegistryOutcome(Outcome(FAIL, reason, Verdict.INVALID, where), stop, stop)
    on_chain = Outcome(PASS, anchored.reason, details=where | dict(anchored.details))
    if authorised.status is not PASS or report.exporting_country != exporting_country:
        reason = authorised.reason if authorised.status is not PASS else (
            f"the issuer is authorised for {report.exporting_country}, but the credential says the goods were "
            f"exported from {exporting_country}")
        return RegistryOutcome(on_chain, Outcome(FAIL, reason, Verdict.INVALID),
                               Outcome(SKIPPED, "not checked: the anchoring issuer is not authorised"))
    if state.status is FAIL:
        verdict = report.verdict if report.verdict in _CHAIN_VERDICTS else Verdict.INVALID
        return RegistryOutcome(on_chain, Outcome(PASS, authorised.reason),
                               Outcome(FAIL, state.reason, verdict, where | dict(state.details)))
    return RegistryOutcome(on_chain, Outcome(PASS, authorised.reason),
                           Outcome(state.status, f"on chain: {state.reason}", details=where))
