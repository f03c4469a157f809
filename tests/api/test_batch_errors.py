"""Batch registration checks every item, names every refused one by index and field path, and stores nothing."""

from __future__ import annotations

from typing import Any

import httpx

from registry.runtime import Node
from tests.support.consortium import example
from tests.support.http import assert_problem, auth


def _bad_hs_code() -> dict[str, Any]:
    body = example()
    body["goods"] = [{**body["goods"][0], "hs_code": "12"}, *body["goods"][1:]]  # type: ignore[index]
    return body


class NothingNew:
    """What a refused batch must leave untouched: the store's certificates and the chain's batches."""

    def __init__(self, node: Node) -> None:
        self.node = node
        node.context.anchorer.flush()
        self.counts = node.context.store.count_by_status()
        self.block = node.context.chain.block_number()

    def check(self, issuer: str, numbers: list[str]) -> None:
        context = self.node.context
        context.anchorer.flush()
        assert context.store.count_by_status() == self.counts
        assert all(context.store.by_number(issuer, n) is None for n in numbers)
        assert context.store.pending_groups() == []
        head = context.chain.block_number()
        assert head == self.block or context.chain.events(self.block + 1, head, names={"BatchAnchored"}) == []


async def test_every_refused_item_is_named_with_its_index_and_nothing_is_registered(
    client: httpx.AsyncClient, keys: dict[str, dict[str, str]], node: Node
) -> None:
    before = NothingNew(node)
    items = [example(), example(), _bad_hs_code(), example(issue_date="2024-13-01"), example()]
    del items[3]["consignee"]
    answer = await client.post("/v1/certificates/batch", json={"certificates": items}, headers=auth(keys, "issuer"))
    body = assert_problem(answer, 422, "2 of 5 certificates", "none registered", "certificates[2].goods[0].hs_code")
    locs = [e["loc"] for e in body["errors"]]
    assert "certificates[2].goods[0].hs_code" in locs
    assert {"certificates[3].issue_date", "certificates[3].consignee"} <= set(locs)
    assert all(loc.startswith(("certificates[2]", "certificates[3]")) for loc in locs), locs
    assert all(e["msg"] for e in body["errors"])
    before.check(keys["issuer"]["account"], [str(i["certificate_number"]) for i in items])


async def test_rules_beyond_the_dataset_are_checked_for_every_item_too(
    client: httpx.AsyncClient, keys: dict[str, dict[str, str]], node: Node
) -> None:
    issuer = auth(keys, "issuer")
    registered = example()
    assert (await client.post("/v1/certificates", json=registered, headers=issuer)).status_code == 202
    before = NothingNew(node)
    twice = example()
    items: list[Any] = [example(), twice, dict(twice), {**registered, "remarks": "other contents, a number used"},
                        "not an object"]
    answer = await client.post("/v1/certificates/batch", json={"certificates": items}, headers=issuer)
    body = assert_problem(answer, 422, "3 of 5 certificates")
    found = {e["loc"]: e["msg"] for e in body["errors"]}
    assert "appears twice" in found["certificates[2].certificate_number"]
    assert "certificates[1]" in found["certificates[2].certificate_number"]
    assert "different contents" in found["certificates[3].certificate_number"]
    assert "JSON object" in found["certificates[4]"]
    assert len(found) == 3, found
    before.check(keys["issuer"]["account"], [str(items[0]["certificate_number"]), str(twice["certificate_number"])])


async def test_another_countrys_export_in_a_batch_is_forbidden_and_every_refused_item_still_listed(
    client: httpx.AsyncClient, keys: dict[str, dict[str, str]], node: Node
) -> None:
    before = NothingNew(node)
    items = [example(), example(exporting_country="JP", importing_country="SG"), _bad_hs_code()]
    answer = await client.post("/v1/certificates/batch", json={"certificates": items}, headers=auth(keys, "issuer"))
    body = assert_problem(answer, 403, "2 of 3 certificates", "none registered")
    locs = [e["loc"] for e in body["errors"]]
    assert locs == ["certificates[1].exporting_country", "certificates[2].goods[0].hs_code"]
    assert "exports from SG, not from JP" in body["errors"][0]["msg"]
    before.check(keys["issuer"]["account"], [str(i["certificate_number"]) for i in items])


async def test_a_batch_that_repeats_a_registered_certificate_with_the_same_contents_is_accepted(
    client: httpx.AsyncClient, keys: dict[str, dict[str, str]]
) -> None:
    issuer = auth(keys, "issuer")
    registered = example()
    first = (await client.post("/v1/certificates", json=registered, headers=issuer)).json()
    answer = await client.post("/v1/certificates/batch", json={"certificates": [registered, example()]},
                               headers=issuer)
    assert answer.status_code == 202, answer.text
    assert answer.json()["certificates"][0]["id"] == first["id"]


async def test_a_single_certificate_keeps_its_own_status_and_plain_field_paths(
    client: httpx.AsyncClient, keys: dict[str, dict[str, str]]
) -> None:
    issuer = auth(keys, "issuer")
    invalid = assert_problem(await client.post("/v1/certificates", json=_bad_hs_code(), headers=issuer), 422,
                             "goods[0].hs_code")
    assert [e["loc"] for e in invalid["errors"]] == ["goods[0].hs_code"]
    foreign = example(exporting_country="JP", importing_country="SG")
    assert_problem(await client.post("/v1/certificates", json=foreign, headers=issuer), 403, "not from JP")
    one = assert_problem(await client.post("/v1/certificates/batch", json={"certificates": [_bad_hs_code()]},
                                           headers=issuer), 422, "1 of 1")
    assert [e["loc"] for e in one["errors"]] == ["certificates[0].goods[0].hs_code"]


async def test_a_malformed_batch_or_another_roles_key_is_refused_before_any_item_is_looked_at(
    client: httpx.AsyncClient, keys: dict[str, dict[str, str]]
) -> None:
    issuer = auth(keys, "issuer")
    for garbage, loc in (({"certificates": "x"}, "certificates"), ({"certificates": []}, "certificates"),
                         ({"certificates": [example()], "extra": 1}, "extra"), ([example()], "body")):
        body = assert_problem(await client.post("/v1/certificates/batch", json=garbage, headers=issuer), 422)
        assert [e["loc"] for e in body["errors"]] == [loc], body
    customs = await client.post("/v1/certificates/batch", json={"certificates": [example()]},
                                headers=auth(keys, "customs"))
    assert_problem(customs, 403, "issuer")


async def test_refusals_are_listed_in_request_order_whatever_rule_refuses_each_item(
    client: httpx.AsyncClient, keys: dict[str, dict[str, str]], node: Node
) -> None:
    issuer = auth(keys, "issuer")
    registered = [example(), example()]
    for body in registered:
        assert (await client.post("/v1/certificates", json=body, headers=issuer)).status_code == 202
    before = NothingNew(node)
    items: list[Any] = [{**registered[0], "remarks": "other contents"}, _bad_hs_code(), registered[1],
                        {**registered[1], "remarks": "other contents"}, "not an object", example()]
    answer = await client.post("/v1/certificates/batch", json={"certificates": items}, headers=issuer)
    body = assert_problem(answer, 422, "4 of 6 certificates", "first certificates[0].certificate_number")
    assert [e["loc"] for e in body["errors"]] == [
        "certificates[0].certificate_number", "certificates[1].goods[0].hs_code", "certificates[3].certificate_number",
        "certificates[3].certificate_number", "certificates[4]"]
    before.check(keys["issuer"]["account"], [str(items[1]["certificate_number"]), str(items[5]["certificate_number"])])
