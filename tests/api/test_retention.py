"""Audit-log retention through the API and the settings: a pruned receipt is gone like an unknown one,
the copy a party holds still verifies by its signature, a bad policy stops the node before it starts."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from pydantic import ValidationError
from typer.testing import CliRunner

from api.app import node_config
from api.cli import app
from api.config import Settings
from registry.pipelines.retention import DAY
from registry.runtime import Node
from tests.support.consortium import example
from tests.support.http import assert_problem, auth


def age(node: Node, receipt_id: str, days: float) -> None:
    """Make *receipt_id* look filed *days* earlier than it was."""
    with node.context.store.transaction() as conn:
        aged = conn.execute("UPDATE verification_receipts SET created_at = created_at - ? WHERE id = ?",
                            (days * DAY, receipt_id)).rowcount
    assert aged == 1


def pruned_total(metrics: str) -> int:
    [line] = [line for line in metrics.splitlines() if line.startswith("coo_audit_pruned_total ")]
    return int(line.split()[1])


async def test_a_receipt_past_the_retention_answers_404_like_an_unknown_one_and_its_copy_still_verifies(
    client: httpx.AsyncClient, keys: dict[str, dict[str, str]], node: Node
) -> None:
    issuer = auth(keys, "issuer")
    created = (await client.post("/v1/certificates", json=example(), headers=issuer)).json()
    public = await client.get(f"/v1/verify/{created['document_hash']}")  # anyone, no key: a receipt is filed
    assert public.status_code == 200
    receipt_id = public.json()["receipt_id"]
    fetched = await client.get(f"/v1/verifications/{receipt_id}", headers=issuer)
    assert fetched.status_code == 200, fetched.text
    held = fetched.json()["receipt"]
    before = pruned_total((await client.get("/metrics")).text)

    age(node, receipt_id, 399)  # inside the 400 days: the node's own pruner keeps it
    assert node.pruner is not None and node.pruner.days == 400
    node.pruner.run_once()
    assert (await client.get(f"/v1/verifications/{receipt_id}", headers=issuer)).status_code == 200

    age(node, receipt_id, 2)  # now 401 days old
    assert node.pruner.run_once() >= 1
    gone = assert_problem(await client.get(f"/v1/verifications/{receipt_id}", headers=issuer), 404, "not found")
    unknown_id = str(uuid.uuid4())
    unknown = assert_problem(await client.get(f"/v1/verifications/{unknown_id}", headers=issuer), 404)
    assert {**gone, "detail": gone["detail"].replace(receipt_id, "ID")} == {
        **unknown, "detail": unknown["detail"].replace(unknown_id, "ID")}
    assert not node.context.store.query("SELECT 1 FROM verification_receipts WHERE id = ?", (receipt_id,))
    assert pruned_total((await client.get("/metrics")).text) >= before + 1

    message = (f"coo-verification/1|{held['receipt_id']}|{held['report_hash']}|{held['checked_at']}|"
               f"{held['chain_head']}")
    signer = Account.recover_message(encode_defunct(text=message), signature=held["signature"])
    assert signer == held["node_account"] == public.json()["node_account"]


async def test_the_pruner_is_listed_by_readiness_and_metrics(client: httpx.AsyncClient) -> None:
    ready = (await client.get("/readyz")).json()
    [pruner] = [w for w in ready["workers"] if w["name"] == "coo-audit-pruner"]
    assert pruner["running"] and pruner["failures"] == 0
    metrics = (await client.get("/metrics")).text
    assert 'coo_worker_up{worker="coo-audit-pruner"} 1' in metrics
    assert "# TYPE coo_audit_pruned_total counter" in metrics and pruned_total(metrics) >= 0


def test_the_setting_maps_onto_the_node(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().audit_retention_days == 400
    monkeypatch.setenv("COO_AUDIT_RETENTION_DAYS", "0")
    assert node_config(Settings()).audit_retention_days == 0
    monkeypatch.setenv("COO_AUDIT_RETENTION_DAYS", "731")
    assert node_config(Settings()).audit_retention_days == 731


@pytest.mark.parametrize("value", ["-1", "1.5", "a year", ""])
def test_a_bad_retention_setting_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("COO_AUDIT_RETENTION_DAYS", value)
    with pytest.raises(ValidationError, match="audit_retention_days"):
        Settings()


def test_coo_up_with_a_bad_retention_stops_with_one_line_naming_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["up", "--data-dir", str(tmp_path)], env={"COO_AUDIT_RETENTION_DAYS": "-30"})
    assert result.exit_code == 2, result.output
    assert "COO_AUDIT_RETENTION_DAYS" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "kek").exists()  # nothing started
