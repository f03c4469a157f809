"""Signed acknowledgements that a peer destroyed its copy of an erased certificate's key.

A node that held a released key (an importing country's node) drops it when the
certificate is erased on chain, closes its key epoch (:mod:`registry.custody.vault`), and
then tells the issuing node so: an EIP-191 signature by its node account over the
RFC 8785 canonical JSON of ``type``, ``document_hash``, ``node_account`` and
``acknowledged_at``. The issuing node checks the signature and lists who confirmed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from eth_account.signers.local import LocalAccount

from registry.custody.keys import signed_by
from registry.custody.signer import MessageSigner, signer_for
from registry.errors import ValidationError
from registry.sealing.canonical import canonical_json
from registry.types import hex32

ACK_TYPE = "coo-erasure-ack/1"
_FIELDS = ("document_hash", "node_account", "acknowledged_at")


def _body(document_hash: str, node_account: str, acknowledged_at: str) -> bytes:
    return canonical_json({"type": ACK_TYPE, "document_hash": document_hash.lower(), "node_account": node_account,
                          "acknowledged_at": acknowledged_at})


def sign_acknowledgement(signer: LocalAccount | MessageSigner, document_hash: bytes) -> dict[str, str]:
    """This node's signed acknowledgement that it destroyed its copy of the key of *document_hash*
    (signed by the account's cached key: :mod:`registry.custody.signer`)."""
    if not isinstance(signer, MessageSigner):
        signer = signer_for(signer)
    at = datetime.now(UTC).isoformat(timespec="seconds")
    signature = signer.sign_message(_body(hex32(document_hash), signer.address, at))
    return {"document_hash": hex32(document_hash), "node_account": signer.address, "acknowledged_at": at,
            "signature": "0x" + bytes(signature).hex()}


def checked_acknowledgement(document_hash: bytes, given: Mapping[str, Any]) -> dict[str, str]:
    """The acknowledgement *given* for *document_hash*, once its signature is checked.

    Raises:
        ValidationError: a missing or malformed field, another document, or a signature
            that does not recover to ``node_account``.
    """
    values = {name: given.get(name) for name in (*_FIELDS, "signature")}
    for name, value in values.items():
        if not isinstance(value, str) or not value or len(value) > 200:
            raise ValidationError(f"{name}: required text", [{"loc": name, "msg": "required text"}])
    ack = {name: str(value) for name, value in values.items()}
    if ack["document_hash"].lower() != hex32(document_hash).lower():
        raise ValidationError("document_hash: not the certificate acknowledged",
                              [{"loc": "document_hash", "msg": "does not match the path"}])
    if not signed_by(_body(*(ack[n] for n in _FIELDS)), ack["signature"], ack["node_account"]):
        raise ValidationError("signature: does not recover to node_account",
                              [{"loc": "signature", "msg": "not signed by node_account"}])
    return ack
