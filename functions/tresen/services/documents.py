"""The storage port: documents by path, each read with a version token, written in atomic batches
with preconditions. Firestore implements it (adapters/firestore_documents.py) and so does an
in-memory store (adapters/memory_documents.py) that the use-case tests run on in milliseconds.

Repositories (adapters/repository.py, adapters/giftcard_store.py …) map domain types to and from
documents; the unit of work (adapters/store_writer.py) turns a use case's writes into one batch.
Nothing above this port knows which database holds the documents.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

Filter = tuple[str, str, Any]  # (field, operator, value): == <= >= < > in array_contains
Order = tuple[str, bool]  # (field, descending)


@dataclass(frozen=True)
class Doc:
    path: str
    data: dict[str, Any]
    version: Any  # opaque: what a conditional write names as "the version I read"

    @property
    def id(self) -> str:
        return self.path.rsplit("/", 1)[1]


class Conflict(Exception):
    """A precondition failed: a create-only document `exists` already, or a document `changed`
    since the version read. `path` names the document where the store can tell."""

    def __init__(self, kind: str, path: str | None = None, detail: str = ""):
        super().__init__(f"{kind}: {path or detail}")
        self.kind, self.path = kind, path


class Batch(Protocol):
    def create(self, path: str, data: Mapping[str, Any]) -> None: ...

    def set(self, path: str, data: Mapping[str, Any]) -> None: ...

    def update(self, path: str, data: Mapping[str, Any], version: Any = None) -> None:
        """Only if the document is still `version` (any version if None); it must exist."""

    def delete(self, path: str, version: Any = None) -> None: ...

    def increment(self, path: str, field: str, by: int, also: Mapping[str, Any]) -> None:
        """Add `by` to a counter (creating the document), server-side; `commit` answers its new value."""

    def commit(self) -> list[Any]:
        """All or nothing. One result per write in order: the new version, or for an increment the
        counter's new value. Raises Conflict."""


class Documents(Protocol):
    def get(self, path: str) -> Doc | None: ...

    def get_all(self, paths: Sequence[str]) -> list[Doc | None]: ...

    def query(
        self,
        collection: str,
        where: Sequence[Filter] = (),
        order_by: Sequence[Order] = (),
        limit: int | None = None,
        start_after: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        fields: Sequence[str] | None = None,
    ) -> list[Doc]:
        """`timeout` bounds a scan of a whole collection; without it a query is bounded like any read.
        `fields` (dotted paths) reads only those parts of each document: what a long scan does not
        need is neither sent nor decoded."""

    def batch(self) -> Batch: ...

    def watch(self, path: str, on_change: Callable[[Doc | None], None]) -> Callable[[], None]:
        """Tells `on_change` the document now, and again after each change to it (on a thread of the
        store's); the function returned stops it."""
