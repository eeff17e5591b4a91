"""Top-level commands: `vitrina up`, `vitrina demo`, `vitrina status`."""

from __future__ import annotations

import typer

from vitrina.cli.common import console, fail, handle_errors, settings

app = typer.Typer()


@app.command()
@handle_errors
def up(
    monitoring: bool = typer.Option(False, help="Also run Prometheus + Alertmanager "
                                    "(Debian packages prometheus, prometheus-alertmanager)."),
    mirror: bool = typer.Option(False, help="Also run a second broker and the mirror."),
    sample: bool = typer.Option(True, help="Load the sample catalogue."),
    traffic: bool = typer.Option(True, help="Generate demo orders and client events."),
) -> None:
    """Start the whole platform on this machine; Ctrl-C stops everything in order."""
    from vitrina.orchestrate import load_sample, print_urls, start_platform, supervise_forever

    s = settings()
    platform = start_platform(s, console, monitoring=monitoring, mirror=mirror, traffic=traffic)
    try:
        if sample:
            load_sample(s, console)
        print_urls(platform)
        console.print("[bold]platform running — Ctrl-C stops it[/]")
    except BaseException:
        platform.stop()
        raise
    supervise_forever(platform)


@app.command()
@handle_errors
def demo(duration: float = typer.Option(90.0, help="Seconds to run before the summary.")) -> None:
    """Run the platform for a bounded time, show it working, exit 0 only if every check passed."""
    from vitrina.demo import run_demo

    report = run_demo(settings(), console, duration)
    if not report.ok:
        raise fail("the demo found problems (see the checks above)",
                   hint="logs are in <data_dir>/logs/")
    console.print("[bold green]demo: every check passed[/]")


@app.command()
@handle_errors
def status() -> None:
    """Broker and service health at a glance."""
    import httpx

    from vitrina import broker
    from vitrina.errors import VitrinaError
    from vitrina.kafka.admin import describe_cluster
    from vitrina.kafka.clients import identity
    from vitrina.services import SERVICES

    s = settings()
    if identity(s).embedded:
        st = broker.status(s)
        console.print(f"broker      {'up' if st.answering else 'DOWN'}  {st.address}")
    else:  # an external cluster: its own brokers, not the embedded one's address
        try:
            view = describe_cluster(s)
            console.print(f"kafka       up  {len(view.brokers)} broker(s), controller "
                          f"{view.controller}: {', '.join(view.brokers.values())}",
                          highlight=False)
        except VitrinaError as exc:
            console.print(f"kafka       DOWN  {exc.message}", highlight=False, markup=False)
    for spec in SERVICES:
        port = getattr(s.ports, spec.port_field)
        try:
            ok = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1).status_code == 200
        except httpx.HTTPError:
            ok = False
        console.print(f"{spec.name:<11} {'up' if ok else 'down'}  :{port}")
