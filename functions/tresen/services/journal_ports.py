"""The journal store as the use cases see it: each store's entries, its signed checkpoints and their
tiles, the signing keys, the archive outbox, and the archive's own copy of it all.

The use cases read through `JournalReader` and write what is not an appended entry (a checkpoint,
a listed key, an entry restored from the archive) through `JournalWriter`; entries are appended
only by the unit of work's commits. The storage adapters implement both (adapters/journal_store.py,
adapters/journal_writer.py) and the archive's (adapters/archive.py); nothing here knows a
collection, a document path or an object name.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from ..domain.errors import DomainError
from ..domain.merkle import Frontier
from ..domain.signed_note import Verifier
from ..domain.tiles import TiledTree, TileId, edge_tiles
from .ports import Signer
from .unit_of_work import Counter, UnitOfWork

Entry = dict[str, Any]  # a journal entry as stored (domain/journal.py `make_entry`)
# (store id, done, total if known, what is counted): how far a long read got (journal_audit.Progress)
ProgressReport = Callable[..., None]


class JournalHead(NamedTuple):
    """The newest entry of a store's journal: its seq and hash (0 and the genesis hash if empty)."""

    seq: int
    hash: str


@dataclass(frozen=True)
class CheckpointRecord:
    """A signed checkpoint as kept beside the journal: the signed note, and the tree's frontier and
    right-edge tiles, from which the next checkpoint grows and every proof is answered."""

    store_id: str
    origin: str
    size: int
    root: bytes
    key_id: bytes
    signed_at: datetime
    note: str
    frontier: tuple[bytes, ...]
    edges: Mapping[int, tuple[bytes, ...]]  # level → hashes of the partial tile at the right edge

    def tree(self, journal: JournalReader) -> TiledTree:
        """The tree this checkpoint signs, reading its full tiles from `journal` as a proof needs them."""

        def read_tile(tile: TileId) -> list[bytes]:
            edge = self.edges.get(tile.level)
            if edge is not None and len(edge) == tile.width and tile in edge_tiles(self.size):
                return list(edge)
            found = journal.tile(self.store_id, tile)
            if found is None:
                raise DomainError("journal_tiles_missing", f"Tile {tile.name} of store {self.store_id} is missing.")
            return found

        return TiledTree(self.size, Frontier(self.size, self.frontier), read_tile)


@dataclass(frozen=True)
class StoredCheckpoint:
    """A checkpoint's document as stored, for the audit: `size` is what its name says (None: the
    name is no checkpoint's), `where` names the document in a report."""

    where: str
    size: int | None
    data: Mapping[str, Any]


@dataclass(frozen=True)
class OutboxMarker:
    """An entry (`seq`) or a checkpoint (`checkpoint`, its size) committed but not yet archived."""

    store_id: str
    seq: int | None = None
    checkpoint: int | None = None


@dataclass(frozen=True)
class NumberClaim:
    """A counter's number, claimed again for the entry restored with it."""

    counter: Counter
    n: int
    ref: str | None
    at: str  # when the entry that issued it was made (RFC 3339)


class JournalReader(Protocol):
    def head(self, store_id: str) -> JournalHead: ...

    def entry(self, store_id: str, seq: int) -> Entry | None: ...

    def entries(self, store_id: str) -> list[Entry]:
        """Every entry of the store, by seq (a scan of the whole journal)."""

    def entries_between(self, store_id: str, first: int, last: int) -> list[Entry]:
        """Entries `first` … `last`, by seq (those that exist)."""

    def entries_after(self, store_id: str, seq: int, limit: int) -> list[Entry]:
        """At most `limit` entries after `seq`, by seq."""

    def entries_of_order(self, store_id: str, order_id: str) -> list[Entry]: ...

    def entries_of_type(self, store_id: str, entry_type: str) -> list[Entry]:
        """The store's entries of one type (`tse.installed` …), by seq."""

    def latest_checkpoint(self, store_id: str) -> CheckpointRecord | None: ...

    def checkpoint_at(self, store_id: str, size: int) -> CheckpointRecord | None: ...

    def checkpoint_before(self, store_id: str, size: int) -> CheckpointRecord | None:
        """The largest checkpoint below `size`."""

    def checkpoints(self, store_id: str, limit: int, after_size: int = 0) -> tuple[list[CheckpointRecord], bool]:
        """Oldest first, after `after_size`; and whether more follow."""

    def stored_checkpoints(self, store_id: str) -> list[StoredCheckpoint]:
        """Every document where the store's checkpoints are kept, as stored (for the audit)."""

    def tile(self, store_id: str, tile: TileId) -> list[bytes] | None: ...

    def signing_keys(self) -> list[dict[str, Any]]:
        """The public keys checkpoints are signed with, current and retired, as listed."""

    def outbox_due(self, at_or_before: datetime) -> list[OutboxMarker]:
        """What was committed by `at_or_before` and is not archived yet (a scan of the outbox)."""

    def awaiting_archive(self, store_id: str, seqs: Collection[int]) -> bool:
        """Every one of the entries is in the archive outbox: committed, its archive write still to come."""

    def checkpoints_awaiting_archive(self, store_id: str, sizes: Collection[int]) -> bool: ...

    def store_ids(self) -> list[str]:
        """Every store there is (each has a journal, maybe empty), sorted."""

    def store_ids_after(self, after: str | None, limit: int) -> list[str]:
        """A page of `store_ids`: at most `limit` after `after` (from the first if None), sorted."""

    def has_store(self, store_id: str) -> bool: ...


class JournalWriter(Protocol):
    def add_checkpoint(self, record: CheckpointRecord, tiles: Mapping[TileId, list[bytes]]) -> bool:
        """Keep a signed checkpoint, its new full tiles and its archive outbox marker; False (and
        nothing kept) if a checkpoint at its size exists already. A tile written already by a
        concurrent signer must hold the same hashes."""

    def list_signing_key(self, verifier: Verifier, now: datetime) -> None:
        """List the key among the public keys unless it is; every other current key is retired `now`."""

    def restore_entry(self, store_id: str, entry: Entry, claim: NumberClaim | None) -> bool:
        """Create a lost entry again exactly as given, with the number it issued claimed again
        unless that is claimed still; whether the number was claimed again."""


class ArchiveConflict(RuntimeError):
    """The archive holds an object under this name with other content: it is never overwritten."""


class ArchivedObjects(NamedTuple):
    """One store's objects of a kind in the archive: those named as Tresen names them, by their
    number (an entry's seq, a checkpoint's size), and the full names of any others."""

    by_number: dict[int, bytes]
    stray: list[str]


class ArchivedJournal(Protocol):
    """The archive's copy of every journal, read back."""

    def store_ids(self) -> list[str]:
        """The stores the archive holds entries or checkpoints of, sorted."""

    def entries(self, store_id: str, progress: ProgressReport | None = None) -> ArchivedObjects:
        """Every archived entry's bytes, by seq."""

    def checkpoint_notes(self, store_id: str) -> ArchivedObjects:
        """Every archived checkpoint's signed note, by size."""


class Archiver(Protocol):
    """Writes to the archive, create-only, and clears the outbox markers of what it wrote."""

    def submit_checkpoint(self, store_id: str, size: int, note: str) -> None:
        """In the background; the sweep writes whatever this did not."""

    def put_entries(self, entries: list[Entry]) -> int:
        """Now; how many were written (or were there already, the same)."""

    def put_checkpoint(self, store_id: str, size: int, note: str) -> bool: ...


class JournalUnitOfWork(UnitOfWork, Protocol):
    """The unit of work of the journal's use cases: the journal store, the archive, the signer, and
    what this process remembers between them."""

    journal: JournalReader
    journal_writer: JournalWriter
    archive: Archiver
    archived: ArchivedJournal
    signer: Signer
    latest_checkpoints: dict[str, CheckpointRecord]  # store id → the latest this process signed or met
    registered_keys: set[bytes]  # ids of the signing keys this process knows listed
