"""The circuit breaker in front of the model endpoint: a failing endpoint must not cost every message
its reply deadline."""
from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from agent.llm.errors import LLMUnavailable


class Breaker:
    """Opens once `threshold` of the last `window` calls failed, whatever the kind of failure (an
    endpoint that fails every other call, or in a different way each time, still opens it); after
    `cooldown_s` lets one trial call through (half-open): its success closes the breaker and forgets
    the failures, its failure opens it for another cool-down.

    Not pybreaker: it holds one lock for the whole guarded call, so one hanging call would hold
    every group's messages behind it."""

    def __init__(self, threshold: int = 3, cooldown_s: float = 60.0, clock: Callable[[], float] = time.monotonic,
                 window: int | None = None):
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._outcomes: deque[bool] = deque(maxlen=window or 2 * threshold)  # True = failed
        self._opened_at: float | None = None
        self._trial = False  # a half-open trial call is in flight

    @property
    def state(self) -> str:
        with self._lock:
            if self._opened_at is None:
                return "closed"
            if self._trial or self._clock() - self._opened_at >= self.cooldown_s:
                return "half-open"
            return "open"

    def before_call(self) -> None:
        """Raise LLMUnavailable at once while open; admit a single trial once the cool-down is over."""
        with self._lock:
            if self._opened_at is None:
                return
            if self._trial or self._clock() - self._opened_at < self.cooldown_s:
                raise LLMUnavailable("circuit open: the model endpoint failed repeatedly, cooling down")
            self._trial = True

    def succeeded(self) -> None:
        with self._lock:
            if self._opened_at is not None:  # the trial succeeded: start afresh
                self._outcomes.clear()
            else:
                self._outcomes.append(False)
            self._opened_at, self._trial = None, False

    def failed(self) -> None:
        with self._lock:
            self._outcomes.append(True)
            if self._trial or sum(self._outcomes) >= self.threshold:
                self._opened_at, self._trial = self._clock(), False
