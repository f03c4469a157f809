"""eddsa-jcs-2022 Data Integrity proofs, checked against the W3C vc-di-eddsa test vectors."""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime
from typing import Any

import base58
import pytest
import rfc8785

from registry.vc.credential import build_credential
from registry.vc.data_integrity import add_proof, hash_data, verify_proof
from registry.vc.errors import CredentialFormatError, DidResolutionError, InvalidSignatureError
from registry.vc.keys import IssuerKey, did_web
from registry.vc.resolver import Resolver
from registry.vc.status_list import StatusAllocation
from tests.registry.vc.support import CERTIFICATE, ISSUED_AT, STATUS_URL

# W3C vc-di-eddsa, TestVectors/keyPair.json and TestVectors/eddsa-jcs-2022/.
SEED = base58.b58decode("3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq")[2:]
CONTEXT = ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"]
UNSECURED: dict[str, Any] = {
    "@context": CONTEXT,
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "AlumniCredential"],
    "name": "Alumni Credential",
    "description": "A minimum viable example of an Alumni Credential.",
    "issuer": "https://vc.example/issuers/5678",
    "validFrom": "2023-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
}
PROOF_OPTIONS: dict[str, Any] = {
    "type": "DataIntegrityProof",
    "cryptosuite": "eddsa-jcs-2022",
    "created": "2023-02-24T23:36:38Z",
    "verificationMethod": "https://vc.example/issuers/5678#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
    "proofPurpose": "assertionMethod",
}
DOC_HASH = "59b7cb6251b8991add1ce0bc83107e3db9dbbab5bd2c28f687db1a03abc92f19"
# The current vector: the proof carries the document's @context.
PROOF_VALUE = "z63t83Y53KfzJ5ZosfKTnqfMcKB2dmTrfjSaQjeNNjAD5srBowQfmWqeRb8rRjmeEuCBEsddF9LsVogtuTsijJKh4"
SIGNATURE_HEX = ("fc91dec6565f35fbe185a77352e7fc512f95d1904da305cfef32ab8135469301"
                 "f5a72d4e7a58368fc6ffc497b44633993bac054e3bc1436e3c846db8f1544503")
# An earlier revision of the vectors: no @context in the proof.
EARLIER_PROOF_HASH = "56d860737b1bc788da1f5c5a506115278314559a680f37976502c9b3ed1f38f4"
EARLIER_PROOF_VALUE = "z3P6rHMUaWG6e3Ac6xYFht8aEvoVXndgKTtEY8kzWYXzk8dKmAo2GJeZiJw4qoZ2PGp4ugdaHx3oQiLpeFBLDqP2M"

KEY = IssuerKey.from_private_bytes(SEED)


def _current() -> dict[str, Any]:
    return copy.deepcopy(UNSECURED | {"proof": PROOF_OPTIONS | {"@context": CONTEXT, "proofValue": PROOF_VALUE}})


def _earlier() -> dict[str, Any]:
    return copy.deepcopy(UNSECURED | {"proof": PROOF_OPTIONS | {"proofValue": EARLIER_PROOF_VALUE}})


def test_the_document_hash_matches_the_w3c_vector() -> None:
    assert hashlib.sha256(rfc8785.dumps(UNSECURED)).hexdigest() == DOC_HASH
    assert hash_data(UNSECURED, PROOF_OPTIONS).hex() == EARLIER_PROOF_HASH + DOC_HASH


def test_adding_a_proof_reproduces_the_w3c_signature_exactly() -> None:
    created = datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC)
    secured = add_proof(UNSECURED, KEY.private_key, verification_method=PROOF_OPTIONS["verificationMethod"],
                        created=created)
    assert secured == _current()
    assert base58.b58decode(secured["proof"]["proofValue"][1:]).hex() == SIGNATURE_HEX
    assert "proof" not in UNSECURED


@pytest.mark.parametrize("secured", [_current(), _earlier()], ids=["current", "earlier"])
def test_both_revisions_of_the_w3c_vector_verify(secured: dict[str, Any]) -> None:
    assert verify_proof(secured, KEY.public_key) == UNSECURED


def test_a_changed_claim_breaks_the_proof() -> None:
    secured = _current()
    secured["credentialSubject"]["alumniOf"] = "The School of Forgery"
    with pytest.raises(InvalidSignatureError):
        verify_proof(secured, KEY.public_key)


def test_a_changed_proof_option_breaks_the_proof() -> None:
    secured = _current()
    secured["proof"]["created"] = "2024-02-24T23:36:38Z"
    with pytest.raises(InvalidSignatureError):
        verify_proof(secured, KEY.public_key)


def test_another_key_does_not_verify_the_proof() -> None:
    with pytest.raises(InvalidSignatureError):
        verify_proof(_current(), IssuerKey.generate().public_key)


@pytest.mark.parametrize(("path", "value", "complaint"), [
    (("cryptosuite",), "eddsa-rdfc-2022", "cryptosuite"),
    (("proofPurpose",), "authentication", "purpose"),
    (("proofValue",), "u" + PROOF_VALUE[1:], "base58btc"),
    (("proofValue",), "z" + base58.b58encode(bytes(63)).decode(), "64 bytes"),
    (("@context",), ["https://www.w3.org/ns/credentials/examples/v2"], "@context"),
    (("created",), "last Tuesday", "dateTimeStamp"),
])
def test_a_malformed_proof_is_refused_before_any_signature_check(path: tuple[str, ...], value: Any,
                                                                 complaint: str) -> None:
    secured = _current()
    secured["proof"][path[0]] = value
    with pytest.raises(CredentialFormatError, match=complaint):
        verify_proof(secured, KEY.public_key)


def test_a_document_without_a_proof_is_refused_and_one_with_a_proof_is_not_proved_again() -> None:
    with pytest.raises(CredentialFormatError):
        verify_proof(UNSECURED, KEY.public_key)
    with pytest.raises(CredentialFormatError):
        add_proof(_current(), KEY.private_key, verification_method=KEY.kid)


def test_a_certificate_credential_proved_with_a_did_web_key_verifies_through_the_resolver() -> None:
    issuer = IssuerKey.generate(did_web("coo.customs.gov.sg"))
    credential = build_credential(CERTIFICATE, issuer_did=issuer.did, status=StatusAllocation(STATUS_URL, 9),
                                  now=ISSUED_AT)
    secured = add_proof(credential, issuer.private_key, verification_method=issuer.kid, created=ISSUED_AT)
    resolver = Resolver({issuer.did: issuer.did_document()})
    assert verify_proof(secured, resolver) == credential
    stranger = copy.deepcopy(secured)
    stranger["proof"]["verificationMethod"] = did_web("coo.customs.gov.sg") + "#key-99"
    with pytest.raises(DidResolutionError):
        verify_proof(stranger, resolver)
