"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api import problems
from api.config import Settings
from api.limits import BodyLimit, FailureLimiter, JsonGuard
from api.routers import (
    certificates,
    chain_writes,
    code_lists,
    credentials,
    disclosures,
    docs,
    governance,
    key_release,
    ops,
    proofs,
    utilisations,
    verification,
    verification_requests,
)
from api.schemas import PROBLEM_RESPONSES
from registry.pipelines.anchoring import BatchPolicy
from registry.runtime import Node, NodeConfig, open_node

DESCRIPTION = """Register, verify, revoke and erase certificates of origin anchored on an EVM chain.

Issuers, Customs, authorities and admins authenticate with bearer API keys; verification is public.
Errors are `application/problem+json`."""


def node_config(settings: Settings) -> NodeConfig:
    """Map the API settings onto what the core needs."""
    return NodeConfig(
        data_dir=settings.data_dir, base_url=settings.base_url, rpc_url=settings.rpc_url,
        rpc_urls=tuple(settings.rpc_urls.split(",")) if settings.rpc_urls else (),
        rpc_quorum=settings.rpc_quorum, rpc_quorum_depth=settings.rpc_quorum_depth,
        contract_address=settings.contract_address,
        kek=settings.kek.get_secret_value() if settings.kek else None, rpc_timeout=settings.rpc_timeout_ms / 1000,
        batch=BatchPolicy(max_size=settings.batch_max_size, max_wait=settings.batch_max_wait_ms / 1000,
                          confirmations=settings.confirmation_depth),
        sqlite_secure_delete=settings.sqlite_secure_delete, audit_retention_days=settings.audit_retention_days,
        max_head_age=settings.max_head_age_s,
    )


def create_app(settings: Settings | None = None, node: Node | None = None, *, close_node: bool = False) -> FastAPI:
    """Build the app. With *node* given it is used as is (and closed on shutdown only
    when *close_node*); otherwise the lifespan opens the node from *settings* and
    closes it on shutdown."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = node is None or close_node
        running = node or open_node(node_config(settings))
        app.state.node = running
        try:
            yield
        finally:
            if owned:
                running.close()

    app = FastAPI(title="Certificate of Origin registry", version="1.0.0", description=DESCRIPTION, lifespan=lifespan,
                  responses=PROBLEM_RESPONSES, docs_url=None, redoc_url=None)  # /docs: api/routers/docs.py
    app.state.settings = settings
    app.state.auth_failures = FailureLimiter(settings.auth_failures_per_minute, 60.0)
    if node is not None:
        app.state.node = node
    problems.install(app)
    # verification first: its routes are the hottest, and each request is matched router by router (no other
    # router has a path under /v1/verify, /v1/verifications or /v/, so the order changes no match)
    for router in (verification.router, certificates.router, utilisations.router, verification_requests.router,
                   key_release.router, governance.router, credentials.router, chain_writes.router, ops.router,
                   docs.router, code_lists.router, proofs.router):
        app.include_router(router)
    app.include_router(disclosures.router)
    app.mount(docs.ASSETS, StaticFiles(directory=docs.SWAGGER_UI, check_dir=False), name="swagger-ui")
    app.mount("/static", StaticFiles(directory=ops.STATIC), name="static")
    app.add_middleware(JsonGuard)
    app.add_middleware(BodyLimit, default=settings.max_body_bytes, batch=settings.max_batch_body_bytes)
    return app
