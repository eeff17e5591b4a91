"""Caches a read-only index reader keeps across commits, for a bounded time.

A reader (a client API process) notices a new commit at most every reload interval. Under
steady traffic the indexer commits as soon as it has caught up, so a reader that emptied its
caches at every commit would answer most searches cold. Instead each cached value is tagged
with the index generation it was computed against, and may be served until STALE_S after
the first commit that superseded that generation was noticed; then it is computed again.
Bans are not affected: callers re-check every hit against the live ban list.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

# 0.25 s: a result is at most this much older than the commit that changed it, on top of the
# 0.1 s reload interval. OpenSearch's default refresh interval is 1 s, so the embedded
# backend stays fresher than the distributed one, and product → searchable / ban → gone
# stay within their 0.5 s p95 targets, while a reader under a commit every ~0.1 s keeps its
# head queries cached (emptied at each commit, most searches were cold).
STALE_S = 0.25

Value = TypeVar("Value")


class Generations:
    """The index generations a reader has noticed, numbered from 0, and when each was
    superseded; which of them may still be served."""

    def __init__(self, stale_s: float, clock: Callable[[], float]) -> None:
        self.stale_s = stale_s
        self.clock = clock
        self.current = 0
        self._superseded: deque[tuple[int, float]] = deque()  # (generation, superseded at)

    def advance(self) -> None:
        """A new commit was noticed: the current generation is superseded now."""
        self._superseded.append((self.current, self.clock()))
        self.current += 1

    def oldest_servable(self) -> int:
        """Values computed against this generation or a later one may be served."""
        now = self.clock()
        superseded = self._superseded
        while superseded and now - superseded[0][1] >= self.stale_s:
            superseded.popleft()
        return superseded[0][0] if superseded else self.current


class GenerationCache(Generic[Value]):
    """A bounded LRU map of values, each tagged with the generation it was computed
    against. Thread-safe: the client API may search from its thread pool too."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[Hashable, tuple[Value, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, oldest: int) -> tuple[Value, int] | None:
        """The value and its generation, unless absent or older than `oldest`."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[1] < oldest:
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: Hashable, value: Value, generation: int) -> None:
        with self._lock:
            self._entries[key] = (value, generation)
            self._entries.move_to_end(key)
            if len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
