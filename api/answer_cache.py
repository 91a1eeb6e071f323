"""The finished answers of succeeded reviews, kept as the bytes sent (issue 20, case 3).

A succeeded review's result never changes, nor does the dataset it was computed on, so its
recommendation and its adjustments (filtered, paged, JSON or CSV) are the same bytes every time a
caller who sees the same figures asks the same question. Building them is GIL time every other
request of the process waits for: at 300 reps the adjustments are 3.6 MB, about 0.7 s of decoding
the stored result, pandas and pydantic. The service keeps the rendered bytes, least recently used
dropped first once they add up to more than `answer_cache_mb` (docs/service.md "Security").

The key names the answer, the review (its id and finish time, so a recreated database never
serves another review's bytes), whether the caller sees pay (api/visibility.py: an answer built
for an approver never reaches a viewer) and every parameter that shapes the answer. The routes
check on every request, before the cache, that the caller may read and that the review has
succeeded: only such answers are ever stored.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from fastapi.responses import Response
from pydantic import BaseModel

from api.routers.common import SafeJSONResponse

logger = logging.getLogger(__name__)

@dataclass(frozen=True)
class Answer:
    """A rendered answer: its body, media type and the headers of its own (the middleware adds the
    security headers and Cache-Control: no-store to every /v1 answer, cached or not)."""

    body: bytes
    media_type: str
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, built: BaseModel | Response) -> "Answer":
        """A route's answer as bytes: a model as FastAPI sends it (JSON by alias, the app's
        SafeJSONResponse), a Response as it is."""
        if isinstance(built, BaseModel):
            built = SafeJSONResponse(built.model_dump(mode="json", by_alias=True))
        own = tuple((name, value) for name, value in built.headers.items()
                    if name.lower() not in ("content-length", "content-type"))
        return cls(body=bytes(built.body), media_type=built.media_type or "application/octet-stream", headers=own)

    def response(self) -> Response:
        return Response(self.body, media_type=self.media_type, headers=dict(self.headers))


class AnswerCache:
    """Rendered answers by key, bounded by the sum of their bodies (least recently used dropped
    first); 0 bytes turns it off."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max(0, int(max_bytes))
        self._answers: OrderedDict[Hashable, Answer] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    @property
    def size_bytes(self) -> int:
        """The bodies held now."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._answers)

    def get(self, key: Hashable) -> Answer | None:
        with self._lock:
            answer = self._answers.get(key)
            if answer is not None:
                self._answers.move_to_end(key)
            return answer

    def put(self, key: Hashable, answer: Answer) -> None:
        """Keep `answer` (one larger than the whole cache is not kept)."""
        size = len(answer.body)
        if size > self.max_bytes:
            return
        with self._lock:
            previous = self._answers.pop(key, None)
            if previous is not None:
                self._bytes -= len(previous.body)
            self._answers[key] = answer
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, dropped = self._answers.popitem(last=False)
                self._bytes -= len(dropped.body)

    def serve(self, key: Hashable, build: Callable[[], BaseModel | Response]) -> BaseModel | Response:
        """The answer kept under `key`, or `build()` rendered, kept and sent. With the cache off,
        `build()`'s result as it is (FastAPI renders a model, as without a cache)."""
        if not self.enabled:
            return build()
        answer = self.get(key)
        if answer is None:
            answer = Answer.of(build())
            self.put(key, answer)
        return answer.response()
