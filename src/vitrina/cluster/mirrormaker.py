"""MirrorMaker 2 (connect-mirror, dedicated mode) from cluster A ("primary") to B ("mirror").

Identity replication policy (topic names kept, so a consumer fails over by changing only
`bootstrap.servers`), checkpoints with `sync.group.offsets.enabled=true` (the `vitrina-*`
consumer groups get translated offsets on B), offset syncs stored on the target. It connects
to both clusters as the `mirror` principal; its password is read by Kafka's
DirectoryConfigProvider at start, so it never appears in `mm2.properties`.
"""

from __future__ import annotations

from collections.abc import Collection
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
    _heartbeats_at_start: int | None = field(default=None, init=False, repr=False)
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
            # Without this MM2 still runs the disabled flow's heartbeat connector, which makes
            # `heartbeats` on the SOURCE with `heartbeats.topic.replication.factor` (the
            # target's, 1): one broker of A down and that partition was offline. Nothing
            # reads them (the flow is off); the readiness check reads the target's.
            f"{TARGET}->{SOURCE}.emit.heartbeats.enabled": "false",
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
            # Source offsets committed every interval (Connect's default is 60 s): a killed
            # MM2 re-copies at most that much, and `lag` (read from these offsets) drains.
            "offset.flush.interval.ms": str(self.interval_s * 1000),
            # Copy exactly: the source records' timestamps, keys and headers as they are.
            f"{SOURCE}->{TARGET}.producer.override.enable.idempotence": "true",
            # Committed records only: Kafka's consumer default (read_uncommitted) copies the
            # records of aborted transactions, which on the mirror are plain records (no
            # abort marker follows them there). The flow's `source.consumer.` prefix is what
            # MirrorSourceConnector builds its consumer of the source cluster from.
            f"{SOURCE}->{TARGET}.source.consumer.isolation.level": "read_committed",
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

    def _heartbeats(self) -> int | None:
        """Heartbeats MM2 has written to the target cluster so far; None when the target
        does not answer."""
        try:
            return sum(
                _end_offsets(self.target, 3, topic="heartbeats").get("heartbeats", {}).values()
            )
        except Exception:
            return None

    def _ready(self) -> bool:
        """MM2 runs its connectors once a heartbeat written since this start reaches the
        target cluster. The `heartbeats` topic stays from an earlier run, so asking only
        whether it exists called a restarted MM2 ready at once ("mirrormaker: up in 0 s", a
        blind review) while its connectors had not started."""
        now = self._heartbeats()
        if now is None:
            return False
        if self._heartbeats_at_start is None:  # the target did not answer at the start
            self._heartbeats_at_start = now
            return False
        return now > self._heartbeats_at_start

    def start(self) -> None:
        jars.resolve("kafka")
        self.write_config()
        process = self.process()
        if not process.running():
            self._heartbeats_at_start = self._heartbeats()
        process.start()

    def stop(self) -> None:
        self.process().stop()

    def lag(self, timeout: float = 5.0) -> dict[str, int]:
        """Records in A not yet copied to B, per mirrored topic: A's end offsets minus where
        MM2's source connector says it is (its Connect offsets on B). Not B's end offsets:
        MM2 re-copies after a kill -9, so B held 188k more shop-products records than A while
        658k filtered-products records were still to copy, and the difference, clamped per
        topic, hid that; and A's transactional topics end with commit markers MM2 never
        copies, a difference that never drains."""
        import re

        source_ends = _end_offsets(self.source, timeout)
        copied = _copied_offsets(self.target, timeout)
        wanted = re.compile(self.topics)
        # MM2's default topics.exclude: its own and other internal topics are never copied.
        internal = re.compile(r".*[-.]internal$|.*\.replica$|__.*|heartbeats$")
        mirrored = {
            topic: ends
            for topic, ends in source_ends.items()
            if wanted.fullmatch(topic) and not internal.match(topic)
        }
        # A few offsets left may be only commit markers: checked by reading them.
        suspects = {
            tp: copied[tp] + 1
            for tp, n in partition_lag(mirrored, copied).items()
            if 0 < n <= 10 and tp in copied
        }
        return topic_lag(mirrored, copied, _only_markers(self.source, suspects, timeout))

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


def partition_lag(
    source_ends: dict[str, dict[int, int]], copied: dict[tuple[str, int], int]
) -> dict[tuple[str, int], int]:
    """Offsets of each source partition past the last one MM2 copied (all, if none yet)."""
    return {
        (topic, part): max(0, high - copied.get((topic, part), -1) - 1)
        for topic, ends in source_ends.items()
        for part, high in ends.items()
    }


def topic_lag(
    source_ends: dict[str, dict[int, int]],
    copied: dict[tuple[str, int], int],
    markers_only: Collection[tuple[str, int]] = (),
) -> dict[str, int]:
    """Per topic, the records MM2 has yet to copy (partitions whose rest is only
    transaction markers count 0)."""
    lag = dict.fromkeys(source_ends, 0)
    for (topic, part), n in partition_lag(source_ends, copied).items():
        lag[topic] += 0 if (topic, part) in markers_only else n
    return lag


def _copied_offsets(target: KafkaCluster, timeout: float) -> dict[tuple[str, int], int]:
    """The last source offset MM2 copied per (topic, partition): its source connector's
    Connect offsets (`mm2-offsets.<source>.internal` on the target), folded by key."""
    import orjson
    from confluent_kafka import Consumer, KafkaError, TopicPartition

    topic = f"mm2-offsets.{SOURCE}.internal"
    consumer = Consumer(
        {
            **target.client_config(),
            "group.id": "vitrina-cli-mm2-lag",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
    )
    copied: dict[tuple[str, int], int] = {}
    try:
        meta = consumer.list_topics(topic=topic, timeout=timeout).topics.get(topic)
        if meta is None or meta.error is not None:
            return copied  # MM2 has committed nothing yet
        consumer.assign([TopicPartition(topic, p, 0) for p in meta.partitions])
        pending = set(meta.partitions)
        while pending:
            msg = consumer.poll(timeout)
            if msg is None:
                raise TimeoutError(f"{topic} not read to its end in {timeout:.0f} s")
            err = msg.error()
            if err is not None:
                if err.code() != KafkaError._PARTITION_EOF:
                    raise RuntimeError(str(err))
                pending.discard(msg.partition())
                continue
            key = orjson.loads(msg.key() or b"null")
            if not (isinstance(key, list) and key[0] == "MirrorSourceConnector"):
                continue
            where = (str(key[1].get("topic")), int(key[1].get("partition", 0)))
            value = msg.value()
            if value is None:
                copied.pop(where, None)
            else:
                copied[where] = int(orjson.loads(value)["offset"])
        return copied
    finally:
        consumer.close()


def _only_markers(
    source: KafkaCluster, starts: dict[tuple[str, int], int], timeout: float
) -> set[tuple[str, int]]:
    """The partitions whose offsets from `starts` on hold no record a read_committed
    reader gets (transaction commit/abort markers, aborted records): nothing left to copy."""
    from confluent_kafka import Consumer, KafkaError, TopicPartition

    if not starts:
        return set()
    consumer = Consumer(
        {
            **source.client_config(),
            "group.id": "vitrina-cli-mm2-lag",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "isolation.level": "read_committed",
        }
    )
    empty = set(starts)
    try:
        consumer.assign([TopicPartition(t, p, o) for (t, p), o in starts.items()])
        pending = set(starts)
        while pending:
            msg = consumer.poll(timeout)
            if msg is None:
                return set()  # not sure: count them as lag
            place = (msg.topic() or "", msg.partition() or 0)
            err = msg.error()
            if err is None:
                empty.discard(place)
            elif err.code() != KafkaError._PARTITION_EOF:
                return set()
            pending.discard(place)
        return empty
    finally:
        consumer.close()


def _end_offsets(
    cluster: KafkaCluster, timeout: float, topic: str | None = None
) -> dict[str, dict[int, int]]:
    """End offsets per topic and partition (of `topic` alone when given)."""
    from confluent_kafka import Consumer, TopicPartition

    conf: dict[str, Any] = {
        **cluster.client_config(),
        "group.id": "vitrina-cli-mm2-lag",
        "enable.auto.commit": False,
    }
    consumer = Consumer(conf)
    try:
        meta = consumer.list_topics(topic=topic, timeout=timeout)
        ends: dict[str, dict[int, int]] = {}
        for name, found in meta.topics.items():
            if name.startswith("__"):
                continue
            for part in found.partitions:
                _, high = consumer.get_watermark_offsets(
                    TopicPartition(name, part), timeout=timeout
                )
                ends.setdefault(name, {})[part] = high
        return ends
    finally:
        consumer.close()
