"""Our OpenAttestation v2 hashing against ``@govtechsg/open-attestation`` itself, in both directions.

Documents wrapped by the JavaScript library (alone, in batches, with fields obfuscated) must
hash to their target hash and climb to their Merkle root with our code; documents we wrap
must pass the library's ``verifySignature`` and schema check, and unsalt to what we put in.
The values cover what JavaScript formats its own way: numbers, escapes, non-ASCII, nesting.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from registry.openattestation.document import WrappedDocument, wrap
from registry.openattestation.hashing import derived_salts, js_json, js_number
from tests.interop.oa_support import node_script

STORE = "0x9178F546D3FF57D7A6352bD61B80cCCD46199C2d"
ISSUERS = [{"name": "Demo issuing body", "documentStore": STORE,
            "identityProof": {"type": "DNS-TXT", "location": "issuer.test"}}]
AWKWARD: dict[str, Any] = {
    "id": "CO-2026-1", "issuers": ISSUERS,
    "numbers": [0, -0.0, 5, -12, 1.5, 0.1, 1e21, 1e-7, 123456789012345680000, 0.000001, 2.5e-300,
                1.7976931348623157e308],
    "flags": [True, False, None], "empty": {}, "none": [], "nested": [[1, [2, {"deep": "x"}]], {"a": {"b": "c"}}],
    "text": "quotes \" backslash \\ tab \t newline \n nul \u0000 bell \u0007 del \u007f",
    "unicode": "Zürich — 東京 — emoji 😀 — line sep \u2028 — bom \ufeff end",
    "key with spaces": "ok", "ключ": "значение", "0": "numeric key",
}


def _wrapped_by_js(documents: list[dict[str, Any]], **options: Any) -> list[dict[str, Any]]:
    wrapped: list[dict[str, Any]] = node_script("wrap", {"documents": documents, **options})["wrapped"]
    return wrapped


def test_documents_wrapped_by_openattestation_hash_to_their_target_hash_and_root() -> None:
    for document in _wrapped_by_js([AWKWARD, {"issuers": ISSUERS}]):
        parsed = WrappedDocument.parse(document)
        assert parsed.integrity_problem() is None
        assert parsed.contents()["issuers"] == ISSUERS


def test_a_batch_wrapped_by_openattestation_climbs_to_its_merkle_root_from_every_document() -> None:
    batch = _wrapped_by_js([{"id": f"B-{i}", "issuers": ISSUERS} for i in range(5)], batch=True)
    assert len({d["signature"]["merkleRoot"] for d in batch}) == 1
    assert all(d["signature"]["proof"] for d in batch)
    for document in batch:
        assert WrappedDocument.parse(document).integrity_problem() is None


def test_obfuscated_fields_still_hash_to_the_target_hash() -> None:
    [document] = _wrapped_by_js([AWKWARD], obfuscate=["text", "nested", "numbers"])
    assert document["privacy"]["obfuscatedData"] and "text" not in document["data"]
    assert WrappedDocument.parse(document).integrity_problem() is None


def test_documents_we_wrap_pass_openattestations_own_checks_and_unsalt_to_what_we_put_in() -> None:
    ours = [wrap(AWKWARD, derived_salts(b"seed-1")), wrap({"issuers": ISSUERS, "n": 7}, derived_salts(b"seed-2"))]
    results = node_script("check", {"documents": ours})["results"]
    assert [r["signature"] for r in results] == [True, True]
    assert [r["wrapped"] for r in results] == [True, True]
    expected = copy.deepcopy(AWKWARD)
    expected["numbers"][1] = 0  # JavaScript's String(-0) is "0"
    assert results[0]["data"] == expected


def test_the_same_seed_wraps_the_same_document_and_another_seed_another() -> None:
    assert wrap(AWKWARD, derived_salts(b"a")) == wrap(AWKWARD, derived_salts(b"a"))
    assert wrap(AWKWARD, derived_salts(b"a"))["signature"] != wrap(AWKWARD, derived_salts(b"b"))["signature"]


@pytest.mark.parametrize("change", [
    lambda d: d["data"].__setitem__("id", d["data"]["id"].replace("CO-2026-1", "CO-2026-2")),
    lambda d: d["data"]["issuers"][0].__setitem__("documentStore", d["data"]["issuers"][0]["documentStore"][:-1] + "0"),
    lambda d: d["data"].__setitem__("extra", "f8d2a5a6-4d7e-4b2c-9c1e-3f0a9b8c7d6e:string:added"),
    lambda d: d["data"].pop("flags"),
    lambda d: d["signature"].__setitem__("targetHash", d["signature"]["targetHash"].upper()),
], ids=["value changed", "store changed", "field added", "field removed", "target hash case"])
def test_a_changed_document_fails_with_us_exactly_when_it_fails_with_openattestation(change: Any) -> None:
    [document] = _wrapped_by_js([AWKWARD])
    change(document)
    [theirs] = node_script("check", {"documents": [document]})["results"]
    assert theirs["signature"] is False
    assert WrappedDocument.parse(document).integrity_problem() is not None


def test_numbers_are_written_as_javascript_writes_them() -> None:
    assert js_number(-0.0) == "0"
    written = {0: "0", 1.5: "1.5", 1e21: "1e+21", 1e20: "100000000000000000000", 1e-7: "1e-7",
               0.000001: "0.000001", 123456789012345678901: "123456789012345680000", 2.5e-300: "2.5e-300",
               -1.25e-8: "-1.25e-8", 100: "100", 0.1 + 0.2: "0.30000000000000004"}
    assert {k: js_number(k) for k in written} == written
    assert js_json({"a": [1, "é\u2028\ud800"]}) == '{"a":[1,"é\u2028\\ud800"]}'


@pytest.mark.parametrize("data,words", [({"a.b": "x"}, "must not contain '.'"), ({"__proto__": "x"}, "__proto__"),
                                        ({"a": [{"__proto__": {}}]}, "__proto__")])
def test_keys_javascript_cannot_hash_alike_make_the_document_not_intact(data: dict[str, Any], words: str) -> None:
    document = {"version": "https://schema.openattestation.com/2.0/schema.json", "data": data,
                "signature": {"type": "SHA3MerkleProof", "targetHash": "11" * 32, "proof": [],
                              "merkleRoot": "11" * 32}}
    problem = WrappedDocument.parse(document).integrity_problem()
    assert problem is not None and words in problem
