"""What a running `vitrina up` leaves in `<data_dir>/run/`: its lock, its state, its settings.

- `platform.lock` is held (flock) for the life of `vitrina up`: a second one on the same data
  dir is refused naming the running PID; a stale file after a crash holds no lock, so it never
  blocks a restart.
- The same file holds the state as JSON (pid, services started, started_at): `vitrina status`
  knows what is expected to run (no `traffic down` under `--no-traffic`).
- `settings.json` (0600) is the resolved settings every child service is started with
  (`vitrina --settings-file … run SERVICE`), so settings reach children explicitly.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from vitrina.errors import VitrinaError
from vitrina.settings import Settings, write_settings_file


def run_dir(settings: Settings) -> Path:
    path = settings.data_dir / "run"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def lock_path(settings: Settings) -> Path:
    return run_dir(settings) / "platform.lock"


def children_settings(settings: Settings) -> Path:
    """Write the settings file the supervised services are started with."""
    return write_settings_file(settings, run_dir(settings) / "settings.json")


class AlreadyRunning(VitrinaError):
    """Another `vitrina up` holds this data dir."""


@dataclass
class PlatformLock:
    """The data dir's platform lock; `acquire` raises AlreadyRunning naming the holder."""

    settings: Settings
    services: list[str] = field(default_factory=list)
    looping: list[str] = field(default_factory=list)  # in a crash loop (`vitrina status`)
    _fh: IO[str] | None = None

    def acquire(self) -> PlatformLock:
        path = lock_path(self.settings)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fh = os.fdopen(fd, "r+", encoding="utf-8")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_state(fh)
            fh.close()
            pid = holder.get("pid", "?")
            raise AlreadyRunning(
                f"Vitrina is already running on data dir {self.settings.data_dir} "
                f"(`vitrina up`, pid {pid})",
                hint=f"use that one (`vitrina status`), stop it (Ctrl-C in its terminal or "
                f"`kill -TERM {pid}`), or start another with its own data_dir and "
                "ports",
            ) from None
        self._fh = fh
        self.write()
        return self

    def write(self) -> None:
        if self._fh is None:
            return
        state = {
            "pid": os.getpid(),
            "services": self.services,
            "looping": self.looping,
            "started_at": time.time(),
            "data_dir": str(self.settings.data_dir),
        }
        self._fh.seek(0)
        self._fh.truncate()
        self._fh.write(json.dumps(state))
        self._fh.flush()

    def release(self) -> None:
        if self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.seek(0)
                self._fh.truncate()
            self._fh.close()  # closing drops the flock
            self._fh = None


def _read_state(fh: IO[str]) -> dict[str, Any]:
    try:
        fh.seek(0)
        state = json.loads(fh.read() or "{}")
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def running_platform(settings: Settings) -> dict[str, Any] | None:
    """The state of the `vitrina up` running on this data dir, or None."""
    path = settings.data_dir / "run" / "platform.lock"
    if not path.is_file():
        return None
    with open(path, encoding="utf-8") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_state(fh)  # held: a platform is running
        fcntl.flock(fh, fcntl.LOCK_UN)
    return None


def make_private(settings: Settings) -> None:
    """Data, lake and log directories 0700 and their files 0600 (they hold customer data).

    New files get these modes from the umask `vitrina up` sets; this tightens what an older
    version left behind.
    """
    roots = [settings.data_dir, settings.data_dir / "logs", settings.secrets_dir]
    lake = settings.lake_url
    if lake.startswith("file://"):
        roots.append(Path(lake.removeprefix("file://")))
    for root in roots:
        root.mkdir(parents=True, exist_ok=True)
        os.chmod(root, 0o700)
    for root in roots[1:]:
        for current, dirs, files in os.walk(root):
            for name in dirs:
                with contextlib.suppress(OSError):
                    os.chmod(os.path.join(current, name), 0o700)
            for name in files:
                with contextlib.suppress(OSError):
                    os.chmod(os.path.join(current, name), 0o600)
