"""Each administration on its own chain node: SG and JP on a consortium network of EthereumJS nodes.

Usage: ``python scripts/demo_network.py [--workdir DIR] [--nodes N] [--block-time S]``

Starts a network of N chain nodes (one per member, sealing one Clique chain; see
``registry/chain/network.py``), then two API nodes (``coo up``): SG's on chain node 0,
JP's on the last chain node, each with its own data directory and keys. Then:

1. the consortium is set up across both nodes and SG issues two certificates;
   SG revokes the second;
2. SG's chain node is killed: blocks go on (the other sealers); JP, on its own chain
   node, verifies the first certificate (VALID), records a utilisation against it
   and sees the second REVOKED;
3. SG's chain node restarts and catches up: SG sees JP's utilisation, made while
   its chain node was down;
4. SG's chain node is cut off from the others (every node keeps running; the
   network needs peer links, ``Network.create(..., links=True)``), at a moment when
   it may seal the next block: SG revokes a certificate and issues a new one, and
   its lone sealer seals a block of its own that no other node has. Nothing of SG's
   settles (one sealer cannot reach the Clique depth), SG's chain stalls and SG
   answers UNAVAILABLE; JP, on the majority, still sees the certificate VALID (the
   revocation is not on the chain it can reach) and records a utilisation. When the
   cut heals, SG's fork is reorganised away, SG's writes settle on the majority
   chain, and JP sees the revocation and the new certificate;
5. two chain nodes are killed, more than Clique tolerates with four: the chain
   stalls and JP answers UNAVAILABLE, never a stale VALID; when they return, VALID.

Everything goes through HTTP. Exits non-zero with one line if a step fails.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from registry.chain.network import Network  # noqa: E402
from registry.errors import ChainError  # noqa: E402
from scripts.demo_two_nodes import ApiNode, DemoError, example_body, issue, seen_by_jp, set_up  # noqa: E402

SG_CHAIN_NODE = 0
SETTLE_TIMEOUT = 90.0
DECLARATION = {"declaration_reference": "JP-YOK-2611-000777", "date": "2026-11-23",
               "items": [{"item_number": 1, "quantity": "500"}]}


class NetworkApiNode(ApiNode):
    """An API node on the network. A write settles only at the Clique depth, which may take longer than
    the node waits before it answers 202 (recorded, not on chain yet); such a write is followed on its
    status URL until it settles, and its answer is then taken for the one it stands for."""

    def call(self, method: str, path: str, key: str | None = None, expect: int | tuple[int, ...] = 200,
             **kwargs: Any) -> Any:
        wanted = (expect,) if isinstance(expect, int) else expect
        body = super().call(method, path, key, (*wanted, 202), **kwargs)
        if 202 in wanted or not isinstance(body, dict) or "status_url" not in body:
            return body
        self.settle(body, key, f"{method} {path}")
        return body

    def settle(self, accepted: dict[str, Any], key: str | None, what: str) -> dict[str, Any]:
        """Follow a write answered 202 until it settles; its final state."""
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while (state := super().call("GET", accepted["status_url"], key))["state"] != "settled":
            if state["state"] == "refused" or time.monotonic() > deadline:
                raise DemoError(f"{self.name} {what}: not settled ({state})")
            time.sleep(0.2)
        return dict(state)


@dataclass
class Members:
    """The network and the two members' API nodes."""

    network: Network
    sg: ApiNode
    jp: ApiNode

    @property
    def jp_chain_node(self) -> int:
        """JP's chain node: the last one."""
        return len(self.network.nodes) - 1


@contextmanager
def consortium(workdir: Path, network: Network | None = None, nodes: int = 4,
               block_time: int = 2) -> Iterator[Members]:
    """The network (started here unless given) and SG's and JP's API nodes on different chain nodes."""
    own = network is None
    if network is None:
        network = Network.create(workdir / "network", nodes, block_time, links=True).start()
    sg = jp = None
    try:
        network.wait_settled()  # the first blocks of a new network may be replaced: no funding or deployment in them
        last = len(network.nodes) - 1
        sg = NetworkApiNode("SG", workdir / "node-sg", network.nodes[SG_CHAIN_NODE].url,
                     extra_env=network.node_env(SG_CHAIN_NODE))
        sg.start(timeout=120)
        deployed = int(json.loads((sg.data / "deployment.json").read_text())["block_number"])
        network.wait_for_block(deployed + 1, timeout=60)  # every chain node has the registry before JP attaches
        jp = NetworkApiNode("JP", workdir / "node-jp", network.nodes[last].url, contract=sg.contract,
                     extra_env=network.node_env(last))
        jp.start(timeout=120)
        yield Members(network, sg, jp)
    finally:
        for node in (jp, sg):
            if node is not None:
                node.stop()
        if own:
            network.stop()


@dataclass
class Issued:
    """What SG issued: the keys by role, a valid certificate (and its sealed document), a revoked one."""

    keys: dict[str, str]
    valid: dict[str, Any]
    document: dict[str, Any]
    revoked: dict[str, Any]


def prepare(m: Members, say: Callable[[str], None] = print) -> Issued:
    """Set the consortium up; SG issues two certificates and revokes the second (JP sees it)."""
    keys = set_up(m.sg, m.jp)
    valid = issue(m.sg, keys["sg_issuer"], "hash-only")
    revoked = issue(m.sg, keys["sg_issuer"], "hash-only")
    document = m.sg.call("GET", f"/v1/certificates/{valid['id']}/document", keys["sg_issuer"])
    m.sg.call("POST", f"/v1/certificates/{revoked['id']}/revoke", keys["sg_issuer"], json={"reason": "fraud"})
    seen_by_jp(m.jp, revoked["document_hash"], "REVOKED", 0, timeout=60)
    say(f"SG issued {valid['certificate_number']} and revoked {revoked['certificate_number']}; JP sees it")
    return Issued(keys, valid, document, revoked)


def without_sg_chain_node(m: Members, issued: Issued, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Kill SG's chain node; JP verifies, utilises and sees the revocation through its own."""
    m.network.nodes[SG_CHAIN_NODE].kill()
    head = m.network.head_number(m.jp_chain_node)
    m.network.wait_for_block(head + 2, timeout=60)
    report = m.jp.call("POST", "/v1/verify", json=issued.document)
    path = f"/v1/certificates/{issued.valid['document_hash']}/utilisations"
    used = m.jp.call("POST", path, issued.keys["jp_customs"], (201, 202),
                     json={**DECLARATION, "document": issued.document})
    settled = "items" in used or m.jp.settle(used, issued.keys["jp_customs"], "utilisation")["state"] == "settled"
    revoked = m.jp.call("GET", f"/v1/verify/{issued.revoked['document_hash']}")
    seen = {"blocks_went_on": [head, head + 2], "verdict": report["verdict"], "utilised": settled,
            "revoked": revoked["verdict"]}
    say(f"SG's chain node down; blocks went on past {head}; JP verified ({report['verdict']}), recorded a "
        f"utilisation (settled: {settled}) and sees {revoked['verdict']}")
    return seen


def after_rejoin(m: Members, issued: Issued, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Restart SG's chain node; it catches up and SG sees JP's utilisation."""
    m.network.nodes[SG_CHAIN_NODE].start()
    head = m.network.head_number(m.jp_chain_node)
    m.network.wait_for_block(head + 1, timeout=90)
    remaining = _remaining_at(m.sg, issued, timeout=60)
    say(f"SG's chain node rejoined and caught up to block {head + 1}; SG sees the utilisation: {remaining}")
    return {"caught_up_to": head + 1, "remaining_at_sg": remaining}


def across_a_partition(m: Members, issued: Issued, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Cut SG's chain node off, write on both sides, heal; what each side saw and what the chain kept."""
    sg_key, jp_key = issued.keys["sg_issuer"], issued.keys["jp_customs"]
    target = issue(m.sg, sg_key, "hash-only")
    seen_by_jp(m.jp, target["document_hash"], "VALID", 0, timeout=60)
    fork_point = _cut_when_sg_may_seal(m)
    revocation = m.sg.call("POST", f"/v1/certificates/{target['id']}/revoke", sg_key, (200, 201, 202),
                           json={"reason": "fraud"})
    fresh = m.sg.call("POST", "/v1/certificates", sg_key, (201, 202), json=example_body("SG-NET-partition"))
    fork = _fork_block(m, fork_point, timeout=30)
    fork_sealer = m.network.sealers_of(SG_CHAIN_NODE, (fork[0],))[0]  # while cut off: after the heal it is replaced
    jp_during = m.jp.call("GET", f"/v1/verify/{target['document_hash']}", expect=(200, 503))["verdict"]
    used = m.jp.call("POST", f"/v1/certificates/{issued.valid['document_hash']}/utilisations", jp_key, (201, 202),
                     json={**DECLARATION, "declaration_reference": "JP-YOK-2611-000778",
                           "items": [{"item_number": 1, "quantity": "100"}], "document": issued.document})
    sg_stalled = _verdict_until(m.sg, issued.document, "UNAVAILABLE", timeout=90)
    sg_settled_during = _state(m.sg, revocation, sg_key) == "settled"
    m.network.heal()
    m.network.wait_for_block(fork[0] + 2, timeout=120)
    m.sg.settle(revocation, sg_key, "revocation")
    jp_after = _verdict_until(m.jp, target["document_hash"], "REVOKED", timeout=90)["verdict"]
    fresh_at_jp = _verdict_until(m.jp, fresh["document_hash"], "VALID", timeout=90)["verdict"]
    if "status_url" in used:
        m.jp.settle(used, jp_key, "utilisation")
    canonical = {m.network.block_hash(i, fork[0]) for i in range(len(m.network.nodes))}
    remaining = _remaining_at(m.sg, issued, 60, until="600")
    seen = {"fork_point": fork_point, "sg_fork_block": fork, "sg_sealer": m.network.members[SG_CHAIN_NODE].sealer,
            "fork_block_sealer": fork_sealer,
            "canonical_at_fork_height": sorted(map(str, canonical)),
            "jp_during": jp_during, "sg_during": sg_stalled["verdict"], "sg_settled_during": sg_settled_during,
            "jp_after": jp_after, "fresh_at_jp": fresh_at_jp, "remaining_at_sg": remaining}
    say(f"SG cut off at block {fork_point}; SG sealed block {fork[0]} alone and answered {sg_stalled['verdict']}; "
        f"JP saw {jp_during}; healed: the fork was replaced, JP sees {jp_after} and the new certificate {fresh_at_jp}")
    return seen


def _cut_when_sg_may_seal(m: Members) -> int:
    """Cut SG's chain node off when it may seal the next block (it sealed neither of the last two, the
    Clique rule for four sealers), so that its side of the cut builds a block of its own; the head then.

    A block may arrive between looking and cutting; the cut is then healed and made again at the next
    such moment (a precondition of the scenario, not its outcome).
    """
    sg = m.network.members[SG_CHAIN_NODE].sealer
    others = [i for i in range(len(m.network.nodes)) if i != SG_CHAIN_NODE]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        number = m.network.head_number(SG_CHAIN_NODE)
        if sg not in m.network.sealers_of(SG_CHAIN_NODE, (number, number - 1)):
            m.network.partition([SG_CHAIN_NODE], others)
            if m.network.head_number(SG_CHAIN_NODE) == number:
                return number
            m.network.heal()
        time.sleep(0.05)
    raise DemoError("SG's chain node never had a turn to seal within 60 s")


def _fork_block(m: Members, fork_point: int, timeout: float) -> tuple[int, str]:
    """The block SG's chain node seals alone after the cut (number, hash): the first above *fork_point* that SG's
    sealer sealed. Blocks the others sealed may still reach SG's chain node just after the cut (what was already
    in its socket buffers), so SG's own block may come a block or two later than the one after the cut."""
    sg = m.network.members[SG_CHAIN_NODE].sealer
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = m.network.heads()[SG_CHAIN_NODE]
        if found is not None and found[0] > fork_point and m.network.sealers_of(SG_CHAIN_NODE, (found[0],)) == [sg]:
            return found
        time.sleep(0.1)
    raise DemoError(f"SG's chain node sealed nothing on its side of the cut within {timeout:.0f} s")


def _state(node: ApiNode, accepted: dict[str, Any], key: str) -> str:
    if "status_url" not in accepted:
        return "settled"
    return str(node.call("GET", accepted["status_url"], key)["state"])


def beyond_tolerance(m: Members, issued: Issued, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Kill half the chain nodes (Clique needs more than half): UNAVAILABLE at JP; VALID once they return."""
    down = list(range(len(m.network.nodes) // 2))
    for index in down:
        m.network.nodes[index].kill()
    stalled = _verdict_until(m.jp, issued.document, "UNAVAILABLE", timeout=90)
    m.network.start(only=down)
    m.network.wait_settled(timeout=120)  # the restarted nodes peered and past their first blocks
    back = _verdict_until(m.jp, issued.document, "VALID", timeout=90)
    say(f"chain nodes {down} down: JP answered {stalled['verdict']} ({stalled['summary']}); back: {back['verdict']}")
    return {"stalled": stalled["verdict"], "summary": stalled["summary"], "back": back["verdict"],
            "verdicts_while_down": stalled["seen"]}


def _remaining_at(sg: ApiNode, issued: Issued, timeout: float, until: str | None = None) -> dict[int, str]:
    """What remains of each item as SG sees it, once something is drawn (or item 1's remainder is *until*)."""
    deadline = time.monotonic() + timeout
    while True:
        state = sg.call("GET", f"/v1/certificates/{issued.valid['id']}/utilisations", issued.keys["sg_issuer"])
        remaining = {i["item_number"]: i["remaining"] for i in state["items"]}
        drawn = any(i["drawn"] not in ("0", 0) for i in state["items"])
        if (remaining.get(1) == until if until else drawn) or time.monotonic() > deadline:
            return remaining
        time.sleep(0.2)


def _verdict_until(node: ApiNode, document: dict[str, Any] | str, wanted: str, timeout: float) -> dict[str, Any]:
    """Verify *document* (or check a document hash) at *node* until it says *wanted*; every verdict seen."""
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        if isinstance(document, str):  # 404: not anchored (yet) where this node reads
            report = node.call("GET", f"/v1/verify/{document}", expect=(200, 404, 503))
            report.setdefault("verdict", "NOT_FOUND")
        else:
            report = node.call("POST", "/v1/verify", expect=(200, 503), json=document)  # 503: UNAVAILABLE
        if not seen or seen[-1] != report["verdict"]:
            seen.append(report["verdict"])
        if report["verdict"] == wanted:
            return {"verdict": wanted, "summary": report.get("summary", ""), "seen": seen}
        time.sleep(1.0)
    raise DemoError(f"{node.name} did not answer {wanted} within {timeout:.0f} s (answers: {seen})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, help="keep the network and the nodes' data here")
    parser.add_argument("--nodes", type=int, default=4, help="chain nodes (default 4)")
    parser.add_argument("--block-time", type=int, default=2, help="seconds between blocks (default 2)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="coo-network-") as scratch:
        workdir = options.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        try:
            with consortium(workdir, nodes=options.nodes, block_time=options.block_time) as members:
                issued = prepare(members)
                seen = {"without_sg_chain_node": without_sg_chain_node(members, issued),
                        "after_rejoin": after_rejoin(members, issued),
                        "across_a_partition": across_a_partition(members, issued),
                        "beyond_tolerance": beyond_tolerance(members, issued)}
        except (DemoError, ChainError, httpx.HTTPError, OSError, ValueError) as error:
            print(f"demo failed: {error}", file=sys.stderr)
            return 1
    print(json.dumps(seen, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
