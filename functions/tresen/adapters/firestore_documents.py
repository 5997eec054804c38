"""The storage port on Firestore: versions are update times, preconditions Firestore's own, and
its exceptions become the port's `Conflict`.

Which document an `AlreadyExists` names, Firestore says only in the error's text (the emulator
names the first existing one in batch order): the batch matches that text against its own
create-only paths.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from ..services.documents import Batch, Conflict, Doc, Filter, Order


class FirestoreDocuments:
    def __init__(self, db):
        self.db = db  # the client itself, for what only tests and tools need (rules, raw edits)

    def get(self, path: str) -> Doc | None:
        """One document, by Firestore's unary GetDocument: the client's own `get` streams it
        (BatchGetDocuments), which for one document costs twice the CPU and a third more time."""
        from google.api_core.exceptions import NotFound
        from google.cloud.firestore_v1._helpers import decode_dict

        name = f"{self.db._database_string}/documents/{path}"
        try:
            found = self.db._firestore_api.get_document(request={"name": name}, metadata=self.db._rpc_metadata)
        except NotFound:
            return None
        return Doc(path, decode_dict(found.fields, self.db), found.update_time)

    def get_all(self, paths: Sequence[str]) -> list[Doc | None]:
        found = {s.reference.path: s for s in self.db.get_all([self.db.document(p) for p in paths])}
        return [as_doc(found[p]) if p in found and found[p].exists else None for p in paths]

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
        from google.cloud.firestore import FieldFilter, Query

        query = self.db.collection(collection)
        if fields is not None:
            query = query.select(list(fields))
        for field, op, value in where:
            query = query.where(filter=FieldFilter(field, op, value))
        for field, descending in order_by:
            query = query.order_by(field, direction=Query.DESCENDING if descending else Query.ASCENDING)
        if start_after is not None:
            query = query.start_after(dict(start_after))
        if limit is not None:
            query = query.limit(limit)
        snapshots = query.stream(timeout=timeout) if timeout else query.get()
        return [as_doc(s) for s in snapshots]

    def batch(self) -> FirestoreBatch:
        return FirestoreBatch(self.db)

    def watch(self, path: str, on_change: Callable[[Doc | None], None]) -> Callable[[], None]:
        """A listener (the library's watch, on its consumer thread)."""

        def on_snapshot(snapshots, _changes, _read_time) -> None:
            on_change(as_doc(snapshots[0]) if snapshots and snapshots[0].exists else None)

        return self.db.document(path).on_snapshot(on_snapshot).unsubscribe


class FirestoreBatch(Batch):
    def __init__(self, db):
        self._db, self._batch = db, db.batch()
        self._creates: list[str] = []
        self._increments: list[int] = []  # positions of increments among the writes
        self._count = 0

    def _ref(self, path: str):
        self._count += 1
        return self._db.document(path)

    def _option(self, version: Any):
        return self._db.write_option(last_update_time=version) if version is not None else None

    def create(self, path: str, data: Mapping[str, Any]) -> None:
        self._creates.append(path)
        ref = self._ref(path)
        try:
            self._batch._add_write_pbs([create_write(ref._document_path, data)])
        except UnencodedValue:  # a value only the library knows how to write
            self._batch.create(ref, dict(data))

    def set(self, path: str, data: Mapping[str, Any]) -> None:
        self._batch.set(self._ref(path), dict(data))

    def update(self, path: str, data: Mapping[str, Any], version: Any = None) -> None:
        ref = self._ref(path)
        try:
            self._batch._add_write_pbs([update_write(ref._document_path, data, version)])
        except UnencodedValue:
            self._batch.update(ref, dict(data), option=self._option(version))

    def delete(self, path: str, version: Any = None) -> None:
        self._batch.delete(self._ref(path), option=self._option(version))

    def increment(self, path: str, field: str, by: int, also: Mapping[str, Any]) -> None:
        from google.cloud.firestore import Increment

        self._increments.append(self._count)
        self._batch.set(self._ref(path), {field: Increment(by), **also}, merge=True)

    def commit(self) -> list[Any]:
        from google.api_core.exceptions import AlreadyExists, FailedPrecondition, NotFound

        try:
            results = self._batch.commit()
        except AlreadyExists as error:
            named = next((path for path in self._creates if f"/{path}" in str(error)), None)
            raise Conflict("exists", named, str(error)) from None
        except (FailedPrecondition, NotFound) as error:
            raise Conflict("changed", None, str(error)) from None
        return [
            result.transform_results[0].integer_value if position in self._increments else result.update_time
            for position, result in enumerate(results)
        ]


SIMPLE_FIELD = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")  # a field name the library writes unquoted


class UnencodedValue(TypeError):
    """A value of a type `encode_value` leaves to the library."""


def create_write(document_path: str, data: Mapping[str, Any]):
    """A create-only write, its protobuf built directly: the library's encoding goes through a
    proto-plus wrapper per value (about 230 per order), which cost an order 1.4 ms of CPU; these
    are the same bytes in a tenth of the time (tests/integration/test_documents_contract.py)."""
    from google.cloud.firestore_v1.types import write

    pb = write.Write.pb()()
    pb.update.name = document_path
    fields = pb.update.fields
    for key, value in data.items():
        encode_value(fields[key], value)
    pb.current_document.exists = False
    return write.Write.wrap(pb)


def update_write(document_path: str, data: Mapping[str, Any], version: Any):
    """An update of top-level fields, only if the document is still `version` (exists, if None),
    built directly like `create_write` (an order changed by a webhook or by staff, the idempotency
    record's answer)."""
    from google.cloud._helpers import _datetime_to_pb_timestamp
    from google.cloud.firestore_v1.types import write

    if not data or not all(SIMPLE_FIELD.fullmatch(key) for key in data):
        raise UnencodedValue("a field path the library must quote or split")
    pb = write.Write.pb()()
    pb.update.name = document_path
    fields = pb.update.fields
    for key, value in data.items():
        encode_value(fields[key], value)
    pb.update_mask.field_paths.extend(sorted(data))
    if version is None:
        pb.current_document.exists = True
    else:
        # to the microsecond, as the library writes a precondition (Firestore's times have no more)
        pb.current_document.update_time.CopyFrom(_datetime_to_pb_timestamp(version))
    return write.Write.wrap(pb)


def encode_value(target, value: Any) -> None:
    """Fill a Firestore `Value` protobuf as the library would (bool before int: it is one)."""
    kind = type(value)
    if value is None:
        target.null_value = 0
    elif kind is str:
        target.string_value = value
    elif kind is bool:
        target.boolean_value = value
    elif kind is int:
        target.integer_value = value
    elif kind is float:
        target.double_value = value
    elif kind is dict:
        target.map_value.SetInParent()
        fields = target.map_value.fields
        for key, item in value.items():
            encode_value(fields[key], item)
    elif kind is list or kind is tuple:
        target.array_value.SetInParent()
        values = target.array_value.values
        for item in value:
            encode_value(values.add(), item)
    elif kind is bytes:
        target.bytes_value = value
    elif isinstance(value, datetime):
        target.timestamp_value.CopyFrom(timestamp(value))
    else:
        raise UnencodedValue(kind)


def timestamp(moment: datetime):
    """A protobuf Timestamp; a time read back from Firestore (an update time) keeps its nanoseconds."""
    from google.cloud._helpers import _datetime_to_pb_timestamp

    return moment.timestamp_pb() if hasattr(moment, "timestamp_pb") else _datetime_to_pb_timestamp(moment)


def as_doc(snapshot) -> Doc:
    # `to_dict()` deep-copies the decoded document so that callers cannot change the snapshot; this
    # snapshot is dropped right here, so its own dict is handed on instead (the copies took a third
    # of a long scan's time).
    return Doc(snapshot.reference.path, snapshot._data if snapshot.exists else None, snapshot.update_time)
