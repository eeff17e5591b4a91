"""Topics as code: create what is missing, report what differs (idempotent)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

from vitrina.errors import BrokerError
from vitrina.kafka.clients import admin_config, identity
from vitrina.kafka.errors import ClientIdentity, explain, fetch_metadata
from vitrina.settings import Settings
from vitrina.topics import TopicSpec, declared_topics

log = logging.getLogger(__name__)
VISIBLE_POLL_S = 0.1  # between metadata requests while created topics propagate


@dataclass
class TopicState:
    name: str
    partitions: int
    replication_factor: int
    configs: dict[str, str] = field(default_factory=dict)


@dataclass
class ApplyReport:
    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    differs: dict[str, list[str]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.created)

    @property
    def matches(self) -> bool:
        """True when every declared topic exists as declared (partitions, RF, configs)."""
        return not self.differs


def admin_client(settings: Settings) -> AdminClient:
    return AdminClient(admin_config(settings))


def describe_topics(
    admin: AdminClient,
    names: list[str] | None = None,
    timeout: float = 10.0,
    ident: ClientIdentity | None = None,
) -> dict[str, TopicState]:
    ident = ident or ClientIdentity("admin", "the bootstrap servers", "")
    metadata = fetch_metadata(admin, ident, timeout=timeout)
    states = {}
    for name, topic in metadata.topics.items():
        if topic.error is not None or (names is not None and name not in names):
            continue
        replicas = len(next(iter(topic.partitions.values())).replicas) if topic.partitions else 0
        states[name] = TopicState(name, len(topic.partitions), replicas)
    if states:
        resources = [ConfigResource("topic", n) for n in states]
        try:
            for res, fut in admin.describe_configs(resources, request_timeout=timeout).items():
                states[res.name].configs = {
                    k: v.value for k, v in fut.result().items() if v.value is not None
                }
        except KafkaException:
            pass  # configs are informative only; the embedded broker returns few
    return states


def _differences(spec: TopicSpec, state: TopicState) -> list[str]:
    diffs = []
    if state.partitions != spec.partitions:
        diffs.append(f"partitions: declared {spec.partitions}, actual {state.partitions}")
    if state.replication_factor and state.replication_factor != spec.replication_factor:
        diffs.append(
            f"replication factor: declared {spec.replication_factor}, "
            f"actual {state.replication_factor}"
        )
    for key, want in spec.configs.items():
        have = state.configs.get(key)
        # The embedded broker returns only configs set explicitly: absent means unknown.
        if have is not None and have != want:
            diffs.append(f"{key}: declared {want}, actual {have}")
    return diffs


def apply_topics(settings: Settings, timeout: float = 15.0) -> ApplyReport:
    """Create every declared topic that is missing; report the ones that differ."""
    admin = admin_client(settings)
    ident = identity(settings, "admin")
    specs = declared_topics(settings)
    existing = describe_topics(admin, [s.name for s in specs], timeout, ident)
    report = ApplyReport()
    missing = [s for s in specs if s.name not in existing]
    if missing:
        futures = admin.create_topics(
            [
                NewTopic(s.name, s.partitions, s.replication_factor, config=s.configs)
                for s in missing
            ],
            request_timeout=timeout,
        )
        for name, fut in futures.items():
            try:
                fut.result()
                report.created.append(name)
            except KafkaException as exc:
                if "TOPIC_ALREADY_EXISTS" in str(exc):
                    report.unchanged.append(name)
                else:
                    raise explain(exc, ident, operation="CREATE", topic=name) or BrokerError(
                        f"could not create topic {name}: {exc}"
                    ) from None
    if report.created:
        _wait_until_visible(admin, report.created, ident, timeout)
    for spec in specs:
        if spec.name in existing:
            diffs = _differences(spec, existing[spec.name])
            if diffs:
                report.differs[spec.name] = diffs
            else:
                report.unchanged.append(spec.name)
    return report


def _wait_until_visible(
    admin: AdminClient, names: list[str], ident: ClientIdentity, timeout: float
) -> None:
    """Until the metadata shows every topic just created with a leader for each partition:
    the controller acknowledges a creation before every broker knows the topic, and a caller
    that described or used it at once (a 3-broker cluster under load) found no such topic.
    Bounded by `timeout`; then the caller's own use reports what is still missing."""
    deadline = time.monotonic() + timeout
    wanted = set(names)
    while True:
        topics = fetch_metadata(admin, ident, timeout=max(0.5, deadline - time.monotonic())).topics
        ready = {
            name
            for name in wanted
            if (topic := topics.get(name)) is not None
            and topic.error is None
            and topic.partitions
            and all(p.leader >= 0 for p in topic.partitions.values())
        }
        if ready == wanted:
            return
        if time.monotonic() >= deadline:
            log.warning("topics created but not yet in the metadata: %s", sorted(wanted - ready))
            return
        time.sleep(VISIBLE_POLL_S)


def create_topic(
    settings: Settings, name: str, partitions: int = 1, configs: dict[str, str] | None = None
) -> None:
    """Create one ad-hoc topic (tests, benchmarks); no error if it exists."""
    admin = admin_client(settings)
    fut = admin.create_topics(
        [NewTopic(name, partitions, settings.kafka.replication_factor, config=configs or {})]
    )[name]
    try:
        fut.result(15)
    except KafkaException as exc:
        if "TOPIC_ALREADY_EXISTS" not in str(exc):
            raise


@dataclass
class ClusterView:
    """What the cluster at kafka.bootstrap_servers says about itself (metadata).

    No controller: on KRaft the metadata's controller id is a random live broker (clients
    cannot reach the quorum), and `status` printed "controller 1", then "controller 3", while
    node 3 led the quorum all along (its JMX said so). `vitrina cluster status` reads the
    real one from the nodes' JMX exporters."""

    bootstrap: str
    brokers: dict[int, str]  # node id -> host:port as advertised
    topics: int
    under_replicated: int = 0  # partitions with fewer in-sync replicas than replicas
    below_min_isr: int = 0  # partitions refusing acks=all writes (ISR < min.insync.replicas)
    offline: int = 0  # partitions without a leader
    # Listed in the metadata but refusing connections: with two of three KRaft nodes down
    # the quorum is gone and the survivor's metadata still lists the dead (ISR unchanged).
    silent: tuple[int, ...] = ()
    min_insync: int = 1

    @property
    def writes_wait(self) -> bool:
        """acks=all writes cannot complete: partitions offline or under min.insync, or fewer
        answering brokers than min.insync.replicas."""
        answering = len(self.brokers) - len(self.silent)
        return bool(self.offline or self.below_min_isr or answering < self.min_insync)

    @property
    def health(self) -> str:
        """'' when every partition is fully in sync, else what is wrong, worst first."""
        parts = []
        if self.silent:
            parts.append(
                f"broker(s) {', '.join(map(str, self.silent))} listed but not answering"
                + (
                    f" — fewer than min.insync.replicas ({self.min_insync}) answer: writes "
                    "wait until a broker returns"
                    if len(self.brokers) - len(self.silent) < self.min_insync
                    else ""
                )
            )
        if self.offline:
            parts.append(f"{self.offline} partition(s) offline")
        if self.below_min_isr:
            parts.append(
                f"{self.below_min_isr} partition(s) below min.insync.replicas: writes to "
                "them wait until a broker returns"
            )
        if self.under_replicated:
            parts.append(f"{self.under_replicated} under-replicated")
        return "; ".join(parts)


def partition_health(topics: Any, min_insync: int) -> tuple[int, int, int]:
    """(under-replicated, below min.insync.replicas, offline) over metadata topics."""
    under = below = offline = 0
    for topic in topics.values():
        for p in topic.partitions.values():
            if p.leader < 0:
                offline += 1
            elif len(p.isrs) < min(min_insync, len(p.replicas)):
                below += 1
            if len(p.isrs) < len(p.replicas):
                under += 1
    return under, below, offline


def describe_cluster(
    settings: Settings, timeout: float = 5.0, principal: str = "admin"
) -> ClusterView:
    """The brokers of the configured cluster (embedded or external) and its partitions' health.

    Raises the precise error (unreachable, refused login, untrusted CA) within `timeout`.
    """
    ident = identity(settings, principal)
    meta = fetch_metadata(AdminClient(admin_config(settings, principal)), ident, timeout=timeout)
    brokers = {b.id: f"{b.host}:{b.port}" for b in meta.brokers.values()}
    min_insync = min(settings.kafka.min_insync_replicas, len(brokers)) if brokers else 1
    under, below, offline = partition_health(meta.topics, min_insync)
    silent = tuple(node for node, b in sorted(meta.brokers.items()) if not _answers(b.host, b.port))
    return ClusterView(
        settings.kafka.bootstrap_servers,
        dict(sorted(brokers.items())),
        len(meta.topics),
        under,
        below,
        offline,
        silent,
        min_insync,
    )


def _answers(host: str, port: int, timeout: float = 2.0) -> bool:
    """Something accepts connections at host:port (a killed broker's port refuses them)."""
    import socket

    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
