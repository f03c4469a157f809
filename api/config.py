"""Node settings, read from ``COO_*`` environment variables (pydantic-settings)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from registry.pipelines.retention import DEFAULT_RETENTION_DAYS


class Settings(BaseSettings):
    """Everything a node needs to run; secrets have no defaults.

    With no ``COO_RPC_URL`` the node starts and manages its own Anvil, persisting
    chain state in the data directory.
    """

    model_config = SettingsConfigDict(env_prefix="COO_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("data")
    rpc_url: str | None = None
    contract_address: str | None = None
    kek: SecretStr | None = None
    public_url: str | None = Field(default=None, description="base URL printed in QR codes; default http://host:port")
    max_body_bytes: int = 1 << 20
    max_batch_body_bytes: int = 32 << 20
    batch_max_size: int = 1024
    batch_max_wait_ms: int = 250
    confirmation_depth: int = 1
    rpc_timeout_ms: int = Field(default=5000, gt=0, description="longest wait for one JSON-RPC request (no retries)")
    auth_failures_per_minute: int = Field(default=20, gt=0, description="invalid API keys a client may send a minute")
    readiness_timeout_ms: int = Field(default=800, gt=0, description="longest /readyz waits for the chain")
    sqlite_secure_delete: bool = Field(default=True, description="SQLite overwrites deleted content (defence in "
                                       "depth; erasure does not rely on it, and the forensic tests turn it off)")
    audit_retention_days: int = Field(default=DEFAULT_RETENTION_DAYS, ge=0,
                                      description="days verification receipts and key-release "
                                      "entries are kept (over the year Customs audits need); 0 keeps them for ever")

    @property
    def base_url(self) -> str:
        """Public base URL of this node (used in QR codes and links)."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
