"""OpenAttestation v2 hashing, byte for byte as ``@govtechsg/open-attestation`` does it.

A wrapped v2 document's ``data`` holds every value *salted*: ``"<uuid v4>:<type>:<value>"``
(``string``, ``number``, ``boolean``, ``null``). Its target hash is computed from the data
flattened to ``path → value`` pairs (``flatley`` semantics: nested keys joined by ``.``,
array positions as keys, an empty object or array kept as a value):

1. each pair becomes ``keccak256(JSON.stringify({path: value}))`` as 64 lowercase hex digits;
2. the hashes of obfuscated (withheld) pairs, ``privacy.obfuscatedData``, are added;
3. the list is sorted and ``keccak256(JSON.stringify(list))`` is the target hash.

A batch is a Merkle tree over target hashes whose pairs are hashed sorted
(``keccak256(min ‖ max)``); the proof climbs from the target hash to ``merkleRoot``.

``JSON.stringify`` is reproduced exactly (:func:`js_json`): JavaScript's number format,
its string escapes (lowercase ``\\u00xx``, lone surrogates escaped) and no spaces. Keys that
JavaScript treats specially (``__proto__``) or that ``flatley`` refuses (a ``.`` inside a
key) are refused here too (:class:`UnsupportedData`), never hashed differently.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from eth_utils.crypto import keccak

_JS_SAFE_INTEGER = 2**53
_UUID_V4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", re.IGNORECASE)
_SURROGATE = re.compile("[\ud800-\udfff]")
JS_WHITESPACE = ("\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
                 "\u2028\u2029\u202f\u205f\u3000\ufeff")
"""What JavaScript's ``String.prototype.trim`` removes (WhiteSpace and LineTerminator)."""


class UnsupportedData(ValueError):
    """Data that OpenAttestation's own library cannot hash either (it would throw or drop a field)."""


# -- JSON.stringify -------------------------------------------------------------------------


def js_number(value: float | int) -> str:
    """A number as JavaScript's ``Number.prototype.toString`` writes it (``1e21``, ``0.000001``, ``1.5e-7``).

    Integers beyond 2**53 are first rounded to the nearest double, as ``JSON.parse`` would.

    Raises:
        UnsupportedData: NaN or an infinity (``JSON.stringify`` turns them into ``null``).
    """
    number = float(value)
    if number != number or number in (float("inf"), float("-inf")):
        raise UnsupportedData("NaN and infinities are not JSON numbers")
    if number == 0:
        return "0"
    if number < 0:
        return "-" + js_number(-number)
    sign, digits, exponent = Decimal(repr(number)).as_tuple()
    text = "".join(map(str, digits)).rstrip("0")
    k = len(text)
    n = int(exponent) + len(digits)  # value = 0.<text> * 10**n
    if k <= n <= 21:
        return text + "0" * (n - k)
    if 0 < n <= 21:
        return text[:n] + "." + text[n:]
    if -6 < n <= 0:
        return "0." + "0" * -n + text
    e = n - 1
    mantissa = text if k == 1 else text[0] + "." + text[1:]
    return f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"


def _js_string(text: str) -> str:
    encoded = json.dumps(text, ensure_ascii=False)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", encoded)


def js_json(value: Any) -> str:
    """``JSON.stringify(value)`` for JSON-parsed *value* (no spaces, JavaScript's escapes and numbers).

    Raises:
        UnsupportedData: a value JSON cannot carry, or a ``__proto__`` key.
    """
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _js_string(value)
    if isinstance(value, (int, float)):
        return js_number(value)
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{_js_string(_key(k))}:{js_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(js_json(v) for v in value) + "]"
    raise UnsupportedData(f"not a JSON value: {type(value).__name__}")


def _key(key: object) -> str:
    if not isinstance(key, str):
        raise UnsupportedData("object keys must be strings")
    if key == "__proto__":
        raise UnsupportedData("a key named __proto__ (JavaScript would drop it from the hash)")
    return key


def keccak_hex(text: str) -> str:
    """keccak256 of *text* (UTF-8), as 64 lowercase hex digits (js-sha3's ``keccak256``)."""
    return keccak(text.encode("utf-8")).hex()


# -- flattening and the target hash --------------------------------------------------------


def flatten(data: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``flatley`` flattening: ``(path, leaf)`` pairs, ``.``-joined; empty objects and arrays are leaves.

    Raises:
        UnsupportedData: a key holding a ``.`` (OpenAttestation refuses it) or named ``__proto__``.
    """
    items: Sequence[tuple[str, Any]]
    if isinstance(data, Mapping):
        items = [(_plain_key(k), v) for k, v in data.items()]
    elif isinstance(data, list):
        items = [(str(i), v) for i, v in enumerate(data)]
    else:
        raise UnsupportedData("the data of a document must be a JSON object")
    for key, value in items:
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, (Mapping, list)) and value:
            yield from flatten(value, path)
        else:
            yield path, value


def _plain_key(key: object) -> str:
    name = _key(key)
    if "." in name:
        raise UnsupportedData(f"key names must not contain '.': {name!r}")
    return name


def leaf_hash(path: str, value: Any) -> str:
    """The hash of one flattened pair: ``keccak256(JSON.stringify({path: value}))``."""
    return keccak_hex("{" + _js_string(path) + ":" + js_json(value) + "}")


def leaf_hashes(data: Mapping[str, Any]) -> list[str]:
    """The hash of every flattened pair of *data* (unsorted)."""
    return [leaf_hash(path, value) for path, value in flatten(data)]


def target_hash(data: Mapping[str, Any], obfuscated: Sequence[str] = ()) -> str:
    """The target hash of a document: its visible pairs' hashes and the *obfuscated* ones, sorted, hashed.

    Raises:
        UnsupportedData: data OpenAttestation could not hash.
    """
    return keccak_hex(js_json(sorted([*obfuscated, *leaf_hashes(data)])))


# -- salting ---------------------------------------------------------------------------------


def typed_value(value: Any) -> str:
    """``<type>:<value>`` for a primitive, as OpenAttestation writes it before the salt."""
    if value is None:
        return "null:null"
    if isinstance(value, bool):
        return f"boolean:{'true' if value else 'false'}"
    if isinstance(value, (int, float)):
        return f"number:{js_number(value)}"
    if isinstance(value, str):
        return f"string:{value}"
    raise UnsupportedData(f"not a primitive value: {type(value).__name__}")


def salt_data(data: Any, salt_for: Callable[[str], str], prefix: str = "") -> Any:
    """Salt every primitive of *data* as ``<salt>:<type>:<value>`` (OpenAttestation's ``saltData``).

    Args:
        data: raw document data (objects, arrays, primitives).
        salt_for: the UUID v4 salt of the leaf at a flattened path.
    """
    if isinstance(data, Mapping):
        return {k: salt_data(v, salt_for, f"{prefix}.{k}" if prefix else k) for k, v in data.items()}
    if isinstance(data, list):
        return [salt_data(v, salt_for, f"{prefix}.{i}" if prefix else str(i)) for i, v in enumerate(data)]
    return f"{salt_for(prefix)}:{typed_value(data)}"


def derived_salts(seed: bytes) -> Callable[[str], str]:
    """Salts derived from a secret *seed*: the same seed and path always give the same UUID v4."""

    def salt_for(path: str) -> str:
        digest = bytearray(hmac.new(seed, b"coo-oa-salt/1|" + path.encode(), hashlib.sha256).digest()[:16])
        digest[6] = (digest[6] & 0x0F) | 0x40  # version 4
        digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
        return str(uuid.UUID(bytes=bytes(digest)))

    return salt_for


def unsalt(value: Any) -> Any:
    """A salted value's primitive (OpenAttestation's ``unsalt``); anything else as it is."""
    if not isinstance(value, str) or not _UUID_V4.match(value.split(":", 1)[0]):
        return value
    kind, _, text = value[37:].strip(JS_WHITESPACE).partition(":")
    if kind == "string":
        return text
    if kind == "boolean":
        return text == "true"
    if kind == "null":
        return None
    if kind == "number":
        return _js_to_number(text)
    if kind == "undefined":
        return None
    raise UnsupportedData(f"unknown type annotation in a salted value: {kind!r}")


def _js_to_number(text: str) -> float | int | None:
    """``Number(text)`` for decimal forms; None where JavaScript gives NaN or an infinity (shown as nothing)."""
    stripped = text.strip(JS_WHITESPACE)
    if "_" in stripped:
        return None
    try:
        number = float(stripped or "0")
    except ValueError:
        return None
    if number != number or abs(number) == float("inf"):
        return None
    return int(number) if number.is_integer() and abs(number) < _JS_SAFE_INTEGER else number


def unsalt_data(data: Any) -> Any:
    """Every value of *data* unsalted."""
    if isinstance(data, Mapping):
        return {k: unsalt_data(v) for k, v in data.items()}
    if isinstance(data, list):
        return [unsalt_data(v) for v in data]
    return unsalt(data)


# -- the Merkle proof ------------------------------------------------------------------------


def combine(first: bytes, second: bytes) -> bytes:
    """One Merkle step: keccak256 of the two 32-byte hashes, smaller first."""
    return keccak(b"".join(sorted((first, second))))


def climb(target: bytes, proof: Sequence[bytes]) -> list[bytes]:
    """Every hash from *target* up the *proof*: the target, each intermediate hash, the root last."""
    hashes = [target]
    for sibling in proof:
        hashes.append(combine(hashes[-1], sibling))
    return hashes


__all__ = [
    "JS_WHITESPACE", "UnsupportedData", "climb", "combine", "derived_salts", "flatten", "js_json", "js_number",
    "keccak_hex", "leaf_hash", "leaf_hashes", "salt_data", "target_hash", "typed_value", "unsalt", "unsalt_data",
]
