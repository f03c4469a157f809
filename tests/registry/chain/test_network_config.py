"""What a consortium network is made of: the Clique genesis, member keys, the Besu/QBFT configuration,
the confirmation depth per consensus, and the stall check; no chain node runs here."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import rlp  # type: ignore[import-untyped]
from eth_account import Account
from eth_keys.datatypes import PrivateKey

from api.config import SettingsError, load_settings
from registry.chain import network as network_module
from registry.chain.besu import QBFT_MIX_HASH, qbft_extra_data, qbft_validators, write_besu_config
from registry.chain.finality import clique_confirmations, clique_stall_after, confirmations_for
from registry.chain.genesis import (
    FORKS,
    NODE_KEY_FILE,
    SEALER_KEY_FILE,
    STATIC_NODES_FILE,
    clique_extra_data,
    clique_sealers,
)
from registry.chain.network import LiveChainClient, Network
from registry.errors import ChainUnavailableError


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_clique_extra_data_lists_every_sealer_in_ascending_order_between_vanity_and_seal() -> None:
    sealers = [Account.create().address for _ in range(4)]
    extra = clique_extra_data(sealers)
    assert len(bytes.fromhex(extra[2:])) == 32 + 4 * 20 + 65
    assert clique_sealers(extra) == sorted(s.lower() for s in sealers)


def test_extra_data_that_is_not_a_clique_checkpoint_is_refused() -> None:
    with pytest.raises(ValueError, match="Clique"):
        clique_sealers("0x" + "00" * 32 + "11" * 19 + "00" * 65)


def test_a_new_network_writes_a_clique_genesis_up_to_shanghai_without_the_merge(tmp_path: Path) -> None:
    network = Network.create(tmp_path / "net", nodes=4, block_time=3)
    params = json.loads((tmp_path / "net" / "chain.json").read_text())
    assert params["consensus"] == {"type": "poa", "algorithm": "clique", "clique": {"period": 3, "epoch": 30_000}}
    assert [f["name"] for f in params["hardforks"]] == list(FORKS)
    assert "paris" not in {f["name"] for f in params["hardforks"]}  # the Merge would end Clique
    assert {a.lower() for a in clique_sealers(params["genesis"]["extraData"])} == \
        {m.sealer.lower() for m in network.members}
    funded = json.loads((tmp_path / "net" / "genesis-state.json").read_text())
    assert set(funded) == {m.sealer.lower() for m in network.members}


def test_each_member_has_its_own_keys_in_0600_files_matching_its_enode_and_sealer(tmp_path: Path) -> None:
    network = Network.create(tmp_path / "net", nodes=3, block_time=1)
    for member in network.members:
        directory = tmp_path / "net" / member.directory
        node_key = PrivateKey(bytes.fromhex((directory / NODE_KEY_FILE).read_text()))
        assert node_key.public_key.to_hex()[2:] == member.enode_id
        sealer = Account.from_key(bytes.fromhex((directory / SEALER_KEY_FILE).read_text()))
        assert sealer.address == member.sealer
        assert _mode(directory / NODE_KEY_FILE) == _mode(directory / SEALER_KEY_FILE) == 0o600
        peers = json.loads((directory / STATIC_NODES_FILE).read_text())
        assert peers == [m.enode for m in network.members if m.index != member.index]


def test_the_network_description_holds_no_key(tmp_path: Path) -> None:
    network = Network.create(tmp_path / "net", nodes=2, block_time=1)
    text = (tmp_path / "net" / "network.json").read_text()
    for member in network.members:
        directory = tmp_path / "net" / member.directory
        for secret in (NODE_KEY_FILE, SEALER_KEY_FILE):
            assert (directory / secret).read_text() not in text
    assert Network.load(tmp_path / "net").members == network.members


def test_a_network_directory_is_never_overwritten_and_a_bad_shape_is_refused(tmp_path: Path) -> None:
    Network.create(tmp_path / "net", nodes=2, block_time=1)
    with pytest.raises(ValueError, match="already holds a network"):
        Network.create(tmp_path / "net", nodes=2, block_time=1)
    with pytest.raises(ValueError, match="at least 2 nodes"):
        Network.create(tmp_path / "other", nodes=1)
    with pytest.raises(ValueError, match="no network"):
        Network.load(tmp_path / "nowhere")


def test_qbft_extra_data_is_the_rlp_of_vanity_validators_no_vote_round_zero_and_no_seals() -> None:
    validators = [Account.create().address for _ in range(4)]
    extra = qbft_extra_data(validators)
    vanity, listed, vote, round_, seals = rlp.decode(bytes.fromhex(extra[2:]))
    assert (bytes(vanity), list(vote), bytes(round_), list(seals)) == (b"\x00" * 32, [], b"", [])
    assert ["0x" + bytes(a).hex() for a in listed] == [v.lower() for v in validators]
    assert extra.endswith("c080c0")


def test_the_besu_configuration_lists_each_validator_node_key_in_genesis_peers_and_allowlist(tmp_path: Path) -> None:
    validators = write_besu_config(tmp_path / "besu", validators=4, block_time=2)
    genesis = json.loads((tmp_path / "besu" / "genesis.json").read_text())
    assert genesis["config"]["qbft"]["blockperiodseconds"] == 2
    assert genesis["config"]["shanghaiTime"] == 0 and genesis["mixHash"] == QBFT_MIX_HASH
    keys = [PrivateKey(bytes.fromhex((tmp_path / "besu" / f"node-{i}" / "key").read_text()[2:])) for i in range(4)]
    addresses = [k.public_key.to_checksum_address().lower() for k in keys]
    assert qbft_validators(genesis["extraData"]) == addresses == [v.address.lower() for v in validators]
    enodes = json.loads((tmp_path / "besu" / "static-nodes.json").read_text())
    assert [e.split("@")[0].removeprefix("enode://") for e in enodes] == [k.public_key.to_hex()[2:] for k in keys]
    allowlist = (tmp_path / "besu" / "permissions_config.toml").read_text()
    assert all(f'"{e}"' in allowlist for e in enodes)
    config = (tmp_path / "besu" / "node-1" / "config.toml").read_text()
    assert 'node-private-key-file="node-1/key"' in config and "permissions-nodes-config-file-enabled=true" in config
    assert all(_mode(tmp_path / "besu" / f"node-{i}" / "key") == 0o600 for i in range(4))


def test_besu_needs_four_validators_and_a_fresh_directory(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 4 validators"):
        write_besu_config(tmp_path / "a", validators=3)
    write_besu_config(tmp_path / "b")
    with pytest.raises(ValueError, match="already holds"):
        write_besu_config(tmp_path / "b")


@pytest.mark.parametrize(("consensus", "sealers", "blocks"),
                         [("anvil", 1, 1), ("qbft", 4, 1), ("clique", 4, 4), ("clique", 5, 4), ("clique", 7, 5)])
def test_the_confirmation_depth_suits_the_consensus(consensus: str, sealers: int, blocks: int) -> None:
    assert confirmations_for(consensus, sealers) == blocks  # type: ignore[arg-type]


def test_clique_settles_once_more_than_half_of_the_sealers_built_on_a_block() -> None:
    for sealers in range(1, 12):
        on_top = clique_confirmations(sealers) - 1
        assert on_top > sealers / 2


def test_the_node_settings_take_the_depth_from_the_consensus_unless_given() -> None:
    assert load_settings().confirmation_depth == 1
    assert load_settings({"consensus": "clique", "clique_sealers": 4}).confirmation_depth == 4
    assert load_settings({"consensus": "qbft"}).confirmation_depth == 1
    assert load_settings({"consensus": "clique", "confirmation_depth": 9}).confirmation_depth == 9
    with pytest.raises(SettingsError, match="COO_CONSENSUS"):
        load_settings({"consensus": "proof-of-work"})


def test_a_head_older_than_the_stall_limit_reads_as_an_unreachable_chain(anvil: object,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    chain = LiveChainClient.connect(anvil.url)  # type: ignore[attr-defined]
    stamp = chain.block_timestamp()
    monkeypatch.setattr(network_module.time, "time", lambda: stamp + 30.0)
    assert chain.block_number() >= 0  # no limit: a development chain may stand still
    chain.max_head_age = clique_stall_after(1, 4)
    with pytest.raises(ChainUnavailableError, match="stalled"):
        chain.block_number()
    monkeypatch.setattr(network_module.time, "time", lambda: stamp + 1.0)
    assert chain.block_number() >= 0
