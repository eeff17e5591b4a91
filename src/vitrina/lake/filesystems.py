"""The lake's storage backends, keyed by `lake.backend.type`: file, webhdfs, s3.

Each backend is its settings model (a member of the `LakeBackendSettings` union the settings
tree uses) plus one entry in `LAKE_BACKENDS`: the URL schemes it accepts and the fsspec
storage options it needs. Adding a backend (say `gcs`) is one model and one entry here;
the writer, the reader, `vitrina lake` and the analytics engines only ever see an fsspec
filesystem and a root path.

This module imports pydantic only; fsspec and its clients (requests for WebHDFS, s3fs for
S3) load when a filesystem is built, so the settings tree stays cheap to import.
"""

from __future__ import annotations

import contextlib
import json
import re
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from vitrina.errors import ConfigError, UnavailableError, VitrinaError

if TYPE_CHECKING:
    import fsspec

    from vitrina.settings import Settings


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FileLakeSettings(_Frozen):
    """A folder on the local disk (the embedded default)."""

    type: Literal["file"] = "file"
    url: str = ""  # empty: <data_dir>/lake
    url_schemes: ClassVar[tuple[str, ...]] = ("file",)  # a url alone chooses the type


class WebHdfsLakeSettings(_Frozen):
    """HDFS through its REST API (WebHDFS on the NameNode's HTTP port)."""

    type: Literal["webhdfs"] = "webhdfs"
    url: str = "webhdfs://namenode:9870/vitrina/lake"
    user: str = "vitrina"
    # The NameNode's RPC address (hdfs://namenode:8020). Spark reads the lake through it:
    # the Hadoop client bundled with pyspark cannot speak WebHDFS.
    rpc_url: str | None = None
    url_schemes: ClassVar[tuple[str, ...]] = ("webhdfs", "hdfs")


class S3LakeSettings(_Frozen):
    """An S3 bucket (AWS, or any S3-compatible store through `endpoint_url`)."""

    type: Literal["s3"] = "s3"
    url: str = "s3://vitrina-lake/lake"
    endpoint_url: str | None = None
    region: str | None = None  # None: botocore's default chain (AWS_REGION, ~/.aws/config)
    access_key: SecretStr | None = None
    secret_key: SecretStr | None = None
    url_schemes: ClassVar[tuple[str, ...]] = ("s3",)


LakeBackendSettings = Annotated[
    FileLakeSettings | WebHdfsLakeSettings | S3LakeSettings, Field(discriminator="type")
]


@dataclass(frozen=True)
class LakeStorage:
    """What the lake needs to know about one storage type."""

    schemes: tuple[str, ...]
    options: Callable[[Any], dict[str, Any]]
    install_hint: str = "install the missing package"


def _file_options(_: FileLakeSettings) -> dict[str, Any]:
    return {"auto_mkdir": True}


def _webhdfs_options(backend: WebHdfsLakeSettings) -> dict[str, Any]:
    return {"user": backend.user}


def _s3_options(backend: S3LakeSettings) -> dict[str, Any]:
    client: dict[str, Any] = {}
    if backend.region:
        client["region_name"] = backend.region
    if backend.endpoint_url:
        client["endpoint_url"] = backend.endpoint_url
    # No listing cache: other processes (the sink, the analytics job) add files all the time,
    # and a cached listing would hide them from `lake ls` and the analytics inputs for good.
    options: dict[str, Any] = {"use_listings_cache": False}
    if client:
        options["client_kwargs"] = client
    if backend.access_key is not None:
        options["key"] = backend.access_key.get_secret_value()
    if backend.secret_key is not None:
        options["secret"] = backend.secret_key.get_secret_value()
    return options


LAKE_BACKENDS: dict[str, LakeStorage] = {
    "file": LakeStorage(("file", "local", ""), _file_options),
    "webhdfs": LakeStorage(
        ("webhdfs",),
        _webhdfs_options,
        "fsspec's WebHDFS client needs `requests`: pip install requests",
    ),
    "s3": LakeStorage(
        ("s3", "s3a"),
        _s3_options,
        "install the optional extra: pip install 'vitrina[s3]' (it brings s3fs)",
    ),
}


def storage_options(settings: Settings) -> tuple[str, str, dict[str, Any]]:
    """(url, type, fsspec storage options) of the configured lake backend; checks they agree."""
    backend = settings.lake.backend
    entry = LAKE_BACKENDS.get(backend.type)
    if entry is None:  # pragma: no cover - the settings union admits only registered types
        raise ConfigError(
            f"unknown lake backend {backend.type!r}", hint=f"use one of: {', '.join(LAKE_BACKENDS)}"
        )
    url = settings.lake_url
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in entry.schemes:
        raise ConfigError(
            f"lake URL {url!r} does not match lake.backend.type={backend.type!r}",
            hint=f"use a {entry.schemes[0]}:// URL or change VITRINA__LAKE__BACKEND__TYPE"
            + (
                " (an hdfs:// NameNode address goes to lake.backend.rpc_url)"
                if scheme == "hdfs"
                else ""
            ),
        )
    return url, backend.type, entry.options(backend)


def lake_filesystem(settings: Settings) -> tuple[fsspec.AbstractFileSystem, str]:
    """The fsspec filesystem of the lake and the root path inside it."""
    import fsspec

    url, kind, options = storage_options(settings)
    try:
        fs, root = fsspec.core.url_to_fs(url, **options)
    except ImportError as exc:
        raise ConfigError(
            f"the {kind} lake backend cannot load its client: {exc}",
            hint=LAKE_BACKENDS[kind].install_hint,
        ) from None
    return fs, str(root).rstrip("/")


def engine_url(lake_url: str, path: str) -> str:
    """A path inside the lake's fsspec filesystem as a URL any engine opens (DuckDB through
    the registered fsspec filesystem, Spark through its Hadoop client).

    fsspec drops the authority from paths (``webhdfs://host:port/a`` → ``/a``), which Spark
    needs back; local paths stay plain paths; s3fs paths start with the bucket.
    """
    scheme, _, rest = lake_url.partition("://")
    if scheme in ("", "file", "local"):
        return path
    if scheme in ("s3", "s3a"):
        return f"{scheme}://{path.lstrip('/')}"
    authority = rest.split("/", 1)[0]
    return f"{scheme}://{authority}/{path.lstrip('/')}"


def hadoop_url(backend: Any, url: str) -> str:
    """An engine URL as a Hadoop client opens it: webhdfs:// → the NameNode's RPC address
    (`rpc_url`) when one is configured; any other URL unchanged."""
    rpc = getattr(backend, "rpc_url", None)
    if not rpc or not url.startswith("webhdfs://"):
        return url
    path = url.removeprefix("webhdfs://").split("/", 1)[1]
    return f"{rpc.rstrip('/')}/{path}"


# What a lake that does not answer says, in an engine's error text (DuckDB wraps fsspec's
# error in its own): refused, reset or timed-out connections, a name that does not resolve,
# a server that is busy or down.
_AWAY_TEXT = re.compile(
    r"Connection refused|Failed to establish a new connection|Connection reset|"
    r"Connection aborted|Max retries exceeded|timed out|Name or service not known|"
    r"Temporary failure in name resolution|Could not connect to the endpoint|"
    # fsspec's WebHDFS client when the NameNode answers but no DataNode has registered yet
    # (HDFS coming back): the lake sink exited on it (a blind review)
    r"Failed to find datanode|"
    r"\b(?:429|502|503|504)\b.*(?:Error|Unavailable|Too Many)",
    re.IGNORECASE,
)
_AWAY_TYPES = (
    "ConnectionError",  # requests (WebHDFS), and builtins' ConnectionRefusedError's base
    "ConnectTimeout",
    "ReadTimeout",
    "EndpointConnectionError",  # botocore (S3)
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "ClientConnectorError",  # aiohttp (s3fs)
    "ServerDisconnectedError",
)


def exists(fs: Any, path: str) -> bool:
    """Whether `path` exists; a storage that does not answer raises. fsspec's `exists`
    returns False on any error: with the WebHDFS NameNode down the lake "had no products
    yet" for `analytics run` (a blind review), and a lake sink starting then found no
    leftover files to delete past its commit — files whose rows it would write again."""
    try:
        fs.info(path)
    except FileNotFoundError:
        return False
    return True


@contextlib.contextmanager
def parquet_source(fs: Any, path: str) -> Iterator[Any]:
    """A file for Arrow to read a lake file from: the operating system's own for a local
    lake, the storage client's Python file otherwise. Arrow reads a file in its own
    threads and lets go of what it read there, after the read; a Python file (or a piece
    read from one) let go after the interpreter had begun to exit aborted the process
    ("terminate called without an active exception", exit 134: `analytics show` in CI,
    `analytics/lakeio.read_output`). A file of the operating system holds no Python."""
    protocols = (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)
    if "file" in protocols:
        import pyarrow as pa

        with pa.OSFile(fs._strip_protocol(path), "r") as native:
            yield native
        return
    with fs.open(path, "rb") as fh:
        yield fh


def lake_away(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) says the lake's storage does not answer — a
    DataNode or object store that is down, busy or unreachable — rather than that a file is
    damaged or missing: the caller retries or says "is it up?", never "restore the file"."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        names = {cls.__name__ for cls in type(current).__mro__}
        if names & set(_AWAY_TYPES) or isinstance(current, TimeoutError | ConnectionError):
            return True
        status = getattr(getattr(current, "response", None), "status_code", None)
        if status in (429, 502, 503, 504):
            return True
        current = current.__cause__ or current.__context__
    return bool(_AWAY_TEXT.search(str(exc)))


# A DataNode that has not reported for this long is not counted as answering: HDFS's own
# stale interval (dfs.namenode.stale.datanode.interval, 30 s by default; heartbeats every 3 s).
DATANODE_SILENT_S = 30


def namenode_bean(authority: str, name: str, timeout_s: float = 3.0) -> dict[str, Any] | None:
    """One bean of a NameNode's JMX servlet (on its WebHDFS port, `host:port`), e.g.
    `NameNodeInfo`; None when the NameNode does not answer or says nothing."""
    url = f"http://{authority}/jmx?qry=Hadoop:service=NameNode,name={name}"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            beans = json.loads(response.read() or b"{}").get("beans")
    except (OSError, ValueError, AttributeError):
        return None
    return beans[0] if isinstance(beans, list) and beans and isinstance(beans[0], dict) else None


def hdfs_datanodes(backend: WebHdfsLakeSettings, timeout_s: float = 3.0) -> tuple[int, int] | None:
    """(registered, answering) DataNodes of the NameNode behind a WebHDFS lake: answering
    ones reported within DATANODE_SILENT_S. None when the NameNode does not say. A DataNode
    killed stays "live" for the NameNode until it is called dead (~10 min by default): with
    none answering, the NameNode answers while no file can be read or written (seen:
    `vitrina status` said the lake was up)."""
    authority = backend.url.split("://", 1)[1].split("/", 1)[0]
    bean = namenode_bean(authority, "NameNodeInfo", timeout_s)
    if bean is None:
        return None
    try:
        live = json.loads(bean["LiveNodes"])
        answering = [n for n in live.values() if int(n["lastContact"]) <= DATANODE_SILENT_S]
        return len(live) + len(json.loads(bean["DeadNodes"])), len(answering)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def away(exc: BaseException, url: str) -> UnavailableError:
    """The UnavailableError of a lake that does not answer (`lake_away`)."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return UnavailableError(
        f"the lake at {url} does not answer ({first[:300]})",
        hint="is its storage up? `vitrina cluster status` shows HDFS and S3 on the native "
        "cluster; the lake sink retries the same files, and an analytics run can be run "
        "again: the previous run keeps serving",
    )


@contextlib.contextmanager
def answering(url: str) -> Iterator[None]:
    """Turn an error that says the lake's storage at `url` does not answer (`lake_away`)
    into its UnavailableError (`away`); errors already named, and any other, pass as they
    are. The one place callers (the lake sink's recovery, analytics' listing, `vitrina
    lake`) make that conversion."""
    try:
        yield
    except VitrinaError:
        raise
    except Exception as exc:
        if lake_away(exc):
            raise away(exc, url) from exc
        raise
