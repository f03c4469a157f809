"""What a transaction costs, read back from the chain: gas and its parts, bytes sent, bytes stored.

Gas comes from the receipt and is split into intrinsic (21,000), calldata
(4/16 per zero/non-zero byte), logs (375 + 375 per topic + 8 per data byte)
and the rest (storage and execution). Prague prices a data-heavy transaction
at its calldata floor instead (EIP-7623: 21,000 + 10 gas per token, a zero byte
one token and a non-zero byte four); ``floor_applied`` says whether this one
paid it. Bytes stored: the signed transaction as relayed (``eth_getRawTransactionByHash``),
its logs (topics and data), and each storage slot it created (key and value,
64 bytes, from a ``prestateTracer`` diff).
"""

from __future__ import annotations

from typing import Any

from web3 import Web3

LOG_BASE, LOG_TOPIC, LOG_BYTE = 375, 375, 8
GETH_TX_MAX_SIZE = 128 * 1024
"""geth's transaction-pool limit on a transaction's size (``txMaxSize``, 4 slots of 32 KiB)."""


def calldata_floor(data: bytes) -> int:
    """Prague's floor price of a transaction with input *data* (EIP-7623)."""
    return 21_000 + 10 * sum(1 if b == 0 else 4 for b in data)


def new_slots(w3: Web3, tx_hash: str) -> dict[str, int]:
    """Storage slots the transaction created and changed (``prestateTracer`` in diff mode)."""
    try:
        diff = w3.provider.make_request("debug_traceTransaction",  # type: ignore[arg-type]
                                        [tx_hash, {"tracer": "prestateTracer", "tracerConfig": {"diffMode": True}}])
    except Exception:  # noqa: BLE001 - a node without the tracer: not measured
        return {}
    result = diff.get("result") or {}
    created = changed = 0
    for address, post in (result.get("post") or {}).items():
        before = ((result.get("pre") or {}).get(address) or {}).get("storage") or {}
        for slot in (post.get("storage") or {}):
            if slot in before:
                changed += 1
            else:
                created += 1
    return {"slots_created": created, "slots_changed": changed}


def tx_cost(w3: Web3, tx_hash: str) -> dict[str, Any]:
    """Gas and its parts, bytes relayed and stored, and the events of one transaction."""
    tx = w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
    receipt = w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
    data = bytes(tx["input"])
    raw = w3.provider.make_request("eth_getRawTransactionByHash", [tx_hash])  # type: ignore[arg-type]
    raw_bytes = (len(str(raw.get("result") or "0x")) - 2) // 2
    calldata = sum(4 if b == 0 else 16 for b in data)
    logs = sum(LOG_BASE + LOG_TOPIC * len(log["topics"]) + LOG_BYTE * len(bytes(log["data"]))
               for log in receipt["logs"])
    log_bytes = sum(32 * len(log["topics"]) + len(bytes(log["data"])) + 20 for log in receipt["logs"])
    used = int(receipt["gasUsed"])
    slots = new_slots(w3, tx_hash)
    stored = raw_bytes + log_bytes + 64 * slots.get("slots_created", 0)
    return {"gas": used, "intrinsic": 21_000, "calldata": calldata, "logs": logs,
            "storage_and_execution": used - 21_000 - calldata - logs, "calldata_bytes": len(data),
            "calldata_floor": calldata_floor(data), "floor_applied": used == calldata_floor(data),
            "raw_tx_bytes": raw_bytes, "log_bytes": log_bytes, **slots, "bytes_stored": stored,
            "exceeds_geth_tx_pool_limit": raw_bytes > GETH_TX_MAX_SIZE, "block": int(receipt["blockNumber"]),
            "topics0": ["0x" + bytes(log["topics"][0]).hex() for log in receipt["logs"] if log["topics"]]}


def per_certificate(cost: dict[str, Any], size: int) -> dict[str, Any]:
    """*cost* with its additive figures divided by *size* (flags and block numbers are not divided)."""
    additive = ("gas", "intrinsic", "calldata", "logs", "storage_and_execution", "calldata_bytes", "calldata_floor",
                "raw_tx_bytes", "log_bytes", "bytes_stored", "slots_created", "slots_changed")
    out = {k: (v / size if k in additive else v) for k, v in cost.items() if k != "topics0"}
    return out | {"batch_size": size, "gas_per_transaction": cost["gas"]}


def state_dump_bytes(w3: Web3) -> int | None:
    """Size of Anvil's state dump (gzip of accounts, storage, blocks and transactions), or ``None``."""
    try:
        answer = w3.provider.make_request("anvil_dumpState", [])  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - not an Anvil: not measured
        return None
    result = answer.get("result")
    return (len(result) - 2) // 2 if isinstance(result, str) else None
