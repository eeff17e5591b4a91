"""The analytics job's edge to the data lake: find input files, write and read outputs.

Inputs follow the lake contract (`vitrina.lake.layout`); outputs are written next to them as
`{root}/analytics_<name>/run=<run_id>/part-000.parquet`, one directory per run. A run becomes
current only when its marker `{root}/analytics_runs/run=<run_id>.json` is written, after every
output is written and published; readers follow the newest marker, so a failed or
half-written run is never served (each file appears atomically through temp-and-rename).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
from fsspec.implementations.local import LocalFileSystem

from vitrina.analytics.relations import INPUT_COLUMNS, REQUIRED_INPUTS
from vitrina.errors import VitrinaError
from vitrina.lake.filesystems import answering, away, engine_url, exists, lake_away
from vitrina.lake.writer import LakeWriter, lake_filesystem, parquet_bytes
from vitrina.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

OUTPUT_PREFIX = "analytics_"
# Output relation -> lake dataset suffix, where the names differ (the brief's lake names).
LAKE_NAMES = {"category_stats": "categories"}
RUNS_DIR = "analytics_runs"  # one marker per committed (current-able) run
RUN_ID_FORMAT = "%Y%m%dT%H%M%S%fZ"  # a run's id: its start, UTC (sorts as time)
# Listings of the inputs a reader tries when a listed file vanished before it was read (the
# lake sink's compaction merged it): a round of compaction takes seconds, a run more.
VANISHED_RETRIES = 3
# A run without a marker this long after it started failed or was killed: its outputs go.
ABANDONED_AFTER = timedelta(hours=6)
# Under a local lake's root (hidden: no dataset lists it): one directory per read holding hard
# links of the files it listed, which compaction's deletes do not reach (AnalyticsLake.pinned).
PINS_DIR = ".analytics-inputs"


class EmptyLakeError(VitrinaError):
    """The lake has no data the job needs yet."""

    status_code = 409


class UnreadableLakeFile(VitrinaError):
    """A lake file an engine cannot read: damaged outside Vitrina (the sink writes whole
    files only, through temp-and-rename)."""


class InputVanished(VitrinaError):
    """A listed input file was deleted before an engine read it: the lake sink's compaction
    merged it into another (`lake.compaction`). Listing the inputs again finds its rows."""


def unreadable(path: str, reason: str) -> UnreadableLakeFile:
    lines = [line for line in reason.strip().splitlines() if line.strip()]
    # The path alone, not inside a URL that names it (`…/webhdfs/v1/vitrina/…?op=OPEN`)
    alone = re.compile(rf"'{re.escape(path)}'|(?<![\w/.]){re.escape(path)}(?![\w/.?])")
    first = alone.sub("it", lines[0]) if lines else "no reason"
    return UnreadableLakeFile(
        f"the lake file {path} cannot be read ({first})",
        hint="the lake sink writes each file whole (a temp file, then a rename), so it was "
        "damaged outside Vitrina (disk, copy, hand edit): restore it or move it out of the "
        "lake, then run again; the previous analytics run keeps serving",
    )


def named_input(reason: str, inputs: dict[str, InputFiles]) -> str | None:
    """The input file an engine's error names, if any (by its path, whatever the scheme
    and authority: Spark reads webhdfs:// files through the NameNode's hdfs:// address)."""
    for files in inputs.values():
        for url in files.urls:
            path = url.split("://", 1)[-1]
            if "://" in url:
                path = "/" + path.split("/", 1)[-1]  # without the authority
            if url in reason or path in reason:
                return url
    return None


@dataclass(frozen=True)
class InputFiles:
    """One input dataset: its file URLs (as engines address them) and the columns they hold."""

    dataset: str
    urls: list[str]
    columns: frozenset[str]


class AnalyticsLake:
    """Reads inputs and writes outputs of the analytics job under one lake root."""

    def __init__(self, fs: fsspec.AbstractFileSystem, root: str, url: str) -> None:
        self.fs = fs
        self.root = root
        self.url = url
        self.writer = LakeWriter(fs, root)
        self.local = isinstance(fs, LocalFileSystem)

    @classmethod
    def from_settings(cls, settings: Settings) -> AnalyticsLake:
        fs, root = lake_filesystem(settings)
        return cls(fs, root, settings.lake_url)

    def address(self, path: str) -> str:
        """A path inside the filesystem as an engine opens it (plain path when local)."""
        return engine_url(self.url, path)  # keeps the host:port Spark needs (webhdfs://)

    def vanished(self, url: str) -> bool:
        """True when the input file at this engine URL is gone (merged by compaction)."""
        return not exists(self.fs, self.fs._strip_protocol(url))

    def read_listed(self, read: Callable[[dict[str, InputFiles]], T]) -> T:
        """`read(inputs)` over a listing of the input files, listed again (up to
        VANISHED_RETRIES times) when a listed file was gone before it was read: the lake
        sink's compaction merged it. An engine's error naming a listed file that is still
        there is an UnreadableLakeFile (damaged outside Vitrina)."""
        for _ in range(VANISHED_RETRIES - 1):
            try:
                return self._read_once(read)
            except InputVanished as exc:
                log.info("analytics: %s; listing the lake again", exc.message)
        return self._read_once(read)

    def _read_once(self, read: Callable[[dict[str, InputFiles]], T]) -> T:
        with answering(self.url):  # the listing: a NameNode that does not answer
            listed = self.inputs()
        with self.pinned(listed) as (inputs, original):
            try:
                return read(inputs)
            except VitrinaError:
                raise
            except Exception as exc:  # an engine's error: say which lake file, if it names one
                if lake_away(exc):  # not a damaged file: the storage does not answer
                    raise away(exc, self.url) from exc
                named = named_input(str(exc), inputs)
                if named is None:
                    raise
                named = original.get(named, named)
                if not original and self.vanished(named):  # a pinned file cannot vanish
                    raise InputVanished(f"the lake file {named} was merged away") from exc
                raise unreadable(named, str(exc)) from exc

    @contextlib.contextmanager
    def pinned(
        self, inputs: dict[str, InputFiles]
    ) -> Iterator[tuple[dict[str, InputFiles], dict[str, str]]]:
        """The inputs as the engine reads them, and each pinned file's original path.

        On a local lake every listed file is hard-linked, under its own path, into a
        directory of this read's own (`PINS_DIR`), and read there: the lake sink's
        compaction deletes the files it merged, and a run that outlived a few of its rounds
        failed after listing the lake three times ("was merged away", 1 of 65 runs of a
        70-minute `vitrina up`). A link costs a few microseconds and no bytes; the directory
        goes when the read ends; left by a killed run, with the next read (its process is
        gone: `_abandoned`). A file gone before it was linked is InputVanished (listed again);
        a filesystem without hard links reads the lake in place, as a remote lake is read.
        """
        here = self._pin(inputs) if self.local else None
        if here is None:
            yield inputs, {}
            return
        try:
            original: dict[str, str] = {}
            linked: dict[str, InputFiles] = {}
            for name, files in inputs.items():
                links = [str(here / os.path.relpath(url, self.root)) for url in files.urls]
                original.update(zip(links, files.urls, strict=True))
                linked[name] = replace(files, urls=links)
            yield linked, original
        finally:
            shutil.rmtree(here, ignore_errors=True)

    def _pin(self, inputs: dict[str, InputFiles]) -> Path | None:
        """Hard links of every listed file under a new directory of PINS_DIR, each at its
        path relative to the root; None when this filesystem makes none (or a file lies
        outside the root)."""
        pins = Path(self.root) / PINS_DIR
        self._drop_abandoned_pins(pins)
        here = pins / _pin_name(time.strftime("%Y%m%dT%H%M%S"), HOST, os.getpid())
        try:
            for files in inputs.values():
                for url in files.urls:
                    relative = os.path.relpath(url, self.root)
                    if relative.startswith(".."):
                        raise OSError(f"{url} is outside the lake's root")
                    link = here / relative
                    link.parent.mkdir(parents=True, exist_ok=True)
                    os.link(url, link)
        except FileNotFoundError as exc:
            shutil.rmtree(here, ignore_errors=True)
            raise InputVanished(f"the lake file {exc.filename} was merged away") from exc
        except OSError as exc:  # no hard links here (EXDEV, EPERM): read in place
            log.debug("analytics: cannot pin the lake's files (%s); reading them in place", exc)
            shutil.rmtree(here, ignore_errors=True)
            return None
        return here

    @staticmethod
    def _drop_abandoned_pins(pins: Path) -> None:
        for entry in pins.glob("*") if pins.is_dir() else []:
            with contextlib.suppress(OSError):
                if _abandoned(entry):
                    shutil.rmtree(entry, ignore_errors=True)

    def inputs(self) -> dict[str, InputFiles]:
        """Every input dataset with its files; raise EmptyLakeError if a required one is empty."""
        found: dict[str, InputFiles] = {}
        for dataset in INPUT_COLUMNS:
            files = [f.path for f in self.writer.files(dataset)]
            columns: set[str] = set()
            # First and last file: the schema only grows, so these two cover the history.
            for path in {files[0], files[-1]} if files else set():
                try:
                    with self.fs.open(path, "rb") as fh:
                        columns.update(pq.read_schema(fh).names)
                except FileNotFoundError as exc:
                    raise InputVanished(f"the lake file {path} was merged away") from exc
                except (pa.ArrowInvalid, OSError) as exc:
                    if lake_away(exc):  # the DataNode down: not a damaged file
                        raise away(exc, self.url) from exc
                    raise unreadable(path, str(exc)) from exc
            found[dataset] = InputFiles(
                dataset, [self.address(p) for p in files], frozenset(columns)
            )
        for dataset in REQUIRED_INPUTS:
            if not found[dataset].urls:
                raise EmptyLakeError(
                    f"the lake at {self.url} has no products yet ({dataset}/ is empty)",
                    hint="run `vitrina up` or `vitrina shop load` first (the lake sink "
                    "writes every topic to the lake), then `vitrina analytics run`",
                )
        return found

    # -- outputs -------------------------------------------------------------------------
    def output_path(self, name: str, run_id: str) -> str:
        return f"{self.dataset_path(name)}/run={run_id}/part-000.parquet"

    def dataset_path(self, name: str) -> str:
        return f"{self.root}/{OUTPUT_PREFIX}{LAKE_NAMES.get(name, name)}"

    def write_output(self, name: str, run_id: str, table: pa.Table) -> str:
        path = self.output_path(name, run_id)
        self.writer._put_atomic(path, parquet_bytes(table))
        return path

    def discard_run(self, run_id: str, names: list[str]) -> None:
        """Delete what an uncommitted run wrote of `names`, best effort: what is left is
        pruned later as an abandoned run (`prune_runs`). A run whose marker is there (its
        commit failed after the rename) keeps them: readers may follow the marker."""
        if exists(self.fs, self._marker(run_id)):
            return
        for name in names:
            try:
                self.fs.rm(self.output_path(name, run_id).rsplit("/", 1)[0], recursive=True)
            except FileNotFoundError:
                continue
            except OSError as exc:
                log.warning("analytics: outputs of failed run %s not deleted: %s", run_id, exc)
                return

    def _marker(self, run_id: str) -> str:
        return f"{self.root}/{RUNS_DIR}/run={run_id}.json"

    def commit_run(self, run_id: str, report: bytes) -> str:
        """Mark `run_id` current: its outputs are complete and valid."""
        path = self._marker(run_id)
        self.writer._put_atomic(path, report)
        return path

    def committed_runs(self) -> list[str]:
        """Every committed run, oldest first (run ids sort as their start times)."""
        base = f"{self.root}/{RUNS_DIR}"
        if not exists(self.fs, base):
            return []
        names = (p.rstrip("/").rsplit("/", 1)[-1] for p in self.fs.ls(base, detail=False))
        return sorted(
            n.removeprefix("run=").removesuffix(".json")
            for n in names
            if n.startswith("run=") and n.endswith(".json")
        )

    def prune_runs(
        self, keep: int, now: datetime, abandoned_after: timedelta = ABANDONED_AFTER
    ) -> list[str]:
        """Delete all but the newest `keep` committed runs (marker and outputs), and the
        outputs of runs never committed (failed or killed) that started before the oldest
        kept one and `abandoned_after` before `now` (a run still writing is younger).
        Returns the runs deleted. Readers follow the newest marker, which is kept."""
        if keep < 1:
            raise ValueError("keep at least the current run")
        committed = self.committed_runs()
        if not committed:
            return []
        oldest_kept = committed[-keep:][0]
        doomed, known = set(committed[:-keep]), set(committed)
        # The run serving (the newest published) stays even behind `keep` unpublished runs:
        # the product pages read it, and the next run withdraws the lists it sent.
        doomed.discard(self.last_published_run(look_back=len(committed), runs=committed) or "")
        for run in sorted(doomed):  # markers first: no reader picks a run being deleted
            self.fs.rm(f"{self.root}/{RUNS_DIR}/run={run}.json")
        cutoff = (now - abandoned_after).strftime(RUN_ID_FORMAT)
        deleted = set(doomed)
        for dataset in self.fs.ls(self.root, detail=False):
            name = dataset.rstrip("/").rsplit("/", 1)[-1]
            if not name.startswith(OUTPUT_PREFIX) or name == RUNS_DIR:
                continue
            for path in self.fs.ls(dataset, detail=False):
                entry = path.rstrip("/").rsplit("/", 1)[-1]
                if not entry.startswith("run="):
                    continue
                run = entry.removeprefix("run=")
                abandoned = run not in known and run < min(oldest_kept, cutoff)
                if run in doomed or abandoned:
                    self.fs.rm(path, recursive=True)
                    deleted.add(run)
        return sorted(deleted)

    def output_runs(self, name: str) -> list[str]:
        """Every run that wrote `name`, committed or not (a run killed after its publish and
        before its marker), oldest first."""
        base = self.dataset_path(name)
        if not exists(self.fs, base):
            return []
        entries = (p.rstrip("/").rsplit("/", 1)[-1] for p in self.fs.ls(base, detail=False))
        return sorted(e.removeprefix("run=") for e in entries if e.startswith("run="))

    def report(self, run_id: str) -> dict[str, Any]:
        """The report a committed run's marker holds ({} if unreadable or gone)."""
        try:
            with self.fs.open(self._marker(run_id), "rb") as fh:
                report = json.loads(fh.read() or b"{}")
        except (FileNotFoundError, ValueError):
            return {}
        return report if isinstance(report, dict) else {}

    def published(self, run_id: str, topic: str | None = None) -> bool:
        """Whether the committed run published (to `topic`, or to any topic): a
        `--no-publish` run is committed too, for `analytics show`, but serves nothing."""
        sent = self.report(run_id).get("published") or {}
        return bool(sent) if topic is None else topic in sent

    def last_published_run(
        self, topic: str | None = None, look_back: int = 50, runs: list[str] | None = None
    ) -> str | None:
        """The newest committed run that published (to `topic`, or to any topic); `runs`:
        the committed runs, when the caller listed them already."""
        committed = self.committed_runs() if runs is None else runs
        for run in list(reversed(committed))[:look_back]:
            if self.published(run, topic):
                return run
        return None

    def last_run(self, name: str = "recommendations", *, published: bool = False) -> str | None:
        """The newest committed run that wrote `name` (and published, if asked: what is
        served follows those, `analytics show` any run)."""
        for run in reversed(self.committed_runs()):
            if exists(self.fs, self.output_path(name, run)) and (
                not published or self.published(run)
            ):
                return run
        return None

    def read_output(
        self, name: str, run_id: str | None = None, columns: list[str] | None = None
    ) -> pa.Table:
        run = run_id or self.last_run(name)
        if run is None:
            raise EmptyLakeError(
                f"no analytics run has written {name} to {self.url} yet",
                hint="run `vitrina analytics run` first",
            )
        # Copied into memory Arrow owns, then read: Arrow reads in its own threads and lets
        # go of what it read there, after the read is over. When that came after the main
        # thread had begun to exit and the memory was a Python object (the Python file, or
        # bytes read from it), letting go asked for the interpreter that was going away and
        # the process aborted ("terminate called without an active exception", exit 134;
        # gdb: ~PyReadableFile, ~PyBuffer in an Arrow pool thread during Py_FinalizeEx).
        # Most `analytics show` runs on a file of no rows with read-ahead (a blind review),
        # 2 in 40 without it, and 4 in 100 reading Python bytes, on a loaded machine (CI).
        # The outputs are small: 10 items a customer at most (their size at 5M events was
        # not measured). Compaction, which reads larger files, opens a local lake's file
        # natively instead (`filesystems.parquet_source`).
        whole = pa.BufferOutputStream()
        with self.fs.open(self.output_path(name, run), "rb") as fh:
            whole.write(fh.read())
        return pq.read_table(pa.BufferReader(whole.getvalue()), columns=columns)


# The host a run's pins are named with: on a lake shared by hosts, a process id says
# something only on its own host.
HOST = re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname()) or "localhost"


def _pin_name(started: str, host: str, pid: int) -> str:
    return f"{started}-{uuid.uuid4().hex[:6]}-{host}-{pid}"


def _abandoned(entry: Path) -> bool:
    """A run's pin directory whose run is over: its process is gone from this host (a
    kill -9: the links held the space of files compaction had deleted for ABANDONED_AFTER,
    6 hours, before), or, made on another host or named before, older than
    ABANDONED_AFTER."""
    parts = entry.name.split("-")  # started, a random tag, host, pid (_pin_name)
    host, pid = (parts[2], parts[3]) if len(parts) == 4 else ("", "")
    if host == HOST and pid.isdecimal() and int(pid) != os.getpid():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # alive, another user's
            return False
    cutoff = time.time() - ABANDONED_AFTER.total_seconds()
    return entry.stat().st_mtime < cutoff
