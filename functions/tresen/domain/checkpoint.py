"""C2SP checkpoints (c2sp.org/tlog-checkpoint; specs/c2sp/tlog-checkpoint.md): the text of the
signed note that commits a store's journal to one Merkle tree head — origin, tree size, base64 root
hash, one line each, then optional extension lines.

The origin is `tresen/<project id>/<store id>` (docs/api.md). Signing and opening the note is
`signed_note`'s; this module only writes and strictly reads its text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tresen.domain.signed_note import NoteError, decode_base64, encode_base64

ROOT_SIZE = 32
# Tree sizes are uint64 in every tlog implementation; a larger one could not be verified elsewhere.
MAX_SIZE = 2**64 - 1
# Decimal without leading zeros (only `0` itself starts with one), at most the 20 digits of MAX_SIZE.
SIZE = re.compile(r"0|[1-9][0-9]{0,19}")


class CheckpointError(NoteError):
    """Checkpoint text, or the parts of a checkpoint, that tlog-checkpoint does not allow."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for line in (self.origin, *self.extensions):
            check_line(line)
        if not 0 <= self.size <= MAX_SIZE:
            raise CheckpointError(f"a tree size is between 0 and {MAX_SIZE}, not {self.size}")
        if len(self.root) != ROOT_SIZE:
            raise CheckpointError(f"a root hash has {ROOT_SIZE} bytes, not {len(self.root)}")

    def body(self) -> str:
        lines = (self.origin, str(self.size), encode_base64(self.root), *self.extensions)
        return "".join(f"{line}\n" for line in lines)


def check_line(line: str) -> None:
    # An empty line or a newline would shift the lines after it; other control characters are not
    # allowed in a signed note at all.
    if not line or any(char < " " for char in line):
        raise CheckpointError(f"checkpoint line {line!r} is empty or holds a control character")


def parse_checkpoint(text: str) -> Checkpoint:
    if not text.endswith("\n"):
        raise CheckpointError("checkpoint text must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError(f"a checkpoint has at least three lines, not {len(lines)}")
    origin, size, root, *extensions = lines
    if not SIZE.fullmatch(size):
        raise CheckpointError(f"tree size {size!r} is not a decimal without leading zeros")
    try:
        root_hash = decode_base64(root, "the root hash")
    except NoteError as error:
        raise CheckpointError(str(error)) from None
    return Checkpoint(origin, int(size), root_hash, tuple(extensions))
