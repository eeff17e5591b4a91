"""The production topology on one machine: what `vitrina cluster up` starts, in order.

`Plan` fixes where everything lives (``<data_dir>/cluster``) and on which ports. The ordered
component list is `COMPONENTS`: (name, "module:factory") pairs, each factory taking the
`Plan` and returning a `Component` (see `vitrina.cluster.process`). Modules that do not exist
yet are skipped, so another part of the stack (HDFS, OpenSearch, S3 — `cluster/hdfs.py`…)
joins by defining `component(plan) -> Component` in its module; `up` starts the list in order
and `down` stops it in reverse.

Cluster A ("kafka"): 3 KRaft nodes, secured. Cluster B ("kafka-mirror", the mirror): 1 node,
secured the same way (same CA, same SCRAM users), so a consumer fails over by changing only
`bootstrap.servers`. MirrorMaker 2 copies A to B.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vitrina.cluster import opensearch, s3
from vitrina.cluster.hdfs import HdfsPorts
from vitrina.cluster.kafka import HOST, KafkaCluster, NodePorts, ports_from_base
from vitrina.cluster.process import ClusterError, Component
from vitrina.settings import Settings, load_settings

# Ports of `vitrina cluster up` (tests pass free ports instead). Node i of cluster A:
# 29092+10(i-1) client, +1 internal, +2 controller, +3 JMX exporter. HDFS, OpenSearch and S3
# keep their modules' defaults (29020…29870); every port moves with the base port.
PRIMARY_BASE_PORT = 29092
MIRROR_BASE_PORT = 29192
MM2_METRICS_PORT = 29290
PROMETHEUS_PORT = 29288
ALERTMANAGER_PORT = 29289
PRIMARY_NODES = 3
MIRROR_NODES = 1
# The platform on the cluster (`vitrina --profile <data_dir>/cluster/profile.yaml up`):
# its services' HTTP and metrics ports, 29400 on (client API 29400, SHOP API 29401, filter
# 29402…), written into that profile and scraped by the cluster's Prometheus. They move with
# the base port like every other port: the Prometheus of a cluster on another base port
# scraped the default ports, where no service of its platform was (a blind review).
SERVICES_BASE_PORT = 29400
SERVICE_PORT_FIELDS = (
    "client_api",
    "shop_api",
    "filter",
    "indexer",
    "lake_sink",
    "analytics",
    "traffic",
    "mirror",
)


@dataclass(frozen=True)
class Plan:
    data_dir: Path
    primary_ports: tuple[NodePorts, ...] = tuple(ports_from_base(PRIMARY_BASE_PORT, PRIMARY_NODES))
    mirror_ports: tuple[NodePorts, ...] = tuple(ports_from_base(MIRROR_BASE_PORT, MIRROR_NODES))
    mm2_metrics_port: int = MM2_METRICS_PORT
    prometheus_port: int = PROMETHEUS_PORT
    alertmanager_port: int = ALERTMANAGER_PORT
    hdfs_ports: HdfsPorts = field(default_factory=HdfsPorts)
    opensearch_http_port: int = opensearch.HTTP_PORT
    opensearch_transport_port: int = opensearch.TRANSPORT_PORT
    s3_port: int = s3.DEFAULT_PORT
    services_port: int = SERVICES_BASE_PORT  # the first of the platform's (SERVICE_PORT_FIELDS)
    heap: str = "320m"

    @classmethod
    def at(cls, data_dir: Path, base_port: int = PRIMARY_BASE_PORT) -> Plan:
        """Every port relative to `base_port` (default 29092: A on 29092-29115, B on 29192…,
        Prometheus 29288, Alertmanager 29289, MirrorMaker 2 metrics 29290, HDFS 29020 and
        29864-29870, OpenSearch 29200/29300, S3 29500): a topology spans 851 ports, so two on
        one host share none when their base ports are at least that far apart.

        ClusterError when a port would leave 1024-65535 (the range a user may bind)."""
        shift = base_port - PRIMARY_BASE_PORT
        plan = cls(
            data_dir=data_dir,
            primary_ports=tuple(ports_from_base(base_port, PRIMARY_NODES)),
            mirror_ports=tuple(ports_from_base(MIRROR_BASE_PORT + shift, MIRROR_NODES)),
            mm2_metrics_port=MM2_METRICS_PORT + shift,
            prometheus_port=PROMETHEUS_PORT + shift,
            alertmanager_port=ALERTMANAGER_PORT + shift,
            hdfs_ports=HdfsPorts().shifted(shift),
            opensearch_http_port=opensearch.HTTP_PORT + shift,
            opensearch_transport_port=opensearch.TRANSPORT_PORT + shift,
            s3_port=s3.DEFAULT_PORT + shift,
            services_port=SERVICES_BASE_PORT + shift,
        )
        _check_range(plan, base_port)
        return plan

    def ports(self) -> list[int]:
        """Every port of the topology (a component's port collides with no other's)."""
        nodes = [*self.primary_ports, *self.mirror_ports]
        kafka = [p for n in nodes for p in (n.client, n.internal, n.controller, n.jmx) if p]
        return [
            *kafka,
            self.mm2_metrics_port,
            self.prometheus_port,
            self.alertmanager_port,
            *vars(self.hdfs_ports).values(),
            self.opensearch_http_port,
            self.opensearch_transport_port,
            self.s3_port,
            *self.service_ports.values(),
        ]

    @property
    def service_ports(self) -> dict[str, int]:
        """`ports.<field>` of the platform on this cluster (SERVICE_PORT_FIELDS)."""
        return {name: self.services_port + i for i, name in enumerate(SERVICE_PORT_FIELDS)}

    @property
    def root(self) -> Path:
        return self.data_dir / "cluster"

    @property
    def secrets(self) -> Path:
        # Where `vitrina security init` writes outside the repository: <data_dir>/secrets/kafka.
        return self.data_dir / "secrets" / "kafka"


def recorded_base_port(data_dir: Path) -> int | None:
    """The base port the cluster in `data_dir` was created with: cluster A's first client
    port, in its `cluster.json` (None before the first `cluster up`). `status`, `down` and
    `up` without --base-port use it: they asked the default ports and called a healthy
    cluster on other ones down."""
    import json

    state = data_dir / "cluster" / "kafka" / "cluster.json"
    try:
        return int(json.loads(state.read_text())["ports"][0]["client"])
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None


def _check_range(plan: Plan, base_port: int) -> None:
    """A port below 1024 needs root and one above 65535 does not exist: say which base ports
    fit rather than let a server fail to bind minutes into `cluster up`."""
    low, high = min(plan.ports()), max(plan.ports())
    if low >= 1024 and high <= 65535:
        return
    default = Plan(plan.data_dir).ports()
    raise ClusterError(
        f"--base-port {base_port} puts the topology on ports {low}-{high}",
        hint=f"choose a base port from {PRIMARY_BASE_PORT - min(default) + 1024} "
        f"to {65535 - (max(default) - PRIMARY_BASE_PORT)}",
    )


def ensure_secrets(plan: Plan) -> bool:
    """Run `security init` into the plan's secrets folder unless it is there; True if made."""
    from vitrina.security.credentials import build_material, write_material

    if (plan.secrets / "ca.pem").is_file():
        return False
    # The client .properties point at these clusters and this folder's ca.pem (not the
    # compose stack's kafka-N:9093 and /run/secrets).
    files = build_material(
        brokers=len(plan.primary_ports),
        mirror_brokers=len(plan.mirror_ports),
        now=datetime.now(UTC),
        bootstrap=",".join(f"{HOST}:{p.client}" for p in plan.primary_ports),
        mirror_bootstrap=",".join(f"{HOST}:{p.client}" for p in plan.mirror_ports),
        ca_path=str((plan.secrets / "ca.pem").resolve()),
    )
    write_material(plan.secrets, files)
    return True


def principals(plan: Plan) -> tuple[str, ...]:
    """Every principal with a password in the secrets folder (SCRAM users at format time)."""
    from vitrina.security import ALL_PRINCIPALS

    extra = sorted(
        p.stem
        for p in plan.secrets.glob("*.password")
        if p.stem not in ALL_PRINCIPALS and p.with_suffix(".properties").is_file()
    )
    return tuple(ALL_PRINCIPALS) + tuple(extra)


def _cluster(plan: Plan, name: str, ports: Sequence[NodePorts]) -> KafkaCluster:
    """Cluster A ("kafka") and the mirror ("kafka-mirror") differ only in name and ports; the
    name also prefixes the nodes' certificates."""
    return KafkaCluster(
        name,
        plan.root,
        list(ports),
        secrets=plan.secrets,
        host_prefix=name,
        heap=plan.heap,
        principals=principals(plan),
    )


def primary(plan: Plan) -> KafkaCluster:
    return _cluster(plan, "kafka", plan.primary_ports)


def mirror(plan: Plan) -> KafkaCluster:
    return _cluster(plan, "kafka-mirror", plan.mirror_ports)


def _mirrormaker(plan: Plan) -> Component:
    from vitrina.cluster.mirrormaker import MirrorMaker

    return MirrorMaker.for_plan(plan)


def _monitoring(plan: Plan) -> Component:
    """Prometheus on the brokers' and MM2's JMX exporters and on every Vitrina service's
    metrics port, with all the alert rules, and an Alertmanager (operator view only;
    Telegram: render deploy/alertmanager, see docs).

    The services are scraped where the platform on this cluster serves them (the plan's
    `service_ports`, which `cluster up` writes into <data_dir>/cluster/profile.yaml). A
    blind review found only Kafka and MM2 watched here: 12 of the 17 rules (stalled
    workers, lag, dead letters, API errors, stale analytics) could never fire. Until the
    platform runs, VitrinaServiceDown says so."""
    from vitrina.api.alerts import WEBHOOK_TOKEN_FILE, webhook_token
    from vitrina.monitoring.cluster import ClusterMonitoring
    from vitrina.monitoring.embedded import WEBHOOK_PATH, alertmanager_config
    from vitrina.services import SERVICES

    targets = {
        "kafka": [f"127.0.0.1:{p.jmx}" for p in plan.primary_ports if p.jmx],
        "kafka-mirror": [f"127.0.0.1:{p.jmx}" for p in plan.mirror_ports if p.jmx],
        "mirrormaker": [f"127.0.0.1:{plan.mm2_metrics_port}"],
    }
    ports = plan.service_ports  # as the profile has them
    for service in SERVICES:
        if service.available():
            targets[service.name] = [f"127.0.0.1:{ports[service.port_field]}"]
    # Alertmanager pages the client API of the platform on this cluster, as `up --monitoring`
    # does (the operator view shows what it sent): its receiver was empty until a Telegram
    # token was given (a blind review). The webhook's token is the platform's, in the
    # profile's data dir (generated here on first use, read by the client API).
    platform = load_settings("cluster", data_dir=plan.data_dir)
    webhook_token(platform)
    webhook = f"http://127.0.0.1:{ports['client_api']}{WEBHOOK_PATH}"
    return ClusterMonitoring(
        plan.root,
        targets,
        alertmanager_config(webhook, (platform.secrets_dir / WEBHOOK_TOKEN_FILE).resolve()),
        prometheus_port=plan.prometheus_port,
        alertmanager_port=plan.alertmanager_port,
    )


COMPONENTS: list[tuple[str, str]] = [
    ("kafka", "vitrina.cluster.topology:primary"),
    ("kafka-mirror", "vitrina.cluster.topology:mirror"),
    ("mirrormaker", "vitrina.cluster.topology:_mirrormaker"),
    ("monitoring", "vitrina.cluster.topology:_monitoring"),
    ("hdfs", "vitrina.cluster.hdfs:component"),
    ("opensearch", "vitrina.cluster.opensearch:component"),
    ("s3", "vitrina.cluster.s3:component"),
]


def components(plan: Plan, only: list[str] | None = None) -> list[Component]:
    """The components in start order (modules not built yet are skipped).

    `only`: names, each item also a comma-separated list (`--only kafka,kafka-mirror`);
    ClusterError for a name that is no component (it used to select nothing, and
    `cluster up` said "cluster up" having started nothing)."""
    if only is not None:
        only = [name.strip() for item in only for name in item.split(",") if name.strip()]
        known = [name for name, _target in COMPONENTS]
        unknown = sorted(set(only) - set(known))
        if unknown:
            raise ClusterError(
                f"no cluster component named {', '.join(unknown)}",
                hint=f"choose from {', '.join(known)} (repeat --only or separate with commas)",
            )
    found: list[Component] = []
    for name, target in COMPONENTS:
        if only is not None and name not in only:
            continue
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        factory: Callable[[Plan], Component] | None = getattr(module, attr, None)
        if factory is not None:  # a module still without its factory is not part of it yet
            found.append(factory(plan))
    return found


def purge(plan: Plan) -> list[Path]:
    """Delete every component's data folder (`<root>/<component>`: the clusters' logs, MM2's
    state, Prometheus' history, the lake on HDFS, the search index): the folders removed.
    Not the secrets, the logs or the profile. `down --purge` removed only Kafka's and MM2's,
    so after `cluster up` again the lake and the index still held the old cluster's data."""
    import shutil

    removed = []
    for name, _target in COMPONENTS:
        folder = plan.root / name
        if folder.exists():
            shutil.rmtree(folder)
            removed.append(folder)
    return removed


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = (
            _merge(out[key], value)
            if isinstance(value, dict) and isinstance(out.get(key), dict)
            else value
        )
    return out


def settings_for(
    cluster: KafkaCluster, principal: str, data_dir: Path, **overrides: Any
) -> Settings:
    """Settings of one service principal on `cluster` (its own password from the secrets)."""
    kafka: dict[str, Any] = {
        "bootstrap_servers": cluster.bootstrap,
        "replication_factor": min(3, cluster.size),
        "min_insync_replicas": min(2, cluster.size),
        "partitions": 3,
        "transactions": True,
        "security_protocol": cluster.protocol,
    }
    if cluster.secured:
        assert cluster.secrets is not None
        kafka.update(
            {
                "sasl_mechanism": "SCRAM-SHA-512",
                "sasl_username": principal,
                "secrets_dir": cluster.secrets,
                "ssl_ca_location": cluster.secrets / "ca.pem",
            }
        )
    base: dict[str, Any] = {"data_dir": data_dir, "kafka": kafka, "broker": {"embedded": False}}
    return load_settings(**_merge(base, overrides))
