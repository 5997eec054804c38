"""The grammar of every id the outside world names (path parameters, provider ids we store).

Firestore reserves document ids such as `__x__`, `.` and `..` and cannot take `/`; none of our ids
has such a shape, so anything outside this grammar is simply unknown, before anything is read.
"""

from __future__ import annotations

import re

ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")


def is_id(value: object) -> bool:
    return isinstance(value, str) and ID.fullmatch(value) is not None
