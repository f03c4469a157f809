"""Two member nodes on one chain: Singapore issues, Japan verifies, utilises and asks.

Usage: ``python scripts/demo_two_nodes.py [--workdir DIR]``

Starts one Anvil and two nodes (``coo up``) on free loopback ports, each with its
own data directory, key-encryption key and accounts:

1. node SG deploys the registry and is the consortium admin; it admits SG, and
   admits JP with an authority account that node JP created and keeps;
2. SG authorises its issuing body; JP admits its Customs account; SG mints a
   Customs key for JP, which JP configures as its peer for key release;
3. SG issues a certificate in encrypted-payload mode; its QR token opens it at
   node JP straight from the chain; JP also fetches its key from SG, opens the
   ciphertext from the chain and verifies it: VALID;
4. JP records a utilisation against an import declaration, opens a verification
   request, SG sees it open and answers it;
5. SG revokes a second certificate and erases the first: JP sees each within one
   block (REVOKED, ERASED), can no longer open the erased record, destroys its copy
   of the key with its key epoch and sends SG a signed acknowledgement.

Everything goes through HTTP. Exits non-zero with one line if a step fails.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.offload import TIMEOUT as SERVER_DEADLINE_S  # noqa: E402
from registry.chain.client import ChainClient  # noqa: E402
from registry.chain.nodes import NodeProcess  # noqa: E402
from registry.chain.ports import free_port  # noqa: E402

EXAMPLE = ROOT / "examples" / "rcep-sg-jp.json"
CLIENT_TIMEOUT_S = 2 * SERVER_DEADLINE_S
"""How long the demo's client waits for an answer: well past the node's own deadline on its hot routes, and past
the two chain writes a first utilisation waits for in turn (the terms, then the draw, each up to the node's RPC
bound), so that a busy node is heard answering (202, or 503 and asked again) rather than cut off mid-request."""
ANCHOR_TIMEOUT_S = 60.0
"""How long an issued certificate may take to be anchored (on Anvil, under a second; on the network, a batch at
the Clique depth, longer while the chain recovers from a fault)."""
BUSY_RETRIES = 3
"""How many times a request answered 503 with ``Retry-After`` is sent again (the API's writes are idempotent)."""


class DemoError(Exception):
    """A step of the scenario did not give what it should."""


def log_tail(path: Path, lines: int) -> str:
    """The last *lines* lines of the log at *path* ("" when there is none)."""
    if not path.exists():
        return ""
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


class ApiNode:
    """One ``coo up`` process with its own data directory and port."""

    def __init__(self, name: str, data: Path, rpc_url: str, contract: str | None = None,
                 extra_env: dict[str, str] | None = None) -> None:
        self.name = name
        self.data = data
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "COO_RPC_URL": rpc_url, "COO_DATA_DIR": str(data), "COO_PORT": str(self.port),
                    "COO_BATCH_MAX_WAIT_MS": "50", **(extra_env or {})}
        if contract:
            self.env["COO_CONTRACT_ADDRESS"] = contract
        self.process: subprocess.Popen[bytes] | None = None
        self.http = httpx.Client(base_url=self.url, timeout=CLIENT_TIMEOUT_S)

    def start(self, timeout: float = 60) -> None:
        """Start the node and wait until it is ready."""
        self.data.mkdir(parents=True, exist_ok=True)
        log = (self.data / "node.log").open("wb")
        self.process = subprocess.Popen([str(Path(sys.executable).parent / "coo"), "up"], env=self.env, cwd=ROOT,
                                        stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                last = self.log_tail(1).strip() or "no output"
                raise DemoError(f"node {self.name} exited ({last}); see {self.data / 'node.log'}")
            try:
                if self.http.get("/readyz").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise DemoError(f"node {self.name} did not become ready in {timeout:.0f} s")

    def stop(self) -> None:
        """Stop the node (SIGTERM, then SIGKILL)."""
        self.http.close()
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        """The last *lines* lines of the node's log ("" before it has one)."""
        return log_tail(self.data / "node.log", lines)

    @property
    def admin_key(self) -> str:
        """The node's first admin API key (written 0600 into its data directory)."""
        return (self.data / "admin-api-key").read_text().strip()

    @property
    def contract(self) -> str:
        """The registry contract this node deployed."""
        return str(json.loads((self.data / "deployment.json").read_text())["address"])

    def call(self, method: str, path: str, key: str | None = None, expect: int | tuple[int, ...] = 200,
             **kwargs: Any) -> Any:
        """One HTTP call; the JSON body, after checking the status."""
        headers = {**kwargs.pop("headers", {}), **({"Authorization": f"Bearer {key}"} if key else {})}
        answer = self.http.request(method, path, headers=headers, **kwargs)
        for _ in range(BUSY_RETRIES):  # the node was too busy to answer in time and says when to ask again
            if answer.status_code != 503 or "retry-after" not in answer.headers:
                break
            time.sleep(min(float(answer.headers["retry-after"]), 10.0))
            answer = self.http.request(method, path, headers=headers, **kwargs)
        wanted = (expect,) if isinstance(expect, int) else expect
        if answer.status_code not in wanted:
            raise DemoError(f"{self.name} {method} {path}: {answer.status_code} {answer.text[:300]}")
        return answer.json() if answer.content else None


@contextmanager
def two_nodes(workdir: Path) -> Iterator[tuple[NodeProcess, ApiNode, ApiNode]]:
    """One Anvil and two nodes (SG deploys; JP attaches to the same contract); all stopped on exit."""
    anvil = NodeProcess(kind="anvil", state_file=workdir / "anvil-state.json", log_path=workdir / "anvil.log")
    anvil.start()
    sg = jp = None
    try:
        sg = ApiNode("SG", workdir / "node-sg", anvil.url)
        sg.start()
        jp = ApiNode("JP", workdir / "node-jp", anvil.url, contract=sg.contract)
        jp.start()
        yield anvil, sg, jp
    finally:
        for node in (jp, sg):
            if node is not None:
                node.stop()
        anvil.stop()


def set_up(sg: ApiNode, jp: ApiNode) -> dict[str, str]:
    """The consortium across both nodes; returns the API keys by role."""
    keys: dict[str, str] = {}
    keys["sg_authority"] = sg.call("POST", "/v1/governance/countries", sg.admin_key, 201,
                                   json={"country": "SG"})["api_key"]
    jp_authority = jp.call("POST", "/v1/governance/authority-accounts", jp.admin_key, 201,
                           json={"country": "JP", "label": "Japan Customs and Tariff Bureau"})
    keys["jp_authority"] = jp_authority["api_key"]
    sg.call("POST", "/v1/governance/countries", sg.admin_key, 201,
            json={"country": "JP", "authority": jp_authority["account"]})
    keys["sg_issuer"] = sg.call("POST", "/v1/governance/issuers", keys["sg_authority"], 201,
                                json={"label": "Singapore Customs (issuing body)"})["api_key"]
    keys["jp_customs"] = jp.call("POST", "/v1/governance/customs", keys["jp_authority"], 201,
                                 json={"label": "Yokohama Customs"})["api_key"]
    peer_key = sg.call("POST", "/v1/keys", sg.admin_key, 201,
                       json={"role": "customs", "country": "JP", "label": "node JP (key release)"})["api_key"]
    jp.call("PUT", "/v1/governance/peers/SG", jp.admin_key, 204, json={"url": sg.url, "api_key": peer_key})
    return keys


def example_body(prefix: str = "SG-RCEP") -> dict[str, Any]:
    """The example certificate under a fresh number starting with *prefix*."""
    return {**json.loads(EXAMPLE.read_text()), "certificate_number": f"{prefix}-{time.time_ns() % 10**12:012d}"}


def issue(sg: ApiNode, key: str, mode: str) -> dict[str, Any]:
    """Issue the example certificate under a fresh number and wait until it is anchored."""
    created = sg.call("POST", "/v1/certificates", key, 202, json=example_body(), params={"mode": mode})
    deadline = time.monotonic() + ANCHOR_TIMEOUT_S
    while time.monotonic() < deadline:
        record = sg.call("GET", f"/v1/certificates/{created['id']}", key)
        if record["status"] == "anchored":
            return dict(record)
        time.sleep(0.05)
    raise DemoError(f"certificate {created['id']} was not anchored in {ANCHOR_TIMEOUT_S:.0f} s")


def _request_status_until(jp: ApiNode, request_id: str, key: str, wanted: str, timeout: float = 10) -> str:
    """JP's view of a verification request, read until it says *wanted* (its node sees the answer once it
    has indexed the block that recorded it); the last status seen."""
    deadline = time.monotonic() + timeout
    while (status := str(jp.call("GET", f"/v1/verification-requests/{request_id}", key)["status"])) != wanted:
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    return status


def seen_by_jp(jp: ApiNode, document_hash: str, verdict: str, block: int, timeout: float = 10) -> dict[str, Any]:
    """Poll JP's status check of *document_hash* until it says *verdict*; when, and at which head."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        report = jp.call("GET", f"/v1/verify/{document_hash}")
        if report["verdict"] == verdict:
            return {"verdict": verdict, "change_block": block, "seen_at_head": report["chain_head"],
                    "seconds": round(time.monotonic() - started, 3)}
        time.sleep(0.02)
    raise DemoError(f"node JP did not see {verdict} for {document_hash} within {timeout:.0f} s")


def scenario(rpc_url: str, sg: ApiNode, jp: ApiNode, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the whole scenario; return what was observed at each step."""
    seen: dict[str, Any] = {}
    keys = set_up(sg, jp)
    chain = ChainClient.connect(rpc_url, sg.contract)
    say(f"consortium: SG node {sg.url} (admin), JP node {jp.url}, contract {sg.contract}")

    first = issue(sg, keys["sg_issuer"], "encrypted")
    document_hash = first["document_hash"]
    say(f"SG issued {first['certificate_number']} (encrypted mode) in block {first['block_number']}")
    link = sg.call("GET", f"/v1/certificates/{first['id']}/verification-link", keys["sg_issuer"])
    token = link["url"].rsplit("/v/", 1)[1]
    by_token = jp.call("GET", f"/v/{token}", headers={"Accept": "application/json"})
    seen["bearer_token_at_jp"] = {"verdict": by_token["verdict"], "contents": by_token["disclosed"] is not None}
    say(f"the QR token opened the record at JP, straight from the chain: {by_token['verdict']}")
    document = jp.call("POST", f"/v1/certificates/{document_hash}/fetch", keys["jp_customs"])
    report = jp.call("POST", "/v1/verify", json=document)
    seen["fetched"] = {"certificate_number": document["certificate"]["certificate_number"],
                       "verdict": report["verdict"]}
    say(f"JP fetched the key from SG, opened the record from the chain and verified it: {report['verdict']}")

    used = jp.call("POST", f"/v1/certificates/{document_hash}/utilisations", keys["jp_customs"], 201,
                   json={"declaration_reference": "JP-YOK-2611-000123", "date": "2026-11-23",
                         "items": [{"item_number": 1, "quantity": "500"}]})
    seen["utilisation"] = {item["item_number"]: item["remaining"] for item in used["items"]}
    say(f"JP recorded a utilisation on chain; remaining: {seen['utilisation']}")

    request = jp.call("POST", f"/v1/certificates/{document_hash}/verification-requests", keys["jp_customs"], 201,
                      json={"reason": "verify origin criterion WO for item 1"})
    open_at_sg = sg.call("GET", "/v1/verification-requests", keys["sg_issuer"], params={"status": "open"})
    mine = [r for r in open_at_sg if r["id"] == request["id"]]
    if not mine:
        raise DemoError("SG does not see JP's verification request")
    seen["request_at_sg"] = {"status": mine[0]["status"], "age_seconds": mine[0]["age_seconds"],
                             "certificate_id": mine[0]["certificate_id"], "reason": mine[0]["reason"]}
    sg.call("POST", f"/v1/verification-requests/{request['id']}/answer", keys["sg_issuer"],
            json={"answer": "confirmed", "remarks": "producer records checked"})
    seen["request_at_jp"] = _request_status_until(jp, request["id"], keys["jp_customs"], "confirmed")
    say(f"JP opened verification request {request['id']}; SG saw it open and answered: {seen['request_at_jp']}")

    second = issue(sg, keys["sg_issuer"], "hash-only")
    revoked = sg.call("POST", f"/v1/certificates/{second['id']}/revoke", keys["sg_issuer"], json={"reason": "fraud"})
    block = _block(chain, second["document_hash"], "CertificateRevoked")
    seen["revocation"] = seen_by_jp(jp, revoked["document_hash"], "REVOKED", block)
    say(f"SG revoked {second['certificate_number']} in block {block}; JP saw REVOKED at head "
        f"{seen['revocation']['seen_at_head']}")

    sg.call("POST", f"/v1/certificates/{first['id']}/erase", keys["sg_issuer"])
    block = _block(chain, document_hash, "KeyDestroyed")
    seen["erasure"] = seen_by_jp(jp, document_hash, "ERASED", block)
    answer = jp.http.post(f"/v1/certificates/{document_hash}/fetch",
                          headers={"Authorization": f"Bearer {keys['jp_customs']}"})
    seen["erasure"]["fetch_after"] = answer.status_code
    after_token = jp.call("GET", f"/v/{token}", headers={"Accept": "application/json"})
    seen["erasure"]["token_after"] = {"verdict": after_token["verdict"],
                                      "contents": after_token["disclosed"] is not None}
    seen["erasure"]["confirmed_by"] = confirmed_by(sg, keys["sg_issuer"], first["id"])
    say(f"SG erased {first['certificate_number']} in block {block}; JP saw ERASED at head "
        f"{seen['erasure']['seen_at_head']}, can no longer open it ({answer.status_code}) and confirmed destroying "
        f"its copy of the key (signed by {seen['erasure']['confirmed_by'][0]['node_account']})")
    return seen


def confirmed_by(sg: ApiNode, key: str, certificate_id: str, timeout: float = 10) -> list[dict[str, Any]]:
    """Poll SG's erasure record until a peer has acknowledged destroying its copy of the key."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        erasure = sg.call("GET", f"/v1/certificates/{certificate_id}/erasure", key)
        if erasure["state"] == "erased" and erasure["acknowledgements"]:
            return list(erasure["acknowledgements"])
        time.sleep(0.05)
    raise DemoError(f"no peer acknowledged the erasure of {certificate_id} within {timeout:.0f} s")


def _block(chain: ChainClient, document_hash: str, event: str) -> int:
    """Block of the latest *event* about *document_hash*, read from the chain itself."""
    found = chain.events(0, names={event}, topics=[chain.event_topic(event), document_hash])
    if not found:
        raise DemoError(f"no {event} event on chain for {document_hash}")
    return found[-1].block_number


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, help="keep the nodes' data here (default: a temporary directory)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="coo-two-nodes-") as scratch:
        workdir = options.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        try:
            with two_nodes(workdir) as (anvil, sg, jp):
                seen = scenario(anvil.url, sg, jp)
        except (DemoError, httpx.HTTPError, OSError) as error:
            print(f"demo failed: {error}", file=sys.stderr)
            return 1
    print(json.dumps(seen, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
