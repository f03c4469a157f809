"""Verification with no node at all: a sealed document, an RPC URL, the registry address.

An importing administration needs nothing from the issuer: the contract address
it trusts (published by the consortium) and any RPC endpoint of the shared chain.
The address is never taken from the document itself, which an attacker writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from registry.chain.client import ChainClient
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


def verify_offline(data: Mapping[str, Any], *, rpc_url: str, contract: str | None,
                   declaration: Declaration | None = None) -> VerificationReport:
    """Verify a sealed document straight against the chain.

    Raises:
        ValidationError: no trusted contract address, or a malformed document.
    """
    if not contract:
        raise ValidationError("give the registry address you trust (--contract or COO_CONTRACT_ADDRESS); "
                              "the one inside a document proves nothing")
    document = parse_sealed_document(data)
    return Verifier(ChainClient.connect(rpc_url, contract)).verify_document(document, declaration)
