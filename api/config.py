"""Node settings, read from ``COO_*`` environment variables (pydantic-settings).

Every setting is checked when :class:`Settings` is built, so ``coo up`` refuses a
bad value (:func:`load_settings`: one line naming the variable or flag) before it
writes, starts or deploys anything.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import AfterValidator, Field, SecretStr, ValidationInfo, model_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from registry.chain.finality import Consensus, confirmations_for
from registry.chain.quorum import distinct_urls, endpoint_label
from registry.errors import ValidationError
from registry.openattestation.identity import DnsTxt, TrustList, domain_name
from registry.pipelines.retention import DEFAULT_RETENTION_DAYS

_HOST_NAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}"
                        r"[A-Za-z0-9])?)*\.?$")
_HTTP_URL = re.compile(r"^https?://[^\s/?#@]+(/[^\s]*)?$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
SECRET_SETTINGS = frozenset({"kek", "rpc_urls"})
"""Settings whose value is never repeated in an error (a provider's URL may carry its API key: the
message names the endpoint by scheme, host and port)."""
FLAGS = {"host": "--host", "port": "--port", "data_dir": "--data-dir", "workers": "--workers"}
"""The ``coo up`` flag of each setting that has one."""


MAX_WORKERS = 256
"""The most API worker processes ``coo up --workers`` starts."""


class SettingsError(ValueError):
    """A setting has a value the node cannot run with; the message names it in one line."""


def _host(value: str) -> str:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        if not _HOST_NAME.match(value):
            raise ValueError("not an IP address or host name") from None
    return value


def _port(value: int) -> int:
    if not 1 <= value <= 65_535:
        raise ValueError("not a port number (1 to 65535)")
    return value


def _http_url(value: str | None) -> str | None:
    if value is not None and not _HTTP_URL.match(value):
        raise ValueError("not an http:// or https:// URL")
    return value


def _address(value: str | None) -> str | None:
    if value is not None and not _ADDRESS.match(value):
        raise ValueError("not a contract address (0x and 40 hex digits)")
    return value


def _directory(value: Path) -> Path:
    if value.exists() and not value.is_dir():
        raise ValueError("exists and is not a directory")
    return value


HttpUrl = Annotated[str | None, AfterValidator(_http_url)]


def _http_urls(value: str | None, info: ValidationInfo) -> str | None:
    """A comma-separated list of http(s) URLs, each given once (``COO_RPC_URL`` included)."""
    if value is None:
        return None
    urls = [url.strip() for url in value.split(",") if url.strip()]
    for index, url in enumerate(urls, start=1):
        if not _HTTP_URL.match(url):
            raise ValueError(f"{endpoint_label(url, index)} is not an http:// or https:// URL")
    try:
        _endpoints(info.data.get("rpc_url"), ",".join(urls))
    except ValidationError as error:
        raise ValueError(str(error).removeprefix("rpc_url: ")) from None
    return ",".join(urls) or None


def _quorum(value: int | None, info: ValidationInfo) -> int | None:
    """At most as many as the RPC endpoints configured (a managed Anvil is one)."""
    if value is None:
        return None
    count = len(_endpoints(info.data.get("rpc_url"), info.data.get("rpc_urls"))) or 1
    if not 1 <= value <= count:
        raise ValueError(f"needs between 1 and the {count} RPC endpoint(s) configured")
    return value


def _endpoints(rpc_url: str | None, rpc_urls: str | None) -> list[str]:
    return distinct_urls(([rpc_url] if rpc_url else []) + (rpc_urls.split(",") if rpc_urls else []))


def _dns_resolver(value: str | None) -> str | None:
    if value is not None:
        DnsTxt(value)  # raises ValueError naming the two forms
    return value


def _trust_list(value: Path | None) -> Path | None:
    if value is not None:
        TrustList.load(value)  # TrustListError is a ValueError: one line naming what is wrong
    return value


def _domain(value: str | None) -> str | None:
    if value is not None and domain_name(value) != value.lower():
        raise ValueError("not a domain name")
    return value


class Settings(BaseSettings):
    """Everything a node needs to run; secrets have no defaults.

    With no ``COO_RPC_URL`` the node starts and manages its own Anvil, persisting
    chain state in the data directory.
    """

    model_config = SettingsConfigDict(env_prefix="COO_", extra="ignore")

    host: Annotated[str, AfterValidator(_host)] = "127.0.0.1"
    port: Annotated[int, AfterValidator(_port)] = Field(default=8000, description="TCP port to listen on")
    workers: int | None = Field(default=None, ge=1, le=MAX_WORKERS, description="API worker processes on the "
                                "port, beside one chain writer process; 1: the whole node in one process; "
                                "default: the number of cores")
    data_dir: Annotated[Path, AfterValidator(_directory)] = Path("data")
    rpc_url: HttpUrl = Field(default=None, description="JSON-RPC URL of the chain; unset: a managed Anvil")
    rpc_urls: Annotated[str | None, AfterValidator(_http_urls)] = Field(
        default=None, description="more JSON-RPC URLs of the same chain, comma-separated: verification reads "
        "through all of them (with COO_RPC_URL, or alone: then the first takes the writes)")
    rpc_quorum: Annotated[int | None, AfterValidator(_quorum)] = Field(
        default=None, description="how many RPC endpoints must answer, and agree, for a verdict; default: all")
    rpc_quorum_depth: int = Field(default=0, ge=0, description="blocks below the agreed head quorum reads "
                                  "are pinned to (the consensus's finality depth; 0 on Anvil)")
    contract_address: Annotated[str | None, AfterValidator(_address)] = None
    kek: SecretStr | None = None
    public_url: HttpUrl = Field(default=None, description="base URL printed in QR codes; default http://host:port")
    max_body_bytes: int = Field(default=1 << 20, gt=0)
    max_batch_body_bytes: int = Field(default=32 << 20, gt=0)
    batch_max_size: int = Field(default=1024, gt=0)
    batch_max_wait_ms: int = Field(default=250, ge=0)
    consensus: Consensus = Field(default="anvil", description="the chain's consensus (anvil, clique or qbft): "
                                 "sets the default confirmation depth")
    clique_sealers: int = Field(default=4, ge=1, description="sealers of a Clique chain (its confirmation depth)")
    max_head_age_s: float = Field(default=0, ge=0, description="seconds after which a chain head that has not "
                                  "moved means a stalled consensus (verification: UNAVAILABLE); 0: never "
                                  "(Anvil mines only on demand)")
    confirmation_depth: int = Field(default=0, ge=0, description="blocks a write's transaction needs, its own "
                                    "included, before it counts as settled; 0: what the consensus needs")
    rpc_timeout_ms: int = Field(default=5000, gt=0, description="longest wait for one JSON-RPC request (no retries)")
    auth_failures_per_minute: int = Field(default=20, gt=0, description="invalid API keys a client may send a minute")
    readiness_timeout_ms: int = Field(default=800, gt=0, description="longest /readyz waits for the chain")
    keep_alive_s: int = Field(default=65, gt=0, description="seconds an idle keep-alive connection stays open: "
                              "longer than clients keep idle connections (httpx 5 s, load balancers 60 s), so "
                              "a client never sends a request on a connection the node is closing")
    sqlite_secure_delete: bool = Field(default=True, description="SQLite overwrites deleted content (defence in "
                                       "depth; erasure does not rely on it, and the forensic tests turn it off)")
    audit_retention_days: int = Field(default=DEFAULT_RETENTION_DAYS, ge=0,
                                      description="days verification receipts and key-release "
                                      "entries are kept (over the year Customs audits need); 0 keeps them for ever")

    oa_dns_resolver: Annotated[str | None, AfterValidator(_dns_resolver)] = Field(
        default=None, description="OpenAttestation identity: DNS-over-HTTPS URL (https://…) or a resolver's "
        "host:port for DNS-TXT lookups; unset: the system's resolver")
    oa_dns_timeout_ms: int = Field(default=3000, gt=0, description="longest wait for one DNS-TXT lookup")
    oa_trust_list: Annotated[Path | None, AfterValidator(_trust_list)] = Field(
        default=None, description="OpenAttestation identity offline: JSON file of domain -> "
        "[\"eip155:<chain id>:<store>\", …] vouched for without DNS")
    oa_identity_domain: Annotated[str | None, AfterValidator(_domain)] = Field(
        default=None, description="the domain whose DNS-TXT record vouches for this node's DocumentStore in "
        "exported OpenAttestation documents; default: the public URL's host")

    @model_validator(mode="after")
    def _depth_from_consensus(self) -> Self:
        if self.confirmation_depth == 0:
            self.confirmation_depth = confirmations_for(self.consensus, self.clique_sealers)
        return self

    @property
    def identity_domain(self) -> str:
        """The domain exported OpenAttestation documents name as their issuer's identity."""
        return (self.oa_identity_domain or self.base_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]).lower()

    @property
    def worker_count(self) -> int:
        """How many API worker processes to run (the setting, else one per core)."""
        return self.workers or min(MAX_WORKERS, os.cpu_count() or 1)

    @property
    def base_url(self) -> str:
        """Public base URL of this node (used in QR codes and links)."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


def load_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    """The settings from the environment and *overrides* (``coo up`` flags).

    Raises:
        SettingsError: every bad value, in one line naming its flag or ``COO_*`` variable.
    """
    given = dict(overrides or {})
    try:
        return Settings(**given)
    except PydanticValidationError as error:
        raise SettingsError("bad setting: " + "; ".join(_problem(e, given) for e in error.errors())) from None


def _problem(error: Any, given: Mapping[str, Any]) -> str:
    field = str(error["loc"][0]) if error.get("loc") else ""
    name = FLAGS[field] if field in given and field in FLAGS else f"COO_{field.upper()}"
    shown = "" if field in SECRET_SETTINGS or isinstance(error.get("input"), dict) else f" {error.get('input')!r}"
    return f"{name}{shown}: {str(error['msg']).removeprefix('Value error, ')}"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
