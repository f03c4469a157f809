"""Sizes of what each path hands over, publishes or fetches, measured on the example certificate."""

from __future__ import annotations

import secrets
import time
from typing import Any

from registry.custody.keys import load_or_create_kek
from registry.sealing.document import disclose
from registry.vc.issuer import VcIssuer
from registry.vc.keys import IssuerKey, did_web
from registry.vc.status_list import StatusList
from scripts import compare_sdjwt
from scripts.compare_chainpath import ChainNode, wait_anchored
from scripts.compare_hosts import sign_trust_list
from scripts.compare_lifecycle import real_payload_bytes
from scripts.compare_worker import EXAMPLES


def sizes(chain: ChainNode) -> dict[str, Any]:
    """Bytes of the sealed document (whole and disclosed), the credentials, the status list and trust list."""
    node, issuer = chain.node, chain.issuer
    row = node.issuing.register(issuer, [{**EXAMPLES[0], "certificate_number": "SIZE-1"}])[0]
    wait_anchored(node)
    document = node.issuing.sealed_document(issuer, row.id)
    shown = disclose(document, compare_sdjwt.DISCLOSED)
    vc = VcIssuer(node.config.data_dir / "vc-sizes", load_or_create_kek(node.config.data_dir / "vc-sizes-kek"),
                  did_web("coo.example"), "https://coo.example")
    token = vc.issue(EXAMPLES[0]).jwt
    out: dict[str, Any] = {"sealed_document_bytes": len(document.model_dump_json()),
                           "sealed_document_disclosed_bytes": len(shown.model_dump_json()),
                           "fields_disclosed": len(shown.salts), "fields_withheld": len(shown.withheld),
                           "vc_jwt_bytes": len(token),
                           "encrypted_payload_bytes": real_payload_bytes(str(issuer.account))}
    if compare_sdjwt.library() is not None:
        _, allocation = vc.allocate()
        issuance = compare_sdjwt.issue(EXAMPLES[0], vc.key, allocation, time.time())
        out |= {"sd_jwt_issuance_bytes": len(issuance),
                "sd_jwt_presentation_bytes": len(compare_sdjwt.present(issuance, EXAMPLES[0]))}
    else:
        out["sd_jwt"] = "not measured: the sd-jwt library is not installed"
    empty, used = StatusList(), StatusList()
    for _ in range(used.size // 100):
        used.set(secrets.randbelow(used.size))
    out |= {"status_list_raw_bytes": empty.size // 8, "status_list_entries": empty.size,
            "status_list_empty_encoded_bytes": len(empty.encode()),
            "status_list_1pct_revoked_encoded_bytes": len(used.encode()),
            "status_list_credential_bytes": len(vc.status_list()),
            "trust_list_bytes_one_issuer": len(sign_trust_list(IssuerKey.generate(), {"SG": [vc.key.did]}, 0)),
            "trust_list_bytes_100_issuers": len(sign_trust_list(IssuerKey.generate(), {
                f"C{c:02d}": [IssuerKey.generate().did, IssuerKey.generate().did] for c in range(50)}, 0))}
    vc.close()
    return out

