"""Every credential this project emits is processable JSON-LD: jsonld 9 in safe mode drops nothing, RDFC-1.0 works.

The loader serves only the VC 2.0 context and this project's context file (nothing from the network).
"""

from __future__ import annotations

import json
from typing import Any, get_args

import pytest
from pydantic import BaseModel

from registry.domain.certificate import Certificate, parse_certificate
from registry.vc.context import CONTEXT_PATH, DEFAULT_CONTEXT_URL, context_document, defined_terms
from registry.vc.credential import build_credential
from registry.vc.keys import IssuerKey, did_web
from registry.vc.registry_status import REGISTRY_STATUS_TYPE, RegistryStatus
from registry.vc.securing import secure
from registry.vc.status_list import StatusAllocation, StatusList, build_status_list_credential
from tests.interop.support import ROOT, node, requires_node
from tests.registry.vc.support import CERTIFICATE, ISSUED_AT, STATUS_URL

pytestmark = requires_node

ISSUER = IssuerKey.generate(did_web("coo.customs.gov.sg"))
INHERITED = {"name", "description"}
"""Terms the certificate uses that the VC 2.0 context already defines (schema.org's name and description)."""

EVERY_FIELD: dict[str, Any] = CERTIFICATE | {
    "producer": {"name": "Merlion Works", "address": "1 Jurong Road", "country": "SG"},
    "third_party_invoicing": True,
    "invoicing_party": {"name": "Straits Trading", "address": "2 Raffles Place", "country": "SG"},
    "back_to_back": True, "parent_reference": "SG-RCEP-2026-000001",
    "certified_true_copy": True, "original_reference": "SG-RCEP-2026-007734",
    "replaces": "SG-RCEP-2026-007000", "remarks": "Every optional field, once.",
}
"""The example certificate with every optional field of the dataset present (rules aside: no JSON-LD rule cares)."""

REGISTRY = RegistryStatus(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3", "0x" + "9c" * 32, "0x" + "41" * 32,
                          ("0x" + "aa" * 32, "0x" + "bb" * 32))


def _example(name: str) -> dict[str, Any]:
    return parse_certificate(json.loads((ROOT / "examples" / f"{name}.json").read_text())).to_json()


def _certificate(certificate: dict[str, Any]) -> dict[str, Any]:
    return build_credential(certificate, issuer_did=ISSUER.did, status=StatusAllocation(STATUS_URL, 94567),
                            now=ISSUED_AT)


def _credentials() -> dict[str, dict[str, Any]]:
    """Every kind of credential the node emits, each unsecured and secured as Data Integrity."""
    unsecured = {
        "certificate": _certificate(CERTIFICATE),
        "every field": _certificate(EVERY_FIELD),
        **{f"example {name}": _certificate(_example(name))
           for name in ("rcep-sg-jp", "back-to-back-rcep", "non-preferential-chamber")},
        "status list": build_status_list_credential(StatusList(), issuer_did=ISSUER.did, url=STATUS_URL,
                                                    now=ISSUED_AT, ttl_ms=60_000),
        "hybrid": build_credential(CERTIFICATE, issuer_did=ISSUER.did, status=REGISTRY, now=ISSUED_AT),
    }
    secured = {f"{name} (data integrity)": secure(c, ISSUER, "di", ISSUED_AT).secured for name, c in unsecured.items()}
    return unsecured | {name: c for name, c in secured.items() if isinstance(c, dict)}


CREDENTIALS = _credentials()


@pytest.mark.parametrize("name", sorted(CREDENTIALS))
def test_safe_mode_expansion_keeps_every_value_and_canonicalisation_succeeds(name: str) -> None:
    credential = CREDENTIALS[name]
    answer = node("expand.mjs", {"credential": credential})
    assert answer["ok"], answer
    assert answer["leavesOut"] == answer["leavesIn"] > 5
    assert answer["quads"] > 0
    assert set(answer["requested"]) <= {"https://www.w3.org/ns/credentials/v2", DEFAULT_CONTEXT_URL}


def test_a_term_the_context_does_not_define_is_refused_by_safe_mode() -> None:
    undefined = _certificate(CERTIFICATE | {"inspection_office": "Jurong"})
    answer = node("expand.mjs", {"credential": undefined})
    assert not answer["ok"] and "Safe mode" in answer["error"]


def test_a_term_redefined_despite_protection_is_refused_by_jsonld() -> None:
    altered = _certificate(CERTIFICATE)
    altered["@context"] = [*altered["@context"], {"certificate_number": "https://attacker.example/serial"}]
    answer = node("expand.mjs", {"credential": altered})
    assert not answer["ok"] and "protected term" in answer["error"]


def test_the_context_served_under_another_base_url_expands_the_same() -> None:
    elsewhere = "https://coo.customs.gov.sg" + CONTEXT_PATH
    credential = build_credential(CERTIFICATE, issuer_did=ISSUER.did, status=StatusAllocation(STATUS_URL, 1),
                                  now=ISSUED_AT, context=elsewhere)
    assert node("expand.mjs", {"credential": credential})["ok"] is False  # the loader does not know that URL
    answer = node("expand.mjs", {"credential": credential, "cooUrls": [elsewhere]})
    assert answer["ok"] and answer["leavesOut"] == answer["leavesIn"]


def _field_names(model: type[BaseModel]) -> set[str]:
    """Every field a credential can carry (a field excluded from the dump, e.g. a confidential figure, never is)."""
    names: set[str] = set()
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        names.add(name)
        for kind in (field.annotation, *get_args(field.annotation), *(a for t in get_args(field.annotation)
                                                                      for a in get_args(t))):
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                names |= _field_names(kind)
    return names


def test_the_context_defines_every_field_of_the_dataset_protected_and_without_vocab() -> None:
    fields = _field_names(Certificate)
    assert {"certificate_number", "address", "hs_code", "signatory", "departure_date"} <= fields
    assert fields - INHERITED <= defined_terms(), sorted(fields - INHERITED - defined_terms())
    context = context_document()["@context"]
    assert context["@protected"] is True and "@vocab" not in json.dumps(context)
    assert not defined_terms() & INHERITED  # the VC 2.0 context protects them: redefining would be an error


def test_the_registry_status_entry_is_defined_member_by_member() -> None:
    scoped = context_document()["@context"][REGISTRY_STATUS_TYPE]["@context"]
    assert set(REGISTRY.entry()) - {"type"} <= set(scoped) and scoped["@protected"] is True
    assert scoped["batchProof"]["@container"] == "@list"  # a Merkle path is ordered


def test_the_repository_context_is_the_one_the_package_ships() -> None:
    top = ROOT / "contexts" / "certificate-of-origin" / "v1.jsonld"
    shipped = ROOT / "registry" / "vc" / "contexts" / "certificate-of-origin" / "v1.jsonld"
    assert top.read_bytes() == shipped.read_bytes() and json.loads(top.read_text()) == context_document()
