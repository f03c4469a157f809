"""Side by side with OpenAttestation on the same Anvil: issuing 1,000 documents, client-side verification, revoking.

Each round runs both, one after the other, on the same certificate contents (the example certificate
under distinct numbers):

* OpenAttestation (``bench_oa.mjs``, its pinned npm packages): a DocumentStore deployed, the documents
  wrapped in one batch and its root issued; ``@govtechsg/oa-verify`` verifying documents one after the
  other in one Node process (its DNS-TXT step answered in memory); the gas of one ``revoke``.
* Ours: the documents registered through ``POST /v1/certificates/batch`` (wrk) until all are anchored;
  the sealed documents verified one after the other in this process by the client-side verifier
  (``registry.pipelines.offline.OfflineVerifier``, what ``coo verify`` runs: straight against the chain,
  no node), one verifier for the round as oa-verify keeps one provider; the gas of one
  ``CertificateRegistry.revoke`` of a document of a 1,000-document batch.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
from bench_api import Sizes, authorise, certificate, register
from bench_node import ApiNode
from benchlib import ROOT, timed
from eth_account import Account

from registry.chain.client import ChainClient
from registry.pipelines.offline import OfflineVerifier
from registry.sealing.merkle import MerkleTree

SCRIPT = Path(__file__).resolve().parent / "bench_oa.mjs"


def openattestation(chain: ChainClient, count: int, verify: int) -> dict[str, Any]:
    """One OpenAttestation round: wrap and issue *count* documents, verify *verify* of them, revoke one."""
    account = Account.create()
    chain.fund(account.address)
    payload = {"rpc_url": chain.w3.provider.endpoint_uri, "key": account.key.hex(),  # type: ignore[attr-defined]
               "documents": [certificate(f"oa-{os.urandom(4).hex()}-{i}") for i in range(count)],
               "verify": verify, "location": "bench-issuer.test"}
    done = subprocess.run(["node", str(SCRIPT)], input=json.dumps(payload), capture_output=True, text=True,
                          timeout=900, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"bench_oa.mjs failed: {done.stderr[-1000:]}")
    figures: dict[str, Any] = json.loads(done.stdout)
    figures.update(wrap_issue_s=figures["wrap_s"] + figures["issue_s"],
                   verify_per_second=figures["verified"] / figures["verify_s"])
    return figures


def ours(node: ApiNode, chain: ChainClient, count: int, verify: int) -> dict[str, Any]:
    """Our round: register *count* and wait until anchored, verify *verify* client-side, revoke one."""
    began = time.time()
    flood = register(node, Sizes(flood=count, per_request=min(250, count)), "oa-side")
    issue_s = time.time() - began
    with node.db() as db:
        ids = [r[0] for r in db.execute("SELECT id FROM certificates WHERE status = 'anchored' AND created_at >= ?"
                                        " LIMIT ?", (began, verify))]
    documents = _documents(node, ids)
    contract = json.loads((node.data / "deployment.json").read_text())["address"]
    url = chain.w3.provider.endpoint_uri  # type: ignore[attr-defined]
    verifier = OfflineVerifier(url, contract)  # built before the clock starts, as oa-verify's verifier and provider
    seconds, verdicts = timed(lambda: [verifier.verify(d).verdict.value for d in documents])
    return {"documents": flood["certificates"], "wrap_issue_s": issue_s, "still_pending": flood["still_pending"],
            "verified": len(documents), "valid": verdicts.count("VALID"), "verify_s": seconds,
            "verify_per_second": len(documents) / seconds, "revoke_gas": revoke_gas(node, chain, count)}


def _documents(node: ApiNode, ids: list[str]) -> list[dict[str, Any]]:
    with httpx.Client(base_url=node.url, headers=node.header("issuer"), timeout=60) as http:
        return [http.get(f"/v1/certificates/{i}/document").raise_for_status().json() for i in ids]


def revoke_gas(node: ApiNode, chain: ChainClient, count: int) -> int:
    """Gas of revoking one document of an anchored batch of *count*, by a registered issuer."""
    issuer = Account.create()
    chain.fund(issuer.address)
    authorise(node, chain, issuer.address)
    tree = MerkleTree([os.urandom(32) for _ in range(count)])
    chain.anchor(issuer, tree.root, count)
    return int(chain.revoke(issuer, tree.leaves[0], tree.proof(0), 1).gas_used)


def oa_round(node: ApiNode, chain: ChainClient, count: int, verify: int) -> dict[str, Any]:
    """Both sides once, and the ratios of our figures to theirs."""
    theirs, mine = openattestation(chain, count, verify), ours(node, chain, count, verify)
    return {"openattestation": theirs, "ours": mine,
            "verify_ratio": mine["verify_per_second"] / theirs["verify_per_second"],
            "issue_ratio": theirs["wrap_issue_s"] / mine["wrap_issue_s"]}
