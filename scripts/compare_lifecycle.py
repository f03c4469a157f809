"""Cost per certificate over its whole life on the chain path, and the gas of anchoring by batch size.

* :func:`lifecycle`: *k* certificates anchored under the node's default batch
  policy, their terms registered and one draw recorded by importing Customs,
  then revoked, in hash-only or encrypted mode. Every transaction the node sent
  passes through a counting RPC endpoint; its cost is read from the chain
  (:mod:`scripts.compare_cost`), split by step (by the event it emitted). Per
  step: gas, bytes stored per node, bytes between the node and its RPC, and the
  Anvil process's CPU (a whole-phase total divided by *k*: one 10 ms tick is
  the resolution). The Anvil state dump's growth is a second measure of bytes.
* :func:`gas_by_batch`: one anchoring per batch size, hash-only and encrypted,
  sent for real; a batch the node refuses is reported with what it said.
* :func:`document_store_reference`: OpenAttestation's DocumentStore (the npm
  package ``@govtechsg/document-store``) deployed on the same Anvil, gas of one
  ``issue`` and one ``revoke`` of a root.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from registry.chain.client import ChainClient
from registry.domain.reasons import RevocationReason
from registry.errors import ChainError, RegistryError
from registry.pipelines.anchoring import chain_payload
from registry.sealing.merkle import MerkleTree
from registry.services.utilisation import Draw
from scripts.compare_chainpath import chain_node, revoke_settled, wait_anchored
from scripts.compare_cost import per_certificate, state_dump_bytes, tx_cost
from scripts.compare_rpcproxy import RpcEndpoint
from scripts.compare_worker import EXAMPLES, proc_cpu

ROOT = Path(__file__).resolve().parent.parent
STEP_EVENTS = {"BatchAnchored": "anchor", "TermsRegistered": "terms", "CertificateUtilised": "utilise",
               "CertificateRevoked": "revoke"}


def _step_of(topics0: list[str], names: dict[str, str]) -> str:
    for topic in topics0:
        if names.get(topic) in STEP_EVENTS:
            return STEP_EVENTS[names[topic]]
    return "other"


def _phase(chain: ChainClient, proxy: RpcEndpoint, pid: int | None, action: Any) -> dict[str, Any]:
    """Run *action*; the Anvil CPU, RPC bytes and state growth it caused."""
    cpu0, dump0 = proc_cpu(pid) if pid else 0.0, state_dump_bytes(chain.w3)
    proxy.reset()
    action()
    traffic = proxy.reset()
    dump1 = state_dump_bytes(chain.w3)
    return {"chain_node_cpu_s": (proc_cpu(pid) if pid else 0.0) - cpu0, "rpc_bytes": traffic["bytes_in"] +
            traffic["bytes_out"], "rpc_calls": sum(traffic["methods"].values()),
            "state_dump_growth_bytes": None if dump0 is None or dump1 is None else dump1 - dump0}


def lifecycle(work: Path, k: int, mode: str) -> dict[str, Any]:
    """Anchor, register terms, draw once and revoke *k* certificates in *mode*; cost per certificate per step."""
    proxy: RpcEndpoint | None = None

    def through_proxy(url: str) -> str:
        nonlocal proxy
        proxy = RpcEndpoint(url, "lifecycle").up()
        return proxy.url

    with chain_node(work, via=through_proxy) as chain:
        assert proxy is not None
        node, issuer, customs, pid = chain.node, chain.issuer, chain.customs, chain.anvil.pid
        client = node.context.chain
        names = {client.event_topic(n): n for n in STEP_EVENTS}
        bodies = [{**EXAMPLES[0], "certificate_number": f"LIFE-{mode}-{i:05d}"} for i in range(k)]
        rows: list[Any] = []
        setup = len(proxy.sent)  # deployment and governance: not part of any certificate's life

        def anchor() -> None:
            rows.extend(node.issuing.register(issuer, bodies, mode))
            wait_anchored(node)

        phases = {"anchor": _phase(client, proxy, pid, anchor)}
        documents = [node.issuing.sealed_document(issuer, r.id) for r in rows]
        today = datetime.now(UTC).date()

        def draw_all() -> None:
            for i, document in enumerate(documents):
                node.utilisation.utilise(customs, document.document_hash, f"DECL-{mode}-{i}", today,
                                         [Draw(1, Decimal("1"))], document=document)

        phases["terms_and_utilise"] = _phase(client, proxy, pid, draw_all)
        phases["revoke"] = _phase(client, proxy, pid, lambda: [
            revoke_settled(chain, r.id, RevocationReason.ISSUED_IN_ERROR) for r in rows])
        steps: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for tx_hash in dict.fromkeys(proxy.sent[setup:]):
            cost = tx_cost(client.w3, tx_hash)
            steps[_step_of(cost["topics0"], names)].append(cost)
        proxy.down()
    return {"k": k, "mode": mode, "steps": {s: _sum_step(costs, k) for s, costs in steps.items()},
            "phases": {p: {key: (v / k if isinstance(v, int | float) else v) for key, v in f.items()}
                       for p, f in phases.items()},
            "note": "figures per certificate; phase figures are whole-phase totals divided by k"}


def _sum_step(costs: list[dict[str, Any]], k: int) -> dict[str, Any]:
    keys = ("gas", "raw_tx_bytes", "log_bytes", "bytes_stored", "slots_created", "calldata_bytes")
    total = {key: sum(c[key] for c in costs) for key in keys if all(key in c for c in costs)}
    return {"transactions": len(costs), "per_certificate": {key: v / k for key, v in total.items()},
            "gas_per_transaction": sorted(c["gas"] for c in costs),
            "floor_applied": sum(bool(c["floor_applied"]) for c in costs)}


def real_payload_bytes(issuer: str) -> int:
    """Bytes of the ciphertext the node publishes for the example certificate in encrypted mode."""
    from registry.custody.keys import DataKey
    from registry.domain.certificate import parse_certificate
    from registry.sealing.fields import seal
    from registry.sealing.record import sealed_record
    from registry.sealing.terms import terms_for

    body = parse_certificate(EXAMPLES[0]).to_json()
    sealed = seal(body, terms_for(body))
    return len(chain_payload(DataKey.generate(), sealed_record(body, sealed), sealed.document_hash, issuer))


def _payloads(size: int, payload_bytes: int) -> tuple[list[bytes], list[bytes]]:
    """*size* random leaves and random ciphertexts of the real length (ciphertext does not compress)."""
    return [os.urandom(32) for _ in range(size)], [os.urandom(payload_bytes) for _ in range(size)]


def gas_by_batch(chain: ChainClient, issuer: Any, payload_bytes: int,
                 hash_only_sizes: tuple[int, ...] = (1, 16, 256, 1024),
                 encrypted_sizes: tuple[int, ...] = (1, 16, 64, 256)) -> dict[str, Any]:
    """Gas per certificate by batch size, sent for real; for a refused batch, what it would carry and why."""
    out: dict[str, Any] = {"hash-only": {}, "encrypted": {},
                           "block_gas_limit": int(chain.w3.eth.get_block("latest")["gasLimit"])}
    for size in hash_only_sizes:
        tree = MerkleTree([os.urandom(32) for _ in range(size)])
        out["hash-only"][str(size)] = per_certificate(tx_cost(chain.w3, chain.anchor(issuer, tree.root, size).tx_hash),
                                                      size)
    for size in encrypted_sizes:
        leaves, payloads = _payloads(size, payload_bytes)
        try:
            result = chain.anchor_with_payloads(issuer, MerkleTree(leaves).root, leaves, payloads)
        except (ChainError, RegistryError, ValueError) as error:
            data = chain.contract.encode_abi("anchorWithPayloads", args=[MerkleTree(leaves).root, leaves, payloads])
            raw = bytes.fromhex(data[2:])
            out["encrypted"][str(size)] = {"sent": False, "node_said": str(error)[:240], "calldata_bytes": len(raw),
                                           "calldata_floor_gas": 21_000 + 10 * sum(1 if b == 0 else 4 for b in raw),
                                           "payload_bytes_each": len(payloads[0])}
            continue
        out["encrypted"][str(size)] = per_certificate(tx_cost(chain.w3, result.tx_hash), size) | {
            "sent": True, "payload_bytes_each": len(payloads[0])}
    return out


def _document_store_artifact() -> dict[str, Any] | None:
    script = ("const f=require('./node_modules/@govtechsg/document-store/dist/contracts/factories/contracts/"
              "DocumentStore__factory.js').DocumentStore__factory;"
              "console.log(JSON.stringify({abi:f.abi,bytecode:f.bytecode,"
              "version:require('./node_modules/@govtechsg/document-store/package.json').version}))")
    try:
        answer = subprocess.run(["node", "-e", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return json.loads(answer.stdout) if answer.returncode == 0 else None


def document_store_reference(chain: ChainClient) -> dict[str, Any]:
    """Gas of OpenAttestation's DocumentStore ``issue(root)`` and ``revoke(root)`` on this Anvil."""
    artifact = _document_store_artifact()
    if artifact is None:
        return {"not_measured": "node or @govtechsg/document-store is not available"}
    w3 = chain.w3
    owner = w3.eth.accounts[0]
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    deployed = w3.eth.wait_for_transaction_receipt(factory.constructor("comparison", owner).transact({"from": owner}))
    store = w3.eth.contract(address=deployed["contractAddress"], abi=artifact["abi"])
    root = os.urandom(32)
    issued = w3.eth.wait_for_transaction_receipt(store.functions.issue(root).transact({"from": owner}))
    revoked = w3.eth.wait_for_transaction_receipt(store.functions.revoke(root).transact({"from": owner}))
    return {"package": f"@govtechsg/document-store {artifact['version']}", "issue_gas": int(issued["gasUsed"]),
            "revoke_gas": int(revoked["gasUsed"])}
