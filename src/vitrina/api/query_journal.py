"""The query log's journal: a search's record is on local disk before its request returns,
so a kill -9 of a client API process, or a broker away longer than the producer waits,
loses none of it.

Each process appends its records, one JSON line each, to its own segment file in
`<data_dir>/query-log/`. A segment's blocks are allocated when it is made (4 MiB, so a full
disk is an error there, on the producer's thread) and mapped into memory: a line is copied
into the map, no system call on the request's path. The map is shared with the kernel's
page cache, so once the copy is done the line is the kernel's, which a killed process
cannot take with it, as it was with a write(2) a line. The write(2) cost ~18 us of a
worker's CPU a request, not for itself (0.5 us) but because it let go of the GIL, and the
request then waited for the threads that took it (benchmarks/api.py). A segment sealed with
lines not yet delivered is fsync'd, so a machine crash loses at most the last second's; a
sealed segment is cut to its lines. A killed writer leaves the unused tail as zeros, which
recovery drops with the last, unfinished piece.

Beside each segment, `<segment>.acked` lists the numbers of its lines the broker
acknowledged (or the contract refused: retrying cannot help them). The writer starts a new
segment every second (or at once when a line does not fit) and deletes a full one once
every line of it is done.

Every segment is held under an exclusive flock by the process that writes or recovers it.
A process that starts takes each segment whose lock is free — its writer is dead — and
produces the lines not done. A line delivered in the instant before its acknowledgement
was written is produced twice; both copies carry the same `query_id`, and the analytics
count a query id once.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import mmap
import os
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import cast

log = logging.getLogger(__name__)

SUFFIX = ".jsonl"
ACKED = ".acked"
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_APPEND
# The room made for a segment's lines: a second of searches at ~400 bytes a line takes
# ~1 MB per process at full speed; a line that does not fit starts a new segment.
SEGMENT_BYTES = 4 << 20


@dataclass(eq=False)
class Segment:
    """One journal file: `lines` written (or found, when recovered), `done` of them."""

    path: Path
    fd: int
    ack_fd: int
    lines: int = 0
    done: int = 0
    sealed: bool = False  # no line will be added: deleted once every line is done
    room: mmap.mmap | None = None  # the map lines are copied into, until it is sealed
    end: int = 0  # bytes of lines in the map

    def finished(self) -> bool:
        return self.sealed and self.done >= self.lines


def _locked(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class QueryJournal:
    """The segments of one process: the one it appends to, and those it recovered."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self._lock = threading.Lock()  # request threads append; the producer thread rotates
        self.current = self._new_segment()
        self.segments: list[Segment] = [self.current]

    def _new_segment(self, least: int = 0) -> Segment:
        """A new segment with room for `least` bytes at least, locked before it is visible
        under its name (a recovering process must never take a live one for an orphan),
        its blocks allocated and mapped."""
        size = max(SEGMENT_BYTES, least)
        name = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        hidden = self.directory / f".{name}.tmp"
        fd = os.open(hidden, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            # Allocated, not only sized: a copy into a map of blocks the disk has no room
            # for would kill the process (SIGBUS); this is an OSError instead.
            os.posix_fallocate(fd, 0, size)
            room = mmap.mmap(fd, size)
            path = self.directory / f"{name}{SUFFIX}"
            ack_fd = os.open(path.with_suffix(ACKED), _FLAGS, 0o600)
        except OSError:
            os.close(fd)
            hidden.unlink(missing_ok=True)
            raise
        os.rename(hidden, path)
        return Segment(path, fd, ack_fd, room=room)

    def append(self, line: bytes) -> tuple[Segment, int]:
        """Copy one line (ending in a line break) into the current segment; its segment and
        number. OSError when a line that does not fit needs a new segment and the disk
        refuses it."""
        with self._lock:
            segment = self.current
            if segment.room is None:  # closed: an OSError, as a write to its closed fd was
                raise OSError(f"the query-log journal {self.directory} is closed")
            room = segment.room
            end = segment.end + len(line)
            if end > len(room):  # sealed by the producer's next rotate()
                segment = self.current = self._new_segment(len(line))
                self.segments.append(segment)
                room, end = cast(mmap.mmap, segment.room), len(line)
            room[segment.end : end] = line
            segment.end = end
            number = segment.lines
            segment.lines += 1
        return segment, number

    def done(self, segment: Segment, number: int) -> None:
        """The line was delivered (or refused for good): recovery will not produce it."""
        os.write(segment.ack_fd, b"%d\n" % number)
        segment.done += 1

    def rotate(self) -> None:
        """Start a new segment (when the current one has lines) and seal the others.

        A sealed segment with lines the broker has not acknowledged yet (it is away) goes
        to disk now, with its name: a power cut then loses at most the last second's lines,
        instead of everything the kernel had not written back (up to ~30 s). Once a second,
        on the producer's thread, never on a request's."""
        if self.current.lines:
            fresh = self._new_segment()
            with self._lock:
                self.current = fresh
                self.segments.append(fresh)
        # The lock is not needed here: a segment no longer current is never written again.
        # A list, not a generator: any() would stop sealing at the first segment synced.
        if any([self._seal(s) for s in self.segments if not s.sealed and s is not self.current]):
            directory = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)

    @staticmethod
    def _seal(segment: Segment) -> bool:
        """No line will be added: the map let go, the file cut to its lines and, when some
        are not delivered yet, on disk now. True when it was synced."""
        segment.sealed = True
        if segment.room is not None:
            segment.room.close()
            segment.room = None
            os.ftruncate(segment.fd, segment.end)
        if segment.done < segment.lines:
            os.fsync(segment.fd)
            return True
        return False

    def collect(self) -> None:
        """Delete the segments whose every line is done (names first, then the locks)."""
        for segment in [s for s in self.segments if s.finished()]:
            self.segments.remove(segment)
            for path in (segment.path, segment.path.with_suffix(ACKED)):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
            os.close(segment.ack_fd)
            os.close(segment.fd)

    def recover(self) -> list[tuple[Segment, int, bytes]]:
        """Take every orphaned segment; the (segment, number, line) of its lines not done."""
        pending: list[tuple[Segment, int, bytes]] = []
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            if any(path == s.path for s in self.segments):
                continue
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue  # finished and deleted meanwhile
            if not _locked(fd) or os.fstat(fd).st_nlink == 0:  # alive, or just deleted
                os.close(fd)
                continue
            found = _read(fd)
            acked = path.with_suffix(ACKED)
            done = {int(n) for n in _lines(acked) if n.isdigit()}
            segment = Segment(path, fd, os.open(acked, _FLAGS, 0o600), len(found), sealed=True)
            segment.done = sum(1 for n in range(len(found)) if n in done)
            self.segments.append(segment)
            pending += [(segment, n, line) for n, line in enumerate(found) if n not in done]
            log.info("query log: recovered %d record(s) from %s", segment.lines, path.name)
        for acked in self.directory.glob(f"*{ACKED}"):  # a segment deleted before its list
            if not acked.with_suffix(SUFFIX).exists():
                with contextlib.suppress(FileNotFoundError):
                    acked.unlink()
        return pending

    def close(self) -> None:
        """Seal the current segment, delete the finished ones and let go of the rest (the
        next process to start recovers them)."""
        for segment in self.segments:
            if not segment.sealed:
                self._seal(segment)
        self.collect()
        for segment in self.segments:
            os.close(segment.ack_fd)
            os.close(segment.fd)
        self.segments = []


def _read(fd: int) -> list[bytes]:
    """The complete lines of a segment (a last line without its line break is dropped)."""
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks).split(b"\n")[:-1]


def _lines(path: Path) -> list[bytes]:
    try:
        return path.read_bytes().split(b"\n")
    except FileNotFoundError:
        return []
