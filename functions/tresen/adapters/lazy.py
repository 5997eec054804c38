"""Process-wide clients, created on first use: keeps cold start cheap and makes exactly one."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


def once(factory: Callable[[], T]) -> Callable[[], T]:
    lock = threading.Lock()
    made: list[T] = []

    @functools.wraps(factory)
    def get() -> T:
        if not made:
            with lock:
                if not made:
                    made.append(factory())
        return made[0]

    return get


class TtlCache(Generic[T]):
    """Values loaded on first use and kept `ttl` seconds. At most `limit` are kept (all are dropped
    when it is reached): the keys may come from outside (unknown store ids, made-up origins), and
    must not grow a process's memory without bound."""

    def __init__(self, ttl: float, limit: int = 1024):
        self.ttl, self._limit = ttl, limit
        self._entries: dict[Hashable, tuple[float, T]] = {}

    def put(self, key: Hashable, value: T) -> T:
        """Keep `value`, read afresh, for the next `ttl` seconds."""
        if len(self._entries) >= self._limit:
            self._entries.clear()
        self._entries[key] = (time.monotonic(), value)
        return value

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        cached = self._entries.get(key)
        if cached is None or time.monotonic() - cached[0] > self.ttl:
            return self.put(key, load())
        return cached[1]


class Deferred:
    """An adapter made on first use of any of its methods (a client of an outside service most
    requests never call)."""

    def __init__(self, factory: Callable[[], object]):
        self._made = once(factory)

    def __getattr__(self, name: str):
        return getattr(self._made(), name)
