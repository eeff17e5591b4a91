"""The client API served by granian (`api.client_server: granian`): a Rust HTTP server with an
ASGI interface, instead of uvicorn.

Same app (`client_api.create_app`, built in each worker after the fork), same worker count,
same host and port, the app's lifespan runs (`--interface asgi`: the view, the producer and
the query log start and are flushed and closed on stop). Granian's own supervisor runs the
workers: SIGTERM/SIGINT stop them all. A worker that dies is started again while the others
serve on (its query-log journal is recovered by the new one); one that dies again within
5.5 s of its restart stops the service with exit status 1, for `vitrina up` to restart. A
kill -9 of one worker used to stop the whole service: ~4 s of refused searches (311 of 800
in a chaos review), where `client_api.serve_processes` (uvicorn) still stops.
"""

from __future__ import annotations

import os
import resource
import signal
import socket
from functools import partial
from typing import Any

from vitrina.api.http_protocol import MAX_HEAD_BYTES
from vitrina.errors import ConfigError
from vitrina.lifecycle import die_with_parent, stop_when_orphaned
from vitrina.services.client_api import port_taken
from vitrina.settings import Settings

INSTALL_HINT = "pip install 'granian>=2.8.9' (or set api.client_server: uvicorn)"
# Open files kept for the rest of the process (index segments, Kafka sockets, logs).
_RESERVED_FILES = 512
# Without an open-file limit (RLIM_INFINITY), as many connections as a default Linux
# nr_open allows per process.
_MAX_FILES = 1 << 20


def connection_slots() -> int:
    """Granian's `backpressure` for each worker process: as many connections as its
    open-file limit allows (raised to the hard limit first; the workers inherit it).

    Granian holds one backpressure slot per open connection, idle ones included (a client
    slow to send its headers, a keep-alive connection between requests): with its default
    (backlog / workers = 1,024 each) 2,000 idle connections took every slot, and every new
    search waited until granian's 30 s header timeout dropped them. Slots then bound only
    what the process can hold, as uvicorn's accept loop is bounded.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass  # keep the soft limit the process was given
    files = _MAX_FILES if soft == resource.RLIM_INFINITY else soft
    return max(1024, files - _RESERVED_FILES)


def check_port_free(host: str, port: int) -> None:
    """Fail with a clear error when another process holds the port. Granian's workers bind
    with SO_REUSEPORT, which a second server of the same user would silently share; this
    plain bind (no SO_REUSEPORT) fails on any holder."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind((host, port))
    except OSError as exc:
        raise port_taken(host, port, exc) from None
    finally:
        probe.close()


def _worker_app(settings: Settings, parent: int | None = None) -> Any:
    """Runs in each granian worker: die with the parent (even when it is SIGKILLed), then
    build this process's app (its own view, producer and index reader).

    Until the app has started, the parent's death is a SIGKILL: nothing is lost, a starting
    worker has answered nothing yet. Then a thread watching the parent stops the worker
    cleanly (SIGTERM, the query log flushed) and kills it should that stop hang
    (`stop_when_orphaned`): a SIGTERM that reached a worker during granian's start-up hung
    it for ever, an orphan holding the port (py-spy; killed services in CI, 1 run in ~15)."""
    from vitrina.services.client_api import create_app, warm_up

    die_with_parent(signal.SIGKILL, parent)
    warm_up(settings)  # before granian installs its signal handlers and runs the lifespan
    started = partial(stop_when_orphaned, os.getppid() if parent is None else parent)
    return create_app(settings, freeze_gc=True, on_started=started)


def serve_granian(settings: Settings, workers: int) -> None:
    """Serve until SIGTERM/SIGINT with `workers` granian processes; SystemExit naming the
    cause when a worker dies."""
    try:
        from granian.constants import HTTPModes, Interfaces, Loops
        from granian.http import HTTP1Settings
        from granian.log import LogLevels
        from granian.server import MPServer
    except ImportError:
        raise ConfigError(
            "api.client_server is granian, but granian is not installed", hint=INSTALL_HINT
        ) from None
    host, port = settings.api.host, settings.ports.client_api
    check_port_free(host, port)
    # Processes, not granian's free-threaded MTServer: search is CPU-bound Python.
    server = MPServer(
        "vitrina.services.client_api:create_app",  # a label only: the loader below builds it
        address=host,
        port=port,
        interface=Interfaces.ASGI,  # with lifespan: start-up and shutdown of the app's state
        workers=workers,
        loop=Loops(settings.api.client_event_loop),
        http=HTTPModes.http1,
        # its header_read_timeout, in ms: api.header_timeout_s, as the uvicorn servers'; its
        # read buffer bounds a request's head (431 above it; 408 KiB by default, and a
        # 200 KB header was served)
        http1_settings=HTTP1Settings(
            header_read_timeout=int(settings.api.header_timeout_s * 1000),
            max_buffer_size=MAX_HEAD_BYTES,
        ),
        websockets=False,
        backlog=2048,
        backpressure=connection_slots(),
        log_level=LogLevels.warning,
        log_access=False,
        workers_kill_timeout=15,
        respawn_failed_workers=True,
    )
    try:
        # partial, not a lambda: it pickles should multiprocessing ever spawn, not fork.
        server.serve(target_loader=partial(_worker_app, settings, os.getpid()), wrap_loader=False)
    except SystemExit as exc:
        if exc.code:
            raise SystemExit(
                f"client API worker died (granian exit {exc.code}); see its log above"
            ) from None
        raise
