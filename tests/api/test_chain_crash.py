"""Kill -9 the node's managed chain right after each kind of write, restart: every effect is on chain, once.

Anvil dumps its state file once a second. A chain killed within that interval
restarts from the file as it was before the last writes: those blocks are gone,
although the API answered 200 for each. Which writes fall inside the interval
is up to timing, so the test makes the loss certain: it copies the state file
once the anchors are in it, makes the writes, kills Anvil with SIGKILL and puts
the copy back, which is exactly what a kill within the interval leaves.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import time
from decimal import Decimal
from pathlib import Path

import httpx

from api.app import create_app
from api.config import Settings
from api.serve import set_up_demo
from registry.chain.client import ChainClient, DocumentState
from registry.chain.customs import CustomsLedger, RequestState
from registry.domain.report import Verdict
from registry.pipelines.anchoring import BatchPolicy
from registry.pipelines.verify import Verifier
from registry.runtime import Node, NodeConfig, open_node
from registry.sealing.merkle import process_proof
from registry.sealing.terms import to_units
from tests.support.consortium import example
from tests.support.http import anchored, auth


def copy_of_a_dump_after(state: Path, since: float, into: Path) -> None:
    """Copy the state file once Anvil has dumped it after *since* (the copy must be a whole JSON document)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if state.exists() and state.stat().st_mtime > since:
            shutil.copyfile(state, into)
            try:
                json.loads(into.read_text())
                return
            except ValueError:
                pass  # caught mid-write: the next dump
        time.sleep(0.05)
    raise AssertionError("Anvil did not dump its state")


async def test_writes_a_killed_chain_lost_are_sent_again_exactly_once_and_verify_as_made(tmp_path: Path) -> None:
    config = NodeConfig(data_dir=tmp_path / "node", batch=BatchPolicy(max_size=64, max_wait=0.05))
    state, before = config.data_dir / "anvil-state.json", tmp_path / "before-the-writes.json"
    node: Node = open_node(config)
    try:
        keys = json.loads(set_up_demo(node, "http://testserver").read_text())
        issuer, customs, authority = auth(keys, "issuer"), auth(keys, "customs"), auth(keys, "authority")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(Settings(), node)),
                                     base_url="http://testserver") as http:
            ids = [(await http.post("/v1/certificates", json=example(), headers=issuer)).json()["id"] for _ in range(3)]
            records = {i: await anchored(http, issuer, i) for i in ids}
            proofs = {i: [bytes.fromhex(p[2:]) for p in node.context.store.certificate(i).proof or []] for i in ids}
            copy_of_a_dump_after(state, time.time(), before)
            revoked, erased, used = ids

            assert (await http.post(f"/v1/certificates/{revoked}/revoke", json={"reason": "fraud"},
                                    headers=issuer)).status_code == 200
            assert (await http.post(f"/v1/certificates/{erased}/erase", headers=issuer)).status_code == 200
            drawn = await http.post(f"/v1/certificates/{used}/utilisations", headers=customs, json={
                "declaration_reference": "JP-IMP-CRASH", "date": "2026-11-23",
                "items": [{"item_number": 1, "quantity": "200"}]})
            assert drawn.status_code == 201, drawn.text
            asked = await http.post(f"/v1/certificates/{used}/verification-requests", json={"reason": "crash test"},
                                    headers=customs)
            assert asked.status_code == 201, asked.text
            request_id = asked.json()["id"]
            answered = await http.post(f"/v1/verification-requests/{request_id}/answer", json={"answer": "confirmed"},
                                       headers=issuer)
            assert answered.status_code == 200, answered.text
            suspended = await http.post(f"/v1/governance/issuers/{keys['issuer']['account']}/suspend",
                                        headers=authority)
            assert suspended.status_code == 204, suspended.text

        assert node.anvil is not None and node.anvil.pid is not None
        os.kill(node.anvil.pid, signal.SIGKILL)
        while node.anvil.running:
            await asyncio.sleep(0.02)
        shutil.copyfile(before, state)  # what a kill within the dump interval leaves behind
        node.close()

        node = open_node(config, start_worker=False)
        assert node.anvil is not None
        chain = ChainClient.connect(node.anvil.url, node.context.chain.address)
        ledger = CustomsLedger(chain)
        doc = {i: bytes.fromhex(records[i]["document_hash"][2:]) for i in ids}

        def states() -> dict[str, DocumentState]:
            return {i: chain.inspect(doc[i], proofs[i]).state for i in (revoked, erased)}

        def drawn_now() -> int:
            root = process_proof(doc[used], proofs[used])
            return ledger.utilisation_of(doc[used], root, 1).drawn[0]

        # the loss is real: the restarted chain has the anchors but none of the six writes
        assert states() == {revoked: DocumentState.ACTIVE, erased: DocumentState.ACTIVE}
        assert drawn_now() == 0 and ledger.request_count() == 0
        assert chain.is_authorised(keys["issuer"]["account"])
        meanwhile = node.verification.verify_hash(doc[revoked])[0]  # before anything is sent again
        assert meanwhile.verdict is not Verdict.VALID, "the issuing node showed a revoked certificate as VALID"

        for worker in node.workers:
            worker.start()
        deadline = time.monotonic() + 30

        def done() -> bool:
            found = ledger.request_of(request_id)
            return (states() == {revoked: DocumentState.REVOKED, erased: DocumentState.ERASED}
                    and drawn_now() > 0 and found is not None and found.state is RequestState.CONFIRMED
                    and not chain.is_authorised(keys["issuer"]["account"]))

        while not done() and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert done(), "a write the chain lost stayed lost"

        # exactly once: one event per write, the draw not doubled
        counts = {name: len(chain.events(0, names={name})) for name in (
            "CertificateRevoked", "KeyDestroyed", "CertificateUtilised", "VerificationRequested",
            "VerificationAnswered", "IssuerSuspended")}
        assert counts == dict.fromkeys(counts, 1), counts
        assert drawn_now() == to_units(Decimal("200"))
        assert Verifier(chain).verify_hash(doc[revoked], proofs[revoked]).verdict is Verdict.REVOKED
        assert Verifier(chain).verify_hash(doc[erased], proofs[erased]).verdict is Verdict.ERASED
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(Settings(), node)),
                                     base_url="http://testserver") as http:
            assert (await http.get(f"/v1/verify/{records[revoked]['document_hash']}")).json()["verdict"] == "REVOKED"
            assert (await http.post("/v1/certificates", json=example(), headers=issuer)).status_code == 403
    finally:
        node.close()
