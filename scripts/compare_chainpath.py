"""The chain path of one comparison run, and the node set-up every chain experiment shares.

:func:`chain_node` starts a fresh Anvil (mining on demand, or every
``block_time`` seconds) and a node on it with the node's *default* batch
policy, and creates the demo consortium (SG issuing, JP importing).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry.chain.nodes import NodeProcess
from registry.custody.apikeys import Principal
from registry.domain.reasons import RevocationReason
from registry.domain.report import Verdict
from registry.errors import WritePending
from registry.runtime import Node, NodeConfig, open_node
from registry.sealing.document import SealedDocument, disclose
from scripts.compare_sdjwt import DISCLOSED
from scripts.compare_worker import VERIFY_SAMPLE, Phase, certificates, revoked_indexes, sampled, verified_indexes

ANCHOR_DEADLINE_S = 600.0
NETWORK_WRITE_BOUND_S = 60.0
"""With a block period (Anvil's or a network's), how long a node waits for a write (and an RPC answer)
before it counts it pending: the set-up's writes, one block each, can outlast the default 5 s on a loaded
machine (the demo set-up then fails with a pending write)."""


@dataclass
class ChainNode:
    """A node on its own Anvil, with the demo consortium's principals."""

    node: Node
    anvil: NodeProcess
    issuer: Principal
    customs: Principal
    keys: dict[str, Any]


@contextmanager
def chain_node(work: Path, block_time: float | None = None,
               via: Callable[[str], str] | None = None) -> Iterator[ChainNode]:
    """A node with the default batch policy on a fresh Anvil; *via* maps Anvil's URL to the one the node uses
    (e.g. a byte-counting proxy's)."""
    import json

    from api.serve import set_up_demo

    anvil = NodeProcess(kind="anvil", state_file=work / "anvil.json", block_time=block_time).start()
    try:
        node = open_node(NodeConfig(data_dir=work / "node", base_url="http://127.0.0.1:9",
                                    rpc_url=via(anvil.url) if via else anvil.url,
                                    rpc_timeout=NETWORK_WRITE_BOUND_S if block_time else 5.0))
        try:
            keys = json.loads(set_up_demo(node, "http://127.0.0.1:9").read_text())
            api_keys = node.context.api_keys
            yield ChainNode(node, anvil, api_keys.authenticate(keys["issuer"]["api_key"]),
                            api_keys.authenticate(keys["customs"]["api_key"]), keys)
        finally:
            node.close()
    finally:
        anvil.stop()


@contextmanager
def consortium_node(work: Path, network: Any) -> Iterator[ChainNode]:
    """A node with the default batch policy at the Clique confirmation depth, writing through chain node 0 of
    a running :class:`~registry.chain.network.Network` (its ``anvil`` is None), with the demo consortium."""
    import json

    from api.serve import set_up_demo
    from registry.chain.finality import clique_confirmations, clique_stall_after
    from registry.pipelines.anchoring import BatchPolicy

    sealers = len(network.nodes)
    node = open_node(NodeConfig(data_dir=work / "node", base_url="http://127.0.0.1:9", rpc_url=network.urls[0],
                                rpc_timeout=NETWORK_WRITE_BOUND_S,
                                max_head_age=clique_stall_after(network.block_time, sealers),
                                batch=BatchPolicy(confirmations=clique_confirmations(sealers))))
    try:
        keys = json.loads(set_up_demo(node, "http://127.0.0.1:9").read_text())
        api_keys = node.context.api_keys
        yield ChainNode(node, None, api_keys.authenticate(keys["issuer"]["api_key"]),  # type: ignore[arg-type]
                        api_keys.authenticate(keys["customs"]["api_key"]), keys)
    finally:
        node.close()


def wait_anchored(node: Node, deadline_s: float = ANCHOR_DEADLINE_S) -> None:
    """Wait until the anchoring worker, on its own schedule, has anchored everything accepted."""
    deadline = time.monotonic() + deadline_s
    while node.context.store.count_by_status().get("pending", 0) and time.monotonic() < deadline:
        time.sleep(0.02)


def revoke_settled(chain: ChainNode, certificate_id: str, reason: RevocationReason) -> None:
    """Revoke, waiting for the chain write to settle when the block period outlasts the outbox's bound."""
    try:
        chain.node.issuing.revoke(chain.issuer, certificate_id, reason)
    except WritePending:
        deadline = time.monotonic() + 60
        store = chain.node.context.store
        while store.certificate(certificate_id).status != "revoked" and time.monotonic() < deadline:
            time.sleep(0.02)


def run_chain(n: int, work: Path, block_time: float | None, sample: int = VERIFY_SAMPLE) -> dict[str, Any]:
    """Issue, verify (disclosed field set; with and without receipt) and revoke *n* certificates."""
    with chain_node(work, block_time) as chain:
        node, issuer = chain.node, chain.issuer
        pid = chain.anvil.pid
        phase = Phase(pid)
        rows = []
        batch = certificates(n, "chain")
        for start in range(0, n, 100):  # requests of up to 100, as a client of the batch endpoint sends them
            rows += node.issuing.register(issuer, batch[start:start + 100])
        wait_anchored(node)
        store = node.context.store
        anchored = [store.certificate(r.id) for r in rows]
        issue = phase.close(n, [(r.updated_at - r.created_at) * 1000 for r in anchored if r.proof])
        issue["not_anchored"] = sum(1 for r in anchored if not r.proof)
        wanted = sorted(set(verified_indexes(n, sample)) | set(revoked_indexes(n)))
        documents: dict[int, SealedDocument] = {i: disclose(node.issuing.sealed_document(issuer, anchored[i].id),
                                                            DISCLOSED) for i in wanted if anchored[i].proof}
        timed = [documents[i] for i in verified_indexes(n, sample) if i in documents]
        node.context.follower.poll()
        verifier = node.verification.verifier
        phase = Phase(pid)
        verdicts = [phase.time(lambda d=d: verifier.verify_document(d)).verdict for d in timed]
        verify = phase.close() | {"valid": verdicts.count(Verdict.VALID), "disclosed_fields": len(timed[0].salts),
                                  "withheld_fields": len(timed[0].withheld)}
        phase = Phase(pid)
        for d in timed[:1000]:
            phase.time(lambda d=d: node.verification.verify_document(d))
        with_receipt = phase.close()
        phase = Phase(pid)
        for i in revoked_indexes(n):
            phase.time(lambda i=i: revoke_settled(chain, anchored[i].id, RevocationReason.ISSUED_IN_ERROR))
        revoke = phase.close()
        node.context.follower.poll()
        revoked_seen = sum(verifier.verify_document(documents[i]).verdict is Verdict.REVOKED
                           for i in revoked_indexes(n) if i in documents)
        return {"block_time": block_time, "phases": {"issue": issue, "verify": verify,
                                                     "verify_with_receipt": with_receipt, "revoke": revoke},
                "sanity": {"revoked_seen": revoked_seen, "revoked": len(revoked_indexes(n))},
                "notes": {"issue": "latency = acceptance to anchored under the node's default batch policy",
                          "verify": "node verifier on the disclosed field set, event index fresh, no receipt; "
                                    + sampled(sample),
                          "verify_with_receipt": "as verify, plus the signed receipt and its audit row "
                                                 "(the first 1,000 of the documents verified)"}}
