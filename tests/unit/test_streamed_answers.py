"""A long file is sent while it is rendered: the rendering writes into a stream in a thread of its own,
the answer sends what it wrote in chunks; a failure before the first chunk is still a problem answer,
and a client that leaves stops the rendering."""

from __future__ import annotations

import threading

import pytest

from tresen.domain.errors import DomainError
from tresen.http import downloads
from tresen.http.downloads import ClientGone, streamed_answer
from tresen.services.downloads import Attachment

FILE = Attachment("tresen-demo-orders-2026-11-23-2026-11-23.csv", "text/csv; charset=utf-8; header=present")


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(downloads, "CHUNK", 4)


def writing(*parts: bytes, then: BaseException | None = None):
    def render(out) -> None:
        for part in parts:
            out.write(part)
        if then is not None:
            raise then

    return render


def test_the_answer_sends_what_the_rendering_writes_in_chunks_of_at_least_chunk_bytes():
    answer = streamed_answer(FILE, writing(b"abc", b"defgh", b"ij"))
    assert (answer.status_code, answer.content_type) == (200, FILE.media_type)
    assert answer.headers["Content-Disposition"] == f'attachment; filename="{FILE.file_name}"'
    assert answer.headers["Cache-Control"] == "no-store"
    assert list(answer.response) == [b"abcdefgh", b"ij"]


def test_a_rendering_that_writes_nothing_is_an_empty_answer():
    assert list(streamed_answer(FILE, writing()).response) == [b""]


def test_a_failure_before_the_first_chunk_is_raised_before_the_answer_starts():
    with pytest.raises(DomainError) as refused:
        streamed_answer(FILE, writing(b"ab", then=DomainError("store_not_found", "No store x.")))
    assert refused.value.code == "store_not_found"


def test_a_failure_after_the_first_chunk_cuts_the_answer_short():
    body = iter(streamed_answer(FILE, writing(b"abcd", b"ef", then=RuntimeError("page 2 unreadable"))).response)
    assert next(body) == b"abcd"
    with pytest.raises(RuntimeError, match="page 2 unreadable"):
        next(body)


def test_a_client_that_leaves_stops_the_rendering(monkeypatch):
    monkeypatch.setattr(downloads, "QUEUED", 1)
    monkeypatch.setattr(downloads, "WAIT", 0.01)
    stopped_by: list[BaseException] = []
    stopped = threading.Event()

    def endless(out) -> None:
        try:
            while True:
                out.write(b"rows")
        except BaseException as error:
            stopped_by.append(error)
            raise
        finally:
            stopped.set()

    answer = streamed_answer(FILE, endless)
    assert next(iter(answer.response)) == b"rows"
    answer.close()
    assert stopped.wait(5)
    assert [type(error) for error in stopped_by] == [ClientGone]
