"""The archive queue: what is committed within its linger is archived together, and the outbox
markers of everything archived are cleared in one commit; a failed write keeps its marker."""

from tresen.adapters.archive import ArchiveQueue, MemoryArchive, archive_object_name
from tresen.adapters.journal_store import outbox_path
from tresen.adapters.memory_documents import MemoryDocuments


def entry(seq: int) -> dict:
    return {"store_id": "s1", "seq": seq, "type": "order.placed", "data": {}, "hash": f"{seq:064x}"}


def queue_with_markers(seqs, archive) -> tuple[ArchiveQueue, MemoryDocuments, list[int]]:
    docs = MemoryDocuments()
    marked = docs.batch()
    for seq in seqs:
        marked.create(outbox_path("s1", seq), {"store_id": "s1", "seq": seq})
    marked.commit()
    commits = []
    make_batch = docs.batch

    def counted_batch():
        made = make_batch()
        commit = made.commit
        made.commit = lambda: commits.append(1) or commit()
        return made

    docs.batch = counted_batch
    return ArchiveQueue(docs, archive, linger=30), docs, commits


def test_entries_committed_within_the_linger_are_archived_together():
    archive = MemoryArchive()
    queue, docs, commits = queue_with_markers([1, 2, 3], archive)
    for seq in (1, 2, 3):  # three orders' commits, one after the other
        queue.submit([entry(seq)])
    assert archive.objects == {}  # still lingering: a long linger, cut short by drain
    queue.drain()
    assert sorted(archive.objects) == [archive_object_name("s1", seq) for seq in (1, 2, 3)]
    assert [docs.get(outbox_path("s1", seq)) for seq in (1, 2, 3)] == [None, None, None]
    assert commits == [1]  # one commit clears the three markers


def test_an_entry_the_archive_refuses_keeps_its_marker_for_the_sweeper():
    class Failing(MemoryArchive):
        down = True

        def put(self, name: str, data: bytes) -> None:
            if self.down and name == archive_object_name("s1", 2):
                raise OSError("the bucket does not answer")
            super().put(name, data)

    archive = Failing()
    queue, docs, _ = queue_with_markers([1, 2, 3], archive)
    queue.submit([entry(1), entry(2), entry(3)])
    queue.drain()
    assert sorted(archive.objects) == [archive_object_name("s1", seq) for seq in (1, 3)]
    assert [docs.get(outbox_path("s1", seq)) is None for seq in (1, 2, 3)] == [True, False, True]
    archive.down = False
    assert queue.put_entries([entry(2)]) == 1  # the sweep's retry
    assert docs.get(outbox_path("s1", 2)) is None
