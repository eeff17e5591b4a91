"""An S3-compatible object store for the lake: moto's server on 127.0.0.1.

moto keeps objects in memory, so the store is empty after every start: it is a stand-in for
a real S3 / MinIO / Ceph endpoint (set `lake.backend.endpoint_url` to point at one), not a
place to keep data. The lake's bucket is created when the server starts.
"""

from __future__ import annotations

import shutil
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from vitrina.cluster.process import ClusterError, ComponentStatus, ManagedProcess

if TYPE_CHECKING:
    from vitrina.cluster.topology import Plan

DEFAULT_PORT = 29500
DEFAULT_BUCKETS = ("vitrina-lake",)


def server_argv(host: str, port: int) -> list[str]:
    """moto's server of this interpreter's environment (the `s3` extra installs it)."""
    exe = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    if exe is None:
        raise ClusterError(
            "moto's S3 server is not installed",
            hint="pip install 'vitrina[s3]' (it brings moto[server] and s3fs)",
        )
    return [exe, "-H", host, "-p", str(port)]


@dataclass
class S3Server:
    """The `s3` component of `vitrina cluster up` (a `Component`)."""

    root: Path
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    buckets: tuple[str, ...] = DEFAULT_BUCKETS
    name: str = "s3"
    process: ManagedProcess = field(init=False)

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.process = ManagedProcess("s3", self.root, [], self._ready, start_timeout_s=60)

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _request(self, method: str, path: str = "/") -> int | None:
        request = urllib.request.Request(self.endpoint_url + path, method=method)
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except OSError:
            return None

    def _ready(self) -> bool:
        return self._request("GET") == 200

    def create_buckets(self) -> None:
        for bucket in self.buckets:
            status = self._request("PUT", f"/{bucket}")
            if status not in (200, 409):
                raise ClusterError(
                    f"could not create bucket {bucket!r} on {self.endpoint_url} (HTTP {status})",
                    hint=f"see {self.process.log_file}",
                )

    def start(self) -> None:
        if not self.process.running():
            self.process.argv = server_argv(self.host, self.port)
        self.process.start()
        self.create_buckets()

    def stop(self) -> None:
        self.process.stop()

    def status(self) -> ComponentStatus:
        pid = self.process.pid()
        answering = pid is not None and self._ready()
        return ComponentStatus(
            self.name,
            pid is not None,
            answering,
            self.endpoint_url,
            pid,
            f"buckets: {', '.join(self.buckets)} (in memory)",
        )


def component(plan: Plan) -> S3Server:
    return S3Server(plan.root, port=plan.s3_port)
