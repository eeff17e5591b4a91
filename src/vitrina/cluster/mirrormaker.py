"""MirrorMaker 2 (connect-mirror, dedicated mode) from cluster A ("primary") to B ("mirror").

Identity replication policy (topic names kept, so a consumer fails over by changing only
`bootstrap.servers`), checkpoints with `sync.group.offsets.enabled=true` (the `vitrina-*`
consumer groups get translated offsets on B), offset syncs stored on the target. It connects
to both clusters as the `mirror` principal; its password is read by Kafka's
DirectoryConfigProvider at start, so it never appears in `mm2.properties`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vitrina.cluster import jars
from vitrina.cluster.kafka import HOST, KafkaCluster, deploy_file
from vitrina.cluster.process import ComponentStatus, ManagedProcess, java_argv

if TYPE_CHECKING:
    from vitrina.cluster.topology import Plan

MAIN_CLASS = "org.apache.kafka.connect.mirror.MirrorMaker"
SOURCE, TARGET = "primary", "mirror"  # aliases, as in the ACL plan and the compose stack
# Every topic; MM2's default `topics.exclude` leaves out internal ones (*.internal, __*).
DEFAULT_TOPICS = ".*"


@dataclass
class MirrorMaker:
    source: KafkaCluster
    target: KafkaCluster
    root: Path
    principal: str = "mirror"
    topics: str = DEFAULT_TOPICS
    groups: str = "vitrina-.*"
    # Seconds between checkpoints / group offset syncs / topic and group refreshes. Short:
    # a failover re-reads at most what was consumed in the last interval.
    interval_s: int = 5
    metrics_port: int | None = None
    heap: str = "256m"
    overrides: dict[str, str] = field(default_factory=dict)
    name: str = "mirrormaker"

    @classmethod
    def for_plan(cls, plan: Plan) -> MirrorMaker:
        from vitrina.cluster import topology

        return cls(
            topology.primary(plan),
            topology.mirror(plan),
            plan.root,
            metrics_port=plan.mm2_metrics_port,
        )

    @property
    def config_file(self) -> Path:
        return self.root / "mirrormaker" / "mm2.properties"

    def _client(self, alias: str, cluster: KafkaCluster) -> dict[str, str]:
        props = {
            f"{alias}.bootstrap.servers": cluster.bootstrap,
            f"{alias}.security.protocol": cluster.protocol,
        }
        if cluster.secured:
            secrets = cluster.secrets
            props.update(
                {
                    f"{alias}.sasl.mechanism": "SCRAM-SHA-512",
                    f"{alias}.sasl.jaas.config": "org.apache.kafka.common.security.scram.ScramLoginModule required "
                    f'username="{self.principal}" '
                    f'password="${{dir:{secrets}:{self.principal}.password}}";',
                    f"{alias}.ssl.truststore.type": "PEM",
                    f"{alias}.ssl.truststore.location": f"{secrets}/ca.pem",
                }
            )
        return props

    def properties(self) -> dict[str, str]:
        rf = str(min(3, self.target.size))
        i = str(self.interval_s)
        props = {
            "clusters": f"{SOURCE}, {TARGET}",
            "config.providers": "dir",
            "config.providers.dir.class": "org.apache.kafka.common.config.provider.DirectoryConfigProvider",
            **self._client(SOURCE, self.source),
            **self._client(TARGET, self.target),
            f"{SOURCE}->{TARGET}.enabled": "true",
            f"{TARGET}->{SOURCE}.enabled": "false",
            f"{SOURCE}->{TARGET}.topics": self.topics,
            f"{SOURCE}->{TARGET}.groups": self.groups,
            "replication.policy.class": "org.apache.kafka.connect.mirror.IdentityReplicationPolicy",
            "sync.topic.configs.enabled": "true",
            "sync.topic.acls.enabled": "false",
            "emit.checkpoints.enabled": "true",
            "emit.checkpoints.interval.seconds": i,
            "sync.group.offsets.enabled": "true",
            "sync.group.offsets.interval.seconds": i,
            "emit.heartbeats.interval.seconds": i,
            "refresh.topics.interval.seconds": i,
            "refresh.groups.interval.seconds": i,
            # An offset sync at least every 10 records: translated offsets stay close.
            "offset.lag.max": "10",
            "offset-syncs.topic.location": "target",
            "replication.factor": rf,
            "checkpoints.topic.replication.factor": rf,
            "heartbeats.topic.replication.factor": rf,
            "offset-syncs.topic.replication.factor": rf,
            # Connect's own topics exist on both clusters (one herder per direction): each
            # with its cluster's replication factor.
            **{
                f"{alias}.{kind}.storage.replication.factor": str(min(3, cluster.size))
                for alias, cluster in ((SOURCE, self.source), (TARGET, self.target))
                for kind in ("offset", "status", "config")
            },
            "tasks.max": "2",
            # Copy exactly: the source records' timestamps, keys and headers as they are.
            f"{SOURCE}->{TARGET}.producer.override.enable.idempotence": "true",
        }
        props.update(self.overrides)
        return props

    def write_config(self) -> Path:
        self.config_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Java properties: a backslash escapes, so regexes keep theirs doubled.
        body = "".join(
            f"{k}={v.replace(chr(92), chr(92) * 2)}\n" for k, v in self.properties().items()
        )
        self.config_file.write_text("# generated by vitrina.cluster.mirrormaker\n" + body)
        return self.config_file

    def process(self) -> ManagedProcess:
        log = self.root / "logs" / f"{self.name}.log"
        opts = [
            f"-Dlog4j2.configurationFile={deploy_file('log4j2.properties')}",
            f"-Dvitrina.log.file={log}",
        ]
        if self.metrics_port is not None:
            agent = jars.classpath_dir("kafka") / "jmx_prometheus_javaagent-1.0.1.jar"
            opts.append(
                f"-javaagent:{agent}={HOST}:{self.metrics_port}:{deploy_file('jmx-exporter.yml')}"
            )
        argv = java_argv(
            jars.classpath("kafka"),
            MAIN_CLASS,
            [str(self.config_file)],
            heap=self.heap,
            jvm_opts=opts,
        )
        return ManagedProcess(self.name, self.root, argv, ready=self._ready, start_timeout_s=180)

    def _ready(self) -> bool:
        """MM2 runs its connectors once heartbeats reach the target cluster."""
        try:
            topics = self.target.admin().list_topics(timeout=3).topics
        except Exception:
            return False
        return "heartbeats" in topics

    def start(self) -> None:
        jars.resolve("kafka")
        self.write_config()
        self.process().start()

    def stop(self) -> None:
        self.process().stop()

    def lag(self, timeout: float = 5.0) -> dict[str, int]:
        """Records in A not yet in B, per mirrored topic (end offset difference)."""
        import re

        source_ends = _end_offsets(self.source, timeout)
        target_ends = _end_offsets(self.target, timeout)
        wanted = re.compile(self.topics)
        # MM2's default topics.exclude: its own and other internal topics are never copied.
        internal = re.compile(r".*[-.]internal$|.*\.replica$|__.*|heartbeats$")
        return {
            topic: max(0, sum(ends.values()) - sum(target_ends.get(topic, {}).values()))
            for topic, ends in source_ends.items()
            if wanted.fullmatch(topic) and not internal.match(topic)
        }

    def status(self) -> ComponentStatus:
        pid = self.process().pid()
        detail = ""
        answering = False
        if pid is not None:
            try:
                lag = self.lag()
            except Exception as exc:  # status reports, never raises
                detail = f"lag unknown: {exc}"
            else:
                answering = True
                detail = f"lag {sum(lag.values())} records over {len(lag)} topics"
        return ComponentStatus(
            self.name, pid is not None, answering, f"{SOURCE} -> {TARGET}", pid, detail
        )


def grant_target_extras(target: KafkaCluster, principal: str = "mirror") -> None:
    """ACLs MM2 needs on the TARGET that the ACL plan (`vitrina acl apply`) lacks today:
    READ on the `vitrina-` groups (`sync.group.offsets` alters their offsets there) and the
    heartbeats replica `primary.heartbeats` the source connector creates. Granted after
    `acl apply`; a later `acl apply` removes them again (the plan manages `mirror`)."""
    from confluent_kafka.admin import (
        AclBinding,
        AclOperation,
        AclPermissionType,
        ResourcePatternType,
        ResourceType,
    )

    user = f"User:{principal}"
    allow = AclPermissionType.ALLOW
    bindings = [
        AclBinding(
            ResourceType.GROUP,
            "vitrina-",
            ResourcePatternType.PREFIXED,
            user,
            "*",
            AclOperation.READ,
            allow,
        )
    ]
    bindings += [
        AclBinding(
            ResourceType.TOPIC,
            f"{SOURCE}.heartbeats",
            ResourcePatternType.LITERAL,
            user,
            "*",
            op,
            allow,
        )
        for op in (
            AclOperation.CREATE,
            AclOperation.WRITE,
            AclOperation.READ,
            AclOperation.DESCRIBE_CONFIGS,
        )
    ]
    admin = target.admin()  # kept referenced until the futures are done
    for future in admin.create_acls(bindings, request_timeout=15).values():
        future.result()


def _end_offsets(cluster: KafkaCluster, timeout: float) -> dict[str, dict[int, int]]:
    from confluent_kafka import Consumer, TopicPartition

    conf: dict[str, Any] = {
        **cluster.client_config(),
        "group.id": "vitrina-cli-mm2-lag",
        "enable.auto.commit": False,
    }
    consumer = Consumer(conf)
    try:
        meta = consumer.list_topics(timeout=timeout)
        ends: dict[str, dict[int, int]] = {}
        for name, topic in meta.topics.items():
            if name.startswith("__"):
                continue
            for part in topic.partitions:
                _, high = consumer.get_watermark_offsets(
                    TopicPartition(name, part), timeout=timeout
                )
                ends.setdefault(name, {})[part] = high
        return ends
    finally:
        consumer.close()
