"""The lake sink's file writes on one background thread, in order, beside the consumer.

Building a file's table from raw JSON (`lake.raw_columns`), encoding and compressing the
Parquet and writing it (fsync, rename) mostly run in Arrow's C++ and the OS with the GIL
released, so on a second core they overlap with the consumer thread decoding and checking
the next records. The consumer thread keeps every decision: a write is only a job whose
outcome (written, or failed with its items handed back) it collects in submission order
(`completed`) and acts on (metrics, dead letters, the retry of a failed write). At most
`max_in_flight` jobs wait or run: a slow backend slows the consumer instead of piling up
memory. The worker commits offsets only once nothing is buffered and no job is in flight
(`LakeSink.durable`), so exactly-once is unchanged: a committed offset still falls on a
file boundary of files that are on disk.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

# One (dataset, partition, date) buffer.
BufferKey = Any


@dataclass
class Job:
    """One buffer on its way to a file; `future` gives the work's result or its error."""

    key: BufferKey
    items: list[Any]
    future: Future[Any]


class BackgroundWrites:
    """Runs `work(key, items)` for each submitted buffer on `threads` threads; outcomes are
    collected in submission order."""

    def __init__(
        self,
        work: Callable[[BufferKey, list[Any]], Any],
        max_in_flight: int = 2,
        threads: int = 1,
    ):
        self._work = work
        self._max = max(1, max_in_flight)
        self._threads = max(1, threads)
        self._jobs: deque[Job] = deque()
        self._pool: ThreadPoolExecutor | None = None

    def __len__(self) -> int:
        return len(self._jobs)

    def submit(self, key: BufferKey, items: list[Any]) -> list[Job]:
        """Queue one buffer's write; returns jobs that had to complete first (back-pressure)."""
        finished: list[Job] = []
        while len(self._jobs) >= self._max:
            finished += self.completed(wait_for=1)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="lake-writer")
        self._jobs.append(Job(key, items, self._pool.submit(self._work, key, items)))
        return finished

    def completed(self, wait_for: int = 0) -> list[Job]:
        """Finished jobs in submission order (a later job waits for the earlier ones to be
        collected), after waiting for the oldest `wait_for` of them (-1: all)."""
        out: list[Job] = []
        while self._jobs:
            job = self._jobs[0]
            must_wait = wait_for == -1 or len(out) < wait_for
            if not must_wait and not job.future.done():
                break
            job.future.exception()  # waits; the outcome is read by the caller
            out.append(self._jobs.popleft())
        return out

    def close(self) -> list[Job]:
        """Wait for every job and stop the thread; returns the jobs it waited for."""
        jobs = self.completed(wait_for=-1)
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        return jobs
