"""OpenSearch 2.19 for the distributed profile: one node on 127.0.0.1, plain HTTP, small heap.

The jars come from Maven Central (``deploy/opensearch/pom.xml``). OpenSearch expects a home
directory: ``lib/`` for the server, ``modules/<name>/`` for each module with its jars and a
``plugin-descriptor.properties``. The Maven artifacts carry no descriptors, so `layout()`
writes them and links the resolved jars into place. Two modules are enough here:
transport-netty4 (HTTP) and analysis-common (the Russian stemmer). No security plugin: this
node is for a single machine; a real cluster is pointed at with `search.backend.url`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vitrina.cluster import jars
from vitrina.cluster.process import ClusterError, ComponentStatus, ManagedProcess, java_argv

if TYPE_CHECKING:
    from vitrina.cluster.topology import Plan

VERSION = "2.19.6"
# OpenSearch's 9200/9300 in the 29xxx range of `cluster up` (at its default base port).
HTTP_PORT = 29200
TRANSPORT_PORT = 29300
MAIN_CLASS = "org.opensearch.bootstrap.OpenSearch"
# module name -> (plugin class, jar name prefixes that belong to the module, not the server)
MODULES: dict[str, tuple[str, tuple[str, ...]]] = {
    "transport-netty4": (
        "org.opensearch.transport.Netty4Plugin",
        ("transport-netty4-client-", "netty-"),
    ),
    "analysis-common": (
        "org.opensearch.analysis.common.CommonAnalysisPlugin",
        ("analysis-common-",),
    ),
}
# The permissions netty needs under OpenSearch's security manager (as in the distribution).
NETTY_POLICY = """\
grant codeBase "${codebase.netty-common}" {
  permission java.io.FilePermission "/proc/sys/net/core/somaxconn", "read";
  permission java.net.SocketPermission "*", "accept,connect";
  permission java.lang.RuntimePermission "*", "setContextClassLoader";
};
grant codeBase "${codebase.netty-transport}" {
  permission java.net.SocketPermission "*", "accept,connect";
};
"""
JVM_OPTS = (
    "-Dopensearch.networkaddress.cache.ttl=60",
    "-Dopensearch.networkaddress.cache.negative.ttl=10",
    "-Dio.netty.noUnsafe=true",
    "-Dio.netty.noKeySetOptimization=true",
    "-Dio.netty.recycler.maxCapacityPerThread=0",
    "-Dio.netty.allocator.numDirectArenas=0",
    "-Dlog4j.shutdownHookEnabled=false",
    "-Dlog4j2.disable.jmx=true",
    "-Djava.locale.providers=SPI,COMPAT",
    "-Djava.security.manager=allow",
    "-XX:+HeapDumpOnOutOfMemoryError",
    "-XX:HeapDumpPath=/dev/null",
)


def _module_of(jar: str) -> str | None:
    for module, (_, prefixes) in MODULES.items():
        if jar.startswith(prefixes):
            return module
    return None


def _place(jar: Path, target: Path) -> None:
    """Hard link (else copy): the security manager lets the node read only its own home, so
    a symlink into the jar cache would be refused."""
    try:
        os.link(jar, target)
    except OSError:
        shutil.copy2(jar, target)


def _unprivileged_prefix() -> list[str]:
    """OpenSearch refuses to run as root (CI runs as root). As root, run it in a user namespace
    where it is uid 1000 while its file access stays root's (no chown of the jar cache)."""
    if os.geteuid() != 0:
        return []
    unshare = shutil.which("unshare")
    if unshare is None:
        raise ClusterError(
            "OpenSearch cannot run as root and `unshare` is not installed",
            hint="run `vitrina cluster up` as a normal user, or install "
            "util-linux (apt-get install -y util-linux)",
        )
    prefix = [unshare, "--user", "--map-user=1000", "--map-group=1000"]
    probe = subprocess.run([*prefix, "true"], capture_output=True, text=True)
    if probe.returncode != 0:  # e.g. a container whose seccomp profile forbids user namespaces
        raise ClusterError(
            f"OpenSearch cannot run as root, and a user namespace is refused "
            f"here: {probe.stderr.strip()}",
            hint="run `vitrina cluster up` as a normal user",
        )
    return prefix


@dataclass
class OpenSearchNode:
    """The `opensearch` component of `vitrina cluster up` (a `Component`)."""

    root: Path
    host: str = "127.0.0.1"
    http_port: int = HTTP_PORT
    transport_port: int = TRANSPORT_PORT
    heap: str = "384m"
    name: str = "opensearch"

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.home = self.root / "opensearch"
        self.process = ManagedProcess("opensearch", self.root, [], self._ready, start_timeout_s=180)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    def _get(self, path: str, timeout: float = 2.0) -> dict[str, object] | None:
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as response:
                body = json.loads(response.read() or b"{}")
        except (OSError, urllib.error.URLError, ValueError):
            return None
        return body if isinstance(body, dict) else None

    def _ready(self) -> bool:
        health = self._get("/_cluster/health")
        return bool(health and health.get("status") in ("green", "yellow"))

    # -- the home directory ------------------------------------------------------------
    def layout(self) -> None:
        """lib/, modules/<name>/ (+ descriptors), config/ — rebuilt from the jar cache."""
        source = jars.resolve("opensearch")
        lib = self.home / "lib"
        for directory in [lib, *(self.home / "modules" / m for m in MODULES)]:
            directory.mkdir(parents=True, exist_ok=True)
            for old in directory.glob("*.jar"):
                old.unlink()
        for jar in sorted(source.glob("*.jar")):
            module = _module_of(jar.name)
            target = lib if module is None else self.home / "modules" / module
            _place(jar, target / jar.name)
        for module, (classname, _) in MODULES.items():
            (self.home / "modules" / module / "plugin-descriptor.properties").write_text(
                f"description=OpenSearch module {module}\nversion={VERSION}\nname={module}\n"
                f"classname={classname}\njava.version=11\nopensearch.version={VERSION}\n"
            )
        (self.home / "modules" / "transport-netty4" / "plugin-security.policy").write_text(
            NETTY_POLICY
        )
        (self.home / "plugins").mkdir(exist_ok=True)
        config = self.home / "config"
        config.mkdir(exist_ok=True)
        (config / "opensearch.yml").write_text(
            "cluster.name: vitrina\n"
            "node.name: vitrina-1\n"
            f"path.data: {self.home / 'data'}\n"
            f"path.logs: {self.root / 'logs'}\n"
            f"network.host: {self.host}\n"
            f"http.port: {self.http_port}\n"
            f"transport.port: {self.transport_port}\n"
            "discovery.type: single-node\n"
            # 2 cores shared with Kafka, HDFS and Spark: a small, quiet node.
            "node.processors: 1\n"
            "cluster.routing.allocation.disk.threshold_enabled: false\n"
            "action.auto_create_index: false\n"
        )
        (config / "log4j2.properties").write_text(
            "status = error\n"
            "appender.console.type = Console\n"
            "appender.console.name = console\n"
            "appender.console.layout.type = PatternLayout\n"
            "appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] %m%n\n"
            "rootLogger.level = warn\n"
            "rootLogger.appenderRef.console.ref = console\n"
            "logger.node.name = org.opensearch.node.Node\n"
            "logger.node.level = info\n"
        )
        (config / "jvm.options").write_text("")

    def argv(self) -> list[str]:
        tmp = self.home / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        java = java_argv(
            f"{self.home / 'lib'}/*",
            MAIN_CLASS,
            heap=self.heap,
            jvm_opts=[
                *JVM_OPTS,
                f"-Djava.io.tmpdir={tmp}",
                f"-Dopensearch.path.home={self.home}",
                f"-Dopensearch.path.conf={self.home / 'config'}",
                "-Dopensearch.distribution.type=tar",
                "-Dopensearch.bundled_jdk=false",
            ],
        )
        return [*_unprivileged_prefix(), *java]

    # -- Component -----------------------------------------------------------------------
    def start(self) -> None:
        if not self.process.running():
            self.layout()
            self.process.argv = self.argv()
        self.process.start()

    def stop(self) -> None:
        self.process.stop()

    def status(self) -> ComponentStatus:
        pid = self.process.pid()
        health = self._get("/_cluster/health") if pid else None
        detail = f"cluster {health.get('status')}" if health else ""
        return ComponentStatus(
            self.name, pid is not None, health is not None, self.url, pid, detail
        )

    def require(self) -> None:
        """Raise ClusterError unless the node answers (for clients that need it)."""
        if not self._ready():
            raise ClusterError(
                f"OpenSearch at {self.url} does not answer",
                hint="start it: `vitrina cluster up` (see logs/opensearch.log)",
            )


def component(plan: Plan) -> OpenSearchNode:
    return OpenSearchNode(
        plan.root,
        http_port=plan.opensearch_http_port,
        transport_port=plan.opensearch_transport_port,
    )
