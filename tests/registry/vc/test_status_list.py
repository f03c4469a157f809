"""Bitstring Status List v1.0: layout, encoding, allocation and the status list credential."""

from __future__ import annotations

import base64
import gzip
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.vc.errors import (
    IrreversibleStatusError,
    StatusListError,
    StatusListFullError,
    StatusListLengthError,
)
from registry.vc.jose import b64url_encode, parse_compact
from registry.vc.keys import IssuerKey
from registry.vc.status_list import (
    DEFAULT_TTL_MS,
    MIN_ENTRIES,
    StatusAllocation,
    StatusList,
    build_status_list_credential,
    decode_bitstring,
    encode_bitstring,
    issue_status_list_credential,
    list_ttl_seconds,
    read_status_list_credential,
)

URL = "https://coo.customs.gov.sg/v1/status-lists/revocation-1"
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)

# The encodedList of the specification's example BitstringStatusListCredential: 16 KiB of zeros.
SPEC_EXAMPLE = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"


def _gzip_size(encoded: str) -> int:
    return len(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))


def _encoded(raw: bytes) -> str:
    return "u" + b64url_encode(raw)


# -- size and compression -----------------------------------------------------------------


def test_a_list_shorter_than_131072_entries_cannot_be_made() -> None:
    with pytest.raises(StatusListLengthError) as raised:
        StatusList(size=MIN_ENTRIES - 8)
    assert (raised.value.entries, raised.value.minimum) == (MIN_ENTRIES - 8, 131_072)
    assert "STATUS_LIST_LENGTH_ERROR" in str(raised.value)


def test_a_list_shorter_than_131072_entries_cannot_be_decoded() -> None:
    with pytest.raises(StatusListLengthError):
        StatusList.decode(_encoded(gzip.compress(bytes(MIN_ENTRIES // 8 - 1))))


def test_a_list_must_have_a_whole_number_of_bytes() -> None:
    with pytest.raises(StatusListError):
        StatusList(size=MIN_ENTRIES + 3)


def test_the_specifications_example_list_decodes_to_131072_clear_entries() -> None:
    status = StatusList.decode(SPEC_EXAMPLE)
    assert status.size == MIN_ENTRIES and status.count() == 0


def test_an_empty_16_kib_list_compresses_to_about_fifty_bytes() -> None:
    encoded = StatusList().encode()
    assert len(StatusList().to_bytes()) == 16 * 1024
    assert _gzip_size(encoded) < 64  # 51 bytes with zlib's best compression
    assert encoded.startswith("uH4sI") and len(encoded) < 100


def test_a_handful_of_revocations_stays_within_a_few_hundred_bytes() -> None:
    status = StatusList()
    for _ in range(10):
        status.revoke(status.allocate())
    assert _gzip_size(status.encode()) < 150
    for _ in range(90):
        status.revoke(status.allocate())
    assert _gzip_size(status.encode()) < 400  # about 280 bytes for 100 random revocations
    assert _gzip_size(status.encode()) < 1024


def test_equal_lists_encode_equally() -> None:
    assert StatusList().encode() == StatusList().encode()


# -- layout ------------------------------------------------------------------------------------


def test_index_zero_is_the_leftmost_bit_of_the_first_byte_and_the_last_index_the_rightmost_of_the_last() -> None:
    status = StatusList()
    status.revoke(0)
    status.revoke(MIN_ENTRIES - 1)
    status.revoke(9)
    raw = status.to_bytes()
    assert raw[0] == 0b1000_0000 and raw[1] == 0b0100_0000 and raw[-1] == 0b0000_0001
    assert decode_bitstring(status.encode())[:2] == b"\x80\x40"


def test_an_index_outside_the_list_is_a_range_error() -> None:
    status = StatusList()
    for index in (-1, MIN_ENTRIES):
        with pytest.raises(StatusListError, match="RANGE_ERROR"):
            status.get(index)


@settings(max_examples=40, deadline=None)
@given(st.sets(st.integers(0, MIN_ENTRIES - 1), max_size=300))
def test_any_set_of_revocations_survives_encoding_and_decoding(indexes: set[int]) -> None:
    status = StatusList()
    for index in indexes:
        status.revoke(index)
    decoded = StatusList.decode(status.encode())
    assert decoded.to_bytes() == status.to_bytes()
    assert decoded.count() == len(indexes)
    assert {i for i in indexes if decoded.get(i)} == indexes


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=2048), st.integers(0, 64), st.integers(0, MIN_ENTRIES // 8 - 2048))
def test_any_bitstring_of_the_minimum_size_or_more_round_trips(noise: bytes, extra: int, at: int) -> None:
    raw = bytearray(MIN_ENTRIES // 8 + extra)
    raw[at:at + len(noise)] = noise
    assert decode_bitstring(encode_bitstring(bytes(raw))) == raw


# -- decoding refuses what is not a list --------------------------------------------------------


@pytest.mark.parametrize("encoded", [
    SPEC_EXAMPLE[1:],  # no multibase prefix
    "z" + SPEC_EXAMPLE[1:],  # base58btc prefix
    SPEC_EXAMPLE + "==",  # padding
    SPEC_EXAMPLE[:20] + "+/" + SPEC_EXAMPLE[22:],  # standard base64 alphabet
    "u" + b64url_encode(bytes(16384)),  # not compressed
    "u" + b64url_encode(gzip.compress(bytes(16384))[:-6]),  # truncated
    "u" + b64url_encode(gzip.compress(bytes(16384)) + b"trailing"),  # trailing data
])
def test_a_malformed_encoded_list_is_refused(encoded: str) -> None:
    with pytest.raises(StatusListError):
        decode_bitstring(encoded)


def test_a_compression_bomb_is_refused() -> None:
    bomb = _encoded(gzip.compress(bytes(32 * 1024 * 1024)))
    with pytest.raises(StatusListError, match="inflates beyond"):
        decode_bitstring(bomb)


# -- allocation and one-way revocation ---------------------------------------------------------


def test_indexes_are_random_and_never_reused() -> None:
    status = StatusList()
    drawn = [status.allocate() for _ in range(5000)]
    assert len(set(drawn)) == 5000 and status.assigned == frozenset(drawn)
    assert drawn != sorted(drawn) and max(drawn) > MIN_ENTRIES // 2 > min(drawn)


def test_a_full_list_refuses_to_allocate_and_every_index_was_handed_out_once() -> None:
    status = StatusList(assigned=range(MIN_ENTRIES - 1000))
    drawn = [status.allocate() for _ in range(1000)]
    assert sorted(drawn) == list(range(MIN_ENTRIES - 1000, MIN_ENTRIES))
    with pytest.raises(StatusListFullError):
        status.allocate()


def test_a_reserved_index_becomes_a_bitstring_status_list_entry() -> None:
    allocation = StatusList().reserve(URL)
    assert allocation.entry() == {
        "id": f"{URL}#{allocation.index}", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
        "statusListIndex": str(allocation.index), "statusListCredential": URL}
    assert StatusAllocation(URL, 7).entry()["statusListIndex"] == "7"


def test_a_revocation_cannot_be_undone() -> None:
    status = StatusList()
    status.revoke(42)
    with pytest.raises(IrreversibleStatusError):
        status.clear(42)
    with pytest.raises(IrreversibleStatusError):
        status.set(42, False)
    assert status.get(42)
    status.set(43, False)  # clearing a clear bit is harmless


def test_a_suspension_can_be_lifted() -> None:
    status = StatusList(purpose="suspension")
    status.set(42)
    status.clear(42)
    assert not status.get(42)


def test_an_unissued_index_can_be_released_for_reuse() -> None:
    status = StatusList(assigned=range(MIN_ENTRIES - 1))
    index = status.allocate()
    status.release_unissued(index)
    assert status.allocate() == index


# -- the status list credential --------------------------------------------------------------------


def test_the_status_list_credential_has_the_shape_the_specification_gives() -> None:
    status = StatusList()
    status.revoke(94567)
    credential = build_status_list_credential(status, issuer_did="did:web:coo.customs.gov.sg", url=URL, now=NOW,
                                              ttl_ms=60_000)
    assert credential["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert credential["id"] == URL
    assert credential["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert (credential["validFrom"], credential["validUntil"]) == ("2026-11-20T09:30:00Z", "2026-11-21T09:30:00Z")
    subject = credential["credentialSubject"]
    assert subject == {"id": f"{URL}#list", "type": "BitstringStatusList", "statusPurpose": "revocation",
                       "encodedList": status.encode(), "ttl": 60_000}
    assert read_status_list_credential(credential).get(94567)


def test_the_status_list_credential_is_signed_as_a_vc_jwt() -> None:
    issuer = IssuerKey.generate()
    signed = issue_status_list_credential(StatusList(), issuer, URL, NOW, valid_for=None)
    jws = parse_compact(signed.jwt)
    assert jws.header == {"alg": "Ed25519", "typ": "vc+jwt", "cty": "vc", "kid": issuer.kid}
    assert jws.payload == signed.credential and "validUntil" not in signed.credential
    issuer.public_key.verify(jws.signature, jws.signing_input)


def test_reading_a_status_list_credential_checks_types_and_purpose() -> None:
    good = build_status_list_credential(StatusList(), issuer_did="did:key:z6Mk", url=URL, now=NOW)
    for broken in (dict(good, type=["VerifiableCredential"]),
                   dict(good, credentialSubject=dict(good["credentialSubject"], type="StatusList2021"))):
        with pytest.raises(StatusListError):
            read_status_list_credential(broken)
    with pytest.raises(StatusListError, match="STATUS_VERIFICATION_ERROR"):
        read_status_list_credential(good, purpose="suspension")
    both = dict(good, credentialSubject=dict(good["credentialSubject"], statusPurpose=["revocation", "suspension"]))
    assert read_status_list_credential(both, purpose="suspension").purpose == "suspension"


def test_a_list_without_a_ttl_asks_for_nothing_since_the_recommendation_sets_no_default() -> None:
    plain = build_status_list_credential(StatusList(), issuer_did="did:key:z6Mk", url=URL, now=NOW)
    hinted = build_status_list_credential(StatusList(), issuer_did="did:key:z6Mk", url=URL, now=NOW, ttl_ms=1500)
    assert DEFAULT_TTL_MS is None and list_ttl_seconds(plain) is None
    assert list_ttl_seconds(hinted) == 1.5


def test_times_must_carry_a_time_zone_and_are_written_in_utc() -> None:
    with pytest.raises(ValueError):
        build_status_list_credential(StatusList(), issuer_did="did:key:z6Mk", url=URL, now=NOW.replace(tzinfo=None))
    singapore = NOW.astimezone(timezone(timedelta(hours=8)))
    credential = build_status_list_credential(StatusList(), issuer_did="did:key:z6Mk", url=URL, now=singapore)
    assert credential["validFrom"] == "2026-11-20T09:30:00Z"
