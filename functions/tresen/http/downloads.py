"""Answers that hand out a file: a whole file from its spool, or a long one streamed while it is still
being rendered."""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from werkzeug.wrappers import Request, Response
from werkzeug.wsgi import wrap_file

from ..services.downloads import Attachment, Download

CHUNK = 64 << 10  # bytes of a streamed file handed to the server at once
QUEUED = 16  # chunks rendered ahead of a slow client, at most; rendering waits beyond that
WAIT = 1.0  # seconds between looks, while the queue is full, at whether the client went away
DONE = object()


def attachment_headers(attachment: Attachment) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{attachment.file_name}"', "Cache-Control": "no-store"}


def file_answer(request: Request, download: Download) -> Response:
    return Response(
        wrap_file(request.environ, download.content),
        status=200,
        content_type=download.attachment.media_type,
        direct_passthrough=True,
        headers=attachment_headers(download.attachment),
    )


def streamed_answer(attachment: Attachment, render: Callable[[BinaryIO], Any]) -> Response:
    """The file `render` writes, sent as it is written. The answer starts once its first CHUNK bytes
    are made (or all of them, if fewer): a rendering that fails before then (a store that does not
    exist, a range refused, a first page that cannot be read) answers a problem, not a 200 cut short."""
    rendering = Rendering(render)
    chunks = rendering.chunks()
    first = next(chunks, b"")

    def body() -> Iterator[bytes]:
        yield first
        yield from chunks

    answer = Response(body(), status=200, content_type=attachment.media_type, headers=attachment_headers(attachment))
    answer.call_on_close(rendering.abandon)  # a client that leaves early stops the rendering
    return answer


class ClientGone(Exception):
    """Raised into a rendering whose output nobody reads any more."""


class Rendering(io.RawIOBase):
    """`render` run in a thread of its own, writing into this stream; what it writes is handed to the
    answer in chunks of CHUNK bytes, and what it raises is raised to the answer after them."""

    def __init__(self, render: Callable[[BinaryIO], Any]):
        super().__init__()
        self._queue: queue.Queue[Any] = queue.Queue(QUEUED)
        self._abandoned = threading.Event()
        self._pending = bytearray()
        threading.Thread(target=self._run, args=(render,), name="rendering", daemon=True).start()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._pending += data
        if len(self._pending) >= CHUNK:
            self._hand_over_pending()
        return len(data)

    def chunks(self) -> Iterator[bytes]:
        try:
            while (item := self._queue.get()) is not DONE:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self.abandon()

    def abandon(self) -> None:
        self._abandoned.set()

    def _run(self, render: Callable[[BinaryIO], Any]) -> None:
        try:
            render(self)
            if self._pending:
                self._hand_over_pending()
        except ClientGone:
            return
        except BaseException as error:  # whatever stops the rendering must reach the answer, or it waits forever
            self._offer(error)
            return
        self._offer(DONE)

    def _hand_over_pending(self) -> None:
        if not self._offer(bytes(self._pending)):
            raise ClientGone
        self._pending.clear()

    def _offer(self, item: Any) -> bool:
        """Queues `item` for the answer; False if the answer was abandoned first."""
        while not self._abandoned.is_set():
            try:
                self._queue.put(item, timeout=WAIT)
                return True
            except queue.Full:
                continue
        return False
