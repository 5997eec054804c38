"""What the audit of a store's journal finds, from its stored bytes: the problems and the verdict, the
checkpoints whose signature a trusted key makes, the closings recounted from their entries, and
how two copies of the journal compare (for `tresen verify` with Firestore). The hash chain and
the Merkle roots are checked in journal_chain.py, the keys trusted are read in journal_keys.py.
Pure: where the bytes come from (Firestore, the bucket, a directory an auditor copied the bucket
to) is `services/verify.py`'s business.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..domain.checkpoint import Checkpoint, parse_checkpoint
from ..domain.closings import FIRST_PREVIOUS_HASH, closing_hash, in_current_shape, z_report_figures
from ..domain.signed_note import NoteError, Verifier, open_note

PROGRESS_EVERY = 2.0  # seconds between progress lines


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


# A closing's entry, as its RFC 8785 bytes spell the type (keys sorted: "type" comes last, but for
# the version "v" that entries of version 2 on carry after it).
CLOSING_MARK = b',"type":"closing.created"}'
VERSIONED_CLOSING_MARK = b',"type":"closing.created","v":'


def is_closing(raw: bytes) -> bool:
    return raw.endswith(CLOSING_MARK) or VERSIONED_CLOSING_MARK in raw[-48:]


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
        figures, shaped = z_report_figures(entries), in_current_shape(closing)  # an older closing: as made now
        wrong = [name for name, value in figures.items() if shaped.get(name) != value]
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
