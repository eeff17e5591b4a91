"""`vitrina cluster install|up|down|status`: the production topology natively on 127.0.0.1.

Cluster A (3 KRaft nodes, SASL_SSL + SCRAM-SHA-512, ACLs), cluster B (the mirror, 1 node,
secured the same way), MirrorMaker 2, and whatever else `vitrina.cluster.topology` lists
(HDFS, OpenSearch…). No Docker: Java processes from the Maven jar cache.
"""

from __future__ import annotations

import time

import typer

from vitrina.cli.common import console, handle_errors, settings

app = typer.Typer(
    help="The production topology (Apache Kafka x2 + MirrorMaker 2 …) natively.",
    no_args_is_help=True,
)


BASE_PORT = 29092  # cluster A's first broker; every other port follows from it
BASE_PORT_HELP = (
    "First port of cluster A (default: the one the cluster in the data dir was created "
    "with, else 29092, what the `cluster` profile uses); every other port (mirror, "
    "MirrorMaker 2, monitoring, HDFS, OpenSearch, S3) moves with it. Two topologies on one "
    "host need base ports at least 851 apart."
)


def _plan(base_port: int | None) -> object:
    """The topology at `base_port`, else at the one the data dir's cluster was created with
    (refused, naming it, when `base_port` differs from that one)."""
    from vitrina.cluster.process import ClusterError
    from vitrina.cluster.topology import Plan, recorded_base_port

    data_dir = settings().data_dir.resolve()
    recorded = recorded_base_port(data_dir)
    if base_port is not None and recorded is not None and base_port != recorded:
        raise ClusterError(
            f"the cluster in {data_dir / 'cluster'} was created with --base-port {recorded}, "
            f"not {base_port}",
            hint=f"leave --base-port out (or give {recorded}), or start over on {base_port}: "
            f"`vitrina cluster down --purge` then `vitrina cluster up --base-port {base_port}`",
        )
    return Plan.at(data_dir, base_port or recorded or BASE_PORT)


@app.command()
@handle_errors
def install(
    components: list[str] = typer.Argument(
        None,
        help="Only these deploy/<component>/pom.xml (kafka: the broker, MirrorMaker 2 and the "
        "JMX exporter; hadoop; opensearch). Default: all of them.",
        show_default=False,
    ),
) -> None:
    """Resolve Apache Kafka, MirrorMaker 2, the JMX exporter (and every other deploy/*/pom.xml)
    from Maven Central into ~/.cache/vitrina/jars. Idempotent; checksums verified by Maven."""
    from vitrina.cluster import jars
    from vitrina.errors import ConfigError

    known = sorted(pom.parent.name for pom in jars.DEPLOY_DIR.glob("*/pom.xml"))
    unknown = sorted(set(components or ()) - set(known))
    if unknown:
        raise ConfigError(
            f"no deploy/<component>/pom.xml for {', '.join(unknown)}",
            hint=f"choose from {', '.join(known)}",
        )
    for component in components or known:
        with console.status(f"resolving {component} with Maven…"):
            path = jars.resolve(component)
        console.print(f"{component}: {len(list(path.glob('*.jar')))} jars in {path}")


def write_profile(plan: object) -> str:
    """The `cluster` profile with this plan's bootstrap, plus the lake on HDFS and search on
    OpenSearch when the topology has them (`vitrina.cluster.storage`), with a warning for
    each of them not answering now: <data_dir>/cluster/profile.yaml."""
    import yaml

    from vitrina.cluster.storage import down_in_profile, profile_overrides
    from vitrina.cluster.topology import Plan, primary
    from vitrina.settings import resolve_profile

    assert isinstance(plan, Plan)
    source = resolve_profile("cluster")
    assert source is not None
    profile = yaml.safe_load(source.read_text())
    profile["kafka"]["bootstrap_servers"] = primary(plan).bootstrap
    profile["data_dir"] = str(plan.data_dir)
    profile.update(profile_overrides(plan))
    # The client API's ops view and `up --monitoring` ask the cluster's Prometheus (which
    # scrapes the services too), not a platform one on the embedded default's port.
    profile.setdefault("ports", {}).update(
        **plan.service_ports, prometheus=plan.prometheus_port, alertmanager=plan.alertmanager_port
    )
    path = plan.root / "profile.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# written by `vitrina cluster up` (the cluster profile + this cluster)\n"
        + yaml.safe_dump(profile, sort_keys=False)
    )
    for name in down_in_profile(plan):
        console.print(
            f"[yellow]warning:[/] {name} does not answer; the profile still points at it "
            f"(services using it fail until it does): start it with `vitrina cluster up "
            f"--only {name}`",
            highlight=False,
            soft_wrap=True,
        )
    return str(path)


@app.command()
@handle_errors
def up(
    only: list[str] = typer.Option(
        None,
        "--only",
        help="Start only these components "
        "(kafka, kafka-mirror, mirrormaker, monitoring, hdfs, "
        "opensearch, s3).",
    ),
    base_port: int | None = typer.Option(None, "--base-port", help=BASE_PORT_HELP),
) -> None:
    """Start cluster A, cluster B, MirrorMaker 2 (and the rest of the topology), apply topics
    and ACLs on both clusters; print the profile to run the platform on it."""
    from vitrina.cluster import jars, topology
    from vitrina.cluster.mirrormaker import grant_target_extras
    from vitrina.kafka.admin import apply_topics
    from vitrina.security.acl import apply_acls

    plan = _plan(base_port)
    assert isinstance(plan, topology.Plan)
    selected = topology.components(plan, only)  # an unknown name: refused before anything
    with console.status("resolving the Kafka jars (first time: a few minutes)…"):
        jars.resolve("kafka")
    if topology.ensure_secrets(plan):
        console.print(f"security material written to {plan.secrets} (folder 0700)")
    for component in selected:
        began = time.monotonic()
        with console.status(f"starting {component.name}…"):
            component.start()
        console.print(f"{component.name}: up in {time.monotonic() - began:.0f} s")
        if component.name in ("kafka", "kafka-mirror"):
            cluster = (topology.primary if component.name == "kafka" else topology.mirror)(plan)
            admin = topology.settings_for(cluster, "admin", plan.data_dir)
            if component.name == "kafka":
                report = apply_topics(admin)
                console.print(
                    f"  topics: {len(report.created)} created, {len(report.unchanged)} unchanged"
                )
            diff = apply_acls(admin)
            console.print(f"  ACLs: {len(diff.add)} added, {diff.unchanged} unchanged")
            if component.name == "kafka-mirror":
                grant_target_extras(cluster)
    print_ready(write_profile(plan))


def print_ready(profile: str) -> None:
    """`cluster up`'s last line, never wrapped (soft_wrap): rich broke the command it names
    at the terminal width (`vitrina --profile ⏎ /path/profile.yaml up`), and a copy-paste
    of it ran `vitrina --profile` alone."""
    console.print(
        f"[green]cluster up[/]; run the platform on it: vitrina --profile {profile} "
        "up (or demo); `vitrina cluster status`",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
@handle_errors
def down(
    purge: bool = typer.Option(
        False,
        "--purge",
        help="Also delete every component's data: Kafka, the mirror, MirrorMaker 2, "
        "monitoring, the lake on HDFS, the OpenSearch index (not the secrets or logs).",
    ),
    base_port: int | None = typer.Option(None, "--base-port", help=BASE_PORT_HELP),
) -> None:
    """Stop every component (reverse order), by recorded PID."""
    from vitrina.cluster import topology

    plan = _plan(base_port)
    assert isinstance(plan, topology.Plan)
    for component in reversed(topology.components(plan)):
        component.stop()
        console.print(f"{component.name}: stopped")
    if purge:
        removed = topology.purge(plan)
        names = ", ".join(folder.name for folder in removed) or "none there"
        console.print(f"data removed under {plan.root}: {names}", highlight=False)


# `cluster status` exit codes: a script can tell "act now" (DOWN) from "repair soon" (DEGRADED).
EXIT_CODES = {"up": 0, "down": 1, "degraded": 2}


def status_line(st: object) -> str:
    """One component's line of `cluster status`: its health, naming the nodes down."""
    from vitrina.cluster.process import DEGRADED, UP, ComponentStatus

    assert isinstance(st, ComponentStatus)
    nodes = f" (node(s) {', '.join(map(str, st.nodes_down))} down)" if st.nodes_down else ""
    if st.health == UP:
        state = "[green]up[/]"
    elif st.health == DEGRADED:
        state = f"[yellow]degraded{nodes}[/]"
    elif st.running and not st.nodes_down:
        state = "[yellow]running, not answering[/]"
    else:
        state = f"[red]down{nodes}[/]"
    return f"{st.name:13} {state}  {st.address}  {st.detail}"


def exit_code(healths: list[str]) -> int:
    """The worst health wins: any component down 1, else any degraded 2, else 0."""
    from vitrina.cluster.process import DEGRADED, DOWN, UP

    worst = DOWN if DOWN in healths else DEGRADED if DEGRADED in healths else UP
    return EXIT_CODES[worst]


@app.command()
@handle_errors
def status(
    base_port: int | None = typer.Option(None, "--base-port", help=BASE_PORT_HELP),
) -> None:
    """Each component: up, degraded (it serves with node(s) down, named) or down; brokers,
    active controller, under-replicated partitions, MirrorMaker 2 lag. Exit 0: everything
    up; 2: degraded (Kafka lost a node but writes go on); 1: a component is down (or a
    cluster has fewer than min.insync.replicas nodes answering: writes wait)."""
    from vitrina.cluster import topology

    plan = _plan(base_port)
    assert isinstance(plan, topology.Plan)
    healths = []
    for component in topology.components(plan):
        st = component.status()
        healths.append(st.health)
        console.print(status_line(st), highlight=False)
    code = exit_code(healths)
    if code:
        raise typer.Exit(code)
