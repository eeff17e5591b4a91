"""`vitrina broker start|stop|status`: the embedded broker."""

from __future__ import annotations

import typer

from vitrina.cli.common import console, handle_errors, settings
from vitrina.settings import Settings

app = typer.Typer(
    help="The embedded broker: single-node Apache Kafka (default) or Tansu (broker.engine).",
    no_args_is_help=True,
)


@app.command()
@handle_errors
def start(mirror: bool = typer.Option(False, help="Start the second (mirror) broker.")) -> None:
    """Start the embedded broker on 127.0.0.1 and wait until it answers."""
    from vitrina import broker
    from vitrina.errors import ConfigError

    s = settings()
    if not s.broker.embedded:
        raise ConfigError(
            f"this profile uses an external cluster ({s.kafka.bootstrap_servers})"
            ", not the embedded broker",
            hint="`vitrina cluster up` starts the native Apache Kafka cluster; "
            "`vitrina broker status` shows the configured one",
        )
    name, port = ("mirror-broker", s.broker.mirror_port) if mirror else ("broker", s.broker.port)
    st = broker.start(s, name, port)
    console.print(f"{name} running: pid {st.pid}, {st.address} (log: {st.log})")


@app.command()
@handle_errors
def stop(mirror: bool = typer.Option(False, help="Stop the mirror broker.")) -> None:
    """Stop the embedded broker started by `vitrina broker start` / `vitrina up`."""
    from vitrina import broker

    name = "mirror-broker" if mirror else "broker"
    console.print(f"{name} stopped" if broker.stop(settings(), name) else f"{name} was not running")


@app.command()
@handle_errors
def status(mirror: bool = typer.Option(False, help="The mirror broker.")) -> None:
    """Is the embedded broker running and answering the Kafka protocol?"""
    from vitrina import broker
    from vitrina.kafka.clients import identity

    s = settings()
    if not mirror and not identity(s).embedded:
        _external_status(s)  # an external cluster: ask it, no embedded-broker hints
        return
    name, port = ("mirror-broker", s.broker.mirror_port) if mirror else ("broker", s.broker.port)
    st = broker.status(s, name, port)
    if st.running and st.answering:
        console.print(f"{name}: running (pid {st.pid}) and answering on {st.address}")
    elif st.running:
        console.print(f"{name}: running (pid {st.pid}) but NOT answering on {st.address}")
        raise typer.Exit(1)
    elif broker.answers_for_another_data_dir(st):
        console.print(
            f"{name}: a broker answers on {st.address}, but not one started from this data "
            f"dir ({s.data_dir.resolve()}): run from the folder where it was started, or set "
            "VITRINA__DATA_DIR",
            highlight=False,
        )
        raise typer.Exit(3)
    else:
        console.print(f"{name}: not running (start it with `vitrina broker start`)")
        raise typer.Exit(3)


def _external_status(s: Settings) -> None:
    """The cluster at kafka.bootstrap_servers: its brokers and controller, or why not."""
    from vitrina.errors import VitrinaError
    from vitrina.kafka.admin import describe_cluster

    try:
        view = describe_cluster(s)
    except VitrinaError as exc:
        console.print(
            f"kafka cluster {s.kafka.bootstrap_servers}: DOWN — {exc.message}",
            highlight=False,
            markup=False,
        )
        if exc.hint:
            console.print(f"hint: {exc.hint}", highlight=False, markup=False)
        raise typer.Exit(1) from None
    console.print(
        f"kafka cluster {view.bootstrap}: up, {len(view.brokers)} broker(s)"
        + (f" — {view.health}" if view.health else ""),
        highlight=False,
        markup=False,
    )
    for node, address in view.brokers.items():
        console.print(f"  broker {node}  {address}", highlight=False)
