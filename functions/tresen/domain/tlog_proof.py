"""C2SP transparency log proofs (c2sp.org/tlog-proof): one text that proves, offline, that an entry
is in a store's journal — the entry's index, its RFC 6962 inclusion proof and the signed checkpoint
whose tree it is in.

    c2sp.org/tlog-proof@v1
    extra <base64 opaque extra data>        (optional)
    index <zero-based index, decimal>
    <base64 hash>                           (zero or more: leaf's sibling first, root's child last)

    <the checkpoint's signed note, verbatim>

In Tresen `extra` carries the journal entry's RFC 8785 bytes, so a customer's proof holds everything
needed to check it. The spec says extra data is not authenticated, and on its own it is not: it is
trusted only once it hashes to the leaf the inclusion proof leads from. Parsing is strict — one
spelling per proof — and verification trusts only the keys and the origin it is given.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tresen.domain import merkle
from tresen.domain.checkpoint import MAX_SIZE, SIZE, Checkpoint, parse_checkpoint
from tresen.domain.signed_note import NoteError, Verifier, decode_base64, encode_base64, open_note

HEADER = "c2sp.org/tlog-proof@v1"
EXTRA_PREFIX = "extra "
INDEX_PREFIX = "index "
# A tree of at most 2**64 - 1 leaves (the largest tree size) is at most 64 levels deep.
MAX_PROOF_HASHES = 64


class TlogProofError(NoteError, merkle.ProofError):
    """A tlog proof that is malformed, whose checkpoint no trusted key signed or is of another log,
    or whose inclusion proof does not lead to the checkpoint's root."""


@dataclass(frozen=True)
class TlogProof:
    index: int
    proof: list[bytes]
    checkpoint_note: str
    extra: bytes | None = None


@dataclass(frozen=True)
class VerifiedProof:
    """What a proof proved: `leaf_data` is leaf `index` of the tree `checkpoint` commits to, which
    the keys `verified_by` signed."""

    index: int
    leaf_data: bytes
    checkpoint: Checkpoint
    verified_by: tuple[Verifier, ...]
    extra: bytes | None


def format_tlog_proof(index: int, proof: Sequence[bytes], checkpoint_note: str, extra: bytes | None = None) -> str:
    _check_index(index)
    _check_hashes(proof)
    _check_note_shape(checkpoint_note)
    if extra is not None and not extra:
        raise TlogProofError("extra data is empty: leave it out (None) instead")
    lines = [HEADER]
    if extra is not None:
        lines.append(EXTRA_PREFIX + encode_base64(extra))
    lines.append(f"{INDEX_PREFIX}{index}")
    lines.extend(encode_base64(node) for node in proof)
    return "".join(f"{line}\n" for line in lines) + "\n" + checkpoint_note


def parse_tlog_proof(text: str | bytes) -> TlogProof:
    text = _as_text(text)
    # The proof lines are never empty, so the first empty line is the one before the checkpoint (whose
    # own empty line, before its signatures, comes later).
    head, blank, note = text.partition("\n\n")
    if not blank:
        raise TlogProofError("a tlog proof has an empty line before its checkpoint")
    lines = head.split("\n")
    if lines[0] != HEADER:
        raise TlogProofError(f"a tlog proof starts with the line {HEADER!r}")
    lines = lines[1:]
    extra = None
    if lines and lines[0].startswith(EXTRA_PREFIX):
        extra = _decode(lines.pop(0)[len(EXTRA_PREFIX) :], "the extra data")
        if not extra:
            raise TlogProofError("the extra line is empty: a proof without extra data leaves it out")
    if not lines or not lines[0].startswith(INDEX_PREFIX):
        raise TlogProofError("the index line (after the header and any extra line) is missing")
    index = lines.pop(0)[len(INDEX_PREFIX) :]
    if not SIZE.fullmatch(index):
        raise TlogProofError(f"index {index!r} is not a decimal without leading zeros")
    _check_index(int(index))
    proof = [_decode(line, f"proof hash {n}") for n, line in enumerate(lines)]
    _check_hashes(proof)
    _check_note_shape(note)
    return TlogProof(int(index), proof, note, extra)


def verify_tlog_proof(
    text: str | bytes, verifiers: Iterable[Verifier], origin: str, leaf_data: bytes | None = None
) -> VerifiedProof:
    """Checks that `leaf_data` (or, if None, the proof's extra data) is in the log `origin`, by a
    checkpoint that one of `verifiers` signed. Raises TlogProofError otherwise."""
    proof = parse_tlog_proof(text)
    try:
        opened = open_note(proof.checkpoint_note, verifiers)
    except NoteError as error:
        raise TlogProofError(f"the checkpoint does not open: {error}") from error
    # Only text a trusted key signed is read as a checkpoint.
    try:
        checkpoint = parse_checkpoint(opened.text)
    except NoteError as error:
        raise TlogProofError(f"the signed note is not a checkpoint: {error}") from error
    if checkpoint.origin != origin:
        raise TlogProofError(f"the checkpoint is of log {checkpoint.origin!r}, not {origin!r}")
    data = leaf_data if leaf_data is not None else proof.extra
    if data is None:
        raise TlogProofError("no leaf data to verify: none was given and the proof has no extra data")
    try:
        merkle.verify_inclusion(merkle.leaf_hash(data), proof.index, checkpoint.size, proof.proof, checkpoint.root)
    except merkle.ProofError as error:
        raise TlogProofError(f"entry {proof.index} is not in the checkpoint's tree: {error}") from error
    return VerifiedProof(proof.index, data, checkpoint, opened.verified_by, proof.extra)


def _as_text(text: str | bytes) -> str:
    try:
        # A str may still hold lone surrogates, which no UTF-8 text can.
        return (text if isinstance(text, bytes) else text.encode()).decode()
    except UnicodeError:
        raise TlogProofError("a tlog proof is UTF-8 text") from None


def _decode(encoded: str, what: str) -> bytes:
    try:
        return decode_base64(encoded, what)
    except NoteError as error:
        raise TlogProofError(str(error)) from None


def _check_index(index: int) -> None:
    # An index is of a leaf in a tree of at most MAX_SIZE leaves.
    if not 0 <= index < MAX_SIZE:
        raise TlogProofError(f"an index is between 0 and {MAX_SIZE - 1}, not {index}")


def _check_hashes(proof: Sequence[bytes]) -> None:
    if len(proof) > MAX_PROOF_HASHES:
        raise TlogProofError(f"an inclusion proof has at most {MAX_PROOF_HASHES} hashes, not {len(proof)}")
    for n, node in enumerate(proof):
        if len(node) != merkle.HASH_SIZE:
            raise TlogProofError(f"proof hash {n} has {len(node)} bytes, not {merkle.HASH_SIZE}")


def _check_note_shape(note: str) -> None:
    # The rest is open_note's to check; this much keeps `parse(format(...))` the identity.
    if not note or note.startswith("\n") or not note.endswith("\n"):
        raise TlogProofError("the checkpoint note is missing, starts with an empty line or does not end in a newline")
