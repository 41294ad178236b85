"""Requests per caller: per API key with auth on, per client address with it off, per page user.

The ``limits`` library (the engine under slowapi) is used directly, because the limit is per
caller and is counted where the caller is known: in the auth dependency for refused requests and
for every endpoint, and in ``service/asking.py`` for questions, which the page asks too. slowapi's
decorators or middleware would also count the page's own asset and queue requests under /ui.
"""

from __future__ import annotations

import math
import time

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


class RateLimitedError(Exception):
    def __init__(self, retry_after_s: int, limit: str) -> None:
        super().__init__(f"Too many requests: the limit is {limit} per caller. Retry in {retry_after_s} s.")
        self.retry_after_s = retry_after_s
        self.limit = limit


class RateLimit:
    def __init__(self, spec: str, storage: str = "memory://") -> None:
        self.spec = spec
        self._item = parse(spec)
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage))

    def hit(self, caller: str) -> None:
        """Count one request of ``caller``; raises :class:`RateLimitedError` past the limit."""
        if not self._limiter.hit(self._item, caller):
            reset = self._limiter.get_window_stats(self._item, caller).reset_time
            raise RateLimitedError(max(1, math.ceil(reset - time.time())), self.spec)
