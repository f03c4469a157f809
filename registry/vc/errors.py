"""Errors of the verifiable-credential path, grafted onto :mod:`registry.errors`.

Each one derives from the registry's tree, so the HTTP layer's single handler
maps them like any other error. The verifier turns them into checks; it never
lets one escape as an exception.

::

    RegistryError
    ├── ValidationError
    │   ├── CredentialFormatError        not a well-formed vc+jwt / VC DM 2.0 credential,
    │   │                                or a certificate that cannot become one
    │   └── StatusListError              malformed encodedList or status list credential
    │       └── StatusListLengthError    fewer than 131,072 entries (STATUS_LIST_LENGTH_ERROR)
    ├── ConflictError
    │   ├── StatusListFullError          every index of a list is taken
    │   └── IrreversibleStatusError      clearing a revocation bit
    └── VcError
        ├── InvalidSignatureError        the signature does not verify under the named key
        ├── DidResolutionError           the DID does not resolve to a usable key (refuse)
        │   └── DidUnavailableError      the DID host could not be reached (fail closed)
        └── StatusUnavailableError       the status list host could not be reached (fail closed)
"""

from __future__ import annotations

from registry.errors import ConflictError, RegistryError, ValidationError


class CredentialFormatError(ValidationError):
    """A token, credential or certificate does not have the shape this profile needs."""

    title = "Malformed credential"


class StatusListError(ValidationError):
    """A Bitstring Status List (or the credential carrying it) is malformed."""

    title = "Invalid status list"


class StatusListLengthError(StatusListError):
    """A status list is shorter than the herd-privacy minimum.

    Attributes:
        entries: how many entries the list has.
        minimum: how many it needs.
    """

    title = "Status list too short"

    def __init__(self, entries: int, minimum: int) -> None:
        super().__init__(f"STATUS_LIST_LENGTH_ERROR: a status list needs at least {minimum} entries; "
                         f"this one has {entries}")
        self.entries = entries
        self.minimum = minimum


class StatusListFullError(ConflictError):
    """Every index of a status list is assigned; the issuer must start a new list."""

    title = "Status list full"

    def __init__(self, size: int) -> None:
        super().__init__(f"all {size} entries of the status list are assigned; start a new list")
        self.size = size


class IrreversibleStatusError(ConflictError):
    """An attempt to clear a bit whose purpose (revocation) is one-way."""

    title = "Status cannot be reversed"

    def __init__(self, index: int, purpose: str) -> None:
        super().__init__(f"status {index} cannot be cleared: {purpose} is not reversible")
        self.index = index
        self.purpose = purpose


class VcError(RegistryError):
    """Base of the failures specific to the verifiable-credential path."""

    title = "Verifiable credential error"


class InvalidSignatureError(VcError):
    """A JWS or Data Integrity signature does not verify under the key it names."""

    title = "Invalid signature"


class DidResolutionError(VcError):
    """A DID (or DID URL) does not resolve to a usable Ed25519 assertion key."""

    title = "DID resolution failed"


class DidUnavailableError(DidResolutionError):
    """The host serving a ``did:web`` document could not be reached; fail closed."""

    title = "DID host unavailable"


class StatusUnavailableError(VcError):
    """The status list credential could not be fetched; fail closed."""

    title = "Status list unavailable"
