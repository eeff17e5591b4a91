"""How `vitrina up` lives and dies: signals, a console that may vanish, a broker that may die.

- SIGTERM and SIGHUP stop the platform exactly like Ctrl-C (in order, nothing orphaned); while
  it stops, further signals are ignored so the orderly stop is not cut short.
- A console whose reader went away (`vitrina up | head -1`) is detached: output goes to
  /dev/null from then on and the shutdown still runs.
- The embedded broker is watched: when it dies the supervisor says so once, starts it again
  and re-applies the topics (clients never create topics themselves).

It also holds the two waits every starter and stopper uses: `port_open` and `wait_until`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopped(KeyboardInterrupt):
    """Raised in the main thread by SIGTERM / SIGHUP (SIGINT raises KeyboardInterrupt)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_stopped(signum: int, _frame: Any) -> None:
    raise Stopped(signum)


def on_signals(signals: Iterable[int], act: Callable[[int], None]) -> None:
    """Call `act(signum)` for each of these signals, on a thread of its own (daemon).

    A Python signal handler runs in the main thread between two bytecodes, possibly inside
    `threading.Event.wait()` or `.set()` of the very event it would set; both hold that
    event's lock, which is not re-entrant. A handler that called `event.set()` therefore
    blocked the main thread for ever when a second signal came during the first one's
    `set()`. Such bursts happen: PR_SET_PDEATHSIG (`die_with_parent`) sends its SIGTERM
    again each time the child is handed to another thread of its dying parent. Seen: after
    `kill -9` of `vitrina up`, the traffic service hung in four nested handlers, orphaned,
    holding its metrics port, and the next `vitrina up` refused to start. This handler only
    writes the signal's number to a pipe (no lock); the thread reads it and acts."""
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)

    def handler(signum: int, _frame: Any) -> None:
        with contextlib.suppress(OSError):  # a full pipe: enough wake-ups are pending
            os.write(write_fd, bytes([signum]))

    def watch() -> None:
        while True:
            for signum in os.read(read_fd, 64):
                act(signum)

    threading.Thread(target=watch, name="signals", daemon=True).start()
    for sig in signals:
        signal.signal(sig, handler)


def stop_event(signals: Iterable[int] = (signal.SIGTERM, signal.SIGINT)) -> threading.Event:
    """An event these signals set (`on_signals`): a service's stop flag."""
    stop = threading.Event()
    on_signals(signals, lambda _: stop.set())
    return stop


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP raise Stopped (a KeyboardInterrupt) in the main thread; SIGINT
    raises KeyboardInterrupt even when it was ignored at start.

    A shell that is not interactive starts its background jobs (`vitrina up &` in a script)
    with SIGINT ignored, and Python then leaves it ignored: `kill -INT` did nothing and only
    SIGTERM stopped the platform. Ctrl-C is documented as the way to stop it, so it must work
    however the process was started.
    """
    previous = {sig: signal.signal(sig, _raise_stopped) for sig in (signal.SIGTERM, signal.SIGHUP)}
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def signals_ignored() -> Iterator[None]:
    """While the platform stops in order, a second Ctrl-C / SIGTERM does not cut it short."""
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class PipeSafe:
    """A text stream that survives its reader going away (EPIPE): it goes quiet instead."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.broken = False

    def _detach(self) -> None:
        self.broken = True
        # Point fd 1 at /dev/null: the interpreter's own flush at exit and any child that
        # inherits stdout then write nowhere instead of failing.
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stream.fileno())
            os.close(devnull)

    @contextlib.contextmanager
    def _detach_on_broken_pipe(self) -> Iterator[None]:
        """Run a write or flush; a reader that went away (EPIPE, EIO, closed) detaches."""
        try:
            yield
        except (BrokenPipeError, ValueError):
            self._detach()
        except OSError as exc:
            if exc.errno not in (errno.EPIPE, errno.EIO):
                raise
            self._detach()

    def write(self, text: str) -> int:
        if not self.broken:
            with self._detach_on_broken_pipe():
                return self.stream.write(text)
        return len(text)

    def flush(self) -> None:
        if not self.broken:
            with self._detach_on_broken_pipe():
                self.stream.flush()

    def isatty(self) -> bool:
        return not self.broken and self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def pipe_safe_stdout() -> PipeSafe:
    """Wrap sys.stdout (idempotent) and return the wrapper."""
    if not isinstance(sys.stdout, PipeSafe):
        sys.stdout = PipeSafe(sys.stdout)
    return sys.stdout


Emit = Callable[[str, str, str], None]


class BrokerWatch:
    """Notices that the embedded broker died, says so once, restarts it, re-applies topics.

    `is_running`, `restart` and `apply_topics` are injected (the real ones in orchestrate),
    so the policy is tested with fakes and the real thing with the real broker.
    """

    def __init__(
        self,
        is_running: Callable[[], bool],
        restart: Callable[[], str],
        apply_topics: Callable[[], str],
        emit: Emit,
        *,
        every_s: float = 2.0,
        retry_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.is_running, self.restart, self.apply_topics = is_running, restart, apply_topics
        self.emit, self.every_s, self.retry_s, self.clock = emit, every_s, retry_s, clock
        self.down_since: float | None = None
        self.restarts = 0
        self._next_check = 0.0
        self._failure_said = False

    def check(self) -> None:
        now = self.clock()
        if now < self._next_check:
            return
        self._next_check = now + self.every_s
        if self.down_since is None:
            if self.is_running():
                return
            self.down_since = now
            self.emit(
                "broker",
                "red",
                "the embedded broker is down; restarting it (services retry meanwhile)",
            )
        try:
            address = self.restart()
            topics = self.apply_topics()
        except Exception as exc:
            self._next_check = now + self.retry_s
            if not self._failure_said:
                self._failure_said = True
                self.emit(
                    "broker",
                    "red",
                    f"restarting the broker failed: {exc}; retrying "
                    f"every {self.retry_s:.0f} s (see <data_dir>/logs/broker.log)",
                )
            return
        self.restarts += 1
        self.emit(
            "broker",
            "green",
            f"broker back on {address} after "
            f"{self.clock() - self.down_since:.0f} s; topics re-applied ({topics})",
        )
        self.down_since = None
        self._failure_said = False


def die_with_parent(signum: int = signal.SIGTERM, parent: int | None = None) -> None:
    """In a child process: `signum` (SIGTERM: a clean stop) when the parent dies, even by
    SIGKILL (Linux prctl PR_SET_PDEATHSIG; a no-op elsewhere). The supervisor's services
    and the client API's worker processes (uvicorn's and granian's) use it; a granian
    worker asks SIGKILL until its app has started (`client_api_granian`).

    `parent`: the parent's pid, known before the fork. A parent that died before the prctl
    (the child already handed to init) never sends the signal, so the child sends it to
    itself: a CI run saw a granian worker outlive its service killed during start-up."""
    _parent_death_signal(signum)
    if parent is not None and os.getppid() != parent:
        os.kill(os.getpid(), signum)


def _parent_death_signal(signum: int) -> None:
    """prctl PR_SET_PDEATHSIG: `signum` when the parent dies, 0 for none (Linux only)."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, int(signum))


def stop_when_orphaned(parent: int, grace_s: float = 10.0, poll_s: float = 0.2) -> None:
    """In a server's worker whose app has started (its parent-death signal was SIGKILL until
    then): a clean stop (SIGTERM) once `parent` is gone, even killed by SIGKILL, and SIGKILL
    if the worker is still there `grace_s` later.

    A thread watches the parent instead of the kernel's parent-death signal: a SIGTERM that
    reached a granian worker between its app's start-up and its server's start hung it for
    ever, an orphan holding the port (CI, 1 run in ~15). The kernel signal is cleared after
    the watch starts, so no moment is left unwatched. What the stop could not flush stays in
    the query log's journal for the next process."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(grace_s)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="stop-when-orphaned", daemon=True).start()
    _parent_death_signal(0)


def port_open(host: str, port: int, timeout: float = 0.3) -> bool:
    """Whether something accepts a TCP connection on `host:port` within `timeout`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        return sock.connect_ex((host, port)) == 0


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.3) -> bool:
    """Whether `check` holds within `timeout`, asked every `interval`; an exception it
    raises counts as not yet (a service still starting)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return True
        except Exception:  # the service is still starting; keep polling
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
