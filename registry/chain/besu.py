"""The production recipe: a Hyperledger Besu network with QBFT, one validator per member.

``write_besu_config`` writes what each member's Besu needs to start (``coo network up
--besu DIR``): the genesis (QBFT, every validator in the extra data), each validator's
node key (0600, in its own directory), ``static-nodes.json``, the local permissioning
file (only the members' nodes may connect) and a ``config.toml`` per node. Besu is not
installable on the machines this project is built on, so this configuration is checked
for its structure only; it has not been run here.

QBFT extra data is ``RLP([32 bytes vanity, [validator addresses], [] (no vote), 0 (round),
[] (no seals)])``; a validator's address is that of its node key.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rlp  # type: ignore[import-untyped]
from eth_keys.datatypes import PrivateKey

from registry.custody.accounts import write_private_file

QBFT_MIX_HASH = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"
"""The mix hash a QBFT genesis must carry ("ctical byzantine fault tolerance")."""
KEY_FILE = "key"
FIRST_P2P_PORT = 30_303
FIRST_RPC_PORT = 8_545
DEFAULT_CHAIN_ID = 1_337_018


@dataclass(frozen=True)
class Validator:
    """One member's Besu node: where it lives and who it is (no secret here)."""

    index: int
    address: str
    enode_id: str
    host: str
    p2p_port: int
    rpc_port: int

    @property
    def enode(self) -> str:
        """The node's ``enode://id@host:port`` URL."""
        return f"enode://{self.enode_id}@{self.host}:{self.p2p_port}"


def qbft_extra_data(validators: list[str]) -> str:
    """The genesis extra data listing *validators* (addresses), as QBFT expects it."""
    addresses = [bytes.fromhex(v.removeprefix("0x")) for v in validators]
    return "0x" + bytes(rlp.encode([b"\x00" * 32, addresses, [], 0, []])).hex()


def qbft_validators(extra_data: str) -> list[str]:
    """The validators listed in QBFT *extra_data* (the inverse of :func:`qbft_extra_data`)."""
    decoded = rlp.decode(bytes.fromhex(extra_data.removeprefix("0x")))
    return ["0x" + bytes(address).hex() for address in decoded[1]]


def qbft_genesis(chain_id: int, block_time: int, validators: list[str]) -> dict[str, Any]:
    """A QBFT genesis (every fork to Shanghai from block 0, the contracts' EVM version)."""
    forks = {f"{name}Block": 0 for name in ("homestead", "eip150", "eip155", "eip158", "byzantium",
                                            "constantinople", "petersburg", "istanbul", "muirGlacier",
                                            "berlin", "london")}
    return {
        "config": {"chainId": chain_id, **forks, "shanghaiTime": 0,
                   "qbft": {"blockperiodseconds": block_time, "epochlength": 30_000, "requesttimeoutseconds": 4}},
        "nonce": "0x0", "timestamp": "0x0", "gasLimit": "0x1c9c380", "difficulty": "0x1",
        "mixHash": QBFT_MIX_HASH, "coinbase": "0x" + "00" * 20, "alloc": {},
        "extraData": qbft_extra_data(validators),
    }


def node_config(validator: Validator) -> str:
    """The ``config.toml`` of *validator*'s Besu (paths relative to the network directory)."""
    return "\n".join([
        f'data-path="node-{validator.index}/data"',
        'genesis-file="genesis.json"',
        f'node-private-key-file="node-{validator.index}/{KEY_FILE}"',
        f"p2p-port={validator.p2p_port}",
        "rpc-http-enabled=true",
        f'rpc-http-host="{validator.host}"',
        f"rpc-http-port={validator.rpc_port}",
        'rpc-http-api=["ETH","NET","WEB3","QBFT"]',
        'host-allowlist=["localhost","127.0.0.1"]',
        "min-gas-price=0",
        'static-nodes-file="static-nodes.json"',
        "permissions-nodes-config-file-enabled=true",
        'permissions-nodes-config-file="permissions_config.toml"',
        'sync-mode="FULL"',
        "",
    ])


def _new_validator(directory: Path, index: int, host: str) -> Validator:
    node = directory / f"node-{index}"
    node.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = PrivateKey(secrets.token_bytes(32))
    write_private_file(node / KEY_FILE, key.to_hex().encode())
    return Validator(index=index, address=key.public_key.to_checksum_address(),
                     enode_id=key.public_key.to_hex().removeprefix("0x"), host=host,
                     p2p_port=FIRST_P2P_PORT + index, rpc_port=FIRST_RPC_PORT + index)


def write_besu_config(directory: Path, validators: int = 4, block_time: int = 2, *,
                      chain_id: int = DEFAULT_CHAIN_ID, host: str = "127.0.0.1") -> list[Validator]:
    """Write a QBFT network of *validators* Besu nodes into *directory*; the validators.

    Raises:
        ValueError: fewer than 4 validators (QBFT tolerates no fault below 4), a block time under 1 s,
            or a configuration already in *directory*.
    """
    if validators < 4:
        raise ValueError("QBFT needs at least 4 validators to tolerate one faulty node")
    if block_time < 1:
        raise ValueError("the block time is a whole number of seconds, at least 1")
    if (directory / "genesis.json").exists():
        raise ValueError(f"{directory} already holds a Besu configuration; choose another directory")
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    members = [_new_validator(directory, i, host) for i in range(validators)]
    genesis = qbft_genesis(chain_id, block_time, [v.address for v in members])
    (directory / "genesis.json").write_text(json.dumps(genesis, indent=2) + "\n")
    enodes = [v.enode for v in members]
    (directory / "static-nodes.json").write_text(json.dumps(enodes, indent=2) + "\n")
    (directory / "permissions_config.toml").write_text("nodes-allowlist=[\n"
                                                       + ",\n".join(f'  "{e}"' for e in enodes) + "\n]\n")
    for validator in members:
        (directory / f"node-{validator.index}" / "config.toml").write_text(node_config(validator))
    return members
