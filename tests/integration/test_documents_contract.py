"""The storage port's two implementations behave alike: the in-memory one the use-case tests run
on, and Firestore (the emulator). Each scenario runs on both."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tresen.adapters.memory_documents import MemoryDocuments
from tresen.services.documents import Conflict

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "firestore"])
def docs(request):
    if request.param == "memory":
        return MemoryDocuments()
    from tresen.adapters.firestore_documents import FirestoreDocuments

    backend = request.getfixturevalue("backend")
    return FirestoreDocuments(backend.db)


@pytest.fixture
def root() -> str:
    return f"contract_{uuid.uuid4().hex[:10]}"


def commit(docs, *writes):
    batch = docs.batch()
    for kind, *args in writes:
        getattr(batch, kind)(*args)
    return batch.commit()


def test_create_only_names_the_existing_document_and_a_batch_is_all_or_nothing(docs, root):
    commit(docs, ("create", f"{root}/a", {"n": 1}))
    with pytest.raises(Conflict) as clash:
        commit(docs, ("create", f"{root}/b", {"n": 2}), ("create", f"{root}/a", {"n": 3}))
    assert (clash.value.kind, clash.value.path) == ("exists", f"{root}/a")
    assert docs.get(f"{root}/b") is None
    assert docs.get(f"{root}/a").data == {"n": 1}


def test_an_update_applies_only_to_the_version_read(docs, root):
    path = f"{root}/order"
    commit(docs, ("create", path, {"status": "placed", "totals": {"total": 840, "tip": 0}}))
    read = docs.get(path)
    [version] = commit(docs, ("update", path, {"status": "accepted", "totals.tip": 100}, read.version))
    assert docs.get(path).data == {"status": "accepted", "totals": {"total": 840, "tip": 100}}
    assert docs.get(path).version == version != read.version
    with pytest.raises(Conflict) as stale:
        commit(docs, ("update", path, {"status": "ready"}, read.version))
    assert stale.value.kind == "changed"
    with pytest.raises(Conflict) as missing:
        commit(docs, ("update", f"{root}/nothing", {"status": "ready"}))
    assert missing.value.kind == "changed"
    with pytest.raises(Conflict):
        commit(docs, ("delete", path, read.version))
    commit(docs, ("delete", path, version))
    assert docs.get(path) is None


def test_increments_answer_the_new_count(docs, root):
    path = f"{root}/limit"
    assert commit(docs, ("increment", path, "count", 1, {"expires_at": T0})) == [1]
    assert commit(docs, ("increment", path, "count", 1, {"expires_at": T0})) == [2]
    assert docs.get(path).data == {"count": 2, "expires_at": T0}


def test_queries_filter_order_limit_and_page(docs, root):
    for n in range(6):
        commit(
            docs,
            (
                "create",
                f"{root}/d{n}",
                {"n": n, "store": "s" if n % 2 else "t", "at": T0 + timedelta(minutes=n), "tags": [f"x{n}"]},
            ),
        )
    s_newest_first = docs.query(root, where=[("store", "==", "s")], order_by=[("at", True)])
    assert [d.data["n"] for d in s_newest_first] == [5, 3, 1]
    due = docs.query(root, where=[("at", "<=", T0 + timedelta(minutes=2))], order_by=[("at", False)])
    assert [d.id for d in due] == ["d0", "d1", "d2"]
    assert [d.data["n"] for d in docs.query(root, where=[("n", "in", [1, 4, 9])], order_by=[("n", False)])] == [1, 4]
    assert [d.id for d in docs.query(root, where=[("tags", "array_contains", "x3")])] == ["d3"]
    page = docs.query(root, order_by=[("at", True), ("n", True)], limit=2)
    rest = docs.query(root, order_by=[("at", True), ("n", True)], start_after=page[-1].data, limit=10)
    assert [d.data["n"] for d in page + rest] == [5, 4, 3, 2, 1, 0]
    assert [d and d.id for d in docs.get_all([f"{root}/d2", f"{root}/none"])] == ["d2", None]


def test_a_query_reads_only_the_fields_asked_for_nested_as_they_were(docs, root):
    entry = {"seq": 1, "type": "order.paid", "data": {"sale": {"total": 840}, "lines": [1, 2], "order_id": "o1"}}
    commit(docs, ("create", f"{root}/e1", entry))
    [found] = docs.query(root, order_by=[("seq", False)], fields=["seq", "data.sale", "data.order_id", "data.none"])
    assert found.data == {"seq": 1, "data": {"sale": {"total": 840}, "order_id": "o1"}}


def test_a_document_read_alone_is_what_the_library_reads(backend, root):
    """`get` asks Firestore for one document by the unary call; what it returns is what the
    client's own (streamed) read returns: every type of value, and the version to write against."""
    from tresen.adapters.firestore_documents import FirestoreDocuments

    docs, path = FirestoreDocuments(backend.db), f"{root}/every_type"
    value = {
        "text": "Käsekuchen ☕",
        "cents": 1250,
        "rate": 0.19,
        "none": None,
        "yes": True,
        "at": T0,
        "raw": b"\x00\xff",
        "lines": [{"id": "l1", "options": ["oat", "hot"]}, 3, None],
        "nested": {"deep": {"deeper": [T0 + timedelta(microseconds=5)]}},
        "empty": {},
    }
    commit(docs, ("create", path, value))
    snapshot = backend.db.document(path).get()
    found = docs.get(path)
    assert (found.path, found.data, found.version) == (path, snapshot.to_dict(), snapshot.update_time)
    assert found.data == value
    assert docs.get(f"{root}/missing") is None
    commit(docs, ("update", path, {"cents": 1300}, found.version))  # the version read is one to write against
    assert docs.get(path).data["cents"] == 1300


def test_a_watched_document_is_told_now_and_after_each_change_until_stopped(docs, root):
    path = f"{root}/lease"
    heard: list[dict | None] = []
    told = threading.Condition()

    def on_change(doc):
        with told:
            heard.append(doc.data if doc is not None else None)
            told.notify_all()

    def until_heard(state) -> list[dict | None]:
        with told:
            assert told.wait_for(lambda: heard and heard[-1] == state, timeout=10), heard
            return list(heard)

    stop = docs.watch(path, on_change)
    assert until_heard(None) == [None]  # not there yet
    commit(docs, ("create", path, {"holder": "a", "waiting": {}}))
    commit(docs, ("update", path, {"waiting.b": 2.5}))
    commit(docs, ("create", f"{root}/beside", {"n": 1}))  # another document of the collection: not told
    states = until_heard({"holder": "a", "waiting": {"b": 2.5}})
    # a listener may fold changes that come fast into one snapshot (Firestore's does), never invent one
    created, updated = {"holder": "a", "waiting": {}}, {"holder": "a", "waiting": {"b": 2.5}}
    assert states[0] is None and all(state in (created, updated) for state in states[1:])
    stop()
    commit(docs, ("update", path, {"holder": "b"}))
    time.sleep(0.2)
    assert heard == states
