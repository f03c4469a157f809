"""This project's JSON-LD context: where it lives, what it is called, how it is served.

Every certificate credential names two contexts: the VC Data Model 2.0 base
context and ``certificate-of-origin/v1``, which defines every term the
credentials use (each certificate field, ``CertificateOfOriginCredential``, and
the ``CertificateRegistryStatus`` entry of a hybrid credential), all
``@protected`` and without ``@vocab``: a JSON-LD processor in safe mode drops
nothing and raises nothing, and RDF canonicalisation works. Terms map to
UN/CEFACT where it has a property taking the same kind of value (the parties,
the issue and expiry dates) and to schema.org for names, addresses, country,
unit and currency codes; the rest live in the project namespace
:data:`VOCABULARY`.

The file ships inside the package (``contexts/certificate-of-origin/v1.jsonld``;
the repository's top-level ``contexts/`` links to it) and is served byte for
byte by every node at :data:`CONTEXT_PATH`. Its URL in credentials is
``<base>/contexts/certificate-of-origin/v1``: the node's public URL
(``COO_PUBLIC_URL``) when it has one that others can reach, else
:data:`DEFAULT_CONTEXT_BASE` — a stable identifier, not a location, for nodes
that only listen on a loopback address (a credential outlives the laptop that
issued it). Verifiers never fetch it: they hold the file and accept the URLs
they were told to, plus the one under a ``did:web`` issuer's own origin
(:func:`accepted_contexts`; a trusted node names its own), so a credential
cannot pick a context whose terms mean something else.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from registry.vc.errors import DidResolutionError
from registry.vc.keys import did_web_url, is_loopback_host

CONTEXT_PATH = "/contexts/certificate-of-origin/v1"
"""Where every node serves the context, and the path of its URL in credentials."""

CONTEXT_MEDIA_TYPE = "application/ld+json"

DEFAULT_CONTEXT_BASE = "https://coo-registry.example"
"""The context's base URL when the node has no public URL of its own."""

DEFAULT_CONTEXT_URL = DEFAULT_CONTEXT_BASE + CONTEXT_PATH
"""The context URL of credentials issued by a node without a public URL."""

VOCABULARY = "https://coo-registry.example/vocab#"
"""The project namespace for terms no established vocabulary defines."""

_FILE = ("contexts", "certificate-of-origin", "v1.jsonld")


def context_base(public_url: str | None) -> str:
    """The base of the context URL a node with *public_url* names in its credentials.

    Args:
        public_url: the node's public base URL, or ``None``.

    Returns:
        *public_url* without a trailing slash, or :data:`DEFAULT_CONTEXT_BASE`
        when there is none or it names a loopback host.
    """
    if not public_url:
        return DEFAULT_CONTEXT_BASE
    host = urlsplit(public_url).netloc
    return DEFAULT_CONTEXT_BASE if not host or is_loopback_host(host) else public_url.rstrip("/")


def context_url(base: str = DEFAULT_CONTEXT_BASE) -> str:
    """The context URL under *base* (``<base>/contexts/certificate-of-origin/v1``)."""
    return base.rstrip("/") + CONTEXT_PATH


def accepted_contexts(issuer: str, configured: Collection[str]) -> frozenset[str]:
    """The context URLs a verifier accepts from *issuer*: *configured*, and the one at a ``did:web``'s origin.

    Args:
        issuer: the credential's issuer DID.
        configured: the URLs the verifier was given (the default one, its peers').

    Returns:
        The accepted URLs.
    """
    accepted = set(configured)
    if issuer.startswith("did:web:"):
        try:
            parts = urlsplit(did_web_url(issuer))
        except DidResolutionError:
            return frozenset(accepted)
        accepted.add(context_url(f"{parts.scheme}://{parts.netloc}"))
    return frozenset(accepted)


@cache
def context_bytes() -> bytes:
    """The context document exactly as shipped and served."""
    return resources.files("registry.vc").joinpath(*_FILE).read_bytes()


def context_document() -> dict[str, Any]:
    """The context document, parsed (a fresh copy each call)."""
    document: dict[str, Any] = json.loads(context_bytes())
    return document


def defined_terms() -> frozenset[str]:
    """The terms the context defines at its top level (keywords left out)."""
    return frozenset(name for name in context_document()["@context"] if not name.startswith("@"))
