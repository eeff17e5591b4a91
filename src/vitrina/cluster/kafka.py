"""Apache Kafka 4 KRaft clusters run natively on 127.0.0.1 from the Maven jar cache.

A `KafkaCluster` is N combined broker+controller nodes (a static controller quorum). Secured
(the production topology): clients on a SASL_SSL listener with SCRAM-SHA-512 and TLS from
`vitrina security init`; nodes talk to each other over mTLS (INTERNAL and CONTROLLER
listeners), their certificates (CN=kafka-N) mapped to the super user `broker`;
StandardAuthorizer with `allow.everyone.if.no.acl.found=false` and only `admin` as client
super user; RF = nodes (3), `min.insync.replicas=2`, unclean leader election off. Plaintext
(tests, the embedded single node): one PLAINTEXT client listener, no authorizer.

Layout under ``root``: ``<name>/node-<i>/server.properties`` and ``data/`` (the log dirs),
``<name>/cluster.json`` (cluster id and ports, so a restart finds the same cluster),
``logs/<name>-<i>.log`` (stdout + log4j2), ``run/<name>-<i>.pid``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vitrina.cluster import jars
from vitrina.cluster.process import (
    ClusterError,
    ComponentStatus,
    ManagedProcess,
    java_argv,
)
from vitrina.lifecycle import port_open

HOST = "127.0.0.1"
KAFKA_MAIN = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"
MECHANISM = "SCRAM-SHA-512"
# Brokers and controllers authenticate with their certificates; this rule maps them to one user.
PRINCIPAL_RULE = r"RULE:^CN=(kafka-[0-9]+|kafka-mirror-[0-9]+),.*$/broker/,DEFAULT"


def deploy_file(name: str) -> Path:
    return jars.DEPLOY_DIR / "kafka" / name


# A JMX exporter scrape took 3–6 s with the cluster under load on 2 cores (it walks every
# MBean); 2 s, the old limit, made the active controller look absent.
JMX_SCRAPE_TIMEOUT_S = 15.0


def new_cluster_id() -> str:
    """Kafka's cluster id format: a UUID as 22 characters of URL-safe base64. Like Kafka's own
    `Uuid.randomUuid`, never one that starts with "-": command-line tools read it as an option
    (1 draw in 64 made `kafka-storage format -t <id>` fail)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


@dataclass(frozen=True)
class NodePorts:
    client: int
    internal: int
    controller: int
    jmx: int | None = None


def ports_from_base(base: int, nodes: int, jmx: bool = True) -> list[NodePorts]:
    """Node i (1-based) listens on base+10(i-1) (client), +1 (internal), +2 (controller),
    +3 (JMX exporter)."""
    return [
        NodePorts(
            base + 10 * i, base + 10 * i + 1, base + 10 * i + 2, base + 10 * i + 3 if jmx else None
        )
        for i in range(nodes)
    ]


def serving(answering: Mapping[int, bool], min_insync: int) -> tuple[bool, tuple[int, ...]]:
    """Whether a cluster whose nodes answer as given takes acks=all writes (at least
    `min_insync` of them answer), and which nodes do not answer."""
    down = tuple(sorted(node for node, ok in answering.items() if not ok))
    return len(answering) - len(down) >= min_insync, down


@dataclass
class KafkaCluster:
    """One KRaft cluster. `host_prefix` names the certificates: kafka-N or kafka-mirror-N."""

    name: str
    root: Path
    ports: list[NodePorts]
    secrets: Path | None = None  # None: plaintext
    host_prefix: str = "kafka"
    heap: str = "320m"
    principals: tuple[str, ...] = ()  # SCRAM users created at format time (passwords in secrets)
    overrides: dict[str, str] = field(default_factory=dict)
    start_timeout_s: float = 120.0
    # False: ports may change between starts (a single plaintext node with a static quorum
    # keeps no port in its metadata), e.g. the embedded broker.
    strict_ports: bool = True
    # True: the node's process is named after the cluster ("broker"), not "<name>-<i>".
    single_process_name: bool = False
    die_with_starter: bool = False  # ManagedProcess.die_with_starter, for every node
    _cluster_id: str | None = field(default=None, init=False, repr=False)

    # -- layout ----------------------------------------------------------------------------
    @property
    def size(self) -> int:
        return len(self.ports)

    @property
    def secured(self) -> bool:
        return self.secrets is not None

    @property
    def home(self) -> Path:
        return self.root / self.name

    def node_dir(self, node: int) -> Path:
        return self.home / f"node-{node}"

    @property
    def bootstrap(self) -> str:
        return ",".join(f"{HOST}:{p.client}" for p in self.ports)

    @property
    def min_insync(self) -> int:
        return min(2, self.size)

    @property
    def protocol(self) -> str:
        return "SASL_SSL" if self.secured else "PLAINTEXT"

    @property
    def cluster_id(self) -> str:
        if self._cluster_id is None:
            state = self.home / "cluster.json"
            if state.is_file():
                saved = json.loads(state.read_text())
                self._cluster_id = str(saved["cluster_id"])
                if self.strict_ports and [NodePorts(**p) for p in saved["ports"]] != self.ports:
                    raise ClusterError(
                        f"cluster {self.name} in {self.home} was created with other ports "
                        f"({saved['ports']})",
                        hint="use the same ports, or `vitrina cluster down --purge` to start over",
                    )
            else:
                self._cluster_id = new_cluster_id()
        return self._cluster_id

    def _save_state(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        (self.home / "cluster.json").write_text(
            json.dumps(
                {"cluster_id": self.cluster_id, "ports": [asdict(p) for p in self.ports]}, indent=1
            )
        )

    # -- configuration ---------------------------------------------------------------------
    def server_properties(self, node: int) -> dict[str, str]:
        p = self.ports[node - 1]
        voters = ",".join(f"{i}@{HOST}:{q.controller}" for i, q in enumerate(self.ports, 1))
        rf = str(self.size)
        isr = str(self.min_insync)
        props = {
            "process.roles": "broker,controller",
            "node.id": str(node),
            "controller.quorum.voters": voters,
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "INTERNAL",
            "listeners": f"INTERNAL://{HOST}:{p.internal},CLIENT://{HOST}:{p.client},"
            f"CONTROLLER://{HOST}:{p.controller}",
            "advertised.listeners": f"INTERNAL://{HOST}:{p.internal},CLIENT://{HOST}:{p.client}",
            "log.dirs": str(self.node_dir(node) / "data"),
            "default.replication.factor": rf,
            "min.insync.replicas": isr,
            "offsets.topic.replication.factor": rf,
            "transaction.state.log.replication.factor": rf,
            "transaction.state.log.min.isr": isr,
            "share.coordinator.state.topic.replication.factor": rf,
            "share.coordinator.state.topic.min.isr": isr,
            "unclean.leader.election.enable": "false",
            "auto.create.topics.enable": "false",
            "num.partitions": "3",
            "group.initial.rebalance.delay.ms": "0",
            # Small machine: few threads, small segments (tests create many small topics).
            "num.network.threads": "2",
            "num.io.threads": "4",
            "num.recovery.threads.per.data.dir": "1",
            "log.segment.bytes": str(64 * 1024 * 1024),
        }
        if self.secured:
            assert self.secrets is not None
            host = f"{self.host_prefix}-{node}"
            props.update(
                {
                    "listener.security.protocol.map": "INTERNAL:SSL,CLIENT:SASL_SSL,CONTROLLER:SSL",
                    "ssl.keystore.type": "PEM",
                    "ssl.keystore.location": str(self.secrets / f"{host}.keystore.pem"),
                    "ssl.truststore.type": "PEM",
                    "ssl.truststore.location": str(self.secrets / "ca.pem"),
                    "ssl.endpoint.identification.algorithm": "https",
                    "ssl.client.auth": "required",
                    "listener.name.client.ssl.client.auth": "none",
                    "ssl.principal.mapping.rules": PRINCIPAL_RULE,
                    "sasl.enabled.mechanisms": MECHANISM,
                    "listener.name.client.scram-sha-512.sasl.jaas.config": "org.apache.kafka.common.security.scram.ScramLoginModule required;",
                    "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                    "allow.everyone.if.no.acl.found": "false",
                    # broker: the nodes themselves (mTLS, not a client principal); admin: the
                    # only client super user (it applies the ACLs of every other principal).
                    "super.users": "User:broker;User:admin",
                }
            )
        else:
            props["listener.security.protocol.map"] = (
                "INTERNAL:PLAINTEXT,CLIENT:PLAINTEXT,CONTROLLER:PLAINTEXT"
            )
        props.update(self.overrides)
        return props

    def _write_properties(self, node: int) -> Path:
        path = self.node_dir(node) / "server.properties"
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        body = "".join(f"{k}={v}\n" for k, v in self.server_properties(node).items())
        path.write_text("# generated by vitrina.cluster.kafka; edits are overwritten\n" + body)
        return path

    def _scram_args(self) -> list[str]:
        if not self.secured or not self.principals:
            return []
        assert self.secrets is not None
        args = []
        for user in self.principals:
            pw_file = self.secrets / f"{user}.password"
            if not pw_file.is_file():
                raise ClusterError(
                    f"no password for principal {user} in {self.secrets}",
                    hint="run `vitrina security init` (or `vitrina cluster up`, "
                    "which runs it when the folder is empty)",
                )
            password = pw_file.read_text().strip()
            args += ["--add-scram", f"{MECHANISM}=[name={user},password={password}]"]
        return args

    # -- processes -------------------------------------------------------------------------
    def process(self, node: int) -> ManagedProcess:
        name = self.name if self.single_process_name else f"{self.name}-{node}"
        log = self.root / "logs" / f"{name}.log"
        opts = [
            f"-Dlog4j2.configurationFile={deploy_file('log4j2.properties')}",
            f"-Dvitrina.log.file={log}",
            f"-Dkafka.logs.dir={log.parent}",
        ]
        jmx = self.ports[node - 1].jmx
        if jmx is not None:
            agent = jars.classpath_dir("kafka") / "jmx_prometheus_javaagent-1.0.1.jar"
            opts.append(f"-javaagent:{agent}={HOST}:{jmx}:{deploy_file('jmx-exporter.yml')}")
        argv = java_argv(
            jars.classpath("kafka"),
            KAFKA_MAIN,
            [str(self.node_dir(node) / "server.properties")],
            heap=self.heap,
            jvm_opts=opts,
        )
        return ManagedProcess(
            name,
            self.root,
            argv,
            ready=lambda: self.node_answers(node),
            start_timeout_s=self.start_timeout_s,
            die_with_starter=self.die_with_starter,
        )

    def _format(self, node: int) -> None:
        import subprocess

        if (self.node_dir(node) / "data" / "meta.properties").is_file():
            return
        props = self._write_properties(node)
        cmd = java_argv(
            jars.classpath("kafka"),
            STORAGE_TOOL,
            ["format", f"--cluster-id={self.cluster_id}", "-c", str(props), *self._scram_args()],
            heap="128m",
            jvm_opts=[
                f"-Dlog4j2.configurationFile={deploy_file('log4j2.properties')}",
                f"-Dvitrina.log.file={self.root / 'logs' / 'format.log'}",
            ],
        )
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            tail = (proc.stdout + proc.stderr).strip()[-1500:]
            raise ClusterError(
                f"formatting {self.name} node {node} failed:\n{tail}",
                hint=f"remove {self.node_dir(node)} to format it afresh",
            )

    def start(self) -> None:
        """Format what is new, start every node, return once every node serves clients."""
        jars.resolve("kafka")
        procs = [self.process(n) for n in range(1, self.size + 1)]
        for node, proc in enumerate(procs, 1):
            if proc.running():
                continue
            ports = self.ports[node - 1]
            taken = [
                port
                for port in (ports.client, ports.internal, ports.controller, ports.jmx)
                if port is not None and port_open(HOST, port)
            ]
            if taken:
                raise ClusterError(
                    f"{self.name} node {node}: port(s) {', '.join(map(str, taken))} on {HOST} "
                    "already taken by another process",
                    hint="stop that process (`ss -ltnp | grep <port>` names it) or start the "
                    "cluster on other ports",
                )
        self._save_state()
        for node in range(1, self.size + 1):
            self._format(node)
            self._write_properties(node)  # ports/settings may have changed since format
        try:
            for proc in procs:
                proc.launch()
            for proc in procs:
                proc.wait_ready()
        except BaseException:
            self.stop()  # no half-started quorum left behind
            raise

    def start_node(self, node: int) -> None:
        self._write_properties(node)
        self.process(node).start()

    def stop(self) -> None:
        """SIGTERM every node at once (one by one, the last would wait for a quorum that is
        gone), then wait for each; SIGKILL after the grace time."""
        import os
        import signal

        procs = [self.process(n) for n in range(1, self.size + 1)]
        for proc in procs:
            pid = proc.pid()
            if pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
        for proc in procs:
            proc.stop()

    def kill(self, node: int) -> None:
        """kill -9 one node (failure tests)."""
        self.process(node).kill()

    # -- health ----------------------------------------------------------------------------
    def client_config(self, principal: str = "admin") -> dict[str, Any]:
        """librdkafka settings to reach this cluster as `principal` (admin by default)."""
        conf: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap,
            "security.protocol": self.protocol,
            "socket.connection.setup.timeout.ms": 3000,
            "log_level": 0,
        }
        if self.secured:
            assert self.secrets is not None
            conf.update(
                {
                    "sasl.mechanism": MECHANISM,
                    "sasl.username": principal,
                    "sasl.password": (self.secrets / f"{principal}.password").read_text().strip(),
                    "ssl.ca.location": str(self.secrets / "ca.pem"),
                    "ssl.endpoint.identification.algorithm": "https",
                }
            )
        return conf

    def admin(self, **extra: Any) -> Any:
        from confluent_kafka.admin import AdminClient

        return AdminClient({**self.client_config(), **extra})

    def node_answers(self, node: int, timeout: float = 3.0) -> bool:
        """The node serves Kafka clients and is a registered (unfenced) broker."""
        port = self.ports[node - 1].client
        if not port_open(HOST, port):
            return False
        admin = self.admin(**{"bootstrap.servers": f"{HOST}:{port}"})
        try:
            meta = admin.list_topics(timeout=timeout)
        except Exception:
            return False
        return node in meta.brokers

    def describe(self, timeout: float = 5.0) -> dict[str, Any]:
        """Brokers up, the active controller and under-replicated partitions, for `status`."""
        admin = self.admin()
        meta = admin.list_topics(timeout=timeout)
        under = sum(
            1
            for t in meta.topics.values()
            for p in t.partitions.values()
            if len(p.isrs) < len(p.replicas)
        )
        offline = sum(
            1 for t in meta.topics.values() for p in t.partitions.values() if p.leader < 0
        )
        controller = self.active_controller()
        return {
            "brokers": sorted(meta.brokers),
            "controller": controller,
            "topics": len(meta.topics),
            "under_replicated": under,
            "offline": offline,
        }

    def active_controller(self, timeout: float = JMX_SCRAPE_TIMEOUT_S) -> int | None:
        """The KRaft leader, from the nodes' JMX exporters (Kafka clients cannot ask it),
        asked all at once: one scrape takes 3–6 s on a loaded 2-core machine, and with the 2 s
        each it had, one after another, `cluster status` said "controller None" while node 1
        was the controller."""
        import urllib.request
        from concurrent.futures import ThreadPoolExecutor

        def is_controller(port: int) -> bool:
            try:
                with urllib.request.urlopen(
                    f"http://{HOST}:{port}/metrics", timeout=timeout
                ) as resp:
                    text = resp.read().decode()
            except OSError:
                return False
            return any(
                line.startswith("kafka_controller_kafkacontroller_activecontrollercount")
                and float(line.split()[-1]) == 1.0
                for line in text.splitlines()
            )

        nodes = [(node, p.jmx) for node, p in enumerate(self.ports, 1) if p.jmx is not None]
        if not nodes:
            return None
        with ThreadPoolExecutor(max_workers=len(nodes)) as pool:
            answers = list(pool.map(lambda n: is_controller(n[1]), nodes))
        return next((node for (node, _), yes in zip(nodes, answers, strict=True) if yes), None)

    def nodes_answering(self, pids: Mapping[int, int | None]) -> dict[int, bool]:
        """Node -> it runs and serves clients, asked of every node at once (each ask is a
        TLS + SCRAM handshake, up to 3 s for a node that hangs)."""
        from concurrent.futures import ThreadPoolExecutor

        nodes = sorted(pids)
        with ThreadPoolExecutor(max_workers=len(nodes)) as pool:
            answers = pool.map(lambda n: pids[n] is not None and self.node_answers(n), nodes)
            return dict(zip(nodes, answers, strict=True))

    def status(self) -> ComponentStatus:
        """Per node, then the cluster: it serves while `min_insync` nodes answer (one of
        three down: writes go on, DEGRADED naming it; two: writes wait, DOWN)."""
        pids = {n: self.process(n).pid() for n in range(1, self.size + 1)}
        running = [p for p in pids.values() if p is not None]
        answering, down = serving(self.nodes_answering(pids), self.min_insync)
        detail = f"{self.size - len(down)}/{self.size} nodes answer"
        if down:
            detail += f" (node(s) {', '.join(map(str, down))} down)"
        if len(down) < self.size:
            try:
                info = self.describe(timeout=3.0)
            except Exception as exc:  # status reports, never raises
                answering = False
                detail += f"; not answering: {exc}"
            else:
                detail += (
                    f"; brokers {info['brokers']}, controller {info['controller']}, "
                    f"{info['under_replicated']} under-replicated, "
                    f"{info['offline']} offline partitions"
                )
        if not answering and down:
            detail += f"; fewer than min.insync.replicas ({self.min_insync}) answer"
        return ComponentStatus(
            self.name,
            len(running) == self.size,
            answering,
            self.bootstrap,
            running[0] if running else None,
            detail,
            nodes_down=down,
        )
