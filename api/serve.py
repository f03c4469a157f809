"""``coo up``: open the node, optionally set up the demo consortium, and serve."""

from __future__ import annotations

import errno
import json
import os
import socket
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import uvicorn
from rich.console import Console

from api.app import create_app, node_config
from api.config import Settings, SettingsError, load_settings
from registry.custody.apikeys import Principal, Role
from registry.errors import ChainError, ConflictError, WritePending
from registry.openattestation.exports import OpenAttestationExports
from registry.pipelines.relay import finished, wait_for
from registry.runtime import Node, ProcessRole, open_node, write_json_private
from registry.storage.writelog import WriteState

DEMO_FILE = "demo-keys.json"
DEMO_SETTLE_S = 120.0
"""Longest wait for one of the demo set-up's chain writes to settle."""
console = Console(stderr=True)


def set_up_demo(node: Node, base_url: str) -> Path:
    """Create the demo consortium once (SG exporting, JP importing) and write its keys.

    Returns the path of ``demo-keys.json`` (mode 0600) in the data directory.
    """
    path = node.config.data_dir / DEMO_FILE
    if path.exists():
        return path
    governance = node.governance
    admin = Principal("demo", Role.ADMIN, None, node.context.node_account.address, "demo admin")
    admin_key = node.context.api_keys.mint(Role.ADMIN, label="demo admin")

    def on_chain(step: Callable[[], tuple[str, str]]) -> tuple[str, str]:
        """*step*'s (account, API key) once its chain write has settled: on a chain that settles at a depth
        (Clique, QBFT) a governance write answers "pending" first, and the next step signs as what it admits."""
        try:
            return step()
        except WritePending as pending:
            write_id = pending.write_id
            write = wait_for(lambda: finished(governance.chain_write(admin, write_id)), DEMO_SETTLE_S)
            if write is None:
                raise
            if write.state is WriteState.REFUSED:
                raise ConflictError(f"the chain refuses the demo's {pending.kind}: {write.error}") from None
            return pending.shown["account"], pending.shown["api_key"]

    sg_authority, sg_authority_key = on_chain(lambda: governance.admit_country(
        admin, "SG", None, "Singapore Customs (demo authority)"))
    jp_authority, jp_authority_key = on_chain(lambda: governance.admit_country(
        admin, "JP", None, "Japan Customs (demo authority)"))
    sg = Principal("demo", Role.AUTHORITY, "SG", sg_authority, "demo authority SG")
    issuer, issuer_key = on_chain(lambda: governance.authorise_issuer(sg, "Singapore Customs (demo issuing body)",
                                                                      None))
    jp = Principal("demo", Role.AUTHORITY, "JP", jp_authority, "demo authority JP")
    customs, customs_key = on_chain(lambda: governance.authorise_customs(jp, "Japan Customs (demo)"))
    keys: dict[str, Any] = {
        "node": base_url,
        "admin": {"role": "admin", "api_key": admin_key},
        "authority": {"role": "authority", "country": "SG", "account": sg_authority, "api_key": sg_authority_key},
        "authority_jp": {"role": "authority", "country": "JP", "account": jp_authority, "api_key": jp_authority_key},
        "issuer": {"role": "issuer", "country": "SG", "account": issuer, "api_key": issuer_key},
        "customs": {"role": "customs", "country": "JP", "account": customs, "api_key": customs_key},
    }
    write_json_private(path, keys)
    return path


def listen(host: str, port: int, count: int = 1) -> list[socket.socket]:
    """Bind the API's listening sockets now, before anything else starts, so a busy port fails at once.

    One socket for one process. For *count* > 1 API worker processes, *count* sockets on the one
    address, each with ``SO_REUSEPORT``, one per worker: the kernel spreads new connections across
    them. Workers sharing one socket did not share the load: the first to wake accepted every
    connection then waiting (an event loop accepts all it can at once), so a burst of keep-alive
    clients was served by one worker while the other idled. The address is first bound without
    ``SO_REUSEPORT``, so a port that any other socket holds (another node's shared sockets
    included) is refused as before, not joined.

    Raises:
        SettingsError: the host does not resolve, is not an address of this machine, or the
            port is in use or needs privileges.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as error:
        raise SettingsError(f"cannot listen on {host}: unknown host ({error.strerror})") from None
    first = _bound(family, kind, proto, address, host, port, shared=False)
    if count == 1:
        return [first]
    address = first.getsockname()  # the port the kernel chose, if 0 was asked for
    first.close()
    listeners: list[socket.socket] = []
    try:
        for _ in range(count):
            listeners.append(_bound(family, kind, proto, address, host, port, shared=True))
    except SettingsError:
        for listener in listeners:
            listener.close()
        raise
    return listeners


def _bound(family: int, kind: int, proto: int, address: Any, host: str, port: int, *,
           shared: bool) -> socket.socket:
    listener = socket.socket(family, kind, proto)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: restarts need no wait
    if shared:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        listener.bind(address)
    except OSError as error:
        listener.close()
        why = _BIND_ERRORS.get(error.errno or 0, error.strerror or type(error).__name__)
        raise SettingsError(f"cannot listen on {host}:{port}: {why}") from None
    return listener


_BIND_ERRORS = {
    errno.EADDRINUSE: "the port is in use (another node or program listens on it; choose another with --port)",
    errno.EADDRNOTAVAIL: "that address is not one of this machine's",
    errno.EACCES: "permission denied (ports below 1024 need privileges)",
}


def server_config(settings: Settings, node: Node) -> uvicorn.Config:
    """uvicorn's settings for serving *node*'s API on an inherited socket (one process, or one API worker).

    The keep-alive timeout is the node's ``keep_alive_s``, not uvicorn's 5 s: a client that keeps
    idle connections for 5 s itself (httpx's default) and sends its next request just before then,
    as the server's 5 s end, had the connection closed under its request (a reset, not an answer),
    which a busy machine made frequent enough to fail the load test.
    """
    return uvicorn.Config(create_app(settings, node, close_node=True), log_level="warning",
                          timeout_keep_alive=settings.keep_alive_s)


def _warn_public_url(settings: Settings) -> None:
    if settings.public_url is None:
        console.print(f"warning: COO_PUBLIC_URL is not set, so QR codes and links will encode {settings.base_url}; "
                      "set it to the address phones and other nodes reach this node at", highlight=False,
                      soft_wrap=True)


def serve(overrides: dict[str, Any], demo: bool = False) -> None:
    """Check the settings and bind the port, then open the node and serve in the foreground until interrupted.

    One process with ``workers`` 1; otherwise this process is the chain writer and supervises
    that many API worker processes (:mod:`api.workers`). Nothing is written, started or
    deployed before the settings and the port are known to be good.

    Raises:
        SettingsError: a bad setting or a port that cannot be bound (before anything starts).
        WorkerExited: an API worker process ended on its own (the node was stopped).
    """
    settings = load_settings(overrides)
    workers = settings.worker_count
    listeners = listen(settings.host, settings.port, workers)
    _warn_public_url(settings)
    wake_read, wake_write = os.pipe() if workers > 1 else (None, None)
    config = node_config(settings)
    if wake_read is not None:
        config = replace(config, role=ProcessRole.WRITER, wake_fd=wake_read)
    try:
        node = open_node(config)
    except BaseException:
        _close_all(listeners)
        _close_fds(wake_read, wake_write)
        raise
    try:
        _announce(node, settings, demo)
        if wake_write is None:
            _serve_here(node, settings, listeners[0])
        else:
            _deploy_document_store(node, settings)
            _supervise(node, settings, listeners, wake_write)
    finally:
        _close_all(listeners)
        _close_fds(wake_read, wake_write)


def _deploy_document_store(node: Node, settings: Settings) -> None:
    """Deploy this node's OpenAttestation DocumentStore now, if it has none on this chain: API workers
    send no transaction, so the first export in a worker could not deploy it."""
    exports = OpenAttestationExports(node.context, node.config.data_dir, settings.identity_domain, settings.base_url)
    try:
        exports.store_deployment()
    except ChainError as error:
        console.print(f"[yellow]warning:[/] no OpenAttestation DocumentStore yet ({error}); exports will be "
                      "refused until the node restarts with the chain reachable")


def _announce(node: Node, settings: Settings, demo: bool) -> None:
    console.print(f"chain: {node.context.chain.w3.provider.endpoint_uri}  "  # type: ignore[attr-defined]
                  f"registry contract: {node.context.chain.address}", highlight=False)
    if node.admin_key_path is not None:
        console.print(f"admin API key: in {node.admin_key_path} (mode 0600)", highlight=False)
    if demo:
        try:
            path = set_up_demo(node, settings.base_url)
        except BaseException:
            node.close()
            raise
        console.print(f"demo consortium keys: {path} (roles: {', '.join(json.loads(path.read_text()))})",
                      highlight=False)


def _serve_here(node: Node, settings: Settings, listener: socket.socket) -> None:
    """One process: this one serves the API and runs every worker."""
    console.print(f"serving on {settings.base_url}  (verification page: {settings.base_url}/)", highlight=False)
    try:
        # The app's lifespan closes the node (worker, follower, managed Anvil) on shutdown:
        # uvicorn re-raises SIGTERM/SIGINT after a graceful shutdown, so code after run() may never execute.
        uvicorn.Server(server_config(settings, node)).run(sockets=[listener])
    except BaseException:
        node.close()
        raise


def _supervise(node: Node, settings: Settings, listeners: list[socket.socket], wake_write: int) -> None:
    """Several processes: this one is the chain writer and runs the API workers until a stop signal."""
    from api.workers import Supervisor, worker_environment

    console.print(f"serving on {settings.base_url}  (verification page: {settings.base_url}/): {len(listeners)} API "
                  f"worker processes, chain writer process {os.getpid()}", highlight=False)
    try:
        Supervisor(listeners, wake_write, worker_environment(node, settings)).run()
    finally:
        node.close()


def _close_all(listeners: list[socket.socket]) -> None:
    for listener in listeners:
        listener.close()


def _close_fds(*fds: int | None) -> None:
    for fd in fds:
        if fd is not None:
            os.close(fd)
