"""Serving an output of the newest committed analytics run in the client API.

The product page's neighbours (`neighbours.py`) and search's learned refinements
(`refinements.py`) are both read from the lake the same way: the newest *published* run
(the one whose lists the topics hold; a `--no-publish` run serves nothing), folded into
what a request looks up, and re-read when a newer run is committed.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from typing import Any, Generic, TypeVar

import pyarrow as pa

from vitrina.analytics.lakeio import AnalyticsLake, EmptyLakeError
from vitrina.settings import Settings

# A newer run is looked for this often: one listing of the run markers (local, HDFS or one
# S3 LIST) per process; a run is served at most this long after it is committed.
REFRESH_S = 10.0
# A started reader's first look at the lake: requests before it is done wait this long.
FIRST_READ_WAIT_S = 5.0

log = logging.getLogger(__name__)
Folded = TypeVar("Folded")
Follower = TypeVar("Follower", bound="RunFollower[Any]")


class RunFollower(ABC, Generic[Folded]):
    """One output of the newest committed run, folded (`fold`) for lookups.

    Started (`start`, as the client API does), a thread of its own looks for a newer run
    every `refresh_s` and swaps it in once read, so no request waits on the lake: it did,
    for ~0.2 s in each server process's first product page and again each time a run was
    committed, holding the lock every other product page waited on. Not started,
    `snapshot` looks for a newer run itself (scripts, tests)."""

    output: str  # the run's output this follower serves

    def __init__(self, lake: AnalyticsLake, empty: Folded, refresh_s: float = REFRESH_S) -> None:
        self.lake = lake
        self.refresh_s = refresh_s
        # (run, folded output): swapped whole, so a request sees one run's or the next's
        self._snapshot: tuple[str | None, Folded] = (None, empty)
        self._checked = float("-inf")
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._first = threading.Event()  # the first look at the lake is done

    @abstractmethod
    def fold(self, table: pa.Table) -> Folded:
        """The output's rows as requests look them up."""

    def start(self) -> RunFollower[Folded]:
        """Read the newest run and keep reading newer ones in a thread (idempotent)."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(
                    target=self._follow, name=self.output.replace("_", "-"), daemon=True
                )
                self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(10)
        self._thread = None

    def _follow(self) -> None:
        failed = ""
        while not self._stop.is_set():
            try:
                self._refresh(force=True)
                failed = ""
            except Exception as exc:  # the lake away or a bad file: keep serving what we have
                if str(exc) != failed:  # once per distinct failure, not every refresh_s
                    log.warning(
                        "%s: reading the newest run failed (still serving run %s): %s",
                        self.output,
                        self.run_id,
                        exc,
                    )
                failed = str(exc)
            finally:
                self._first.set()
            self._stop.wait(self.refresh_s)

    def _refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < self.refresh_s:
            return
        self._checked = now
        run = self.lake.last_run(self.output, published=True)
        if run is None or run == self._snapshot[0]:
            return
        try:
            table = self.lake.read_output(self.output, run)
        except (EmptyLakeError, OSError):
            return  # keep serving what we have (an older run may lack the output)
        self._snapshot = (run, self.fold(table))

    @property
    def run_id(self) -> str | None:
        return self._snapshot[0]

    def snapshot(self) -> tuple[str | None, Folded]:
        """The run served and its folded output (one run's, never a mix)."""
        if self._thread is not None:
            self._first.wait(FIRST_READ_WAIT_S)  # a process's first requests, at most
        else:
            with self._lock:
                self._refresh()
        return self._snapshot


_served: dict[tuple[type[Any], str], Any] = {}
_served_lock = threading.Lock()


def served(kind: type[Follower], settings: Settings) -> Follower:
    """One follower of a kind per lake per process (the client API's)."""
    key = (kind, settings.lake_url)
    with _served_lock:
        if key not in _served:
            _served[key] = kind(AnalyticsLake.from_settings(settings))  # type: ignore[call-arg]
        follower: Follower = _served[key]
        return follower
