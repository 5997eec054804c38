"""One copy of a store's journal checked from its stored bytes: the hash chain from seq 1 and the
Merkle root at every checkpoint size, in segments that can be checked apart (in other processes).

Speed. An archive holds each entry as its RFC 8785 bytes, and RFC 8785 in pure Python
(`rfc8785`) manages ~3 000 entries a second. The audit hashes the bytes it has instead of
canonicalising again, which is sound because:

- the leaf hash is defined over the entry's RFC 8785 bytes: for canonical bytes, that is the
  archived bytes themselves;
- the chain hash is over the RFC 8785 bytes of the entry without `hash`. RFC 8785 sorts members
  by name, and a journal entry's top-level members are exactly `actor, at, data, hash, prev_hash,
  seq, store_id, type` (and `v` from version 2 of its type on): in canonical bytes the top-level
  `hash` member sits after `data`, followed only by scalar members, so it is the last `,"hash":"`
  in the bytes (a `"` inside a string is always escaped, so that text cannot hide in one).
  Cutting `"hash":"<64 hex>",` out of canonical bytes leaves the canonical bytes of the entry
  without `hash` (`entry_tail` checks the tail);
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

import functools
import hashlib
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import rfc8785

from ..domain.journal import GENESIS_HASH
from ..domain.merkle import EMPTY_ROOT, Frontier, node_hash
from .canonical_entries import diagnose, is_canonical
from .journal_audit import ARCHIVE, CHECKPOINT, Problem, Progress, is_closing

HASH_MEMBER = len(b'"hash":"') + 64 + len(b'",')  # what is cut from `,` + 1 to get the body


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
        rb'"store_id":"' + store + rb'","type":"[^"\\]*(?:\\.[^"\\]*)*"(?:,"v":[1-9][0-9]{0,15})?}\Z'
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
        if is_closing(raw):
            closings.append(seq)
        seq += 1
    return Segment(start, seq - start, first_prev, prev, tuple(stack), tuple(at_sizes), problem, tuple(closings))


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
