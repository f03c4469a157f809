"""Issuer keys, did:key, did:web and DID resolution."""

from __future__ import annotations

from typing import Any

import base58
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given
from hypothesis import strategies as st

from registry.vc.errors import DidResolutionError, DidUnavailableError
from registry.vc.keys import (
    IssuerKey,
    build_did_web_document,
    did_key,
    did_key_document,
    did_web,
    did_web_from,
    did_web_url,
    multibase_key,
    public_key_of_did_key,
)
from registry.vc.resolver import Resolver, find_assertion_key, resolve_key

# W3C vc-di-eddsa test vectors, TestVectors/keyPair.json (multicodec 0x8026 private, 0xed01 public).
W3C_PRIVATE_MULTIBASE = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
W3C_PUBLIC_MULTIBASE = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def w3c_key() -> IssuerKey:
    seed = base58.b58decode(W3C_PRIVATE_MULTIBASE[1:])
    assert seed[:2] == b"\x80\x26"
    return IssuerKey.from_private_bytes(seed[2:])


# -- did:key -------------------------------------------------------------------------


def test_the_w3c_test_key_has_the_published_did_key() -> None:
    key = w3c_key()
    assert multibase_key(key.public_bytes) == W3C_PUBLIC_MULTIBASE
    assert key.did == f"did:key:{W3C_PUBLIC_MULTIBASE}"
    assert key.kid == f"did:key:{W3C_PUBLIC_MULTIBASE}#{W3C_PUBLIC_MULTIBASE}"


def test_a_generated_did_key_starts_with_z6mk_and_resolves_to_its_own_key() -> None:
    key = IssuerKey.generate()
    assert key.did.startswith("did:key:z6Mk")
    assert public_key_of_did_key(key.did) == key.public_bytes
    assert _raw(resolve_key(Resolver(), key.kid)) == key.public_bytes


@given(st.binary(min_size=32, max_size=32))
def test_any_ed25519_public_key_round_trips_through_did_key(raw: bytes) -> None:
    assert public_key_of_did_key(did_key(raw)) == raw
    assert public_key_of_did_key(did_key(raw) + "#fragment") == raw


def test_a_did_key_document_lists_one_multikey_for_every_relationship() -> None:
    did = f"did:key:{W3C_PUBLIC_MULTIBASE}"
    document = did_key_document(did)
    method = document["verificationMethod"][0]
    assert method == {"id": f"{did}#{W3C_PUBLIC_MULTIBASE}", "type": "Multikey", "controller": did,
                      "publicKeyMultibase": W3C_PUBLIC_MULTIBASE}
    for relationship in ("authentication", "assertionMethod", "capabilityInvocation", "capabilityDelegation"):
        assert document[relationship] == [method["id"]]


@pytest.mark.parametrize("did", [
    "did:key:6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",  # no multibase prefix
    "did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169",  # a P-256 key
    "did:key:z0OIl",  # not base58
    "did:web:example.com",
])
def test_anything_but_an_ed25519_did_key_is_refused(did: str) -> None:
    with pytest.raises(DidResolutionError):
        public_key_of_did_key(did)


def test_an_issuer_key_never_prints_its_private_half() -> None:
    key = IssuerKey.generate()
    assert repr(key) == f"IssuerKey(did={key.did!r})"


# -- did:web ---------------------------------------------------------------------------


@pytest.mark.parametrize(("did", "url"), [
    ("did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"),
    ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
    ("did:web:example.com%3A3000:user:alice", "https://example.com:3000/user/alice/did.json"),
    ("did:web:example.com%3A8000", "https://example.com:8000/.well-known/did.json"),
    ("did:web:example.com%3A8000#key-1", "https://example.com:8000/.well-known/did.json"),
])
def test_a_did_web_maps_to_the_https_url_of_its_document(did: str, url: str) -> None:
    assert did_web_url(did) == url


def test_plain_http_is_allowed_only_for_loopback_hosts() -> None:
    assert did_web_url("did:web:127.0.0.1%3A8000", allow_http=True) == "http://127.0.0.1:8000/.well-known/did.json"
    assert did_web_url("did:web:localhost%3A9000:sg", allow_http=True) == "http://localhost:9000/sg/did.json"
    with pytest.raises(DidResolutionError, match="loopback"):
        did_web_url("did:web:example.com", allow_http=True)


@pytest.mark.parametrize("did", ["did:web:", "did:web:exa%2Fmple.com", "did:web:user%40evil.example",
                                 "did:web:example.com:..", "did:web:example.com::x", "did:key:z6Mk"])
def test_a_malformed_did_web_is_refused(did: str) -> None:
    with pytest.raises(DidResolutionError):
        did_web_url(did)


@pytest.mark.parametrize(("given_", "did"), [
    ("example.com", "did:web:example.com"),
    ("example.com:8000", "did:web:example.com%3A8000"),
    ("https://Example.COM:8000/issuers/sg", "did:web:example.com%3A8000:issuers:sg"),
    ("https://example.com/.well-known/did.json", "did:web:example.com"),
    ("https://example.com/issuers/sg/did.json", "did:web:example.com:issuers:sg"),
    ("http://127.0.0.1:8000", "did:web:127.0.0.1%3A8000"),
])
def test_a_domain_or_url_gives_its_did_web(given_: str, did: str) -> None:
    assert did_web_from(given_) == did


def test_did_web_and_its_url_are_inverse() -> None:
    did = did_web("coo.customs.gov.sg:8443", "issuers/rcep")
    assert did == "did:web:coo.customs.gov.sg%3A8443:issuers:rcep"
    assert did_web_from(did_web_url(did)) == did


def test_a_did_web_document_carries_a_json_web_key_for_assertions() -> None:
    key = w3c_key()
    document = build_did_web_document("https://coo.customs.gov.sg", key.public_bytes)
    did = "did:web:coo.customs.gov.sg"
    method = document["verificationMethod"][0]
    assert document["id"] == did and document["@context"][0] == "https://www.w3.org/ns/did/v1"
    assert method["type"] == "JsonWebKey" and method["controller"] == did
    x = "sA2Nk45_dz1RVlqtNqYj9TRPf10ZYPnPPo4SYg6igQ8"  # base64url of the raw key inside the multibase
    assert method["publicKeyJwk"] == {"kty": "OKP", "crv": "Ed25519", "x": x}
    assert document["assertionMethod"] == [method["id"]] == [f"{did}#{W3C_PUBLIC_MULTIBASE}"]
    assert _raw(find_assertion_key(document, method["id"])) == key.public_bytes


def test_a_did_web_document_can_carry_a_multikey_instead() -> None:
    key = IssuerKey.generate(did_web("coo.customs.gov.sg"))
    document = build_did_web_document(key.did, key.public_key, method_type="Multikey")
    assert document["verificationMethod"][0]["publicKeyMultibase"] == multibase_key(key.public_bytes)
    assert _raw(find_assertion_key(document, key.kid)) == key.public_bytes


# -- picking the key out of a document -------------------------------------------------------


def _document() -> tuple[IssuerKey, dict[str, Any]]:
    key = IssuerKey.generate(did_web("coo.customs.gov.sg"))
    return key, key.did_document()


def test_a_key_that_may_only_authenticate_cannot_sign_credentials() -> None:
    key, document = _document()
    document["assertionMethod"] = []
    with pytest.raises(DidResolutionError, match="not an assertion method"):
        find_assertion_key(document, key.kid)


def test_a_document_for_another_did_is_refused() -> None:
    key, document = _document()
    document["id"] = "did:web:evil.example"
    with pytest.raises(DidResolutionError):
        find_assertion_key(document, key.kid)


def test_a_key_controlled_by_someone_else_is_refused() -> None:
    key, document = _document()
    document["verificationMethod"][0]["controller"] = "did:web:evil.example"
    with pytest.raises(DidResolutionError, match="controlled by"):
        find_assertion_key(document, key.kid)


def test_a_published_private_key_is_refused() -> None:
    key, document = _document()
    document["verificationMethod"][0]["publicKeyJwk"]["d"] = "c2VjcmV0"
    with pytest.raises(DidResolutionError, match="private key"):
        find_assertion_key(document, key.kid)


def test_a_key_on_another_curve_is_refused() -> None:
    key, document = _document()
    document["verificationMethod"][0]["publicKeyJwk"] = {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}
    with pytest.raises(DidResolutionError, match="Ed25519"):
        find_assertion_key(document, key.kid)


def test_relative_and_embedded_assertion_methods_are_understood() -> None:
    key, document = _document()
    fragment = "#" + key.kid.split("#")[1]
    method = dict(document["verificationMethod"][0], id=fragment)
    relative = dict(document, verificationMethod=[method], assertionMethod=[fragment])
    embedded = dict(document, verificationMethod=[], assertionMethod=[document["verificationMethod"][0]])
    for variant in (relative, embedded):
        assert _raw(find_assertion_key(variant, key.kid)) == key.public_bytes


# -- resolving over HTTP ------------------------------------------------------------------------


def _resolver(handler: Any, **options: Any) -> Resolver:
    return Resolver(http=httpx.Client(transport=httpx.MockTransport(handler)), **options)


def test_a_did_web_resolves_over_https_from_its_well_known_location() -> None:
    key, document = _document()
    seen: list[str] = []

    def host(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json=document)

    resolver = _resolver(host)
    assert _raw(resolve_key(resolver, key.kid)) == key.public_bytes
    assert seen == ["https://coo.customs.gov.sg/.well-known/did.json"] and resolver.fetches == 1


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_a_did_host_in_trouble_is_unavailable(status: int) -> None:
    with pytest.raises(DidUnavailableError):
        _resolver(lambda request: httpx.Response(status)).resolve("did:web:coo.customs.gov.sg")


def test_a_did_host_that_cannot_be_reached_is_unavailable() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    with pytest.raises(DidUnavailableError):
        _resolver(down).resolve("did:web:coo.customs.gov.sg")


@pytest.mark.parametrize("answer", [httpx.Response(404), httpx.Response(200, text="<html>"),
                                    httpx.Response(200, json={"id": "did:web:evil.example"}),
                                    httpx.Response(200, json=["not", "a", "document"])])
def test_a_did_that_does_not_resolve_is_a_resolution_error_not_unavailability(answer: httpx.Response) -> None:
    with pytest.raises(DidResolutionError) as raised:
        _resolver(lambda request: answer).resolve("did:web:coo.customs.gov.sg")
    assert not isinstance(raised.value, DidUnavailableError)


def test_an_offline_resolver_answers_did_key_but_not_unknown_did_web() -> None:
    resolver = Resolver()
    assert resolver.resolve(f"did:key:{W3C_PUBLIC_MULTIBASE}")["id"] == f"did:key:{W3C_PUBLIC_MULTIBASE}"
    with pytest.raises(DidUnavailableError):
        resolver.resolve("did:web:coo.customs.gov.sg")
    with pytest.raises(DidResolutionError, match="only did:key and did:web"):
        resolver.resolve("did:example:123")


def test_a_resolved_document_is_cached_for_its_ttl_only() -> None:
    key, document = _document()
    clock = [0.0]
    resolver = _resolver(lambda request: httpx.Response(200, json=document), ttl=10, clock=lambda: clock[0])
    resolver.resolve(key.did)
    clock[0] = 9.0
    resolver.resolve(key.did)
    assert resolver.fetches == 1
    clock[0] = 10.5
    resolver.resolve(key.did)
    assert resolver.fetches == 2
