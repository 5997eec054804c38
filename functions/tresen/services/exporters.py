"""Every file finance downloads, behind one protocol: the DATEV, DSFinV-K and GoBD files of some days,
the bulk export of one kind as CSV or JSON Lines, and a statement's files."""

from __future__ import annotations

from datetime import date
from typing import BinaryIO, Protocol, TypeVar

from .datev_export import DATEV
from .downloads import Attachment
from .dsfinvk_export import DSFINVK
from .finance_ports import FinanceUnitOfWork
from .gobd_export import GOBD
from .row_exports import ROW_EXPORTS
from .statement_files import STATEMENT_FILES

Source = TypeVar("Source", contravariant=True)


class Exporter(Protocol[Source]):
    """A kind of file: rendered from its source (a `StorePeriod`, or a statement once built), reading
    through the unit of work, into a binary stream that it only ever writes to, so that a large file
    can go to a spool on disk or straight to the client rather than into memory."""

    @property
    def id(self) -> str:
        """Unique among EXPORTERS; a range file's is the last segment of its path."""

    @property
    def media_type(self) -> str: ...

    def file_name(self, store_id: str, first: date, last: date) -> str:
        """What the file of `store_id` over `first`..`last` is called when handed out."""

    def render(self, source: Source, uow: FinanceUnitOfWork, out: BinaryIO) -> Attachment:
        """Writes the file into `out` and answers the name and media type it is handed out under:
        `file_name` and `media_type`, but for DATEV, which writes a ZIP of batches where one file
        cannot hold the range."""


EXPORTERS: tuple[Exporter, ...] = (DATEV, DSFINVK, GOBD, *ROW_EXPORTS, *STATEMENT_FILES)
