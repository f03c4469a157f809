"""The consortium cells of the fault matrix, measured on a real network of chain nodes.

The network is ``registry/chain/network.py``'s: four EthereumJS chain nodes sealing one
Clique chain. SG's API node runs on chain node 0 and JP's (the importing country's) on
the last, as in ``scripts/demo_network.py``, whose set-up this reuses. Every verdict is
JP's answer over HTTP (``POST /v1/verify`` with the sealed document), polled every
:data:`POLL_S` seconds; each change of verdict is recorded with the seconds since the
fault was injected (or healed). Three certificates are checked in every cell:

* ``untouched``: never revoked;
* ``revoked_before``: revoked (and seen REVOKED by JP) before any fault;
* ``revoked_during``: a fresh certificate for this cell, VALID before the fault, revoked
  by SG *during* it; whether and when JP sees that revocation, during the fault and
  after healing, is the cell's revocation record.

A watch stops at the cell's stopping rule or its deadline, whichever comes first; the
rule only ends the observation (what was seen is recorded either way, and a deadline
reached is recorded too).

Faults: one chain node down that is neither SG's nor JP's; two of four down (more than
Clique tolerates: neither SG's nor JP's, so both API nodes keep an RPC endpoint that
answers, with a stalled head); JP's own chain node stopped; JP's chain node partitioned
from the others (the network's peer links cut, :meth:`~registry.chain.network.Network.partition`,
while every node runs; JP's RPC endpoint answers). The network must have been created
with peer links (``links=True``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from registry.chain.finality import clique_stall_after
from registry.chain.network import Network
from registry.errors import ChainError, WritePending
from scripts.compare_faults import Cell
from scripts.demo_network import Issued, Members, consortium, prepare
from scripts.demo_two_nodes import ApiNode, DemoError, issue

CONSORTIUM_FAULTS = ("one_validator_down", "more_validators_down_than_tolerated", "importing_node_down",
                     "importing_node_partitioned")
POLL_S = 0.5
HEAL_DEADLINE_S = 120.0
REVOKED_WINDOW_S = 10.0
"""How long JP is watched for a revocation that the fault should keep from it."""
SET_UP_ATTEMPTS = 2
FAILURES = (ChainError, WritePending, DemoError, httpx.HTTPError, OSError, ValueError)
"""What a network, a set-up or a cell may fail with (recorded, never hidden)."""
Timeline = dict[str, list[list[Any]]]
View = tuple[ApiNode, dict[str, Any]]
"""An API node and the sealed document it is asked about."""
"""Per certificate, each verdict change as ``[seconds, verdict]``."""


def not_measured(reason: str) -> list[Cell]:
    """The consortium cells of a run that could not (or chose not to) measure them, saying why."""
    return [Cell("chain", fault, "n/a", measured=False, note=f"not measured in this run: {reason}")
            for fault in CONSORTIUM_FAULTS]


def verdict_at(jp: ApiNode, document: dict[str, Any]) -> str:
    """JP's verdict on *document*, or the error its API let escape (recorded as observed)."""
    try:
        return str(jp.call("POST", "/v1/verify", expect=(200, 503), json=document)["verdict"])
    except (DemoError, httpx.HTTPError, KeyError, TypeError) as error:
        return f"ERROR {type(error).__name__}: {str(error)[:80]}"


def watch(views: dict[str, View], stop: Callable[[dict[str, str]], bool], deadline_s: float,
          began: float | None = None) -> Timeline:
    """Ask each view's node for its document's verdict until *stop* holds for the latest verdicts or
    *deadline_s* has passed; each verdict change, timed from *began* (default: now). A deadline reached is
    its own entry."""
    began = time.monotonic() if began is None else began
    timeline: Timeline = {name: [] for name in views}
    while True:
        latest = {}
        for name, (node, document) in views.items():
            verdict = verdict_at(node, document)
            if not timeline[name] or timeline[name][-1][1] != verdict:
                timeline[name].append([round(time.monotonic() - began, 2), verdict])
            latest[name] = verdict
        if stop(latest):
            return timeline
        if time.monotonic() - began > deadline_s:
            timeline["deadline_reached_s"] = [[round(deadline_s, 1), "stopped watching"]]
            return timeline
        time.sleep(POLL_S)


def stale_valid_s(timeline: Timeline, at_jp: str, at_sg: str) -> float | None:
    """Seconds JP still answered VALID on a certificate after SG's own node answered REVOKED on it (0: JP did
    not answer VALID by then; None: SG never saw it REVOKED). Until the watch ended, when JP never changed."""
    revoked_at = seen(timeline, at_sg, "REVOKED")
    if revoked_at is None:
        return None
    changes = timeline.get(at_jp, [])
    then = [v for t, v in changes if t <= revoked_at]
    if not then or then[-1] != "VALID":
        return 0.0
    later = [t for t, _ in changes if t > revoked_at]
    end = later[0] if later else max(t for c in timeline.values() for t, _ in c)
    return round(float(end) - revoked_at, 2)


def last(timeline: Timeline, name: str) -> str:
    """The verdict *name* was last seen with."""
    return str(timeline[name][-1][1]) if timeline.get(name) else "not seen"


def seen(timeline: Timeline, name: str, verdict: str) -> float | None:
    """Seconds until *name* was first seen with *verdict* (None: never)."""
    return next((float(t) for t, v in timeline.get(name, []) if v == verdict), None)


@dataclass
class Scene:
    """The members, what was issued before any fault, and the stall bound JP's node applies."""

    members: Members
    issued: Issued
    stall_after_s: float
    documents: dict[str, dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        revoked = self.members.sg.call("GET", f"/v1/certificates/{self.issued.revoked['id']}/document",
                                       self.issued.keys["sg_issuer"])
        self.documents = {"untouched": self.issued.document, "revoked_before": revoked}

    @property
    def network(self) -> Network:
        return self.members.network

    def fresh(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """A new certificate for this cell (anchored) and its sealed document."""
        key = self.issued.keys["sg_issuer"]
        record = issue(self.members.sg, key, "hash-only")
        return record, self.members.sg.call("GET", f"/v1/certificates/{record['id']}/document", key)

    def revoke(self, record: dict[str, Any]) -> dict[str, Any]:
        """SG revokes *record*; how its API answered and how long the call took (a 202: accepted, not
        settled yet, which is what a stalled chain gives)."""
        began = time.monotonic()
        try:
            body = self.members.sg.call("POST", f"/v1/certificates/{record['id']}/revoke",
                                        self.issued.keys["sg_issuer"], (200, 202), json={"reason": "fraud"})
        except (DemoError, httpx.HTTPError) as error:
            return {"answer": f"ERROR {type(error).__name__}: {str(error)[:80]}",
                    "seconds": round(time.monotonic() - began, 2)}
        answer = "accepted, not settled" if isinstance(body, dict) and "status_url" in body else "settled"
        return {"answer": answer, "seconds": round(time.monotonic() - began, 2)}

    def settle(self, nodes: list[int] | None = None) -> None:
        """Wait until the running chain nodes (or *nodes*) agree on a block past JP's current head."""
        found = self.network.heads()[self.members.jp_chain_node] or (0, "")
        self.network.wait_for_block(found[0] + 1, timeout=HEAL_DEADLINE_S, nodes=nodes)


def _verdicts(before: dict[str, str], during: Timeline, after: Timeline) -> dict[str, str]:
    out = {f"before_fault:{k}": v for k, v in before.items()}
    out |= {f"during_fault:{k}": last(during, k) for k in before}
    return out | {f"after_heal:{k}": last(after, k) for k in before}


def _changes_at(timeline: Timeline) -> dict[str, float]:
    """Per certificate, seconds until its last verdict of the phase was first seen."""
    return {k: float(v[-1][0]) for k, v in timeline.items() if v and k != "deadline_reached_s"}


def run_cell(scene: Scene, fault: str, action: str, inject: Callable[[], object], heal: Callable[[], object],
             during_stop: Callable[[dict[str, str]], bool], during_deadline_s: float,
             revoke_at_fault: bool) -> Cell:
    """Inject *fault*, watch JP (revoking a fresh certificate at the fault or once the watch stops), heal,
    watch again until the untouched certificate is VALID and the revoked ones REVOKED (or a deadline)."""
    record, document = scene.fresh()
    jp, sg = scene.members.jp, scene.members.sg
    views: dict[str, View] = {name: (jp, d) for name, d in (scene.documents | {"revoked_during": document}).items()}
    before = {name: verdict_at(node, d) for name, (node, d) in views.items()}
    views["revoked_during_at_sg"] = (sg, document)  # when the revocation is on SG's own chain node
    started = time.monotonic()
    inject()
    began = time.monotonic()
    try:
        during = watch(views, lambda v: True, during_deadline_s, began)  # one round, before any revocation
        revocation = scene.revoke(record) if revoke_at_fault else {}
        _extend(during, watch(views, during_stop, during_deadline_s, began))
        if not revoke_at_fault:
            revocation = scene.revoke(record)
            _extend(during, watch({k: views[k] for k in ("revoked_during", "revoked_during_at_sg")},
                                  lambda v: v["revoked_during"] == "REVOKED",
                                  time.monotonic() - began + REVOKED_WINDOW_S, began))
    finally:
        healing = time.monotonic()
        heal()
    healed_at = time.monotonic()
    refused = str(revocation["answer"]).startswith("ERROR")
    after = watch(views, lambda v: _recovered(v, refused), HEAL_DEADLINE_S, healed_at)
    scene.settle()
    return Cell("chain", fault, "n/a", _verdicts(before, during, after), action=action,
                timeline={"during_fault": during, "after_heal": after},
                times_s={"during_fault": _changes_at(during), "after_heal": _changes_at(after),
                         "fault_injection_took": round(began - started, 2),
                         "heal_took": round(healed_at - healing, 2),
                         "heal_until_every_node_agreed": round(time.monotonic() - healing, 2)},
                revocation=revocation | _revocation_seen(during, after),
                note=f"JP's API node on chain node {scene.members.jp_chain_node}; polled every {POLL_S} s; its "
                     f"node counts a head older than {scene.stall_after_s:g} s as a stalled chain; times from the "
                     "moment the fault was in place (or the heal done)")


def _extend(during: Timeline, late: Timeline) -> None:
    """Append a later watch of the same phase, keeping only verdict changes."""
    for name, changes in late.items():
        into = during.setdefault(name, [])
        for change in changes:
            if not into or into[-1][1] != change[1]:
                into.append(change)


def _revocation_seen(during: Timeline, after: Timeline) -> dict[str, Any]:
    return {"seen_during_fault": seen(during, "revoked_during", "REVOKED") is not None,
            "seen_during_fault_after_s": seen(during, "revoked_during", "REVOKED"),
            "seen_after_heal": seen(after, "revoked_during", "REVOKED") is not None,
            "seen_after_heal_after_s": seen(after, "revoked_during", "REVOKED"),
            "on_sgs_chain_node_during_fault_after_s": seen(during, "revoked_during_at_sg", "REVOKED"),
            "jp_still_valid_after_sg_saw_it_s": stale_valid_s(during, "revoked_during", "revoked_during_at_sg"),
            "jp_still_valid_after_heal_s": stale_valid_s(after, "revoked_during", "revoked_during_at_sg")}


def _recovered(v: dict[str, str], revocation_refused: bool = False) -> bool:
    """The stopping rule after healing: untouched VALID, the revoked ones REVOKED (the one revoked during the
    fault only if SG accepted that revocation)."""
    return (v["untouched"] == "VALID" and v["revoked_before"] == "REVOKED"
            and (revocation_refused or v["revoked_during"] == "REVOKED"))


def _none_valid(names: tuple[str, ...]) -> Callable[[dict[str, str]], bool]:
    return lambda v: all(v[n] != "VALID" for n in names)


def cells(scene: Scene) -> list[Cell]:
    """Every consortium cell, in turn; each heals before the next."""
    network, jp_node = scene.network, scene.members.jp_chain_node
    others = [i for i in range(len(network.nodes)) if i not in (0, jp_node)]
    stall = scene.stall_after_s
    out = [guarded(scene, "one_validator_down",
                    f"chain node {others[0]} killed (neither SG's nor JP's); SG revokes at the fault",
                    lambda: network.nodes[others[0]].kill(), lambda: network.start(only=[others[0]]),
                    lambda v: v["revoked_during"] == "REVOKED", 60.0, revoke_at_fault=True)]
    tolerated = len(network.nodes) // 2
    down = others[:tolerated]
    out.append(guarded(scene, "more_validators_down_than_tolerated",
                        f"chain nodes {down} killed ({len(down)} of {len(network.nodes)}: Clique needs more than "
                        "half); SG revokes once JP's watch stops",
                        lambda: [network.nodes[i].kill() for i in down], lambda: network.start(only=down),
                        _none_valid(("untouched",)), stall + 60, revoke_at_fault=False))
    out.append(guarded(scene, "importing_node_down", f"JP's chain node {jp_node} stopped; JP's API node still "
                        "points at it; SG revokes once JP's watch stops",
                        lambda: network.nodes[jp_node].stop(), lambda: network.start(only=[jp_node]),
                        _none_valid(("untouched",)), 30.0, revoke_at_fault=False))
    rest = [i for i in range(len(network.nodes)) if i != jp_node]
    out.append(guarded(scene, "importing_node_partitioned",
                       f"the peer links between JP's chain node {jp_node} and chain nodes {rest} cut (every node "
                       "keeps running; JP's API node still reads its own chain node); SG revokes at the fault, on "
                       "the majority side",
                       lambda: network.partition([jp_node], rest), network.heal,
                       _none_valid(("untouched", "revoked_during")), stall + 60, revoke_at_fault=True))
    return out


def guarded(scene: Scene, fault: str, *args: Any, **kwargs: Any) -> Cell:
    """:func:`run_cell`, or a cell saying how it failed (the next cells still run, on a network healed as far
    as the failed cell's heal got)."""
    try:
        return run_cell(scene, fault, *args, **kwargs)
    except FAILURES as error:
        return Cell("chain", fault, "n/a", measured=False, note=f"not measured in this run: the cell failed: "
                                                                  f"{type(error).__name__}: {str(error)[:160]}")


def consortium_cells(network: Network, work: Path) -> list[Cell]:
    """The consortium cells on a running *network*: SG's and JP's API nodes set up on it, then each fault."""
    with consortium(work, network) as members:
        return member_cells(members, prepare(members, say=lambda _line: None))


def member_cells(members: Members, issued: Issued) -> list[Cell]:
    """The consortium cells with API nodes already set up (*issued*: a valid and a revoked certificate)."""
    network = members.network
    network.wait_settled(timeout=120)  # whatever the network went through before, it is whole again
    return cells(Scene(members, issued, clique_stall_after(network.block_time, len(network.nodes))))


def measure(work: Path, nodes: int = 4, block_time: int = 1) -> tuple[str, list[Cell]]:
    """Start a network of *nodes* chain nodes, measure every consortium cell on it, stop it."""
    network = Network.create(work / "network", nodes, block_time, links=True).start()
    try:
        network.wait_settled()
        name = (f"{nodes} EthereumJS chain nodes sealing one Clique chain every {block_time} s "
                "(SG's API node on chain node 0, JP's on the last)")
        return name, consortium_cells(network, work / "members")
    finally:
        network.stop()


def consortium_or_reason(work: Path, skip: str | None = None, attempts: int = SET_UP_ATTEMPTS,
                         ) -> tuple[str, list[Cell]]:
    """:func:`measure`, unless *skip* says why not. A network or a set-up that fails is tried again on a fresh
    network, up to *attempts* times, each failure named in the result; when none gets through, cells saying so
    (the rest of the comparison still runs)."""
    if skip is not None:
        return f"not started: {skip}", not_measured(skip)
    failed: list[str] = []
    for attempt in range(attempts):
        try:
            name, cells = measure(work / f"attempt-{attempt + 1}")
        except FAILURES as error:
            failed.append(f"{type(error).__name__}: {str(error).split('; heads:')[0][:160]}")
            continue
        tried = "".join(f"; set-up attempt {i + 1} failed ({reason})" for i, reason in enumerate(failed))
        return name + tried, cells
    return "did not run", not_measured(f"the consortium run failed: {failed[-1]}"
                                       + (f" (and {len(failed) - 1} earlier attempt(s))" if len(failed) > 1 else ""))
