"""Chain figures that do not move with machine load: gas per batch size, encrypted-mode gas, the eth_call ceiling.

Gas is deterministic for a given contract and input; the ``eth_call`` ceiling (raw JSON-RPC batches of
``inspect`` against Anvil) is the read-side limit a verification can never beat.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import httpx
from benchlib import ROOT

from registry.chain.client import ChainClient
from registry.custody.keys import DataKey
from registry.domain.certificate import parse_certificate
from registry.pipelines.anchoring import chain_payload
from registry.sealing.fields import seal
from registry.sealing.merkle import MerkleTree
from registry.sealing.record import sealed_record
from registry.sealing.terms import terms_for


def eth_call_ceiling(chain: ChainClient, hashes: list[bytes], total: int, per_batch: int = 100) -> dict[str, float]:
    """``inspect`` status reads as raw JSON-RPC batches of *per_batch* ``eth_call``s."""
    data = [chain.contract.encode_abi("inspect", args=[h, []]) for h in hashes]
    body = []
    for i in range(total):
        body.append({"jsonrpc": "2.0", "id": i, "method": "eth_call",
                     "params": [{"to": chain.address, "data": data[i % len(data)]}, "latest"]})
    url = chain.w3.provider.endpoint_uri  # type: ignore[attr-defined]
    with httpx.Client(timeout=60) as http:
        start = time.perf_counter()
        for i in range(0, total, per_batch):
            answers = http.post(url, json=body[i:i + per_batch]).json()
            assert all("result" in a for a in answers)
        elapsed = time.perf_counter() - start
    return {"calls": total, "per_batch": per_batch, "seconds": elapsed, "per_second": total / elapsed}


def gas_by_batch_size(chain: ChainClient, issuer: Any, sizes: tuple[int, ...] = (1, 16, 256, 1024)) -> dict[str, Any]:
    """Gas of one anchoring per batch size, and per certificate."""
    out = {}
    for size in sizes:
        tree = MerkleTree([os.urandom(32) for _ in range(size)])
        gas = chain.anchor(issuer, tree.root, size).gas_used
        out[str(size)] = {"gas": gas, "per_certificate": gas / size}
    return out


def gas_encrypted_beside_hash_only(chain: ChainClient, issuer: Any,
                                   sizes: tuple[int, ...] = (1, 16, 64)) -> dict[str, Any]:
    """Gas per certificate in encrypted-payload mode beside hash-only mode, at the same batch sizes.

    The payloads are real: the example certificate sealed with its terms, compressed and
    encrypted as the node publishes it (the node caps an encrypted batch at 24, `BatchPolicy.max_encrypted_size`;
    64 shows the cost past it).
    """
    template = json.loads((ROOT / "examples" / "rcep-sg-jp.json").read_text())
    out = {}
    for size in sizes:
        hashes, payloads = [], []
        for _ in range(size):
            body = parse_certificate({**template, "certificate_number": f"GAS-{os.urandom(6).hex()}"}).to_json()
            sealed = seal(body, terms_for(body))
            hashes.append(sealed.document_hash)
            payloads.append(chain_payload(DataKey.generate(), sealed_record(body, sealed), sealed.document_hash,
                                          issuer.address))
        encrypted = chain.anchor_with_payloads(issuer, MerkleTree(hashes).root, hashes, payloads).gas_used
        hash_only = chain.anchor(issuer, MerkleTree([os.urandom(32) for _ in range(size)]).root, size).gas_used
        out[str(size)] = {"encrypted_gas": encrypted, "hash_only_gas": hash_only,
                          "encrypted_per_certificate": encrypted / size, "hash_only_per_certificate": hash_only / size,
                          "payload_bytes": sum(map(len, payloads)) / size, "ratio": encrypted / hash_only}
    return out


