"""The audit of one store's journal from its stored bytes: the hash chain, the Merkle root at every
checkpoint size, every checkpoint's signature, and (for `tresen verify` with Firestore) how two
copies of the journal compare. Pure: where the bytes come from (Firestore, the bucket, a directory
an auditor copied the bucket to) is `services/verify.py`'s business.

Speed. An archive holds each entry as its RFC 8785 bytes, and RFC 8785 in pure Python
(`rfc8785`) manages ~3 000 entries a second. The audit hashes the bytes it has instead of
canonicalising again, which is sound because:

- the leaf hash is defined over the entry's RFC 8785 bytes: for canonical bytes, that is the
  archived bytes themselves;
- the chain hash is over the RFC 8785 bytes of the entry without `hash`. RFC 8785 sorts members
  by name, and a journal entry's top-level members are exactly `actor, at, data, hash, prev_hash,
  seq, store_id, type`: in canonical bytes the top-level `hash` member sits after `data`, followed
  only by scalar members, so it is the last `,"hash":"` in the bytes (a `"` inside a string is
  always escaped, so that text cannot hide in one). Cutting `"hash":"<64 hex>",` out of canonical
  bytes leaves the canonical bytes of the entry without `hash` (`entry_tail` checks the tail);
- so all that needs proving is that the bytes are canonical. An entry a verified checkpoint covers
  needs no check: the signed root authenticates its exact bytes, which the signer hashed as RFC
  8785 (and a root that does not match fails the audit). An entry after the last checkpoint is
  checked by `is_canonical`: Python's `json.dumps(sort_keys, compact, ensure_ascii=False)` writes
  what RFC 8785 writes (the same two-character escapes for quote, backslash, backspace, tab,
  newline, form feed and carriage return, other control characters as lowercase six-character
  escapes, everything else as itself in UTF-8; integers in decimal) except for floats (ECMAScript
  number formatting), integers beyond 2^53 - 1 either way (RFC 8785 refuses them), lone
  surrogates (not UTF-8) and member names with characters beyond the BMP (RFC 8785 sorts by
  UTF-16 code units, Python by code points). Bytes that may hold any of those go the slow way
  (`rfc8785`); for the others, dumps(loads(bytes)) == bytes proves them canonical.

Any entry the fast path does not accept is looked at again the slow way (`diagnose`), which names
the reason as the chain check always has.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import re
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import rfc8785

from ..domain.checkpoint import Checkpoint, parse_checkpoint
from ..domain.closings import FIRST_PREVIOUS_HASH, closing_hash, z_report_figures
from ..domain.journal import GENESIS_HASH, entry_hash
from ..domain.merkle import EMPTY_ROOT, Frontier, node_hash
from ..domain.signed_note import NoteError, Verifier, open_note, parse_verifier_key

HASH_MEMBER = len(b'"hash":"') + 64 + len(b'",')  # what is cut from `,` + 1 to get the body
ENTRY_KEYS = {"actor", "at", "data", "hash", "prev_hash", "seq", "store_id", "type"}
SAFE_INTEGER = 2**53 - 1  # RFC 8785 refuses integers beyond it
NON_BMP = re.compile(rb"[\xf0-\xff]")  # lead bytes of 4-byte UTF-8 sequences (and invalid bytes)
PROGRESS_EVERY = 2.0  # seconds between progress lines


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
    if entry.keys() != ENTRY_KEYS:
        return f"its members are {', '.join(sorted(entry))}, not a journal entry's"
    return "not a journal entry as Tresen writes them"


# ---------------------------------------------------------------- problems and the verdict

# At one seq, the problem of the lower rank is named: a copy's own chain first (Firestore, then
# the archive), then how the copies compare, then checkpoints.
FIRESTORE, ARCHIVE, DIFFER, ONLY_ARCHIVED, ONLY_LIVE, CHECKPOINT, COVERAGE, CLOSING, OTHER = range(9)
NO_SEQ = 2**64  # a problem that concerns no seq (a stray object) is named only if nothing else is


@dataclass(frozen=True)
class Problem:
    seq: int  # the first seq it concerns; for a checkpoint, its size
    rank: int
    text: str
    behind: bool = False  # only a matter of the archive not being swept yet


def first_problem(problems: Iterable[Problem]) -> Problem | None:
    return min(problems, default=None, key=lambda problem: (problem.seq, problem.rank))


@dataclass(frozen=True)
class Verdict:
    store_id: str
    entries: int
    problem: str | None
    checkpoints: int = 0
    latest_checkpoint: int | None = None
    archive_behind: bool = False

    @property
    def ok(self) -> bool:
        return self.problem is None

    def summary(self) -> str:
        counted = f"{self.entries} entries, {self.checkpoints} checkpoint{'' if self.checkpoints == 1 else 's'}"
        if self.latest_checkpoint is not None:
            counted += f" (latest {self.latest_checkpoint})"
        return f"{self.store_id}: {counted}, " + ("ok" if self.ok else f"FAILED: {self.problem}")

    def as_json(self) -> dict[str, Any]:
        return {
            "store_id": self.store_id,
            "entries": self.entries,
            "checkpoints": self.checkpoints,
            "latest_checkpoint": self.latest_checkpoint,
            "ok": self.ok,
            "problem": self.problem,
            "archive_behind": self.archive_behind,
        }


def verdict(
    store_id: str, entries: int, checkpoint_sizes: Iterable[int], problems: Iterable[Problem], behind: bool = False
) -> Verdict:
    sizes = sorted(set(checkpoint_sizes))
    found = first_problem(problems)
    return Verdict(
        store_id,
        entries,
        found.text if found else None,
        len(sizes),
        sizes[-1] if sizes else None,
        behind or bool(found and found.behind),
    )


class Progress:
    """`store: done/total entries` lines, at most one every PROGRESS_EVERY seconds."""

    def __init__(self, say: Callable[[str], None] | None, every: float = PROGRESS_EVERY):
        self._say, self._every = say, every
        self._next = time.monotonic() + every

    def __call__(self, store_id: str, done: int, total: int | None, what: str = "entries") -> None:
        if self._say is None or time.monotonic() < self._next:
            return
        self._next = time.monotonic() + self._every
        self._say(f"{store_id}: {done}/{total} {what}" if total is not None else f"{store_id}: {done} {what}")


# ---------------------------------------------------------------- trusted keys


class KeysError(ValueError):
    """A keys file (or registry entry) that does not name trustworthy keys."""


def read_keys(text: str) -> list[Verifier]:
    """The keys to trust: the JSON answer of `GET /v1/journal/public-keys`, or one C2SP verifier key
    per line (blank lines and `#` comments ignored)."""
    if text.lstrip().startswith("["):
        try:
            listed = json.loads(text)
        except ValueError as error:
            raise KeysError(f"not JSON: {error}") from None
        keys = [key_from_registry(key, f"key {n}") for n, key in enumerate(listed, 1)]
    else:
        keys = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip() and not line.lstrip().startswith("#"):
                try:
                    keys.append(parse_verifier_key(line.strip()))
                except NoteError as error:
                    raise KeysError(f"line {n}: {error}") from None
    if not keys:
        raise KeysError("no keys in it")
    return keys


def key_from_registry(key: Any, where: str) -> Verifier:
    """One `{key_id, vkey, public_key, …}` of the public keys: its `vkey`, which must agree with the
    key id and public key listed beside it."""
    if not isinstance(key, dict) or not isinstance(key.get("vkey"), str):
        raise KeysError(f"{where}: no vkey")
    try:
        verifier = parse_verifier_key(key["vkey"])
    except NoteError as error:
        raise KeysError(f"{where}: {error}") from None
    if "key_id" in key and key["key_id"] != verifier.key_id.hex():
        raise KeysError(f"{where}: key_id {key['key_id']!r} is not its vkey's {verifier.key_id.hex()}")
    if "public_key" in key and key["public_key"] != base64.b64encode(verifier.public_key).decode():
        raise KeysError(f"{where}: public_key is not its vkey's")
    return verifier


# ---------------------------------------------------------------- checkpoints


@dataclass(frozen=True)
class OpenCheckpoint:
    checkpoint: Checkpoint
    signed_by: tuple[Verifier, ...]


def open_checkpoints(
    store_id: str, notes: Mapping[int, bytes | str], verifiers: Sequence[Verifier], label: str = ""
) -> tuple[dict[int, OpenCheckpoint], list[Problem]]:
    """The checkpoints (by the size their name says) whose note a trusted key signed, that say that
    size, and whose origin ends with `/<store>` and is the same for all; a problem for each other."""
    opened: dict[int, OpenCheckpoint] = {}
    problems = []
    for size in sorted(notes):
        try:
            note = open_note(notes[size], verifiers)
            checkpoint = parse_checkpoint(note.text)
        except NoteError as error:
            problems.append(Problem(size, CHECKPOINT, f"{label}checkpoint {size}: {error}"))
            continue
        if checkpoint.size != size:
            problems.append(
                Problem(size, CHECKPOINT, f"{label}checkpoint {size}: its note says size {checkpoint.size}")
            )
        elif not checkpoint.origin.endswith(f"/{store_id}"):
            problems.append(
                Problem(
                    size,
                    CHECKPOINT,
                    f"{label}checkpoint {size}: origin {checkpoint.origin!r} is not store {store_id}'s",
                )
            )
        else:
            opened[size] = OpenCheckpoint(checkpoint, note.verified_by)
    origins = {size: found.checkpoint.origin for size, found in opened.items()}
    if len(set(origins.values())) > 1:
        first = min(origins)
        for size, origin in origins.items():
            if origin != origins[first]:
                problems.append(
                    Problem(
                        size,
                        CHECKPOINT,
                        f"{label}checkpoint {size}: origin {origin!r} is not checkpoint {first}'s {origins[first]!r}",
                    )
                )
                del opened[size]
    return opened, problems


def checkpoint_document_problems(store_id: str, size: int, data: Mapping[str, Any], found: OpenCheckpoint) -> list[str]:
    """How a Firestore checkpoint document disagrees with the signed note it holds."""
    checkpoint, wrong = found.checkpoint, []
    root = data.get("root")
    if isinstance(root, str):
        try:
            root = base64.b64decode(root, validate=True)
        except binascii.Error:
            pass
    key_id = data.get("key_id")
    if isinstance(key_id, bytes):
        key_id = key_id.hex()
    for name, value, expected in (
        ("store_id", data.get("store_id"), store_id),
        ("size", data.get("size"), size),
        ("origin", data.get("origin"), checkpoint.origin),
        ("root", root, checkpoint.root),
    ):
        if value != expected:
            wrong.append(name)
    if key_id not in {verifier.key_id.hex() for verifier in found.signed_by}:
        wrong.append("key_id")
    return wrong


# ---------------------------------------------------------------- one copy of the journal


# Entries are checked in segments of SEGMENT consecutive seqs, aligned on SEGMENT: each can be
# checked apart (in another process, say) and reports the compact range of its leaves, which
# extends the tree of all segments before it (their leaves fill whole subtrees of SEGMENT).
SEGMENT_HEIGHT = 13
SEGMENT = 1 << SEGMENT_HEIGHT


@functools.lru_cache(maxsize=64)
def entry_tail(store_id: str) -> re.Pattern[bytes]:
    """The tail of a canonical entry of this store from its top-level `hash` member on: group 1
    the hash, 2 prev_hash, 3 seq (the module's docstring says why this finds the top level)."""
    store = re.escape(rfc8785.dumps(store_id)[1:-1])
    return re.compile(
        rb',"hash":"([0-9a-f]{64})","prev_hash":"([0-9a-f]{64})","seq":([1-9][0-9]{0,15}),'
        rb'"store_id":"' + store + rb'","type":"[^"\\]*(?:\\.[^"\\]*)*"}\Z'
    )


@dataclass(frozen=True)
class Segment:
    """What checking the entries from seq `start` on found: `passed` of them chain and hash right;
    `problem` says why the next one did not (None: all passed)."""

    start: int
    passed: int
    first_prev: bytes | None  # the prev_hash the first entry names (hex), if it passed
    last_hash: bytes | None  # the hash of the last entry that passed (hex)
    frontier: tuple[bytes, ...]  # the compact range of the leaves that passed
    at_sizes: tuple[tuple[int, tuple[bytes, ...]], ...]  # (checkpoint size, compact range up to it)
    problem: str | None
    closings: tuple[int, ...] = ()  # seqs of the closings (Z-reports) among the entries that passed


def check_segment(
    store_id: str, start: int, raws: Iterable[bytes | None], covered: float, sizes: Collection[int]
) -> Segment:
    """Entries `start`, `start + 1`, … (their bytes): each must be entry `seq` of this store, name
    the previous one's hash, and hash right; those after seq `covered` (which no verified
    checkpoint covers) must also be canonical. Stops at the first that is not."""
    tail, sha256 = entry_tail(store_id).match, hashlib.sha256
    seq, prev, first_prev, stack, at_sizes, problem, closings = start, None, None, [], [], None, []
    for raw in raws:
        match = None if raw is None else tail(raw, max(raw.rfind(b',"hash":"'), 0))
        if match is not None:
            written, named_prev, named_seq = match.group(1, 2, 3)
            cut = match.start() + 1
        if (
            match is None
            or int(named_seq) != seq
            or (prev is not None and named_prev != prev)
            or (seq > covered and not is_canonical(raw))
            or sha256(raw[:cut] + raw[cut + HASH_MEMBER :]).hexdigest().encode() != written
        ):
            problem = diagnose(raw, seq, None if prev is None else prev.decode(), store_id)
            break
        if prev is None:
            first_prev = named_prev
        prev = written
        node, size = sha256(b"\x00" + raw).digest(), seq - start  # the leaf joins the compact range
        while size & 1:
            node = sha256(b"\x01" + stack.pop() + node).digest()
            size >>= 1
        stack.append(node)
        if seq in sizes:
            at_sizes.append((seq, tuple(stack)))
        if raw.endswith(CLOSING_MARK):
            closings.append(seq)
        seq += 1
    return Segment(start, seq - start, first_prev, prev, tuple(stack), tuple(at_sizes), problem, tuple(closings))


# A closing's entry, as its RFC 8785 bytes spell the type (keys sorted: "type" comes last).
CLOSING_MARK = b',"type":"closing.created"}'


def closing_problems(
    seqs: Iterable[int], read_entry: Callable[[int], bytes | None], label: str = "", rank: int = CLOSING
) -> list[Problem]:
    """Every closing (Z-report) among entries `seqs`, recomputed from the entries of its range
    alone, in order: each must take up where the previous one ended, add up, name the previous
    closing's hash, hash right, and carry the checkpoint at its last entry."""
    previous_hash, previous_last = FIRST_PREVIOUS_HASH, 0
    for seq in sorted(seqs):
        closing = json.loads(read_entry(seq))["data"]
        z, first, last = closing.get("z_number"), closing.get("first_seq"), closing.get("last_seq")
        where = f"{label}seq {seq}: Z-report {z}"
        if first != previous_last + 1 or type(last) is not int or not first <= last < seq:
            return [Problem(seq, rank, f"{where} covers entries {first}-{last}, not {previous_last + 1} on")]
        entries = [json.loads(read_entry(n)) for n in range(first, last + 1)]
        figures = z_report_figures(entries)
        wrong = [name for name, value in figures.items() if closing.get(name) != value]
        if wrong:
            text = f"{where} does not add up from entries {first}-{last} ({', '.join(wrong)})"
            return [Problem(seq, rank, text)]
        if closing.get("previous_hash") != previous_hash:
            return [Problem(seq, rank, f"{where} does not name the previous closing's hash")]
        if closing.get("hash") != closing_hash(closing):
            return [Problem(seq, rank, f"{where}: its hash does not match its content")]
        if not isinstance(closing.get("checkpoint"), dict) or closing["checkpoint"].get("size") != last:
            return [Problem(seq, rank, f"{where} does not carry the checkpoint at its last entry {last}")]
        previous_hash, previous_last = closing["hash"], last
    return []


def segments_of(
    store_id: str,
    raws: Sequence[bytes | None],
    covered: float,
    sizes: Collection[int],
    height: int = SEGMENT_HEIGHT,
) -> Iterator[Segment]:
    """check_segment over entries 1, 2, … held in memory, one segment of 2**height after the other."""
    for begin in range(0, len(raws), 1 << height):
        found = check_segment(store_id, begin + 1, raws[begin : begin + (1 << height)], covered, sizes)
        yield found
        if found.problem is not None:
            return


@dataclass(frozen=True)
class Chain:
    """What one copy's chain came to: how many entries passed from seq 1, and the first problem."""

    passed: int
    problem: Problem | None


def link_segments(
    store_id: str,
    segments: Iterable[Segment],
    roots: Mapping[int, bytes],
    reread: Callable[[int], bytes | None],
    *,
    label: str = "",
    rank: int = ARCHIVE,
    progress: Progress | None = None,
    total: int | None = None,
    height: int = SEGMENT_HEIGHT,
) -> Chain:
    """Joins the segments (of 2**height entries, the last maybe fewer) in order: each must name the hash its
    predecessor ends with, and the tree they extend must have the checkpoint's root (`roots`) at
    every checkpoint size. `reread(seq)` gives an entry's bytes again, to name what is wrong with
    a segment's first entry now that the hash before it is known."""
    frontier, prev = Frontier(), GENESIS_HASH.encode()

    def failed(seq: int, text: str, at: int = rank) -> Chain:
        return Chain(frontier.size, Problem(seq, at, f"{label}{text}"))

    if 0 in roots and roots[0] != EMPTY_ROOT:
        return failed(0, "checkpoint 0: its root is not the empty tree's", CHECKPOINT)
    for segment in segments:
        if segment.start != frontier.size + 1:
            raise ValueError(f"segment at seq {segment.start} after {frontier.size} entries")
        if segment.passed == 0 or segment.first_prev != prev:
            reason = diagnose(reread(segment.start), segment.start, prev.decode(), store_id)
            return failed(segment.start, f"seq {segment.start}: {reason}")
        for size, compact in segment.at_sizes:
            if extended(frontier, compact, size - frontier.size, height).root() != roots[size]:
                return failed(size, f"checkpoint {size}: its root is not the root of entries 1-{size}", CHECKPOINT)
        frontier = extended(frontier, segment.frontier, segment.passed, height)
        prev = segment.last_hash
        if progress is not None:
            progress(store_id, frontier.size, total)
        if segment.problem is not None:
            seq = segment.start + segment.passed
            return failed(seq, f"seq {seq}: {segment.problem}")
    return Chain(frontier.size, None)


def extended(frontier: Frontier, compact: Sequence[bytes], count: int, height: int) -> Frontier:
    """The frontier after `count` more leaves, whose compact range is `compact`: `frontier`'s size
    is a multiple of 2**height and count at most 2**height, so the leaves fill subtrees smaller
    than any of frontier's, unless they are 2**height and complete one of that height."""
    if count < 1 << height:
        return Frontier(frontier.size + count, [*frontier.hashes, *compact])
    node, size, hashes = compact[0], frontier.size >> height, list(frontier.hashes)
    while size & 1:  # merge with the equal subtrees before it, as appending leaf by leaf would
        node = node_hash(hashes.pop(), node)
        size >>= 1
    return Frontier(frontier.size + count, [*hashes, node])


def coverage(
    passed: int, sizes: Iterable[int], label: str = "", what: str = "", behind: bool = False
) -> Problem | None:
    """Entries a verified checkpoint covers that a copy does not hold, after the `passed` it does."""
    beyond = sorted(size for size in sizes if size > passed)
    if not beyond:
        return None
    first = passed + 1
    return Problem(
        first, COVERAGE, f"{label}seq {first}: missing, though checkpoint {beyond[0]} covers it{what}", behind
    )


def gap(seqs: Sequence[Any], label: str = "") -> tuple[int, str | None]:
    """How many of `seqs` (in the order stored) run 1, 2, 3, … and why the run stops there."""
    for index, seq in enumerate(seqs):
        expected = index + 1
        if type(seq) is int and seq == expected:
            continue
        if type(seq) is int and seq > expected:
            return index, f"{label}seq {expected}: missing (the next entry is seq {seq})"
        return index, f"{label}seq {expected}: missing or out of order (found seq {seq})"
    return len(seqs), None


# ---------------------------------------------------------------- comparing two copies


def compare_copies(
    live: Mapping[int, bytes], archived: Mapping[int, bytes], awaiting_archive: Callable[[list[int]], bool]
) -> list[Problem]:
    """Firestore's leaf hashes against the archive's, by seq; `awaiting_archive(seqs)` tells whether
    entries the archive lacks all wait in the outbox."""
    problems = []
    differing = next((seq for seq in sorted(live.keys() & archived.keys()) if live[seq] != archived[seq]), None)
    if differing is not None:
        problems.append(Problem(differing, DIFFER, f"seq {differing}: Firestore and archive differ"))
    only_archived = sorted(archived.keys() - live.keys())
    if only_archived:
        first = only_archived[0]
        text = f"seq {first}: missing from Firestore, the archive holds it (`tresen recover`)"
        problems.append(Problem(first, ONLY_ARCHIVED, text))
    only_live = sorted(live.keys() - archived.keys())
    if only_live:
        first = only_live[0]
        if awaiting_archive(only_live):
            text = f"seq {first}: not archived yet: the archive is behind by {len(only_live)} (`tresen sweep`)"
            problems.append(Problem(first, ONLY_LIVE, text, behind=True))
        else:
            problems.append(Problem(first, ONLY_LIVE, f"seq {first}: missing from the archive"))
    return problems


def compare_checkpoints(
    live: Mapping[int, bytes], archived: Mapping[int, bytes], awaiting_archive: Callable[[list[int]], bool]
) -> list[Problem]:
    """Firestore's checkpoint notes against the archive's, by size."""
    problems = []
    for size in sorted(live.keys() & archived.keys()):
        if live[size] != archived[size]:
            problems.append(Problem(size, CHECKPOINT, f"checkpoint {size}: Firestore and archive differ"))
    for size in sorted(archived.keys() - live.keys()):
        problems.append(Problem(size, CHECKPOINT, f"checkpoint {size}: missing from Firestore, the archive holds it"))
    only_live = sorted(live.keys() - archived.keys())
    if only_live:
        if awaiting_archive(only_live):
            text = f"checkpoint {only_live[0]}: not archived yet (`tresen sweep`)"
            problems.append(Problem(only_live[0], CHECKPOINT, text, behind=True))
        else:
            problems.append(Problem(only_live[0], CHECKPOINT, f"checkpoint {only_live[0]}: missing from the archive"))
    return problems
