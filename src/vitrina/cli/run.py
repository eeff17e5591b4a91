"""`vitrina run SERVICE`: run one service in the foreground."""

from __future__ import annotations

import logging
import os

import typer

from vitrina.cli.common import handle_errors, settings

app = typer.Typer(help="Run one service in the foreground (Ctrl-C stops it).", no_args_is_help=True)


def _runner(name: str):
    @handle_errors
    def command() -> None:
        from vitrina.services import service

        main = service(name).load()
        s = settings()
        os.umask(0o077)  # lake files, index, logs hold customer data: owner only (700/600)
        logging.basicConfig(
            level=s.log_level, force=True, format=f"%(asctime)s {name} %(levelname)s %(message)s"
        )
        main(s)

    return command


def _register() -> None:
    from vitrina.services import SERVICES

    for spec in SERVICES:
        app.command(spec.name, help=spec.description)(_runner(spec.name))


_register()
