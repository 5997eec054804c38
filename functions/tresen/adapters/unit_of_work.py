"""One request's (or one job's) unit of work over the process's adapters.

The process keeps one `Backend` (clients, caches, the store writer's heads); each request gets a
`StoreUnitOfWork` of its own, which carries what belongs to that request alone: the answer to store
with its first commit, so an idempotent replay returns exactly the bytes of the first response.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ..services.documents import Batch
from ..services.unit_of_work import Build, Committed
from .backend import Backend

T = TypeVar("T")
Answer = Callable[[Batch, Any], None]  # adds the stored answer for this result to the batch


class StoreUnitOfWork:
    def __init__(self, backend: Backend):
        self.backend = backend
        self._answer: Answer | None = None
        self._presenting: Callable[[Any], Any] = lambda result: result

    def __getattr__(self, name: str) -> Any:
        """Everything but the request's answer is the process's: the repositories (stateless over the
        one database), the clock, ids, the providers, the signer."""
        return getattr(self.backend, name)

    def answer_with(self, answer: Answer) -> None:
        """Store this request's answer in the same batch as the next commit."""
        self._answer = answer

    def presenting(self, transform: Callable[[Any], Any]) -> None:
        """The answer is of `transform(result)`, not of the plan's own result."""
        self._presenting = transform

    def commit(self, store_id: str, build: Build[T]) -> Committed[T]:
        hooks = []
        if self._answer is not None:
            answer, present = self._answer, self._presenting
            hooks.append(lambda batch, result: answer(batch, present(result)))
        committed = self.backend.commit(store_id, build, hooks)
        self._answer = None  # stored once, with the use case's own commit
        return committed
