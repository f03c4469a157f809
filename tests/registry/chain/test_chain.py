"""The chain client: deployment reuse, persistence, backends, failure modes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from registry.chain.client import ChainClient, DocumentState
from registry.chain.nodes import NodeProcess
from registry.chain.ports import free_port
from registry.errors import ChainUnavailableError, ContractNotDeployedError
from tests.support import reverts
from tests.support.consortium import Consortium, new_consortium, set_up_consortium


def lifecycle(client: ChainClient, people: Consortium) -> None:
    """The core scenario every backend must pass: anchor, refuse, revoke, read events."""
    document = os.urandom(32)
    client.anchor(people.sg_issuer, document, 1)
    with reverts("CertificateRegistryAlreadyAnchored"):
        client.anchor(people.sg_issuer, document, 1)
    with reverts("CertificateRegistryNotIssuer", people.stranger.address, document):
        client.revoke(people.stranger, document, [], 1)
    client.revoke(people.sg_authority, document, [], 2)
    view = client.inspect(document)
    assert view.issuer == people.sg_issuer.address and view.state is DocumentState.REVOKED and view.reason == 2
    batched, head = client.inspect_at_head(document)
    assert batched == view and head == client.block_number()
    names = [e.name for e in client.events(0)]
    assert names[-2:] == ["BatchAnchored", "CertificateRevoked"]
    assert names.count("CountryAdmitted") == 2


@pytest.fixture(scope="module")
def ganache() -> Iterator[NodeProcess]:
    node = NodeProcess(kind="ganache")
    node.start(timeout=60)
    yield node
    node.stop()


def test_the_client_works_on_the_in_process_chain() -> None:
    client = ChainClient.in_process()
    people = new_consortium()
    set_up_consortium(client, people)
    lifecycle(client, people)


def test_the_client_works_on_ganache(ganache: NodeProcess) -> None:
    client = ChainClient.connect(ganache.url)
    people = new_consortium()
    set_up_consortium(client, people)
    lifecycle(client, people)


def test_the_client_works_on_anvil(chain: ChainClient, people: Consortium) -> None:
    lifecycle(chain, people)


def test_deployment_is_recorded_and_reused(chain: ChainClient, people: Consortium, data_dir: Path) -> None:
    record = data_dir / "deployment.json"
    first = ChainClient(chain.w3).ensure_deployed(people.admin, record)
    second = ChainClient(chain.w3).ensure_deployed(people.admin, record)
    assert first == second and record.exists()
    assert ChainClient(chain.w3, first.address).is_deployed()


def test_a_stale_deployment_record_leads_to_a_fresh_deployment(
    chain: ChainClient, people: Consortium, data_dir: Path
) -> None:
    record = data_dir / "deployment.json"
    record.write_text(
        f'{{"chain_id": {chain.chain_id}, '
        f'"address": "{Account.create().address}", "block_number": 1, "tx_hash": "0x00"}}'
    )
    deployment = ChainClient(chain.w3).ensure_deployed(people.admin, record)
    assert ChainClient(chain.w3, deployment.address).is_deployed()
    assert deployment.address in record.read_text()


def test_anvil_state_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "anvil-state.json"
    record = tmp_path / "deployment.json"
    people = new_consortium()
    document = os.urandom(32)
    node = NodeProcess(kind="anvil", state_file=state)
    with node:
        client = ChainClient.connect(node.url)
        client.fund(people.admin.address)
        client.ensure_deployed(people.admin, record)
        set_up_consortium(client, people, deploy=False)
        client.anchor(people.sg_issuer, document, 1)
        client.revoke(people.sg_issuer, document, [], 3)
    assert state.exists()
    with NodeProcess(kind="anvil", state_file=state) as restarted:
        client = ChainClient.connect(restarted.url)
        deployment = client.ensure_deployed(people.admin, record)
        assert client.address == deployment.address
        view = client.inspect(document)
        assert view.issuer == people.sg_issuer.address
        assert view.state is DocumentState.REVOKED and view.reason == 3
        assert client.is_authorised(people.sg_issuer.address)


def test_an_unreachable_node_is_reported_as_unavailable() -> None:
    client = ChainClient.connect(f"http://127.0.0.1:{free_port()}", Account.create().address, timeout=1)
    assert not client.is_reachable()
    with pytest.raises(ChainUnavailableError):
        client.inspect(os.urandom(32))


def test_calls_before_deployment_name_the_problem(anvil: NodeProcess) -> None:
    client = ChainClient.connect(anvil.url)
    assert not client.is_deployed()
    with pytest.raises(ContractNotDeployedError):
        client.inspect(os.urandom(32))
