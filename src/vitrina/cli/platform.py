"""Top-level commands: `vitrina up`, `vitrina demo`, `vitrina status`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from vitrina.cli.common import console, fail, handle_errors, settings

if TYPE_CHECKING:
    from vitrina.settings import Settings

app = typer.Typer()


@app.command()
@handle_errors
def up(
    monitoring: bool = typer.Option(
        False,
        help="Also run Prometheus + Alertmanager "
        "(Debian packages prometheus, prometheus-alertmanager).",
    ),
    mirror: bool = typer.Option(False, help="Also run a second broker and the mirror."),
    sample: bool = typer.Option(
        True,
        help="Load the sample catalogue, at the first start of the data dir only (later "
        "starts keep what was sent since).",
    ),
    traffic: bool = typer.Option(True, help="Generate demo orders and client events."),
    only: list[str] = typer.Option(
        None,
        "--only",
        help="Start only these services (repeatable), e.g. --only filter --only indexer.",
    ),
) -> None:
    """Start the whole platform on this machine; Ctrl-C, SIGTERM or SIGHUP stop it in order."""
    from vitrina.lifecycle import Stopped, pipe_safe_stdout, stop_on_signals
    from vitrina.orchestrate import (
        http_ok,
        load_sample,
        mark_sample_sent,
        print_urls,
        sample_catalog,
        sample_sent_at,
        start_platform,
        supervise_forever,
        wait_searchable,
        wait_until,
    )

    pipe_safe_stdout()  # `vitrina up | head -1` must not prevent the shutdown
    s = settings()
    sent_at = sample_sent_at(s) if sample else None
    if sent_at is not None:  # again at every start, it undid the changes made since
        console.print(
            f"sample catalogue: sent at the first start ({sent_at}), not again "
            f"(`vitrina shop load {sample_catalog()}` sends it again)",
            highlight=False,
        )
        sample = False
    try:
        with stop_on_signals():
            # With the sample, the client API (and its web page) starts once the sample is
            # searchable: a first search sent the moment the page answered found nothing.
            platform = start_platform(
                s,
                console,
                monitoring=monitoring,
                mirror=mirror,
                traffic=traffic,
                only=only or None,
                defer=("client-api",) if sample else (),
            )
            try:
                indexing = {"filter", "indexer"} <= set(platform.services)
                if sample and load_sample(s, console):
                    mark_sample_sent(s)
                    if indexing:
                        wait_searchable(s, console)
                platform.start_deferred()
                if "client-api" in platform.services:
                    wait_until(lambda: http_ok(f"{platform.url('client_api')}/healthz"), 60)
                print_urls(platform)
                console.print("[bold]platform running — Ctrl-C stops it[/]")
            except BaseException:
                platform.stop()
                raise
            supervise_forever(platform)
    except Stopped as stopped:  # SIGTERM / SIGHUP: stopped in order, exit like the signal
        raise typer.Exit(128 + stopped.signum) from None


@app.command()
@handle_errors
def demo(duration: float = typer.Option(90.0, help="Seconds to run before the summary.")) -> None:
    """Run the platform for a bounded time, show it working, exit 0 only if every check passed."""
    from vitrina.demo import run_demo
    from vitrina.lifecycle import pipe_safe_stdout, stop_on_signals

    pipe_safe_stdout()
    with stop_on_signals():
        report = run_demo(settings(), console, duration)
    if not report.ok:
        raise fail(
            "the demo found problems (see the checks above)", hint="logs are in <data_dir>/logs/"
        )
    console.print("[bold green]demo: every check passed[/]")


@app.command()
@handle_errors
def status() -> None:
    """Broker and service health; exits 1 when anything expected to run is down.

    Expected: what the `vitrina up` running on this data dir started (so `--no-traffic`
    shows no `traffic down`); with no platform running, the broker and every service.
    """
    import httpx

    from vitrina import broker
    from vitrina.errors import VitrinaError
    from vitrina.kafka.admin import describe_cluster
    from vitrina.kafka.clients import identity
    from vitrina.runstate import running_platform
    from vitrina.services import SERVICES

    s = settings()
    running = running_platform(s)
    if running:
        console.print(f"platform    up  (`vitrina up`, pid {running.get('pid')})")
    else:
        console.print("platform    not running on this data dir (start it: `vitrina up`)")
    expected = set(running.get("services", [])) if running else {spec.name for spec in SERVICES}
    looping = set(running.get("looping", [])) if running else set()
    down: list[str] = []
    any_up = False  # a service answers
    foreign = False  # a broker answers that this data dir did not start
    if identity(s).embedded:
        st = broker.status(s)
        foreign = broker.answers_for_another_data_dir(st)
        if foreign:
            console.print(
                f"broker      up  {st.address} (not started from this data dir)", highlight=False
            )
        else:
            console.print(f"broker      {'up' if st.answering else 'DOWN'}  {st.address}")
        if not (st.answering or foreign):
            down.append("broker")
    else:  # an external cluster: its own brokers, not the embedded one's address
        try:
            view = describe_cluster(s)
            state = "DEGRADED" if view.writes_wait else "up"
            console.print(
                f"kafka       {state}  {len(view.brokers)} broker(s): "
                f"{', '.join(view.brokers.values())}"
                + (f" — {view.health}" if view.health else ""),
                highlight=False,
                markup=False,
            )
            if state != "up":
                down.append("kafka")
        except VitrinaError as exc:
            console.print(f"kafka       DOWN  {exc.message}", highlight=False, markup=False)
            down.append("kafka")
    served = _as_started(s) if running else s
    for spec in SERVICES:
        if spec.name not in expected:
            continue
        port = getattr(served.ports, spec.port_field)
        try:
            ok = httpx.get(f"http://{served.api.host}:{port}/metrics", timeout=1).status_code == 200
        except httpx.HTTPError:
            ok = False
        any_up = any_up or ok
        if spec.name in looping:  # its port may answer between two deaths
            ok = False
            log = s.data_dir / "logs" / f"{spec.name}.log"
            console.print(f"{spec.name:<11} CRASH LOOP  :{port}  (restarting; see {log})")
        else:
            console.print(f"{spec.name:<11} {'up' if ok else 'DOWN'}  :{port}")
        if not ok:
            down.append(spec.name)
    for name, ok, where in _storage(s):
        console.print(f"{name:<11} {'up' if ok else 'DOWN'}  {where}", highlight=False)
        if not ok:
            down.append(name)
    if foreign or (not running and any_up):
        # The data dir is relative (.vitrina): run from another folder, this command saw no
        # platform and called the broker that answered DOWN (issue found by a new-user walk).
        console.print(
            f"note: this data dir ({s.data_dir.resolve()}) started none of what answers; "
            "run `vitrina` from the folder where `vitrina up` runs, or set VITRINA__DATA_DIR",
            highlight=False,
        )
    if down:
        raise fail(f"down: {', '.join(down)}", hint=_down_hint(s, down))


def _as_started(s: Settings) -> Settings:
    """The settings the running `vitrina up` started its services with (its settings file):
    their ports, whatever this shell's environment says. A second blind review ran `status`
    in a new shell, without the VITRINA__PORTS__* of the `up`: every service "DOWN"."""
    from vitrina.errors import VitrinaError
    from vitrina.runstate import run_dir
    from vitrina.settings import load_settings

    try:
        return load_settings(settings_file=run_dir(s) / "settings.json")
    except (OSError, ValueError, VitrinaError):
        return s


def _down_hint(s: Settings, down: list[str]) -> str:
    """Where to look; on the packaged `cluster` profile with the cluster away, the profile
    `vitrina cluster up` wrote (it holds the cluster's real ports, lake and search): the
    packaged one asked the default ports of a cluster started on others (a blind review).
    A lake or search index that does not answer is started where it runs (`vitrina up`
    starts neither: a second review was sent there)."""
    hint = "see <data_dir>/logs/<service>.log; `vitrina up` starts everything"
    storage = [name for name in ("lake", "search") if name in down]
    if storage:
        hint = (
            f"the {' and '.join(storage)} run outside `vitrina up`: on the native cluster "
            "`vitrina cluster status`, then `vitrina cluster up --only hdfs|opensearch|s3`; " + hint
        )
    written = s.data_dir / "cluster" / "profile.yaml"
    if "kafka" in down and s.profile == "cluster" and written.is_file():
        hint = (
            f"the cluster `vitrina cluster up` started is in the profile it wrote: "
            f"`vitrina --profile {written.resolve()} status`; " + hint
        )
    return hint


def _storage(s: Settings) -> list[tuple[str, bool, str]]:
    """(name, answers, where) of the platform's storage outside this machine's folders:
    an OpenSearch index (its cluster's health; red is down) and a WebHDFS / S3 lake (its
    root). With OpenSearch killed, every line said up while search answered 503."""
    from vitrina.lake.filesystems import DATANODE_SILENT_S, hdfs_datanodes, lake_away
    from vitrina.lake.reader import lake_exists
    from vitrina.lake.writer import LakeWriter
    from vitrina.search.backends import OpenSearchSettings, describe_backend

    found = []
    backend = s.search.backend
    if isinstance(backend, OpenSearchSettings):
        from vitrina.search.opensearch import OpenSearchIndex

        where = describe_backend(s)
        try:
            quick = backend.model_copy(update={"timeout_s": 3.0})
            health = OpenSearchIndex.from_settings(quick, readonly=True).client.cluster.health()
            found.append(("search", health["status"] != "red", f"{where} ({health['status']})"))
        except Exception as exc:  # a report: what went wrong is the line
            found.append(("search", False, f"{where}: {type(exc).__name__}"))
    if s.lake.backend.type != "file":
        try:
            lake_exists(LakeWriter.from_settings(s))
        except Exception as exc:
            why = "does not answer" if lake_away(exc) else type(exc).__name__
            found.append(("lake", False, f"{s.lake_url}: {why}"))
            return found
        nodes = hdfs_datanodes(s.lake.backend) if s.lake.backend.type == "webhdfs" else None
        if nodes is not None and nodes[1] == 0:
            found.append(
                (
                    "lake",
                    False,
                    f"{s.lake_url}: the NameNode answers, but no DataNode does ({nodes[0]} "
                    f"registered, none reported in {DATANODE_SILENT_S} s): "
                    "no file can be read or written",
                )
            )
        else:
            found.append(("lake", True, s.lake_url))
    return found
