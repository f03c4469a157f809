"""Bring a node up from its data directory: keys, chain, contracts, store, workers.

``open_node`` is what ``coo up``, the API app and the scripts share. With no
RPC URL it starts a managed Anvil whose state lives in the data directory, so a
restart keeps every anchored root. With several RPC URLs the node writes through
the first and verifies (and indexes events) through a
:class:`~registry.chain.quorum.QuorumReader` over all of them. On first start it creates the node's
key-encryption key, its account (the consortium admin when it deploys the
contracts) and an admin API key, each in a 0600 file.

A node runs as one process (:attr:`ProcessRole.SINGLE`), or, with ``coo up --workers N``,
as one chain writer (:attr:`ProcessRole.WRITER`: every background worker, the only
sender of transactions) and N API workers (:attr:`ProcessRole.API`). An API worker's
runtime is built without a transaction sender: its chain connection refuses to send
(:mod:`registry.chain.readonly`) and its outbox and anchoring only record in the store and
wake the writer (:mod:`registry.pipelines.relay`).
"""

from __future__ import annotations

import json
import logging
import os
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from eth_account.signers.local import LocalAccount

from registry.chain.bootstrap import deploy_settled, fund_settled
from registry.chain.client import ChainClient, Deployment
from registry.chain.network import LiveChainClient, accept_poa_headers
from registry.chain.nodes import NodeProcess
from registry.chain.quorum import QuorumReader, distinct_urls
from registry.chain.readonly import forbid_transactions
from registry.custody.accounts import AccountBook, load_or_create_account, write_private_file
from registry.custody.apikeys import ApiKeys, Role
from registry.custody.keys import load_or_create_kek
from registry.custody.vault import KeyVault, Shredder
from registry.errors import ChainError, ValidationError
from registry.openattestation.exports import follow_status_changes
from registry.pipelines.anchoring import Anchorer, BatchPolicy
from registry.pipelines.gas import FundedSigners
from registry.pipelines.indexer import ChainIndexer, Follower
from registry.pipelines.outbox import Outbox, WriteQueue
from registry.pipelines.relay import (
    ANCHOR,
    OUTBOX,
    AnchorQueue,
    AnchorRelay,
    HeadWatcher,
    StoreOutbox,
    WakeListener,
    WakeSender,
    WriterLink,
)
from registry.pipelines.retention import DEFAULT_RETENTION_DAYS, AuditPruner, retention_days
from registry.pipelines.worker import Worker, paused
from registry.services.context import ServiceContext
from registry.services.documents import Documents
from registry.services.governance import Governance
from registry.services.issuing import Issuing
from registry.services.key_release import KeyRelease
from registry.services.requests import Requests
from registry.services.utilisation import Utilisation
from registry.services.verification import Verification
from registry.storage.store import Store
from registry.storage.writelog import WriteKind, WriteLog
from registry.vc.issuer import VcIssuer
from registry.vc.keys import did_web
from registry.zk.writes import ClaimLogs, ClaimWrites

log = logging.getLogger("coo.runtime")

ADMIN_KEY_FILE = "admin-api-key"
FIRST_STEPS_TIMEOUT_S = 120.0
"""Longest wait for the node's funding or its registry's deployment to reach the confirmation depth."""


class ProcessRole(StrEnum):
    """What one process of a node does."""

    SINGLE = "single"
    """The whole node in one process: API and every background worker (``coo up --workers 1``)."""
    WRITER = "writer"
    """The chain writer of a multi-process node: every background worker, the only sender of transactions."""
    API = "api"
    """An API worker of a multi-process node: answers requests, records writes in the store, sends nothing."""

    @property
    def sends(self) -> bool:
        """Whether this process sends transactions (and runs the workers that do)."""
        return self is not ProcessRole.API


@dataclass
class NodeConfig:
    """What a node needs to start (the API's Settings map onto this)."""

    data_dir: Path
    base_url: str = "http://127.0.0.1:8000"
    rpc_url: str | None = None
    contract_address: str | None = None
    kek: str | None = None
    rpc_timeout: float = 5.0
    batch: BatchPolicy = field(default_factory=BatchPolicy)
    sqlite_secure_delete: bool = True
    audit_retention_days: int = DEFAULT_RETENTION_DAYS
    """Days verification receipts and key-release entries are kept (0: for ever)."""
    max_head_age: float = 0.0
    """Seconds after which a head that has not moved counts as a stalled chain (0: never; see
    :class:`~registry.chain.network.LiveChainClient`)."""
    rpc_urls: tuple[str, ...] = ()
    """More JSON-RPC endpoints of the same chain: verification and the event index read through all of
    them (:mod:`registry.chain.quorum`); writes go to ``rpc_url``, or to the first of these without it."""
    rpc_quorum: int | None = None
    """How many endpoints must answer, and agree, for a verdict (default: all of them)."""
    rpc_quorum_depth: int = 0
    """Blocks below the agreed head quorum reads are pinned to (the consensus's finality depth)."""
    role: ProcessRole = ProcessRole.SINGLE
    """What this process does (an API worker needs ``contract_address``: the writer deployed it)."""
    wake_fd: int | None = None
    """The wake-up pipe: its read end in the writer, its write end in an API worker (None: no pipe)."""
    writer_pid: int | None = None
    """An API worker's writer process (default: the parent process)."""

    def __post_init__(self) -> None:
        retention_days(self.audit_retention_days)  # refuse a bad policy before anything starts
        count = len(self.read_endpoints()) or 1  # none: the managed Anvil
        if self.rpc_quorum is not None and not 1 <= self.rpc_quorum <= count:
            raise ValidationError(f"rpc_quorum: {self.rpc_quorum} is not between 1 and the {count} RPC "
                                  "endpoint(s) configured", [{"loc": "rpc_quorum", "msg": "out of range"}])

    def read_endpoints(self) -> list[str]:
        """Every configured RPC URL, the write endpoint first, each once (none: a managed Anvil).

        Raises:
            ValidationError: the same URL given twice.
        """
        return distinct_urls(([self.rpc_url] if self.rpc_url else []) + list(self.rpc_urls))


@dataclass
class Node:
    """A running node: the context its services share, each use-case service, and the processes it owns."""

    config: NodeConfig
    context: ServiceContext
    issuing: Issuing
    verification: Verification
    governance: Governance
    documents: Documents
    utilisation: Utilisation
    requests: Requests
    key_release: KeyRelease
    deployment: Deployment | None
    anvil: NodeProcess | None
    admin_key_path: Path | None
    vc_issuer: VcIssuer | None = None
    shredder: Shredder | None = None
    pruner: AuditPruner | None = None
    links: tuple[Worker, ...] = ()
    """The workers that tie the processes of a multi-process node together (wake-ups, the writer's liveness)."""

    @property
    def role(self) -> ProcessRole:
        """What this process does."""
        return self.config.role

    @property
    def workers(self) -> tuple[Worker, ...]:
        """This process's background workers: the anchoring worker, the chain-write outbox, the block follower,
        the shredder and the audit pruner (an API worker: its head watcher and its link to the writer)."""
        parts = (self.context.anchorer, self.context.outbox, self.context.follower, self.shredder, self.pruner,
                 *self.links)
        return tuple(part for part in parts if isinstance(part, Worker))

    def paused(self) -> AbstractContextManager[None]:
        """Stop every background worker for the duration of a ``with`` block, then restart them.

        No worker thread runs inside the block, so a test may replace what they use
        (the chain client, the store, the clock) without a race. Also what a
        consistent offline backup of the data directory needs.

        Raises:
            WorkerError: a worker did not stop in time.
        """
        return paused(self.workers)

    def close(self) -> None:
        """Stop the workers (their threads have ended on return) and the managed chain."""
        try:
            for worker in self.workers:
                worker.stop()
        finally:
            if self.anvil is not None:
                self.anvil.stop()


def open_node(config: NodeConfig, *, start_worker: bool = True) -> Node:
    """Start (or reconnect) everything a node's process needs (see :class:`ProcessRole`).

    Raises:
        KeyVaultError: bad KEK or key files.
        ChainUnavailableError: the chain cannot be reached or started.
        ValidationError: an API worker without the writer's contract address.
    """
    data = config.data_dir
    data.mkdir(parents=True, exist_ok=True, mode=0o700)
    data.chmod(0o700)
    kek = load_or_create_kek(data / "kek", config.kek)
    node_account = load_or_create_account(data / "node-account.json", kek.derive("node-account"))
    chain, deployment, reads, anvil = _connect(config, node_account)
    store = Store(data / "registry.db", secure_delete=config.sqlite_secure_delete)
    vault = KeyVault(store, kek)
    accounts = AccountBook(data / "accounts", kek.derive("accounts"))
    api_keys = ApiKeys(store, shared=config.role is ProcessRole.API)
    anchorer, follower, outbox, links = _pipelines(config, store, chain, vault, accounts, node_account, reads,
                                                   deployment)
    context = ServiceContext(store=store, vault=vault, chain=chain, accounts=accounts, node_account=node_account,
                             api_keys=api_keys, anchorer=anchorer, follower=follower, outbox=outbox, reads=reads)
    issuing, verification, governance = Issuing(context), Verification(context), Governance(context)
    follow_status_changes(outbox, store)  # a revoked certificate's OpenAttestation exports are revoked too
    if config.role.sends:  # the process that sends records claims (and deploys their log)
        outbox.handle(WriteKind.ZK_CLAIM, ClaimWrites(ClaimLogs(chain, data, lambda: _new_signer(context))))
    admin_key_path = _first_admin_key(api_keys, store, data) if config.role.sends else None
    host = config.base_url.split("://", 1)[-1].split("/", 1)[0]
    vc_issuer = VcIssuer(data, kek, did_web(host), config.base_url)
    documents = Documents(context, verification, kek)
    utilisation = Utilisation(context, documents)
    requests = Requests(context, documents, utilisation)
    key_release = KeyRelease(context, documents, verification)
    shredder = pruner = None
    if config.role.sends:  # an API worker leaves erasures and retention to the writer
        shredder = Shredder(vault, after=key_release.acknowledge_erasures)
        pruner = AuditPruner(store, config.audit_retention_days)
    node = Node(config, context, issuing, verification, governance, documents, utilisation, requests, key_release,
                deployment, anvil, admin_key_path, vc_issuer, shredder, pruner, links)
    if start_worker:  # the outbox after the services registered what they do once their writes settle
        for worker in node.workers:
            worker.start()
    return node


def _connect(config: NodeConfig, node_account: LocalAccount
             ) -> tuple[ChainClient, Deployment | None, QuorumReader | None, NodeProcess | None]:
    """The chain client (sending nothing in an API worker), the deployment, the quorum reader and a managed
    Anvil (started here unless an RPC URL is given)."""
    if config.role is ProcessRole.API and not config.contract_address:
        raise ValidationError("an API worker attaches to the contract its writer deployed: contract_address "
                              "is required", [{"loc": "contract_address", "msg": "missing"}])
    anvil = None
    endpoints = config.read_endpoints()
    rpc_url = endpoints[0] if endpoints else None
    if rpc_url is None:
        anvil = NodeProcess(kind="anvil", state_file=config.data_dir / "anvil-state.json",
                            log_path=config.data_dir / "anvil.log")
        anvil.start()
        rpc_url = anvil.url
    try:
        chain = accept_poa_headers(LiveChainClient.connect(rpc_url, timeout=config.rpc_timeout))
        if not config.role.sends:
            forbid_transactions(chain.w3)
        chain.max_head_age = config.max_head_age
        if config.max_head_age:  # a transaction not mined while the chain sealed for longer than it may stall
            chain.receipt_timeout = config.max_head_age  # is not coming (a node dropped it): send it again sooner
        deployment = _deploy_or_attach(chain, node_account, config, config.data_dir)
        reads = _quorum(config, endpoints, chain.address)
    except BaseException:
        if anvil is not None:
            anvil.stop()
        raise
    return chain, deployment, reads, anvil


def _pipelines(config: NodeConfig, store: Store, chain: ChainClient, vault: KeyVault, accounts: AccountBook,
               node_account: LocalAccount, reads: QuorumReader | None, deployment: Deployment | None
               ) -> tuple[AnchorQueue, Follower, WriteQueue, tuple[Worker, ...]]:
    """Anchoring, the follower, the chain-write queue and the links between processes, for this process's role."""
    if not config.role.sends:
        indexer = ChainIndexer(store, reads or chain)  # for the head only: the writer keeps the index
        wake = WakeSender(config.wake_fd)
        link = WriterLink(config.writer_pid or os.getppid())
        relay = AnchorRelay(store, wake, link, bound=config.rpc_timeout)
        return relay, HeadWatcher(indexer), StoreOutbox(WriteLog(store), wake, bound=config.rpc_timeout), (link,)
    since = deployment.block_number if deployment is not None else chain.deployed_since()
    # never from block 0; from a reorg window before the deployment, which a reorganisation may have
    # moved to an earlier block on a network that replaces recent blocks
    indexer = ChainIndexer(store, reads or chain, first_block=max(1, since - config.batch.reorg_window))
    def key_of(address: str) -> LocalAccount | None:
        return node_account if address.lower() == node_account.address.lower() else accounts.get(address)

    funded = FundedSigners(chain, key_of, depth=config.batch.confirmations,  # one record of the accounts seen
                           settle_timeout=FIRST_STEPS_TIMEOUT_S)        # with gas money, for both
    anchorer = Anchorer(store, chain, vault, funded, config.batch)
    outbox = Outbox(WriteLog(store), chain, funded,
                    confirmations=config.batch.confirmations, bound=config.rpc_timeout,
                    anchoring_block=store.anchoring_block)
    links: tuple[Worker, ...] = ()
    if config.wake_fd is not None:
        links = (WakeListener(config.wake_fd, {OUTBOX: outbox.wake, ANCHOR: anchorer.wake}),)
    return anchorer, Follower(indexer), outbox, links


def _quorum(config: NodeConfig, endpoints: list[str], address: str) -> QuorumReader | None:
    """The quorum verification and the event index read through; None for one endpoint with K=1, which
    reads through the node's own client as before (no extra request)."""
    if len(endpoints) <= 1 and (config.rpc_quorum or 1) == 1:
        return None
    return QuorumReader.connect(endpoints, address, config.rpc_quorum, depth=config.rpc_quorum_depth,
                                timeout=config.rpc_timeout)


def _deploy_or_attach(chain: ChainClient, node_account: LocalAccount, config: NodeConfig,
                      data: Path) -> Deployment | None:
    """Attach to the configured contract, or deploy (once) with the node account as consortium admin."""
    if config.contract_address:
        chain.use(config.contract_address)
        if not chain.is_deployed():
            raise ChainError(f"no registry contract at {config.contract_address} on {chain.chain_id}")
        return None
    depth = config.batch.confirmations  # settled at the depth every write is (a Clique block can be replaced)
    try:
        fund_settled(chain, node_account.address, depth, FIRST_STEPS_TIMEOUT_S)
    except ChainError:
        log.info("could not fund the node account; the network must do it")
    return deploy_settled(chain, node_account, data / "deployment.json", depth, FIRST_STEPS_TIMEOUT_S)


def _new_signer(context: ServiceContext) -> LocalAccount:
    """A new funded account of this node's book, with its key."""
    account = context.accounts.get(context.new_funded_account())
    assert account is not None  # just created in the book
    return account


def _first_admin_key(api_keys: ApiKeys, store: Store, data: Path) -> Path | None:
    """On the very first start, mint an admin API key into a 0600 file."""
    path = data / ADMIN_KEY_FILE
    if store.count_api_keys() > 0:
        return path if path.exists() else None
    key = api_keys.mint(Role.ADMIN, label="first admin")
    write_private_file(path, (key + "\n").encode())
    return path


def write_json_private(path: Path, content: object) -> None:
    """Write JSON to a new 0600 file, replacing an older one."""
    if path.exists():
        path.unlink()
    write_private_file(path, (json.dumps(content, indent=2) + "\n").encode())
