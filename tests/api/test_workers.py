"""`coo up --workers 2` as real processes on a real Anvil: two API workers, one chain writer.

Many concurrent clients register certificates and make governance and status writes
through both API workers at once. The scenario runs once for the module; each test checks
one thing it showed: every accepted write settled and no answer was a 5xx; on chain every
transaction succeeded and no sender used a nonce twice (or skipped one); only the chain
writer process sent transactions (an RPC recorder between the node and Anvil tells which
process held the connection); the API workers run no sending worker; connections opened
in one burst are served by both API workers; SIGTERM stops every process and ``coo up``
exits 0.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from web3 import Web3

from api.serve import listen
from api.workers import Supervisor, WorkerExited
from registry.chain.nodes import NodeProcess
from registry.chain.ports import free_port
from tests.support.consortium import example
from tests.support.rpc_recorder import RpcRecorder

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = 16
Call = tuple[str, str, dict[str, str], Any]
"""One request: method, path, headers, JSON body."""


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _until(check: Callable[[], Any], what: str, seconds: float = 30.0) -> Any:
    """Poll *check* until it returns something truthy (the node settles writes asynchronously)."""
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.1)


class Scenario:
    """The node under load, and what every answer was."""

    def __init__(self, url: str, keys: dict[str, Any]) -> None:
        self.url = url
        self.keys = keys
        self.answers: list[tuple[Call, int, Any]] = []

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]['api_key']}"}

    def one(self, call: Call) -> tuple[Call, int, Any]:
        method, path, headers, body = call
        with httpx.Client(base_url=self.url, timeout=60) as client:  # a connection of its own: any worker
            answer = client.request(method, path, headers=headers, json=body)
        return call, answer.status_code, answer.json() if answer.content else None

    def all_at_once(self, calls: list[Call]) -> list[tuple[Call, int, Any]]:
        with ThreadPoolExecutor(CLIENTS) as pool:
            done = list(pool.map(self.one, calls))
        self.answers += done
        return done

    def registrations(self, count: int) -> list[Call]:
        return [("POST", "/v1/certificates", self.headers("issuer"), example()) for _ in range(count)]

    def settled(self, answers: list[tuple[Call, int, Any]]) -> None:
        """Wait until every accepted write is on chain: certificates anchored, 202 writes settled."""
        issuer = self.headers("issuer")
        with httpx.Client(base_url=self.url, timeout=30) as client:
            for (_, path, headers, _), status, body in answers:
                if status == 202 and "write_id" in body:
                    _until(lambda b=body, h=headers: client.get(b["status_url"], headers=h).json()["state"]
                           in ("settled", "refused"), f"chain write {body['write_id']}")
                elif path == "/v1/certificates" and status == 202:
                    _until(lambda b=body: client.get(f"/v1/certificates/{b['id']}", headers=issuer).json()
                           ["status"] == "anchored", f"certificate {body['id']} anchored")


def _start(data: Path, rpc_url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "COO_DATA_DIR": str(data), "COO_PORT": str(port), "COO_RPC_URL": rpc_url,
           "COO_BATCH_MAX_WAIT_MS": "50", "PYTHONPATH": str(ROOT)}
    log = (data.parent / "node.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "api.cli", "up", "--demo", "--workers", "2"], env=env,
                               cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"coo up exited: {(data.parent / 'node.log').read_text()}")
        try:
            return httpx.get(f"{url}/readyz", timeout=1).status_code == 200 and (data / "demo-keys.json").exists()
        except httpx.HTTPError:
            return False

    _until(ready, "coo up --workers 2 ready", 60)
    return process, url


def _scenario(run: Scenario) -> None:
    admin, authority = run.headers("admin"), run.headers("authority")
    first = run.all_at_once(
        run.registrations(24)
        + [("POST", "/v1/governance/issuers", authority, {"label": f"Exporters' Chamber {n}"}) for n in range(6)]
        + [("PUT", "/v1/governance/countries/SG/authority-name", admin, {"name": f"Singapore Customs {n}"})
           for n in range(4)])
    run.settled(first)
    anchored = [body["id"] for (_, path, _, _), status, body in first if path == "/v1/certificates"][:12]
    issuers = [body["account"] for (_, path, _, _), status, body in first
               if path == "/v1/governance/issuers" and status in (201, 202)][:3]
    second = run.all_at_once(
        run.registrations(12)
        + [("POST", f"/v1/certificates/{cid}/revoke", run.headers("issuer"), {"reason": "issued-in-error"})
           for cid in anchored]
        + [("POST", f"/v1/governance/issuers/{account}/suspend", authority, None) for account in issuers])
    run.settled(second)


@pytest.fixture(scope="module")
def seen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The whole scenario once, and what it showed."""
    base = tmp_path_factory.mktemp("workers")
    anvil = NodeProcess(kind="anvil", log_path=base / "anvil.log")
    anvil.start()
    shown: dict[str, Any] = {}
    try:
        with RpcRecorder(anvil.url) as recorder:
            process, url = _start(base / "node", recorder.url)
            try:
                run = Scenario(url, json.loads((base / "node" / "demo-keys.json").read_text()))
                shown["keys"] = run.keys
                shown["pids"] = {"writer": process.pid, "children": _children(process.pid)}
                with ThreadPoolExecutor(1) as idler:
                    after_idle = idler.submit(_answer_after_idle, url, IDLE_S)
                    _scenario(run)
                    shown["after idle"] = after_idle.result()
                shown["claims"] = _record_claims(run)
                shown["answers"] = run.answers
                shown["readyz"] = [httpx.get(f"{url}/readyz", timeout=5).json() for _ in range(12)]
                shown["writes"] = httpx.get(f"{url}/metrics").text
                shown["metrics"] = [httpx.get(f"{url}/metrics", timeout=5).text for _ in range(12)]
                shown["burst"] = _burst(url, shown["pids"]["children"], BURST)
                shown["replaced"] = _kill_one(url, process.pid, shown["pids"]["children"])
            finally:
                process.send_signal(signal.SIGTERM)
                try:
                    shown["exit"] = process.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    process.kill()
                    shown["exit"] = "killed"
            shown["sent"] = list(recorder.sent)
        shown["chain"] = _transactions(anvil.url)
        shown["log"] = (base / "node.log").read_text()
        yield shown
    finally:
        anvil.stop()


BURST = 32
"""Keep-alive clients connecting at once, while one API worker is busy for a moment."""


def _burst(url: str, workers: list[int], count: int) -> list[int]:
    """*count* clients connect while the first of *workers* is busy for a moment (stopped), each asks
    ``/metrics``; the pid of the process that took each connection, in order.

    With one listening socket shared by the workers, the worker awake when the clients connected
    accepted them all, and each keep-alive client stays with the worker that accepted it: a worker busy
    for a moment at that time got no share of the load for as long as the clients stayed connected."""
    port = int(url.rsplit(":", 1)[1])
    busy = workers[0]
    os.kill(busy, signal.SIGSTOP)
    try:
        connections = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(count)]
        for connection in connections:
            connection.sendall(b"GET /metrics HTTP/1.1\r\nHost: node\r\nConnection: close\r\n\r\n")
        time.sleep(1.0)  # the other worker has taken every connection it is going to take
    finally:
        os.kill(busy, signal.SIGCONT)
    pids = []
    for connection in connections:
        with connection:
            answer = b"".join(iter(lambda c=connection: c.recv(65536), b""))
        found = re.search(rb'^coo_process_info\{role="api",pid="(\d+)"\} 1$', answer, re.M)
        assert found, answer[:300]
        pids.append(int(found.group(1)))
    return pids


CLAIM = "goods[1].rvc >= 40"


def _record_claims(run: Scenario) -> dict[str, Any]:
    """The issuer registers a certificate with a confidential figure and proves a claim about it; Customs has
    the chain verify and record the claim (``POST /v1/claims``, answered by an API worker)."""
    body = example()
    goods: list[dict[str, Any]] = body["goods"]  # type: ignore[assignment]
    goods[1] = {**goods[1], "non_originating_value": "9000.00"}
    issuer, customs = run.headers("issuer"), run.headers("customs")
    with httpx.Client(base_url=run.url, timeout=120) as client:
        accepted = client.post("/v1/certificates", json=body, headers=issuer).json()
        _until(lambda: client.get(f"/v1/certificates/{accepted['id']}", headers=issuer).json()["status"]
               == "anchored", "the certificate anchored")
        bundle = client.post(f"/v1/certificates/{accepted['id']}/proofs", json={"claims": [CLAIM]}, headers=issuer)
        assert bundle.status_code == 200, bundle.text
        answer = client.post("/v1/claims", json=bundle.json(), headers=customs)
        recorded = answer.json()
        if answer.status_code == 202:  # recorded, not on chain within the request's bound: the writer sends it
            _until(lambda: client.get(recorded["status_url"], headers=customs).json()["state"] == "settled",
                   "the claim settled", 60)
        return {"status": answer.status_code, "answer": recorded, "document_hash": bundle.json()["document_hash"]}


IDLE_S = 6.0
"""How long a keep-alive client leaves its connection idle: over httpx's own 5 s limit for idle connections,
and uvicorn's default keep-alive timeout (also 5 s)."""


def _answer_after_idle(url: str, idle: float) -> bytes:
    """The status line answering a request sent on a keep-alive connection left idle *idle* seconds (or the
    error the connection gave instead)."""
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=60) as connection, connection.makefile("rb") as reader:
        _health(connection, reader)
        time.sleep(idle)
        try:
            return _health(connection, reader)
        except OSError as error:
            return repr(error).encode()


def _health(connection: socket.socket, reader: Any) -> bytes:
    """Ask ``/healthz`` on *connection* and read the whole answer; its status line."""
    connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: node\r\n\r\n")
    status: bytes = reader.readline()
    length = 0
    while (line := reader.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    reader.read(length)
    return status


def _kill_one(url: str, writer: int, workers: list[int]) -> dict[str, Any]:
    """Kill one API worker (SIGKILL), then at once have *BURST* clients connect and ask ``/metrics``: which
    processes answered, and the API workers afterwards."""
    os.kill(workers[1], signal.SIGKILL)
    served = _served(url, BURST)
    return {"killed": workers[1], "served": served, "workers": [p for p in _children(writer) if _alive(p)]}


def _served(url: str, count: int) -> list[int | str]:
    """*count* clients connect at once and ask ``/metrics``: the pid of the process that answered each (or the
    error its connection gave)."""
    port = int(url.rsplit(":", 1)[1])
    connections = [socket.create_connection(("127.0.0.1", port), timeout=60) for _ in range(count)]
    answers: list[int | str] = []
    for connection in connections:
        with connection:
            try:
                connection.sendall(b"GET /metrics HTTP/1.1\r\nHost: node\r\nConnection: close\r\n\r\n")
                answer = b"".join(iter(lambda c=connection: c.recv(65536), b""))
            except OSError as error:
                answers.append(repr(error))
                continue
        found = re.search(rb'^coo_process_info\{role="api",pid="(\d+)"\} 1$', answer, re.M)
        answers.append(int(found.group(1)) if found else repr(answer[:200]))
    return answers


CLAIM_VERIFIED = Web3.keccak(text="ClaimVerified(bytes32,uint8,bytes32,address)")


def _transactions(rpc_url: str) -> list[dict[str, Any]]:
    """Every transaction on the chain: sender, nonce, status, and the document a ``ClaimVerified`` it emitted names."""
    w3 = Web3(Web3.HTTPProvider(rpc_url))
    found = []
    for number in range(w3.eth.block_number + 1):
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
            receipt = w3.eth.get_transaction_receipt(tx["hash"])
            claims = ["0x" + bytes(log["topics"][1]).hex() for log in receipt["logs"]
                      if log["topics"] and bytes(log["topics"][0]) == CLAIM_VERIFIED]
            found.append({"from": tx["from"], "nonce": tx["nonce"], "status": receipt["status"],
                          "claim": claims[0] if claims else None})
    return found


def test_every_write_accepted_by_either_worker_settles_without_a_server_error(seen: dict[str, Any]) -> None:
    statuses = [status for _, status, _ in seen["answers"]]
    assert len(statuses) == 24 + 6 + 4 + 12 + 12 + 3
    assert not [s for s in statuses if s >= 500], seen["log"][-3000:]
    assert set(statuses) <= {200, 201, 202, 204}, [a for a in seen["answers"] if a[1] not in (200, 201, 202, 204)]
    for line in ('coo_chain_writes{state="pending"} 0', 'coo_chain_writes{state="sent"} 0',
                 'coo_chain_writes{state="refused"} 0'):
        assert line in seen["writes"].splitlines(), seen["writes"]
    assert 'coo_certificates{status="pending"}' not in seen["writes"], seen["writes"]


def test_no_nonce_is_reused_or_skipped_and_every_transaction_succeeds(seen: dict[str, Any]) -> None:
    by_sender: dict[str, list[int]] = defaultdict(list)
    for tx in seen["chain"]:
        by_sender[tx["from"]].append(tx["nonce"])
    assert all(tx["status"] == 1 for tx in seen["chain"]), [tx for tx in seen["chain"] if tx["status"] != 1]
    for sender, nonces in by_sender.items():
        assert sorted(nonces) == list(range(len(nonces))), (sender, sorted(nonces))
    anchoring_and_writes = len(seen["chain"])
    assert anchoring_and_writes >= 6 + 12 + 3  # at least the governance and status writes, besides anchoring


def test_only_the_chain_writer_process_sends_transactions(seen: dict[str, Any]) -> None:
    senders = {pid for _, pid in seen["sent"]}
    assert seen["sent"], "no transaction went through the recorder"
    assert senders == {seen["pids"]["writer"]}, (senders, seen["pids"])


def test_the_api_workers_answer_and_run_no_sending_worker(seen: dict[str, Any]) -> None:
    assert len([pid for pid in seen["pids"]["children"]]) == 2
    names = {w["name"] for answer in seen["readyz"] for w in answer["workers"]}
    assert names == {"coo-follower", "coo-writer"}, names
    assert all(answer["status"] == "ok" for answer in seen["readyz"])


def test_metrics_say_which_process_answered_an_api_worker_never_the_writer(seen: dict[str, Any]) -> None:
    found = [re.search(r'^coo_process_info\{role="(\w+)",pid="(\d+)"\} 1$', text, re.M) for text in seen["metrics"]]
    assert all(found), seen["metrics"][0][-400:]
    answered = {(m.group(1), int(m.group(2))) for m in found if m}
    assert {role for role, _ in answered} == {"api"}
    assert {pid for _, pid in answered} <= set(seen["pids"]["children"])
    assert all(re.search(r"^coo_process_resident_bytes [1-9]\d*$", text, re.M) for text in seen["metrics"])


def test_connections_opened_at_once_are_served_by_both_api_workers(seen: dict[str, Any]) -> None:
    """Keep-alive clients connecting while one worker is busy for a moment still get both workers."""
    served = {pid: seen["burst"].count(pid) for pid in set(seen["burst"])}
    assert set(served) == set(seen["pids"]["children"]), served


def test_a_keep_alive_connection_left_idle_longer_than_clients_keep_one_is_still_answered(
        seen: dict[str, Any]) -> None:
    """A client whose idle limit is about uvicorn's default keep-alive timeout sent requests on connections the
    node was closing: the node keeps idle connections far longer than clients do."""
    assert seen["after idle"].startswith(b"HTTP/1.1 200"), seen["after idle"]


def test_a_killed_api_worker_is_replaced_and_connections_meanwhile_are_served(seen: dict[str, Any]) -> None:
    """Clients that connected just after one worker was killed wait for its replacement; none is refused."""
    replaced = seen["replaced"]
    survivor = next(pid for pid in seen["pids"]["children"] if pid != replaced["killed"])
    assert not _alive(replaced["killed"])
    (new,) = [pid for pid in replaced["workers"] if pid != survivor]
    assert set(replaced["served"]) == {survivor, new}, replaced["served"]
    assert "starting another on its socket" in seen["log"], seen["log"][-2000:]


def test_customs_records_a_claim_through_an_api_worker_and_only_the_writer_sends_it(seen: dict[str, Any]) -> None:
    """An API worker sends no transaction: the claim is recorded in the store and the writer puts it on chain (the
    recorder saw every transaction come from the writer, the verifiers' deployment included)."""
    claims = seen["claims"]
    assert claims["status"] in (200, 202), claims
    verified = [tx for tx in seen["chain"] if tx["status"] == 1 and tx.get("claim")]
    assert [tx["claim"] for tx in verified] == [claims["document_hash"]], (claims, verified)
    assert verified[0]["from"] == seen["keys"]["customs"]["account"]


def test_sigterm_stops_every_process_and_exits_zero(seen: dict[str, Any]) -> None:
    assert seen["exit"] == 0, seen["log"][-3000:]
    started = [seen["pids"]["writer"], *seen["pids"]["children"], *seen["replaced"]["workers"]]
    left = [pid for pid in started if _alive(pid)]
    assert left == [], left


def test_an_api_worker_that_keeps_dying_stops_the_node() -> None:
    """A worker that cannot start is not restarted for ever: after the allowed restarts the node stops."""
    listeners = listen("127.0.0.1", 0)
    _, wake = os.pipe()
    supervisor = Supervisor(listeners, wake, {**os.environ, "COO_PORT": "not-a-port"}, max_restarts=2)
    try:
        with pytest.raises(WorkerExited, match="3 API workers died within 60 s"):
            supervisor.run()
    finally:
        listeners[0].close()
        os.close(wake)
    assert len(supervisor.restarts) == 3
    assert all(child.poll() is not None for child in supervisor.children)
