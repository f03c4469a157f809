"""The shape of a verification result, shared by the chain and the VC paths.

A :class:`VerificationReport` lists every check with its outcome and a human
reason, and an overall :class:`Verdict`. Both verifiers (blockchain anchoring in
:mod:`registry.pipelines.verify`, verifiable credentials in :mod:`registry.vc`) return this
same shape so a researcher can line results up check by check.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class CheckStatus(StrEnum):
    """Outcome of one check."""

    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    SKIPPED = "skipped"


class Verdict(StrEnum):
    """Overall verdict; anything but ``VALID``/``VALID_WITH_WARNINGS`` is a refusal."""

    VALID = "VALID"
    VALID_WITH_WARNINGS = "VALID_WITH_WARNINGS"
    REVOKED = "REVOKED"
    SUPERSEDED = "SUPERSEDED"
    ERASED = "ERASED"
    EXPIRED = "EXPIRED"
    EXHAUSTED = "EXHAUSTED"
    INVALID = "INVALID"
    UNAVAILABLE = "UNAVAILABLE"


class CheckName(StrEnum):
    """Every check a report may carry, in display order."""

    INTEGRITY = "integrity"
    COMMITMENT = "commitment"
    """A proof bundle's zero-knowledge commitment is sealed in the document hash under the anchored root."""
    CLAIM = "claim"
    """One claim of a proof bundle, proven in zero knowledge (one check per claim, ``details.claim`` names it)."""
    ANCHORED = "anchored"
    ISSUER_AUTHORISED = "issuer_authorised"
    STATUS = "status"
    VALIDITY = "validity"
    READABLE = "readable"
    UTILISATION = "utilisation"
    DECLARATION_MATCH = "declaration_match"
    VERIFICATION_REQUEST = "verification_request"
    FLAGS = "flags"


CHECK_NAMES: tuple[str, ...] = tuple(name.value for name in CheckName)
"""Every check a report may carry, in display order."""


class Check(BaseModel):
    """One verification check: what was checked, the outcome, and why."""

    model_config = ConfigDict(frozen=True)

    name: str
    status: CheckStatus
    reason: str
    details: dict[str, Any] = Field(default_factory=dict)


class VerificationReport(BaseModel):
    """Everything a Customs officer needs to accept or refuse a certificate."""

    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    summary: str
    checks: list[Check]
    document_hash: str | None = None
    certificate_number: str | None = None
    issuer: str | None = None
    issuer_name: str | None = None
    """The issuing body's name as its country's authority registered it on chain."""
    authority: str | None = None
    """The competent authority of the issuer's country (the account that authorised the issuer)."""
    authority_name: str | None = None
    """The authority's name as governance registered it on chain."""
    exporting_country: str | None = None
    checked_at: datetime
    chain_id: int | None = None
    chain_head: int | None = None
    disclosed: dict[str, Any] | None = None
    withheld: list[str] | None = None
    """Paths the holder withheld (labels only: a holder could rename them, so draw no conclusion from them)."""

    def check(self, name: str) -> Check:
        """Return the check called *name*.

        Raises:
            KeyError: if the report has no such check.
        """
        for item in self.checks:
            if item.name == name:
                return item
        raise KeyError(name)

    @property
    def accepted(self) -> bool:
        """True for ``VALID`` and ``VALID_WITH_WARNINGS``."""
        return self.verdict in (Verdict.VALID, Verdict.VALID_WITH_WARNINGS)
