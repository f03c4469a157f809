"""Load held: 50 concurrent clients mixing register / verify / revoke on loopback for a bounded time.

Zero 5xx, every accepted certificate anchored exactly once, and the API's memory
flat after warm-up. Duration: ``COO_LOAD_SECONDS`` (default 60).
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from pathlib import Path

import httpx

from registry.chain.nodes import NodeProcess
from tests.support.consortium import example
from tests.support.http import LiveApi, assert_exactly_once, wait_all_anchored

CLIENTS = 50
SECONDS = float(os.environ.get("COO_LOAD_SECONDS", "60"))


async def client_loop(api: LiveApi, deadline: float, accepted: list[str], statuses: dict[int, int],
                      documents: list[dict[str, object]]) -> None:
    mine: list[str] = []
    async with httpx.AsyncClient(base_url=api.url, headers=api.headers(), timeout=60) as http:
        while time.monotonic() < deadline:
            roll = random.random()
            if roll < 0.6 or not documents:
                answer = await http.post("/v1/certificates", json=example())
                if answer.status_code == 202:
                    accepted.append(answer.json()["id"])
                    mine.append(answer.json()["id"])
            elif roll < 0.95:
                answer = await http.post("/v1/verify", json=random.choice(documents))
            else:
                answer = await http.post(f"/v1/certificates/{mine.pop(0) if mine else 'none'}/revoke",
                                         json={"reason": "issued-in-error"})
            statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1


def test_fifty_clients_for_a_minute_lose_nothing_and_keep_memory_flat(tmp_path: Path) -> None:
    anvil = NodeProcess(kind="anvil", state_file=tmp_path / "anvil.json").start()
    api = LiveApi(anvil.url, tmp_path / "node")
    api.start()
    try:
        with httpx.Client(base_url=api.url, headers=api.headers(), timeout=60) as http:
            seed = [http.post("/v1/certificates", json=example()).json()["id"] for _ in range(5)]
            wait_all_anchored(api.data, seed)
            documents = [http.get(f"/v1/certificates/{i}/document").json() for i in seed]
        accepted: list[str] = []
        statuses: dict[int, int] = {}

        async def run() -> None:
            deadline = time.monotonic() + SECONDS
            await asyncio.gather(*(client_loop(api, deadline, accepted, statuses, documents) for _ in range(CLIENTS)))

        warm = api.rss_bytes()
        try:
            asyncio.run(run())
        except httpx.HTTPError as error:
            raise AssertionError(f"{error!r} under load; the node's log ends:\n{api.log_tail()}") from error
        after = api.rss_bytes()
        assert not [s for s in statuses if s >= 500], statuses
        assert statuses.get(202, 0) > 0 and statuses.get(200, 0) > 0
        wait_all_anchored(api.data, accepted + seed, timeout=120)
        assert_exactly_once(anvil, api.data)
        assert after - warm < 150 * 2**20, f"memory grew {(after - warm) / 2**20:.0f} MB under load"
    finally:
        api.stop()
        anvil.stop()
