"""What a consortium chain starts from: member keys, their enodes, and the Clique genesis.

Each member node has two keys, each in its own 0600 file in the node's directory and
nowhere else: its *node key* (devp2p identity; its public key is the node's enode id, so
every enode is known before any node starts) and its *sealer key* (the Clique signer,
funded in the genesis so that the node can give the accounts its members create their
gas money). The genesis is written in the EthereumJS chain format: Clique proof of
authority with every sealer listed in the extra data, all forks up to Shanghai active
from block 0 (so the contracts, compiled for Shanghai, run unchanged), and no Merge.

This module only writes files; :mod:`registry.chain.network` runs the nodes.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import rlp  # type: ignore[import-untyped]
from eth_account import Account
from eth_keys.datatypes import PrivateKey, Signature
from eth_utils.crypto import keccak

from registry.custody.accounts import write_private_file

CHAIN_NAME = "coo"
"""The chain's name; EthereumJS keeps its databases under ``<node dir>/<name>``."""
CLIQUE_VANITY = 32
CLIQUE_SEAL = 65
SEALER_BALANCE_WEI = 10**30
"""Each sealer's genesis balance: gas money for every account the members will create."""
FORKS = ("chainstart", "homestead", "tangerineWhistle", "spuriousDragon", "byzantium", "constantinople",
         "petersburg", "istanbul", "muirGlacier", "berlin", "london", "shanghai")
"""Active from block 0. Paris (the Merge) is left out on purpose: it would end Clique."""
GAS_LIMIT = 30_000_000
NODE_KEY_FILE = "nodekey"
SEALER_KEY_FILE = "signer.key"
STATIC_NODES_FILE = "static-nodes.json"


@dataclass(frozen=True)
class Member:
    """One member's chain node as the network knows it (no secret here)."""

    index: int
    directory: str
    """Relative to the network directory."""
    enode_id: str
    """The node's public key, 128 hex digits."""
    sealer: str
    """The checksummed address that seals blocks for this member."""
    p2p_port: int
    rpc_port: int
    host: str = "127.0.0.1"

    @property
    def enode(self) -> str:
        """The node's ``enode://id@host:port`` URL."""
        return self.enode_at(self.p2p_port)

    def enode_at(self, port: int) -> str:
        """The node's enode URL with another *port* (a link forwarder's, in front of the node)."""
        return f"enode://{self.enode_id}@{self.host}:{port}"

    @property
    def rpc_url(self) -> str:
        """The node's HTTP JSON-RPC URL."""
        return f"http://{self.host}:{self.rpc_port}"


def clique_extra_data(sealers: list[str]) -> str:
    """Genesis extra data: 32 bytes of vanity, the sealers' addresses in ascending order, an empty seal."""
    body = "".join(address.lower().removeprefix("0x") for address in sorted(sealers, key=str.lower))
    return "0x" + "00" * CLIQUE_VANITY + body + "00" * CLIQUE_SEAL


def clique_sealers(extra_data: str) -> list[str]:
    """The sealers listed in a Clique checkpoint's *extra_data* (the inverse of :func:`clique_extra_data`).

    Raises:
        ValueError: the extra data is not a Clique checkpoint.
    """
    raw = bytes.fromhex(extra_data.removeprefix("0x"))
    body = raw[CLIQUE_VANITY:len(raw) - CLIQUE_SEAL]
    if len(raw) < CLIQUE_VANITY + CLIQUE_SEAL or len(body) % 20:
        raise ValueError("not a Clique checkpoint's extra data")
    return ["0x" + body[i:i + 20].hex() for i in range(0, len(body), 20)]


def chain_params(chain_id: int, block_time: int, sealers: list[str]) -> dict[str, Any]:
    """The EthereumJS chain parameters (``--customChain``) of a Clique chain sealed by *sealers*."""
    return {
        "name": CHAIN_NAME, "chainId": chain_id, "defaultHardfork": FORKS[-1],
        "consensus": {"type": "poa", "algorithm": "clique", "clique": {"period": block_time, "epoch": 30_000}},
        "genesis": {"gasLimit": GAS_LIMIT, "difficulty": 1, "nonce": "0x0000000000000000",
                    "extraData": clique_extra_data(sealers), "timestamp": "0x0", "baseFeePerGas": "0x7"},
        "hardforks": [{"name": fork, "block": 0} for fork in FORKS],
        "bootstrapNodes": [],
    }


def genesis_state(sealers: list[str]) -> dict[str, list[str]]:
    """The genesis allocation (``--customGenesisState``): every sealer funded."""
    return {address.lower(): [hex(SEALER_BALANCE_WEI)] for address in sealers}


def new_member(network_dir: Path, index: int, p2p_port: int, rpc_port: int) -> Member:
    """Create member *index*'s directory and its two keys (0600 files); return what may be shared of it."""
    directory = network_dir / f"node-{index}"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    node_key = PrivateKey(secrets.token_bytes(32))
    write_private_file(directory / NODE_KEY_FILE, node_key.to_hex().removeprefix("0x").encode())
    sealer = Account.create()
    write_private_file(directory / SEALER_KEY_FILE, sealer.key.hex().removeprefix("0x").encode())
    return Member(index=index, directory=directory.name, enode_id=node_key.public_key.to_hex().removeprefix("0x"),
                  sealer=sealer.address, p2p_port=p2p_port, rpc_port=rpc_port)


def write_static_nodes(network_dir: Path, member: Member, peers: list[Member],
                       through: dict[tuple[int, int], int] | None = None) -> None:
    """Write the enodes *member* keeps dialling (every peer but itself), each at the port of the link
    forwarder for the pair when *through* names one (see :mod:`registry.chain.links`)."""
    ports = through or {}
    urls = [peer.enode_at(ports.get((member.index, peer.index), peer.p2p_port))
            for peer in peers if peer.index != member.index]
    (network_dir / member.directory / STATIC_NODES_FILE).write_text(json.dumps(urls, indent=2) + "\n")


def member_record(member: Member) -> dict[str, Any]:
    """*member* as stored in ``network.json``."""
    return asdict(member)


HEADER_FIELDS = ("parentHash", "sha3Uncles", "miner", "stateRoot", "transactionsRoot", "receiptsRoot", "logsBloom",
                 "difficulty", "number", "gasLimit", "gasUsed", "timestamp", "extraData", "mixHash", "nonce",
                 "baseFeePerGas", "withdrawalsRoot")
"""A Shanghai header's fields, in RLP order."""
_SCALARS = {"difficulty", "number", "gasLimit", "gasUsed", "timestamp", "baseFeePerGas"}


def clique_sealer(block: dict[str, str]) -> str:
    """The address that sealed *block* (a JSON-RPC block): recovered from the seal in its extra data, over
    the header with that seal taken out (EIP-225)."""
    extra = bytes.fromhex(block["extraData"][2:])
    fields: list[object] = []
    for name in HEADER_FIELDS:
        if name in _SCALARS:
            fields.append(int(block[name], 16))
        elif name == "extraData":
            fields.append(extra[:-65])
        else:
            fields.append(bytes.fromhex(block[name][2:]))
    seal = extra[-65:]
    signature = Signature(vrs=(seal[64], int.from_bytes(seal[:32], "big"), int.from_bytes(seal[32:64], "big")))
    return signature.recover_public_key_from_msg_hash(keccak(rlp.encode(fields))).to_checksum_address()
