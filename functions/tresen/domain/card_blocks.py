"""Block activations: up to 10 000 gift cards of one value sold at once, issued in chunks of 100
(no I/O).

Every card of a block is a numbered member of it. Its id is the block's id and its number, and its
code is derived from the block's random seed and its number (under a key of the server, see
services/card_ports.py): a chunk resumed after a crash recreates exactly the same cards, and the
codes can be listed again later although no code is stored.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

CHUNK_SIZE = 100
ACTIVATION_PREFIX = "gca_"


@dataclass(frozen=True)
class BlockActivation:
    id: str  # gca_…
    store_id: str
    amount: int  # each card's value, in cents
    count: int
    seed: str  # random: what every member's code is derived from
    created_at: datetime
    actor: Mapping[str, Any]
    status: str = "running"  # running | done

    @property
    def chunks(self) -> int:
        return math.ceil(self.count / CHUNK_SIZE)

    def members(self, index: int) -> range:
        """The members chunk `index` issues."""
        first = index * CHUNK_SIZE
        return range(first, min(first + CHUNK_SIZE, self.count))

    def card_id(self, member: int) -> str:
        return f"gc_{self.id.removeprefix(ACTIVATION_PREFIX)}_{member:05d}"

    def code_label(self, member: int) -> str:
        """What the member's code is derived from."""
        return f"block:{self.seed}:{member}"


@dataclass(frozen=True)
class ChunkDone:
    """A chunk's marker, committed atomically with its cards: the chunk is done."""

    index: int
    activated: int
    failed_members: tuple[int, ...]  # members left out: their code collided with an existing card's
    at: datetime

    @property
    def failed(self) -> int:
        return len(self.failed_members)


@dataclass(frozen=True)
class ChunkStatus:
    index: int
    status: str  # pending | done
    activated: int
    failed: int


@dataclass(frozen=True)
class BlockStatus:
    id: str
    status: str  # running | done
    total: int
    activated: int
    failed: int
    chunks: tuple[ChunkStatus, ...]


def progress_of(activation: BlockActivation, done: Mapping[int, ChunkDone]) -> BlockStatus:
    """Where the block stands, given the markers of the chunks `done` by index."""
    chunks = tuple(
        ChunkStatus(index, "done", done[index].activated, done[index].failed)
        if index in done
        else ChunkStatus(index, "pending", 0, 0)
        for index in range(activation.chunks)
    )
    return BlockStatus(
        activation.id,
        "done" if len(done) == activation.chunks else "running",
        activation.count,
        sum(chunk.activated for chunk in chunks),
        sum(chunk.failed for chunk in chunks),
        chunks,
    )
