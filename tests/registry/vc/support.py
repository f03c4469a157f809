"""Shared pieces of the VC tests: a certificate, in-memory hosts that can go down, a small world."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from registry.domain.report import VerificationReport
from registry.vc.credential import IssuedCredential, issue_credential
from registry.vc.errors import DidUnavailableError, StatusUnavailableError
from registry.vc.keys import IssuerKey, did_key_document, did_web
from registry.vc.status_list import StatusList, issue_status_list_credential
from registry.vc.verify import verify_credential

STATUS_URL = "https://coo.customs.gov.sg/v1/status-lists/revocation-1"
ISSUED_AT = datetime(2026, 11, 10, 2, 15, tzinfo=UTC)
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)

CERTIFICATE: dict[str, Any] = {
    "certificate_number": "SG-RCEP-2026-007734",
    "certificate_type": "RCEP",
    "exporter": {"name": "Merlion Precision Valves Pte. Ltd.", "address": "8 Tuas Avenue 12, Singapore 639041",
                 "country": "SG"},
    "consignee": {"name": "Hokuriku Plant Engineering K.K.", "address": "3-1-5 Marunouchi, Chiyoda-ku, Tokyo 100-0005",
                  "country": "JP"},
    "exporting_country": "SG",
    "importing_country": "JP",
    "transport": {"mode": "1", "vessel_or_flight": "ONE HARMONY 214E", "port_of_loading": "SGSIN",
                  "port_of_discharge": "JPYOK", "departure_date": "2026-11-11"},
    "goods": [
        {"item_number": 1, "marks_and_numbers": "MPV/YOK/001-024", "packages_count": 24, "packages_kind": "pallets",
         "description": "Stainless steel gate valves, DN80, PN16, flanged", "hs_code": "848180",
         "origin_country": "SG", "origin_criterion": "CTH", "quantity": "960", "unit": "H87",
         "gross_weight_kg": "7210.4", "invoice_number": "MPV-INV-2026-1182", "invoice_date": "2026-11-06",
         "fob_value": "118560.00", "currency": "USD"},
        {"item_number": 2, "marks_and_numbers": "MPV/YOK/025-030", "packages_count": 6, "packages_kind": "cartons",
         "description": "Valve handwheels of cast iron", "hs_code": "848190", "origin_country": "SG",
         "origin_criterion": "RVC40", "quantity": "1500", "unit": "H87", "gross_weight_kg": "842",
         "invoice_number": "MPV-INV-2026-1182", "invoice_date": "2026-11-06", "fob_value": "9750.00",
         "currency": "USD"},
    ],
    "issue_date": "2026-11-10",
    "valid_until": "2027-11-09",
    "issued_retrospectively": False,
    "certified_true_copy": False,
    "exporter_declaration": {"place": "Singapore", "date": "2026-11-07", "signatory": "Lim Hui Ling, Logistics Lead"},
    "certification": {"place": "Singapore", "date": "2026-11-10", "signatory": "Singapore Customs, Certificates Unit"},
}


class StatusHost:
    """An in-memory status list host that can be taken down."""

    def __init__(self) -> None:
        self.published: dict[str, str] = {}
        self.up = True
        self.fetches = 0

    def publish(self, url: str, token: str) -> None:
        self.published[url] = token

    def fetch(self, url: str) -> str:
        if not self.up:
            raise StatusUnavailableError(f"{url} could not be reached (host down)")
        self.fetches += 1
        return self.published[url]


class DidHost:
    """An in-memory did:web host (did:key resolves offline) that can be taken down."""

    def __init__(self, documents: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.documents = dict(documents or {})
        self.up = True
        self.lookups: list[str] = []

    def resolve(self, did: str) -> Mapping[str, Any]:
        if did.startswith("did:key:"):
            return did_key_document(did)
        self.lookups.append(did)
        if not self.up:
            raise DidUnavailableError(f"the DID host of {did} could not be reached (host down)")
        return self.documents[did]


@dataclass
class World:
    """One issuer with a published status list and a credential, and a verifier's trust list."""

    issuer: IssuerKey
    status: StatusList
    status_host: StatusHost
    did_host: DidHost
    issued: IssuedCredential
    trust: dict[str, set[str]] = field(default_factory=dict)

    def publish(self, now: datetime = ISSUED_AT) -> None:
        signed = issue_status_list_credential(self.status, self.issuer, STATUS_URL, now)
        self.status_host.publish(STATUS_URL, signed.jwt)

    def verify(self, token: str | None = None, now: datetime = NOW) -> VerificationReport:
        return verify_credential(token or self.issued.jwt, resolver=self.did_host, status_fetcher=self.status_host,
                                 trusted_issuers=self.trust, now=now)


def make_world(certificate: Mapping[str, Any] = CERTIFICATE, issuer: IssuerKey | None = None,
               list_published_at: datetime = NOW) -> World:
    """Singapore Customs issues *certificate*; Japan Customs trusts it for SG."""
    issuer = issuer or IssuerKey.generate(did_web("coo.customs.gov.sg"))
    status = StatusList()
    issued = issue_credential(certificate, issuer, status.reserve(STATUS_URL), ISSUED_AT)
    world = World(issuer, status, StatusHost(), DidHost({issuer.did: issuer.did_document()}), issued,
                  {"SG": {issuer.did}, "JP": set()})
    world.publish(list_published_at)
    return world
