"""CSV as exports hand it out: RFC 4180, UTF-8, a header row, CRLF line ends, amounts in cents."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from itertools import chain
from typing import Any


def csv_document(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    return csv_lines(chain([header], rows))


def csv_lines(rows: Iterable[Sequence[object]]) -> str:
    """Rows as RFC 4180 lines, with no header: a page of a document written page by page."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def csv_cell(value: Any) -> Any:
    """None is an empty cell (the writer's own rule); an object (a journal entry's data) compact JSON."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) if isinstance(value, dict) else value
