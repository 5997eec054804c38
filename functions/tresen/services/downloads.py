"""What every file finance downloads shares: the store and days it covers, the name and media type it
is handed out under, the one ZIP writer of the ZIP exports, and spooling a rendering so that a large
file goes to disk rather than into memory."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from pathlib import Path
from typing import BinaryIO, ClassVar

from .finance_ports import FinanceUnitOfWork

ZIP_TYPE = "application/zip"
SPOOL_BYTES = 8 << 20  # a rendered file is kept in memory up to this size, then on disk


@dataclass(frozen=True)
class StorePeriod:
    """What a range export renders: a store's books from `first` to `last` (store-local days, inclusive)."""

    store_id: str
    first: date
    last: date


@dataclass(frozen=True)
class Attachment:
    """The name (Content-Disposition) and media type a rendered file is handed out under."""

    file_name: str
    media_type: str


@dataclass
class Download:
    """A rendered file: what it is handed out as, and its bytes in a binary file."""

    attachment: Attachment
    content: BinaryIO  # positioned at its start; the caller closes it


class PeriodFile(ABC):
    """A whole file of a store's books over some days (DATEV, DSFinV-K, GoBD), named
    `{stem}_{store}_{first}_{last}.{extension}` (days as YYYYMMDD)."""

    id: ClassVar[str]
    media_type: ClassVar[str]
    description: ClassVar[str]  # what the file holds, as the API documents it
    stem: ClassVar[str]
    extension: ClassVar[str]

    def file_name(self, store_id: str, first: date, last: date) -> str:
        return f"{self.stem}_{store_id}_{first:%Y%m%d}_{last:%Y%m%d}.{self.extension}"

    def attachment(self, period: StorePeriod) -> Attachment:
        return Attachment(self.file_name(period.store_id, period.first, period.last), self.media_type)

    @abstractmethod
    def render(self, period: StorePeriod, uow: FinanceUnitOfWork, out: BinaryIO) -> Attachment: ...


# A ZIP member: its bytes, a file to copy in, or a writer of its bytes into the member
Member = bytes | Path | Callable[[BinaryIO], None]


def write_zip(out: BinaryIO, members: Iterable[tuple[str, Member]]) -> None:
    """A deflated ZIP of `members` (name, content), in order, written into `out`; a member written by
    a function goes straight into the archive, so no member need be whole in memory."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members:
            if isinstance(content, bytes):
                archive.writestr(name, content)
            elif isinstance(content, Path):
                archive.write(content, name)
            else:
                with archive.open(name, "w") as target:
                    content(target)


def copied_from(source: BinaryIO) -> Callable[[BinaryIO], None]:
    """A ZIP member with the content of `source`, a temporary file written before the archive."""

    def copy(target: BinaryIO) -> None:
        source.seek(0)
        shutil.copyfileobj(source, target)

    return copy


def spooled(render: Callable[[BinaryIO], Attachment]) -> Download:
    """The file `render` writes, spooled to disk beyond SPOOL_BYTES."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115  (the Download's holder closes it)
    try:
        attachment = render(spool)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return Download(attachment, spool)


def in_memory(render: Callable[[BinaryIO], Attachment]) -> tuple[Attachment, bytes]:
    """The file `render` writes, whole: for files that are kept as bytes anyway (a statement's)."""
    buffer = BytesIO()
    return render(buffer), buffer.getvalue()
