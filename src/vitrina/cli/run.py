"""`vitrina run SERVICE`: run one service in the foreground."""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Callable

import typer

from vitrina.cli.common import fail, handle_errors, quiet_http_clients, settings
from vitrina.errors import VitrinaError
from vitrina.settings import Settings

app = typer.Typer(help="Run one service in the foreground (Ctrl-C stops it).", no_args_is_help=True)


def run_service(main: Callable[[Settings], None], s: Settings) -> None:
    """Run a service's `main`; when it fails, say why and exit at once (code 1).

    A failed service is restarted by its supervisor, and the restart must not wait on the
    failed process: tearing down the interpreter destroys the service's Kafka clients, and
    librdkafka's destroy has no deadline (confluentinc/librdkafka#4519). Seen on the cluster:
    the filter printed its error and then stayed alive, doing nothing, for minutes. Exiting
    without the teardown is safe because the design already survives a kill -9 at any
    moment; what had to be durable was written and committed before the error.
    """
    try:
        main(s)
    except VitrinaError as exc:
        fail(exc.message, exc.hint)  # prints the message and its hint
        _exit_now(1)
    except Exception:
        traceback.print_exc()
        _exit_now(1)


def _exit_now(code: int) -> None:
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(code)


# HTTP clients that log every request at INFO (opensearch-py: one line per bulk and search).
def configure_logging(name: str, level: str) -> None:
    """A service's log at `level`, with the HTTP clients' own lines held to ERROR: at INFO
    they flooded the indexer's log on OpenSearch (a line per bulk request), and at WARNING
    every failed request with its traceback while the cluster was down (767 lines in 20 s,
    three tracebacks a retry) and every expected 404 at start. The service says what
    matters itself (the cluster does not answer, retrying); their errors still show."""
    logging.basicConfig(
        level=level, force=True, format=f"%(asctime)s {name} %(levelname)s %(message)s"
    )
    quiet_http_clients(level)


def _runner(name: str) -> Callable[[], None]:
    @handle_errors
    def command() -> None:
        from vitrina.services import service

        main = service(name).load()
        s = settings()
        os.umask(0o077)  # lake files, index, logs hold customer data: owner only (700/600)
        configure_logging(name, s.log_level)
        run_service(main, s)

    return command


def _register() -> None:
    from vitrina.services import SERVICES

    for spec in SERVICES:
        app.command(spec.name, help=spec.description)(_runner(spec.name))


_register()
