"""A local consortium network: one EthereumJS chain node per member, sealing one Clique chain together.

``Network.create`` writes a network directory (the genesis, each member's keys and
static peers, and ``network.json``, which holds nothing secret); ``Network.load``
reads one back. Each chain node is its own process (``node scripts/ethereumjs-node.mjs``,
the npm ``@ethereumjs/client`` with the consortium profile described in that file),
with its own data directory, RPC port and peer-to-peer port, and peers with every
other member over loopback. Blocks come from Clique among all the members' sealers:
a sealer may seal one block in any ``N // 2 + 1`` consecutive ones, so the chain
goes on while more than half of the sealers run and stops when half or more are down.

A node started by a test or a script dies with the process that started it (the
kernel's parent-death signal); ``coo network up`` starts them detached instead and
``coo network down`` stops them from their pid files, checking that each pid still
runs that node before signalling it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

from web3.middleware import ExtraDataToPOAMiddleware

from registry.chain.client import ChainClient, DocumentView
from registry.chain.compiler import PROJECT_ROOT
from registry.chain.finality import clique_confirmations, clique_stall_after
from registry.chain.genesis import (
    CHAIN_NAME,
    SEALER_KEY_FILE,
    Member,
    chain_params,
    clique_sealer,
    genesis_state,
    member_record,
    new_member,
    write_static_nodes,
)
from registry.chain.links import Pair, PeerLinks, pair_key, parse_pair
from registry.chain.nodes import _die_with_parent, rpc_ready
from registry.chain.ports import free_port
from registry.errors import ChainUnavailableError

LAUNCHER = PROJECT_ROOT / "scripts" / "ethereumjs-node.mjs"
CLIENT_ENV = "COO_EJS_CLIENT"
"""Where the ``@ethereumjs/client`` package is, when not in the project's ``node_modules``."""
NETWORK_FILE = "network.json"
CHAIN_FILE = "chain.json"
STATE_FILE = "genesis-state.json"
PID_FILE = "pid"
DEFAULT_CHAIN_ID = 31_338
RPC_TIMEOUT_MS = 15_000
"""A JavaScript chain node on a loaded machine may take seconds to answer; a member node waits this long."""
AnyChain = TypeVar("AnyChain", bound=ChainClient)


def client_package() -> Path:
    """The ``@ethereumjs/client`` package directory (``$COO_EJS_CLIENT``, else the project's ``node_modules``)."""
    return Path(os.environ.get(CLIENT_ENV) or PROJECT_ROOT / "node_modules" / "@ethereumjs" / "client")


def require_client() -> None:
    """Check that a chain node can be started here.

    Raises:
        ChainUnavailableError: Node.js or the ``@ethereumjs/client`` package is missing.
    """
    if not (client_package() / "package.json").exists():
        raise ChainUnavailableError(f"@ethereumjs/client not installed at {client_package()}; run `npm install` "
                                    f"(or point {CLIENT_ENV} at it)")
    if shutil.which("node") is None:
        raise ChainUnavailableError("Node.js (node) is not on the PATH")


def accept_poa_headers(chain: AnyChain) -> AnyChain:
    """Let *chain* read the blocks of a proof-of-authority chain (Clique, QBFT), whose extra data holds
    more than the 32 bytes web3.py accepts by default; harmless on any other chain."""
    if "poa" not in chain.w3.middleware_onion:
        chain.w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0, name="poa")
    return chain


class LiveChainClient(ChainClient):
    """A chain client that counts a chain whose head stopped moving as unreachable.

    On a network that seals blocks at a steady pace (Clique, QBFT), a head older than
    :attr:`max_head_age` seconds means the consensus has stalled (too many sealers or
    validators down, or this node cut off from them): what the node reads is then an old
    state, which may no longer be the network's. Every read of the head raises
    :class:`~registry.errors.ChainUnavailableError` instead, so verification answers
    ``UNAVAILABLE``, never a stale ``VALID``. ``0`` turns the check off (Anvil mines only
    when it is sent a transaction, so its head may rightly stand still).
    """

    max_head_age: float = 0.0

    def block_number(self) -> int:
        """The current head, once checked to be recent."""
        if not self.max_head_age:
            return super().block_number()
        block = self._rpc(lambda: self.w3.eth.get_block("latest"))
        self._check_age(int(block["timestamp"]))
        return int(block["number"])

    def inspect_at_head(self, document_hash: bytes, proof: Sequence[bytes] = ()) -> tuple[DocumentView, int]:
        """:meth:`ChainClient.inspect_at_head`, once its head is checked to be recent."""
        view, number = super().inspect_at_head(document_hash, proof)
        if self.max_head_age:
            self._check_age(self.block_timestamp(number))
        return view, number

    def _check_age(self, timestamp: int) -> None:
        age = time.time() - timestamp
        if age > self.max_head_age:
            raise ChainUnavailableError(f"the chain has sealed no block for {age:.0f} s (more than "
                                        f"{self.max_head_age:.0f} s): its consensus has stalled or this node "
                                        "is cut off from it")


def _rpc(url: str, method: str, params: list[Any] | None = None, timeout: float = 2.0) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 (loopback URL)
        return json.loads(answer.read()).get("result")


def head(url: str) -> tuple[int, str] | None:
    """The node's head (number, hash), or None while it does not answer."""
    try:
        block = _rpc(url, "eth_getBlockByNumber", ["latest", False])
    except (OSError, ValueError):
        return None
    return (int(block["number"], 16), str(block["hash"])) if block else None


@dataclass
class ChainNode:
    """One member's chain node process."""

    network_dir: Path
    member: Member
    detach: bool = False
    """Keep running after the starting process exits (``coo network up``)."""
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _log: IO[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def directory(self) -> Path:
        """The node's data directory."""
        return self.network_dir / self.member.directory

    @property
    def url(self) -> str:
        """The node's JSON-RPC URL."""
        return self.member.rpc_url

    @property
    def running(self) -> bool:
        """True while the process started here is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The process id, while running."""
        return self._process.pid if self.running and self._process is not None else None

    def command(self) -> list[str]:
        """The command line that starts this node."""
        node = shutil.which("node") or "node"
        m = self.member
        return [node, str(LAUNCHER), "--customChain", str(self.network_dir / CHAIN_FILE),
                "--customGenesisState", str(self.network_dir / STATE_FILE), "--dataDir", str(self.directory),
                "--port", str(m.p2p_port), "--rpc", "--rpcAddr", m.host,
                "--rpcPort", str(m.rpc_port), "--discDns=false", "--discV4=false",
                "--unlock", str(self.directory / SEALER_KEY_FILE), "--mine",
                "--logLevel", "info", "--logLevelFile", "warn"]

    def spawn(self) -> None:
        """Start the process (without waiting for it to answer).

        Raises:
            ChainUnavailableError: Node.js, the launcher or the client package is missing.
        """
        if self.running:
            return
        require_client()
        self._log = (self.directory / "node.log").open("ab")
        self._process = subprocess.Popen(
            self.command(), stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=None if self.detach else _die_with_parent(),  # noqa: PLW1509
            env={**os.environ, CLIENT_ENV: str(client_package())}, cwd=self.directory)
        (self.directory / PID_FILE).write_text(f"{self._process.pid}\n")

    def wait_ready(self, timeout: float) -> None:
        """Wait until the node answers JSON-RPC.

        Raises:
            ChainUnavailableError: it exited, or did not answer within *timeout* seconds.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                raise ChainUnavailableError(f"chain node {self.member.index} exited at start; "
                                            f"see {self.directory / 'node.log'}")
            if rpc_ready(self.url, timeout=0.5):
                return
            time.sleep(0.1)
        raise ChainUnavailableError(f"chain node {self.member.index} did not answer on {self.url} "
                                    f"within {timeout:.0f} s")

    def start(self, timeout: float = 60.0) -> ChainNode:
        """Start the node and wait until it answers."""
        self.spawn()
        self.wait_ready(timeout)
        return self

    def terminate(self) -> None:
        """Ask the node to stop (SIGTERM to its process group), without waiting."""
        if self._process is not None and self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGTERM)

    def wait_stopped(self, timeout: float = 20.0) -> None:
        """Wait for the node to exit after :meth:`terminate`; kill it when it takes longer than *timeout*."""
        process, self._process = self._process, None
        if process is not None:
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self._release()

    def stop(self, timeout: float = 20.0) -> None:
        """Stop the node gracefully (it flushes its databases), killing it after *timeout* seconds."""
        self.terminate()
        self.wait_stopped(timeout)

    def kill(self) -> None:
        """Kill the node hard (SIGKILL), as a crash would."""
        if self._process is not None and self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
        self.wait_stopped()

    def _release(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
        with contextlib.suppress(FileNotFoundError):
            (self.directory / PID_FILE).unlink()


@dataclass
class Network:
    """A network directory and its chain nodes."""

    directory: Path
    chain_id: int
    block_time: int
    members: list[Member]
    detach: bool = False
    link_ports: dict[Pair, int] = field(default_factory=dict)
    """Each pair's link forwarder port (empty: the nodes dial each other directly)."""
    nodes: list[ChainNode] = field(init=False)
    links: PeerLinks | None = field(init=False, default=None)
    """The link forwarders, on a network created with ``links=True`` (see :mod:`registry.chain.links`)."""

    def __post_init__(self) -> None:
        if self.link_ports and self.detach:
            raise ValueError("a network with peer links lives in the process that starts it: it cannot detach")
        self.nodes = [ChainNode(self.directory, member, self.detach) for member in self.members]
        if self.link_ports:
            self.links = PeerLinks(self.link_ports, {m.index: m.p2p_port for m in self.members})

    @classmethod
    def create(cls, directory: Path, nodes: int = 4, block_time: int = 2, *, chain_id: int = DEFAULT_CHAIN_ID,
               detach: bool = False, links: bool = False) -> Network:
        """Write a new network of *nodes* members into *directory* (which must not hold one yet).

        With *links*, the nodes reach each other through link forwarders, so that the network
        can be partitioned (:meth:`partition`) and healed.

        Raises:
            ValueError: fewer than 2 nodes, a block time under 1 s, or a network already in *directory*.
        """
        _check_new(directory, nodes, block_time)
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        members = [new_member(directory, i, free_port(), free_port()) for i in range(nodes)]
        ports = {(a, b): free_port() for a in range(nodes) for b in range(nodes) if a != b} if links else {}
        for member in members:
            write_static_nodes(directory, member, members, ports)
        sealers = [m.sealer for m in members]
        (directory / CHAIN_FILE).write_text(json.dumps(chain_params(chain_id, block_time, sealers), indent=2))
        (directory / STATE_FILE).write_text(json.dumps(genesis_state(sealers), indent=2))
        network = cls(directory, chain_id, block_time, members, detach, ports)
        (directory / NETWORK_FILE).write_text(json.dumps(network.describe(), indent=2) + "\n")
        return network

    @classmethod
    def load(cls, directory: Path, *, detach: bool = False) -> Network:
        """Read the network written in *directory*.

        Raises:
            ValueError: *directory* holds no network.
        """
        try:
            data = json.loads((directory / NETWORK_FILE).read_text())
        except (OSError, ValueError):
            raise ValueError(f"no network in {directory} (no readable {NETWORK_FILE})") from None
        members = [Member(**m) for m in data["members"]]
        ports = {parse_pair(key): int(port) for key, port in data.get("links", {}).items()}
        return cls(directory, int(data["chain_id"]), int(data["block_time"]), members, detach, ports)

    def describe(self) -> dict[str, Any]:
        """What ``network.json`` holds: the chain, its consensus and each member's node (nothing secret)."""
        return {"chain": CHAIN_NAME, "chain_id": self.chain_id, "consensus": "clique", "block_time": self.block_time,
                "confirmations": clique_confirmations(len(self.members)),
                "stall_after_s": clique_stall_after(self.block_time, len(self.members)),
                "members": [member_record(m) for m in self.members],
                **({"links": {pair_key(p): port for p, port in self.link_ports.items()}} if self.link_ports else {})}

    def node_env(self, member: int) -> dict[str, str]:
        """What a member's ``coo up`` needs to use chain node *member* of this network."""
        return {"COO_RPC_URL": self.nodes[member].url, "COO_CONSENSUS": "clique",
                "COO_CLIQUE_SEALERS": str(len(self.members)),
                "COO_MAX_HEAD_AGE_S": str(clique_stall_after(self.block_time, len(self.members))),
                "COO_RPC_TIMEOUT_MS": str(RPC_TIMEOUT_MS)}

    @property
    def urls(self) -> list[str]:
        """Every node's JSON-RPC URL."""
        return [node.url for node in self.nodes]

    def start(self, timeout: float = 60.0, *, only: Iterable[int] | None = None) -> Network:
        """Start the nodes (all, or those in *only*) together and wait until each answers.

        Raises:
            ChainUnavailableError: a node did not come up (the ones started here are stopped again).
        """
        chosen = [self.nodes[i] for i in (only if only is not None else range(len(self.nodes)))]
        if self.links is not None:
            self.links.start()
        try:
            for node in chosen:
                node.spawn()
            deadline = time.monotonic() + timeout
            for node in chosen:
                node.wait_ready(max(1.0, deadline - time.monotonic()))
        except BaseException:
            self.stop(only=[n.member.index for n in chosen])
            raise
        return self

    def stop(self, timeout: float = 20.0, *, only: Iterable[int] | None = None) -> None:
        """Stop the nodes (all, or those in *only*) together, each killed after *timeout* seconds."""
        chosen = [self.nodes[i] for i in (only if only is not None else range(len(self.nodes)))]
        for node in chosen:
            node.terminate()
        for node in chosen:
            node.wait_stopped(timeout)
        if self.links is not None and not any(node.running for node in self.nodes):
            self.links.stop()

    def partition(self, *groups: Iterable[int]) -> None:
        """Cut the links between members in different *groups*; every node keeps running.

        Raises:
            ValueError: the network was created without links, or the groups are wrong.
        """
        if self.links is None:
            raise ValueError("this network was created without peer links: it cannot be partitioned")
        self.links.partition(*groups)

    def heal(self) -> None:
        """Restore every link cut by :meth:`partition`."""
        if self.links is not None:
            self.links.heal()

    def sealers_of(self, node: int, numbers: Iterable[int]) -> list[str | None]:
        """Who sealed each of the blocks *numbers* on chain node *node*'s chain (None: no such block there)."""
        found = []
        for number in numbers:
            block = _rpc(self.nodes[node].url, "eth_getBlockByNumber", [hex(number), False]) if number > 0 else None
            found.append(clique_sealer(block) if block else None)
        return found

    def block_hash(self, node: int, number: int) -> str | None:
        """The hash of block *number* on chain node *node*'s chain (None: not there, or the node is down)."""
        return _block_hash(self.nodes[node].url, number)

    def peer_counts(self) -> list[int | None]:
        """How many peers each node is connected to (None for a node that does not answer)."""
        counts: list[int | None] = []
        for node in self.nodes:
            try:
                counts.append(int(_rpc(node.url, "net_peerCount"), 16))
            except (OSError, ValueError, TypeError):
                counts.append(None)
        return counts

    def head_number(self, node: int) -> int:
        """The number of chain node *node*'s head.

        Raises:
            ChainUnavailableError: the node does not answer.
        """
        found = head(self.nodes[node].url)
        if found is None:
            raise ChainUnavailableError(f"chain node {node} does not answer")
        return found[0]

    def heads(self) -> list[tuple[int, str] | None]:
        """Each node's head (None for a node that does not answer)."""
        return [head(node.url) for node in self.nodes]

    def wait_fully_peered(self, timeout: float = 60.0) -> None:
        """Wait until every node is peered with every other (a node just restarted, or on a healed link, redials).

        Raises:
            ChainUnavailableError: not within *timeout* seconds (the message gives each node's peer count).
        """
        deadline = time.monotonic() + timeout
        while (counts := self.peer_counts()) != [len(self.nodes) - 1] * len(self.nodes):
            if time.monotonic() > deadline:
                raise ChainUnavailableError(f"the chain nodes are not all peered within {timeout:.0f} s: {counts}")
            time.sleep(0.1)

    def make_whole(self, timeout: float = 90.0) -> None:
        """Heal every cut link and start every node that is down, then wait until all are peered again (what
        a scenario that broke the network leaves behind it, even when it failed half-way).

        Raises:
            ChainUnavailableError: a node did not come back within *timeout* seconds.
        """
        deadline = time.monotonic() + timeout
        self.heal()
        down = [i for i, node in enumerate(self.nodes) if not node.running]
        if down:
            self.start(timeout, only=down)
        self.wait_fully_peered(max(1.0, deadline - time.monotonic()))

    def wait_settled(self, depth: int = 3, timeout: float = 90.0) -> None:
        """Wait until every node is peered with every other and all hold one block *depth* past the head now.

        What a member waits for before its first write to a network just started: while its nodes are still
        finding each other, each may seal its first blocks alone, and those are replaced (a funding transfer or
        a deployment in one is lost with it).

        Raises:
            ChainUnavailableError: not within *timeout* seconds.
        """
        deadline = time.monotonic() + timeout
        self.wait_fully_peered(timeout)
        self.wait_for_block(self.head_number(0) + depth, timeout=max(1.0, deadline - time.monotonic()))

    def wait_for_block(self, number: int, timeout: float = 60.0, *, nodes: Iterable[int] | None = None) -> str:
        """Wait until every node in *nodes* (default: those running) has the same block *number*; its hash.

        Raises:
            ChainUnavailableError: not within *timeout* seconds (the message gives each node's head).
        """
        deadline = time.monotonic() + timeout
        while True:
            chosen = list(nodes) if nodes is not None else [i for i, n in enumerate(self.nodes) if n.running]
            hashes = {_block_hash(self.nodes[i].url, number) for i in chosen}
            if len(hashes) == 1 and None not in hashes:
                return str(hashes.pop())
            if time.monotonic() > deadline:
                raise ChainUnavailableError(f"nodes {chosen} did not agree on block {number} within {timeout:.0f} s; "
                                            f"heads: {self.heads()}")
            time.sleep(0.2)


def _check_new(directory: Path, nodes: int, block_time: int) -> None:
    """Refuse a network :meth:`Network.create` cannot write (see there)."""
    if nodes < 2:
        raise ValueError("a network needs at least 2 nodes")
    if block_time < 1:
        raise ValueError("the block time is a whole number of seconds, at least 1")
    if (directory / NETWORK_FILE).exists():
        raise ValueError(f"{directory} already holds a network; stop it and choose another directory")


def _block_hash(url: str, number: int) -> str | None:
    try:
        block = _rpc(url, "eth_getBlockByNumber", [hex(number), False])
    except (OSError, ValueError):
        return None
    return str(block["hash"]) if block else None


def stop_detached(directory: Path, timeout: float = 20.0) -> list[int]:
    """Stop the nodes ``coo network up`` left running in *directory*; the pids stopped.

    A pid is signalled only while its command line still names the node's data directory
    (a pid file left by a crash may name a process that is something else by now).

    Raises:
        ValueError: *directory* holds no network.
    """
    network = Network.load(directory)
    found = [(node, pid) for node in network.nodes if (pid := _running_pid(node)) is not None]
    for _, pid in found:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for node, pid in found:
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(FileNotFoundError):
            (node.directory / PID_FILE).unlink()
    return [pid for _, pid in found]


def _running_pid(node: ChainNode) -> int | None:
    try:
        pid = int((node.directory / PID_FILE).read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    return pid if str(node.directory).encode() in cmdline else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:  # our own child (tests): reap it
            return False
    return True
