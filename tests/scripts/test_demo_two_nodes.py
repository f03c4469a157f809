"""Two API nodes on one Anvil, end to end through HTTP (``scripts/demo_two_nodes.py``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from demo_two_nodes import scenario, two_nodes  # noqa: E402


def test_sg_issues_and_jp_verifies_utilises_asks_and_sees_revocation_and_erasure(tmp_path: Path) -> None:
    lines: list[str] = []
    with two_nodes(tmp_path) as (anvil, sg, jp):
        assert sg.port != jp.port and sg.data != jp.data
        assert (sg.data / "kek").read_bytes() != (jp.data / "kek").read_bytes()
        seen = scenario(anvil.url, sg, jp, say=lines.append)
        # JP holds the keys of its own authority and Customs account; SG holds none of them
        jp_node = "0x" + json.loads((jp.data / "node-account.json").read_text())["address"].lower().removeprefix("0x")
        jp_accounts = {p.stem.lower() for p in (jp.data / "accounts").glob("*.json")}
        sg_accounts = {p.stem.lower() for p in (sg.data / "accounts").glob("*.json")}
        assert jp_accounts and not jp_accounts & sg_accounts
    assert seen["bearer_token_at_jp"] == {"verdict": "VALID", "contents": True}  # no call to SG for this one
    assert seen["fetched"]["verdict"] == "VALID"
    assert seen["utilisation"] == {1: "700", 2: "600", 3: "2400"}
    assert seen["request_at_sg"]["status"] == "open" and seen["request_at_sg"]["certificate_id"]
    assert seen["request_at_sg"]["reason"] == "verify origin criterion WO for item 1"  # delivered by JP, hash-checked
    assert seen["request_at_jp"] == "confirmed"
    for change in ("revocation", "erasure"):
        assert seen[change]["seen_at_head"] <= seen[change]["change_block"] + 1, seen[change]
    assert seen["erasure"]["fetch_after"] == 410
    assert seen["erasure"]["token_after"] == {"verdict": "ERASED", "contents": False}
    assert [(a["country"], a["node_account"].lower()) for a in seen["erasure"]["confirmed_by"]] == [("JP", jp_node)]
    assert len(lines) == 8
