"""Entry point of the `vitrina` command."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

import typer

from vitrina.cli import common

# (group name or "" for top-level commands, module). Each module exposes `app`.
COMMAND_MODULES: list[tuple[str, str]] = [
    ("", "vitrina.cli.platform"),
    ("broker", "vitrina.cli.broker"),
    ("topics", "vitrina.cli.topics"),
    ("shop", "vitrina.cli.shop"),
    ("generate", "vitrina.cli.generate"),
    ("dlq", "vitrina.cli.dlq"),
    ("run", "vitrina.cli.run"),
    ("ban", "vitrina.cli.ban"),
    ("contracts", "vitrina.cli.contracts"),
    ("analytics", "vitrina.cli.analytics"),
    ("security", "vitrina.cli.security"),
    ("acl", "vitrina.cli.acl"),
    ("", "vitrina.cli.mirror"),
    ("", "vitrina.cli.search"),
    ("index", "vitrina.cli.index"),
    ("lake", "vitrina.cli.lake"),
    ("client", "vitrina.cli.client"),
    ("monitoring", "vitrina.cli.monitoring"),
    ("cluster", "vitrina.cli.cluster"),
]

app = typer.Typer(
    name="vitrina",
    help="Vitrina — the analytics platform of «Покупай выгодно».",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


# Commands that run services: their clients keep retrying a broker that is not up yet.
SERVING = {"run", "up", "demo"}


@app.callback()
def _global(
    ctx: typer.Context,
    profile: str = typer.Option(
        None,
        "--profile",
        "-p",
        help="Settings profile: embedded (default), distributed, or a .yaml file.",
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug details."),
    settings_file: Path = typer.Option(
        None,
        "--settings-file",
        help="Resolved settings (JSON) written by `vitrina up` for "
        "the services it starts; replaces --profile and the environment.",
    ),
) -> None:
    common.set_profile(profile, settings_file)
    if ctx.invoked_subcommand not in SERVING:
        from vitrina.kafka.errors import fail_fast_when_refused

        fail_fast_when_refused()
        ctx.call_on_close(lambda: fail_fast_when_refused(False))  # CliRunner: one process
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not verbose:
        common.quiet_http_clients()


def _register() -> None:
    for group, module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue  # a command group not built yet
            raise
        sub: typer.Typer = module.app
        if group:
            app.add_typer(sub, name=group)
        else:
            for command in sub.registered_commands:
                app.registered_commands.append(command)


_register()


def main() -> None:
    app()
