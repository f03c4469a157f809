"""The cached signer writes eth-account's signature bytes, and eth-account recovers its signer."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.custody.acknowledgements import checked_acknowledgement, sign_acknowledgement
from registry.custody.signer import MessageSigner, signer_for
from registry.errors import ValidationError

SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
private_keys = st.integers(1, SECP256K1_ORDER - 1).map(lambda k: k.to_bytes(32, "big"))
messages = st.one_of(st.binary(max_size=300), st.text(max_size=120).map(str.encode))


@settings(max_examples=300, deadline=None)
@given(private_keys, messages)
def test_the_cached_signer_writes_the_bytes_eth_account_writes(key: bytes, message: bytes) -> None:
    account = Account.from_key(key)
    expected = bytes(account.sign_message(encode_defunct(message)).signature)
    assert MessageSigner(account).sign_message(message) == expected


@settings(max_examples=100, deadline=None)
@given(private_keys, messages)
def test_eth_account_recovers_the_cached_signers_account(key: bytes, message: bytes) -> None:
    account = Account.from_key(key)
    signature = signer_for(account).sign_message(message)
    assert Account.recover_message(encode_defunct(message), signature=signature) == account.address


def test_one_signer_per_account_and_the_key_is_not_in_its_repr() -> None:
    account = Account.create()
    signer = signer_for(account)
    assert signer_for(account) is signer and signer.address == account.address
    assert account.key.hex().removeprefix("0x") not in repr(signer) + str(signer)


def test_an_acknowledgement_signed_with_the_cached_key_is_accepted_and_a_forged_one_is_not() -> None:
    account = Account.create()
    document_hash = bytes(range(32))
    signed = sign_acknowledgement(account, document_hash)
    assert checked_acknowledgement(document_hash, signed) == signed
    other = sign_acknowledgement(MessageSigner(Account.create()), document_hash)
    forged = {**signed, "signature": other["signature"]}
    with pytest.raises(ValidationError, match="signature: does not recover to node_account"):
        checked_acknowledgement(document_hash, forged)
