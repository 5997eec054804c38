"""Documents in memory, with Firestore's semantics where the use cases rely on them: create-only
writes, updates guarded by the version read, atomic batches, server-side increments, and queries
with equality, range, `in` and `array_contains` filters, ordering, limits and cursors.

One lock makes every batch atomic; versions are a counter, so "changed since read" is exact.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..services.documents import Batch, Conflict, Doc, Filter, Order

OPERATORS = {
    "==": lambda value, wanted: value == wanted,
    "<=": lambda value, wanted: value is not None and value <= wanted,
    ">=": lambda value, wanted: value is not None and value >= wanted,
    "<": lambda value, wanted: value is not None and value < wanted,
    ">": lambda value, wanted: value is not None and value > wanted,
    "in": lambda value, wanted: value in wanted,
    "array_contains": lambda value, wanted: isinstance(value, list) and wanted in value,
    "array_contains_any": lambda value, wanted: isinstance(value, list) and any(item in value for item in wanted),
}
MISSING = object()


def projected(data: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    """Only the dotted paths `fields` of `data`, nested as they were (as Firestore's select)."""
    kept: dict[str, Any] = {}
    for path in fields:
        value = field_value(data, path)
        if value is MISSING:
            continue
        *parents, last = path.split(".")
        into = kept
        for name in parents:
            into = into.setdefault(name, {})
        into[last] = value
    return kept


class MemoryDocuments:
    def __init__(self):
        self._docs: dict[str, tuple[dict[str, Any], int]] = {}
        self._lock = threading.Lock()
        self._clock = 0
        self._watchers: dict[int, tuple[str, Callable[[Doc | None], None]]] = {}
        self._watcher_ids = itertools.count()

    def get(self, path: str) -> Doc | None:
        with self._lock:
            stored = self._docs.get(path)
            return Doc(path, copy.deepcopy(stored[0]), stored[1]) if stored else None

    def get_all(self, paths: Sequence[str]) -> list[Doc | None]:
        return [self.get(path) for path in paths]

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
        depth = collection.count("/") + 1
        with self._lock:
            found = [
                Doc(path, copy.deepcopy(data), version)
                for path, (data, version) in self._docs.items()
                if path.startswith(collection + "/")
                and path.count("/") == depth
                and all(matches(data, field, op, wanted) for field, op, wanted in where)
                # a document without a field the query orders by is left out, as Firestore does
                and all(field == "__name__" or field_value(data, field) is not MISSING for field, _ in order_by)
            ]
        for field, descending in reversed(order_by or [("__name__", False)]):
            found.sort(key=lambda doc, field=field: sort_key(doc, field), reverse=descending)
        if start_after is not None:
            found = [doc for doc in found if after(doc, start_after, order_by)]
        found = found[:limit] if limit is not None else found
        return found if fields is None else [Doc(d.path, projected(d.data, fields), d.version) for d in found]

    def batch(self) -> MemoryBatch:
        return MemoryBatch(self)

    def watch(self, path: str, on_change: Callable[[Doc | None], None]) -> Callable[[], None]:
        """Told at once, and after each commit that wrote the document (on the committing thread)."""
        watcher = next(self._watcher_ids)
        with self._lock:
            self._watchers[watcher] = (path, on_change)
        on_change(self.get(path))

        def stop() -> None:
            with self._lock:
                self._watchers.pop(watcher, None)

        return stop

    def _tell_watchers(self, paths: set[str]) -> None:
        with self._lock:
            told = [(path, on_change) for path, on_change in self._watchers.values() if path in paths]
        for path, on_change in told:
            on_change(self.get(path))

    def _apply(self, writes: list[tuple]) -> list[Any]:
        """All or nothing: the batch's writes go to an overlay, merged only if every one held."""
        with self._lock:
            staged: dict[str, tuple[dict[str, Any], int] | None] = {}
            results = []
            for kind, path, data, version in writes:
                self._clock += 1
                current = staged[path] if path in staged else self._docs.get(path)
                if kind == "create":
                    if current is not None:
                        raise Conflict("exists", path)
                    staged[path] = (copy.deepcopy(dict(data)), self._clock)
                elif kind == "set":
                    staged[path] = (copy.deepcopy(dict(data)), self._clock)
                elif kind == "update":
                    if current is None or (version is not None and current[1] != version):
                        raise Conflict("changed", path)
                    staged[path] = (merged(current[0], data), self._clock)
                elif kind == "delete":
                    if version is not None and (current is None or current[1] != version):
                        raise Conflict("changed", path)
                    staged[path] = None
                else:  # increment: data = (field, by, also)
                    field, by, also = data
                    counted = (current[0].get(field, 0) if current else 0) + by
                    staged[path] = (merged(current[0] if current else {}, {**also, field: counted}), self._clock)
                    results.append(counted)
                    continue
                results.append(self._clock)
            for path, stored in staged.items():
                if stored is None:
                    self._docs.pop(path, None)
                else:
                    self._docs[path] = stored
        self._tell_watchers(set(staged))
        return results


class MemoryBatch(Batch):
    def __init__(self, store: MemoryDocuments):
        self._store, self._writes = store, []

    def create(self, path: str, data: Mapping[str, Any]) -> None:
        self._writes.append(("create", path, data, None))

    def set(self, path: str, data: Mapping[str, Any]) -> None:
        self._writes.append(("set", path, data, None))

    def update(self, path: str, data: Mapping[str, Any], version: Any = None) -> None:
        self._writes.append(("update", path, data, version))

    def delete(self, path: str, version: Any = None) -> None:
        self._writes.append(("delete", path, None, version))

    def increment(self, path: str, field: str, by: int, also: Mapping[str, Any]) -> None:
        self._writes.append(("increment", path, (field, by, dict(also)), None))

    def commit(self) -> list[Any]:
        return self._store._apply(self._writes)


def merged(current: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """An update: top-level fields replaced, dotted names (`a.b`) set inside maps, as Firestore does."""
    result = copy.deepcopy(current)
    for name, value in changes.items():
        *parents, leaf = name.split(".")
        target = result
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = copy.deepcopy(value)
    return result


def matches(data: Mapping[str, Any], field: str, op: str, wanted: Any) -> bool:
    value = field_value(data, field)
    return value is not MISSING and OPERATORS[op](value, wanted)


def field_value(data: Mapping[str, Any], field: str) -> Any:
    value: Any = data
    for part in field.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return MISSING
        value = value[part]
    return value


def sort_key(doc: Doc, field: str) -> Any:
    return doc.id if field == "__name__" else field_value(doc.data, field)


def after(doc: Doc, cursor: Mapping[str, Any], order_by: Sequence[Order]) -> bool:
    """Past the cursor in the query's order (the cursor names a value for each ordered field)."""
    for field, descending in order_by:
        value, mark = sort_key(doc, field), cursor[field]
        if value != mark:
            return value < mark if descending else value > mark
    return False
