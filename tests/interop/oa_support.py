"""For the OpenAttestation interoperability tests: OpenAttestation's own JavaScript, and a tiny DNS server.

``node_script`` runs one of ``tests/interop/js/oa/*.mjs`` with a JSON payload on stdin
(keys of dev-chain accounts travel there, never on a command line) and returns the JSON it
prints. ``TinyDns`` answers TXT queries from a dict on a loopback UDP port, in one thread, and
REFUSES every other name: it stands for the issuer's DNS zone, for our resolver and for
``oa-verify``'s alike.
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from eth_account import Account

from registry.chain.client import ChainClient

SCRIPTS = Path(__file__).resolve().parent / "js" / "oa"
ROOT = Path(__file__).resolve().parents[2]


def node_script(name: str, payload: dict[str, Any], timeout: float = 120.0) -> Any:
    """Run ``js/oa/<name>.mjs`` with *payload* on stdin; its JSON output (the test fails on a non-zero exit)."""
    done = subprocess.run(["node", str(SCRIPTS / f"{name}.mjs")], input=json.dumps(payload), capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT, check=False)
    assert done.returncode == 0, f"{name}.mjs failed: {done.stderr[-2000:]}"
    return json.loads(done.stdout)


@dataclass(frozen=True)
class DevIssuer:
    """A funded account on a development chain, for the node scripts (its key is never shown)."""

    rpc_url: str
    address: str
    key: str = field(repr=False)

    @classmethod
    def funded(cls, chain: ChainClient) -> DevIssuer:
        account = Account.create()
        chain.fund(account.address)
        return cls(str(chain.w3.provider.endpoint_uri), account.address, account.key.hex())  # type: ignore[attr-defined]

    def payload(self) -> dict[str, str]:
        """What a node script needs to sign as this account (sent on its stdin)."""
        return {"rpc_url": self.rpc_url, "key": self.key}


def txt_record(chain_id: int, store: str) -> str:
    """The DNS-TXT record by which a domain vouches for a DocumentStore."""
    return f"openatts net=ethereum netId={chain_id} addr={store}"


class TinyDns:
    """A DNS server on 127.0.0.1 answering TXT queries for the names in :attr:`records`."""

    def __init__(self) -> None:
        self.records: dict[str, list[str]] = {}
        self.queries: list[str] = []
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self.port = int(self._socket.getsockname()[1])
        self._thread = threading.Thread(target=self._serve, name="oa-tiny-dns", daemon=True)
        self._stopping = False

    @property
    def address(self) -> str:
        """``host:port``, as the node's ``COO_OA_DNS_RESOLVER`` takes it."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> TinyDns:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping = True
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as poke:  # wakes the blocking recvfrom
            poke.sendto(b"", ("127.0.0.1", self.port))
        self._thread.join(timeout=5)
        self._socket.close()

    def _serve(self) -> None:
        while True:
            wire, client = self._socket.recvfrom(65535)
            if self._stopping:
                return
            try:
                query = dns.message.from_wire(wire)
            except Exception:  # a garbage packet is not answered
                continue
            self._socket.sendto(self._answer(query).to_wire(), client)

    def _answer(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        self.queries.append(name)
        if name not in self.records:
            response.set_rcode(dns.rcode.REFUSED if not name.endswith(".test") else dns.rcode.NXDOMAIN)
            return response
        if question.rdtype == dns.rdatatype.TXT:
            texts = [f'"{text}"' for text in self.records[name]]
            response.answer.append(dns.rrset.from_text(question.name, 60, dns.rdataclass.IN, dns.rdatatype.TXT,
                                                       *texts))
        return response
