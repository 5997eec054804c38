"""A file the API hands out whole (DATEV, DSFinV-K, GoBD exports; statement files): its name, its
media type and its bytes in a binary file, so a large ZIP can be spooled to disk rather than held
in memory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO


@dataclass
class Download:
    filename: str  # what Content-Disposition names it
    media_type: str  # e.g. "text/csv; charset=windows-1252", "application/zip"
    content: BinaryIO  # positioned at its start; the caller closes it

    def read_all(self) -> bytes:
        with self.content:
            return self.content.read()
