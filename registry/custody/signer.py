"""EIP-191 signatures by a key loaded once: the bytes ``eth_account`` gives, without its per-call cost.

``LocalAccount.sign_message`` rebuilds the key object from its bytes on every call, deriving the
public key again each time (an elliptic-curve multiplication), which is most of the cost of a
verification receipt. :class:`MessageSigner` keeps one ``coincurve`` key and signs the EIP-191
(``personal_sign``, version ``E``) digest with it. libsecp256k1 signs deterministically (RFC 6979)
with a low ``s``, as eth-keys does, so the 65 bytes ``r ‖ s ‖ v`` (``v`` = 27 + recovery id) are
those ``eth_account`` returns for the same key and message
(``tests/registry/custody/test_signer.py`` checks it on random keys and messages).
"""

from __future__ import annotations

import threading
import weakref

import coincurve
from eth_account.signers.local import LocalAccount
from eth_hash.auto import keccak

_EIP191_PREFIX = b"\x19Ethereum Signed Message:\n"
_signers: weakref.WeakKeyDictionary[LocalAccount, MessageSigner] = weakref.WeakKeyDictionary()
_signers_lock = threading.Lock()


class MessageSigner:
    """Sign messages as *account* (its address and key), the key parsed once.

    The key is held only inside the coincurve object: it is in no attribute a log line or
    ``repr`` would show.
    """

    __slots__ = ("_key", "address")

    def __init__(self, account: LocalAccount) -> None:
        self.address: str = account.address
        self._key = coincurve.PrivateKey(bytes(account.key))

    def __repr__(self) -> str:
        return f"MessageSigner({self.address})"

    def sign_message(self, message: bytes) -> bytes:
        """The 65-byte EIP-191 signature of *message*, as ``account.sign_message(encode_defunct(message))``."""
        digest = keccak(_EIP191_PREFIX + str(len(message)).encode() + message)
        signed = self._key.sign_recoverable(digest, hasher=None)
        return signed[:64] + bytes([27 + signed[64]])


def signer_for(account: LocalAccount) -> MessageSigner:
    """The :class:`MessageSigner` of *account*, made on first use and kept while the account lives."""
    with _signers_lock:
        signer = _signers.get(account)
        if signer is None:
            signer = _signers[account] = MessageSigner(account)
        return signer
