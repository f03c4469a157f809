"""Verification with no node at all: a sealed document, an RPC URL, the registry address.

An importing administration needs nothing from the issuer: the contract address
it trusts (published by the consortium) and any RPC endpoint of the shared chain.
The address is never taken from the document itself, which an attacker writes.
Given several endpoints (say, one run by each of several administrations) it
trusts none of them alone: the verdict needs a quorum of them to answer alike
(:mod:`registry.chain.quorum`), and their disagreement is ``UNAVAILABLE``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from registry.chain.client import ChainClient
from registry.chain.quorum import QuorumReader, check_quorum, distinct_urls
from registry.domain.report import VerificationReport
from registry.errors import SealedDocumentError, ValidationError
from registry.pipelines.verify import Declaration, Verifier
from registry.sealing.document import SealedDocument


def parse_sealed_document(data: Mapping[str, Any]) -> SealedDocument:
    """Validate the structure of a sealed document.

    Raises:
        SealedDocumentError: naming the first malformed field.
    """
    try:
        return SealedDocument.model_validate(data)
    except PydanticValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "document"
        raise SealedDocumentError(f"{where}: {first['msg']}") from None


class OfflineVerifier:
    """Verifies sealed documents straight against the chain, through one endpoint or a quorum of several, keeping
    its connection for the next document (as a verifier that checks a stack of certificates does; see
    :func:`verify_offline` for one document).

    Args:
        rpc_url: one endpoint (trusted alone), or several.
        contract: the registry address the caller trusts (never a document's own).
        quorum: how many of them must answer alike (default: all); 1 with one endpoint is trusting it.
        depth: blocks below the agreed head a quorum reads at.

    Raises:
        ValidationError: no trusted contract address, the same endpoint twice, or a quorum outside 1..N.
    """

    def __init__(self, rpc_url: str | Sequence[str], contract: str | None, *, quorum: int | None = None,
                 depth: int = 0) -> None:
        if not contract:
            raise ValidationError("give the registry address you trust (--contract or COO_CONTRACT_ADDRESS); "
                                  "the one inside a document proves nothing")
        urls = distinct_urls([rpc_url] if isinstance(rpc_url, str) else list(rpc_url))
        check_quorum(len(urls) if quorum is None else quorum, len(urls))
        if len(urls) == 1 and quorum in (None, 1):
            self.verifier = Verifier(ChainClient.connect(urls[0], contract))
        else:
            self.verifier = Verifier(QuorumReader.connect(urls, contract, quorum, depth=depth))

    def verify(self, data: Mapping[str, Any], declaration: Declaration | None = None) -> VerificationReport:
        """Verify one sealed document (as JSON), at the chain head of this call.

        Raises:
            SealedDocumentError: a malformed document, naming the first malformed field.
        """
        return self.verifier.verify_document(parse_sealed_document(data), declaration)


def verify_offline(data: Mapping[str, Any], *, rpc_url: str | Sequence[str], contract: str | None,
                   declaration: Declaration | None = None, quorum: int | None = None,
                   depth: int = 0) -> VerificationReport:
    """Verify one sealed document straight against the chain, through one endpoint or a quorum of several
    (:class:`OfflineVerifier`, used once).

    Raises:
        ValidationError: no trusted contract address, a malformed document, the same endpoint twice,
            or a quorum outside 1..N.
    """
    return OfflineVerifier(rpc_url, contract, quorum=quorum, depth=depth).verify(data, declaration)
