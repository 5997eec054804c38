"""Whether bytes are a journal entry's RFC 8785 form, fast: Python's own JSON encoder where it writes
what RFC 8785 writes, `rfc8785` (pure Python, ~3 000 entries a second) only for the rest. Why
checking the bytes suffices, and when, is told in journal_chain.py. An entry the fast path does
not accept is looked at again the slow way (`diagnose`), which names the reason.
"""

from __future__ import annotations

import json
import re
from typing import Any

import rfc8785

from ..domain.journal import entry_hash

ENTRY_KEYS = {"actor", "at", "data", "hash", "prev_hash", "seq", "store_id", "type"}
VERSIONED_ENTRY_KEYS = ENTRY_KEYS | {"v"}  # an entry of version 2 or later of its type (domain/events.py)
SAFE_INTEGER = 2**53 - 1  # RFC 8785 refuses integers beyond it
NON_BMP = re.compile(rb"[\xf0-\xff]")  # lead bytes of 4-byte UTF-8 sequences (and invalid bytes)


class Fallback(Exception):
    """Bytes the fast canonical check cannot judge: they go the slow way."""


def _reject(text: str) -> Any:
    raise Fallback(text)


def _safe_int(text: str) -> int:
    value = int(text)
    if -SAFE_INTEGER <= value <= SAFE_INTEGER:
        return value
    raise Fallback(text)


# The decoders raise Fallback at a float, NaN or Infinity (and the checked one at an unsafe
# integer); the encoder writes as RFC 8785 does for everything else.
_DECODE = json.JSONDecoder(parse_float=_reject, parse_constant=_reject).decode
_DECODE_CHECKED = json.JSONDecoder(parse_float=_reject, parse_constant=_reject, parse_int=_safe_int).decode
_ENCODE = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


# Digits to "0", everything else to " ": an integer beyond SAFE_INTEGER has 16 digits or more, and
# bytes without a run of 16 need no integer checked (parse_int costs a call per integer).
_DIGITS = bytes(ord("0") if ord("0") <= byte <= ord("9") else ord(" ") for byte in range(256))
_SIXTEEN_DIGITS = b"0" * 16


def is_canonical(raw: bytes) -> bool:
    """Whether `raw` is the RFC 8785 form of the JSON value it holds."""
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        return False  # RFC 8785 writes UTF-8
    try:
        if not raw.isascii() and NON_BMP.search(raw):
            raise Fallback("a character beyond the BMP")
        value = _DECODE(text) if raw.translate(_DIGITS).find(_SIXTEEN_DIGITS) < 0 else _DECODE_CHECKED(text)
        # A lone surrogate comes from a `\udxxx` escape, which the encoder writes as the
        # character: never equal, and RFC 8785 refuses it anyway.
        return _ENCODE(value) == text
    except Fallback:
        pass
    except (ValueError, RecursionError):  # not JSON
        return False
    try:
        return rfc8785.dumps(json.loads(raw)) == raw
    except (ValueError, RecursionError, rfc8785.CanonicalizationError):
        return False


def canonical(value: Any) -> bytes | None:
    """`value`'s RFC 8785 bytes (None if it has none): Python's JSON where the two agree."""
    try:
        text = _ENCODE(value)
        raw = text.encode()
        if is_canonical(raw):
            return raw
    except (TypeError, ValueError, UnicodeError, RecursionError):
        pass
    try:
        return rfc8785.dumps(value)
    except (TypeError, ValueError, RecursionError, rfc8785.CanonicalizationError):
        return None


def diagnose(raw: bytes | None, seq: int, prev_hash: str | None, store_id: str) -> str:
    """Why entry `seq` (`raw`) is not the chain's next entry after `prev_hash` (None: not known
    here), the slow way."""
    if raw is None:
        return "could not be read (or written as JSON)"
    try:
        entry = json.loads(raw)
    except (ValueError, RecursionError):
        return "not JSON"
    if not isinstance(entry, dict):
        return "not a JSON object"
    found = entry.get("seq")
    if type(found) is not int or found != seq:
        return f"missing or out of order (found seq {found})"
    if entry.get("store_id") != store_id:
        return f"belongs to store {entry.get('store_id')!r}"
    if prev_hash is not None and entry.get("prev_hash") != prev_hash:
        return "prev_hash does not match the previous entry"
    try:
        content = entry_hash({key: value for key, value in entry.items() if key != "hash"})
        written = rfc8785.dumps(entry)
    except (TypeError, ValueError, rfc8785.CanonicalizationError) as error:
        return f"cannot be written as RFC 8785 JSON ({error})"
    if content != entry.get("hash"):
        return "hash does not match the entry's content"
    if written != raw:
        return "its bytes are not the entry's RFC 8785 form"
    if entry.keys() not in (ENTRY_KEYS, VERSIONED_ENTRY_KEYS):
        return f"its members are {', '.join(sorted(entry))}, not a journal entry's"
    return "not a journal entry as Tresen writes them"
