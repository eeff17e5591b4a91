"""Apache HDFS for the distributed profile: one NameNode and one DataNode, WebHDFS on 127.0.0.1.

Both daemons are the real Hadoop classes (`NameNode`, `DataNode`) run from the jars that
``deploy/hadoop/pom.xml`` resolves from Maven Central; nothing is downloaded at run time
after `vitrina cluster up` resolved them once. The NameNode is formatted on first start
(its metadata lives under ``<root>/hdfs/name``), so data survives a restart. Permissions
are off and replication is 1: a single-machine cluster for the lake, not a secure one.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from vitrina.cluster import jars
from vitrina.cluster.process import (
    ClusterError,
    ComponentStatus,
    ManagedProcess,
    java_argv,
)
from vitrina.lake.filesystems import namenode_bean
from vitrina.lifecycle import port_open

if TYPE_CHECKING:
    from vitrina.cluster.topology import Plan

NAMENODE_CLASS = "org.apache.hadoop.hdfs.server.namenode.NameNode"
DATANODE_CLASS = "org.apache.hadoop.hdfs.server.datanode.DataNode"
# Hadoop 3.4 reflects into java.base on Java 17 (reflection helpers, direct buffers).
JVM_OPENS = (
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
)


@dataclass(frozen=True)
class HdfsPorts:
    """Hadoop 3's own defaults moved into the 29xxx range of `vitrina cluster up`
    (2xxxx + Hadoop's port); tests pass free ports."""

    namenode_rpc: int = 29020
    namenode_http: int = 29870  # WebHDFS
    datanode_data: int = 29866
    datanode_http: int = 29864
    datanode_ipc: int = 29867

    def shifted(self, shift: int) -> HdfsPorts:
        """The same layout moved by `shift`, for `cluster up --base-port`."""
        return replace(self, **{f.name: getattr(self, f.name) + shift for f in fields(self)})


@dataclass
class HdfsCluster:
    """The `hdfs` component of `vitrina cluster up` (a `Component`)."""

    root: Path
    host: str = "127.0.0.1"
    ports: HdfsPorts = field(default_factory=HdfsPorts)
    heap: str = "256m"
    user: str = "vitrina"
    name: str = "hdfs"

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.home = self.root / "hdfs"
        self.conf_dir = self.home / "conf"
        self.namenode = ManagedProcess(
            "hdfs-namenode", self.root, [], self._namenode_ready, start_timeout_s=120
        )
        self.datanode = ManagedProcess(
            "hdfs-datanode", self.root, [], self._datanode_ready, start_timeout_s=120
        )

    # -- addresses ---------------------------------------------------------------------
    @property
    def webhdfs_url(self) -> str:
        """The base URL fsspec's WebHDFS client and `webhdfs://` URLs use."""
        return f"webhdfs://{self.host}:{self.ports.namenode_http}"

    @property
    def hdfs_url(self) -> str:
        """The NameNode RPC address (Spark / Hadoop clients)."""
        return f"hdfs://{self.host}:{self.ports.namenode_rpc}"

    def _http(self, path: str, timeout: float = 2.0) -> dict[str, object] | None:
        url = f"http://{self.host}:{self.ports.namenode_http}{path}"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                return json.loads(response.read() or b"{}")
        except (OSError, urllib.error.URLError, ValueError):
            return None

    def _bean(self, name: str) -> dict[str, Any] | None:
        return namenode_bean(f"{self.host}:{self.ports.namenode_http}", name, timeout_s=2.0)

    def live_datanodes(self) -> int:
        bean = self._bean("FSNamesystemState")
        return int(bean.get("NumLiveDataNodes", 0)) if bean else 0

    def _namenode_ready(self) -> bool:
        return self._http(f"/webhdfs/v1/?op=GETFILESTATUS&user.name={self.user}") is not None

    def _datanode_ready(self) -> bool:
        if not port_open(self.host, self.ports.datanode_data):
            return False
        if self.live_datanodes() < 1:
            return False
        info = self._bean("NameNodeInfo")
        return bool(info and not info.get("Safemode"))

    # -- configuration -----------------------------------------------------------------
    def site_properties(self) -> dict[str, dict[str, str]]:
        h, p = self.host, self.ports
        return {
            "core-site.xml": {
                "fs.defaultFS": self.hdfs_url,
                "hadoop.tmp.dir": str(self.home / "tmp"),
                "hadoop.http.staticuser.user": self.user,
            },
            "hdfs-site.xml": {
                "dfs.namenode.name.dir": str(self.home / "name"),
                "dfs.datanode.data.dir": str(self.home / "data"),
                "dfs.namenode.rpc-address": f"{h}:{p.namenode_rpc}",
                "dfs.namenode.http-address": f"{h}:{p.namenode_http}",
                "dfs.datanode.address": f"{h}:{p.datanode_data}",
                "dfs.datanode.http.address": f"{h}:{p.datanode_http}",
                "dfs.datanode.ipc.address": f"{h}:{p.datanode_ipc}",
                # WebHDFS redirects clients to the DataNode by the name it registered with.
                "dfs.datanode.hostname": h,
                "dfs.namenode.datanode.registration.ip-hostname-check": "false",
                "dfs.replication": "1",
                "dfs.permissions.enabled": "false",
                "dfs.webhdfs.enabled": "true",
                # One DataNode: leave safe mode at once instead of waiting 30 s for more.
                "dfs.namenode.safemode.threshold-pct": "0",
                "dfs.namenode.safemode.extension": "0",
                "dfs.heartbeat.interval": "1",
                "dfs.client.block.write.replace-datanode-on-failure.enable": "false",
            },
        }

    def write_config(self) -> None:
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        # The daemons' HTTP servers look up `webapps/<name>` on the classpath; the Maven jars
        # leave those web UIs out (they ship only in the tarball). Empty ones serve WebHDFS,
        # whose servlets are registered in code.
        for app in ("hdfs", "datanode", "secondary", "journal", "static"):
            (self.conf_dir / "webapps" / app / "WEB-INF").mkdir(parents=True, exist_ok=True)
        for file_name, props in self.site_properties().items():
            body = "".join(
                f"  <property><name>{escape(k)}</name><value>{escape(v)}</value></property>\n"
                for k, v in props.items()
            )
            (self.conf_dir / file_name).write_text(
                f'<?xml version="1.0"?>\n<configuration>\n{body}</configuration>\n'
            )
        (self.conf_dir / "log4j.properties").write_text(
            "log4j.rootLogger=WARN, console\n"
            "log4j.logger.org.apache.hadoop.hdfs.server.namenode.NameNode=INFO\n"
            "log4j.logger.org.apache.hadoop.hdfs.server.datanode.DataNode=INFO\n"
            "log4j.appender.console=org.apache.log4j.ConsoleAppender\n"
            "log4j.appender.console.layout=org.apache.log4j.PatternLayout\n"
            "log4j.appender.console.layout.ConversionPattern=%d{ISO8601} %p %c{1}: %m%n\n"
        )

    def _argv(self, main_class: str, *args: str) -> list[str]:
        classpath = f"{self.conf_dir}:{jars.classpath('hadoop')}"
        return java_argv(
            classpath,
            main_class,
            args,
            heap=self.heap,
            jvm_opts=[
                *JVM_OPENS,
                f"-Dhadoop.log.dir={self.root / 'logs'}",
                f"-Duser.name={self.user}",
            ],
        )

    def format_once(self) -> None:
        """`hdfs namenode -format` the first time (the name dir has no VERSION yet)."""
        if (self.home / "name" / "current" / "VERSION").is_file():
            return
        import subprocess

        log = self.root / "logs" / "hdfs-format.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "wb") as out:
            proc = subprocess.run(
                self._argv(NAMENODE_CLASS, "-format", "-nonInteractive", "-force"),
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=180,
            )
        if proc.returncode != 0:
            raise ClusterError(
                f"formatting the HDFS NameNode failed (exit {proc.returncode})", hint=f"see {log}"
            )

    # -- Component -----------------------------------------------------------------------
    def start(self) -> None:
        self.write_config()
        self.format_once()
        self.namenode.argv = self._argv(NAMENODE_CLASS)
        self.datanode.argv = self._argv(DATANODE_CLASS)
        self.namenode.start()
        self.datanode.start()

    def stop(self) -> None:
        self.datanode.stop()
        self.namenode.stop()

    def status(self) -> ComponentStatus:
        pid = self.namenode.pid()
        running = pid is not None and self.datanode.running()
        live = self.live_datanodes() if running else 0
        return ComponentStatus(
            self.name,
            running,
            running and live > 0,
            self.webhdfs_url,
            pid,
            f"{live} live DataNode(s)",
        )


def component(plan: Plan) -> HdfsCluster:
    return HdfsCluster(plan.root, ports=plan.hdfs_ports)
