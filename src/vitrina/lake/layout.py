"""The lake layout: a contract the analytics code reads against. Change it only with them.

    {root}/{role}/date={YYYY-MM-DD}/part-{partition:03d}-{first_offset:012d}-{incarnation}.parquet
    … and a file compaction merged: part-…-{incarnation}.g{generation}.parquet

One dataset directory per topic *role* (not the topic name, which settings may override);
`date` is the UTC date of the Kafka record timestamp. A file is named by its source
partition and the offset of its first record, so a replay after a crash rewrites the same
file instead of adding a duplicate. Offsets only mean something within one *incarnation* of
a topic (a broker that lost its data, a deleted and recreated topic start again at 0), so
the name ends with the incarnation: a short hash of the cluster id and the topic id. Files
of another incarnation are never deleted or overwritten; files without one (written before
incarnations existed) count as another incarnation. A merged file (lake/compaction.py) is
named by its first row too, with a generation one above the file it replaces, so no file
is ever overwritten. Every row carries the metadata columns `_topic`,
`_partition`, `_offset`, `_timestamp`, `_key`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

import orjson
import pyarrow as pa

TS = pa.timestamp("ms", tz="UTC")

METADATA_FIELDS: list[pa.Field] = [
    pa.field("_topic", pa.string(), nullable=False),
    pa.field("_partition", pa.int32(), nullable=False),
    pa.field("_offset", pa.int64(), nullable=False),
    pa.field("_timestamp", TS, nullable=False),
    pa.field("_key", pa.string()),
]

_PRODUCT_FIELDS: list[pa.Field] = [
    pa.field("product_id", pa.string(), nullable=False),
    pa.field("name", pa.string()),
    pa.field("description", pa.string()),
    pa.field("price_amount", pa.float64()),
    pa.field("price_currency", pa.string()),
    pa.field("category", pa.string()),
    pa.field("brand", pa.string()),
    pa.field("stock_available", pa.int64()),
    pa.field("stock_reserved", pa.int64()),
    pa.field("sku", pa.string()),
    pa.field("tags", pa.list_(pa.string())),
    pa.field("store_id", pa.string()),
    pa.field("created_at", TS),
    pa.field("updated_at", TS),
    pa.field("specifications_json", pa.string()),
    pa.field("images_json", pa.string()),
]

_DATA_FIELDS: dict[str, list[pa.Field]] = {
    "shop_products": _PRODUCT_FIELDS,
    "blocked_products": [
        *_PRODUCT_FIELDS,
        pa.field("ban_reason", pa.string()),
        pa.field("banned_by", pa.string()),
        pa.field("banned_at", TS),
    ],
    "banned_products": [
        pa.field("product_id", pa.string(), nullable=False),
        pa.field("reason", pa.string()),
        pa.field("banned_by", pa.string()),
        pa.field("banned_at", TS),
        # A null Kafka value is an unban: the row keeps the key and says so.
        pa.field("tombstone", pa.bool_(), nullable=False),
    ],
    "orders": [
        pa.field("order_id", pa.string(), nullable=False),
        pa.field("customer_id", pa.string(), nullable=False),
        # HMAC-SHA256 of the normalised email with the lake PII key; never the email itself.
        pa.field("email_hash", pa.string()),
        pa.field("order_date", TS),
        pa.field("state", pa.string()),
        pa.field("line_no", pa.int32(), nullable=False),
        pa.field("product_id", pa.string(), nullable=False),
        pa.field("quantity", pa.int64()),
        pa.field("price", pa.float64()),
    ],
    "client_events": [
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("user_id", pa.string()),
        pa.field("type", pa.string()),
        pa.field("product_id", pa.string()),
        pa.field("timestamp", TS),
        pa.field("rating", pa.int32()),
    ],
    "client_queries": [
        pa.field("query_id", pa.string(), nullable=False),
        pa.field("user_id", pa.string()),
        pa.field("kind", pa.string()),
        pa.field("query", pa.string()),
        pa.field("filters_json", pa.string()),
        pa.field("result_count", pa.int64()),
        pa.field("latency_ms", pa.float64()),
        pa.field("timestamp", TS),
    ],
}

#: dataset (topic role) -> its Parquet schema, metadata columns first.
SCHEMAS: dict[str, pa.Schema] = {
    role: pa.schema([*METADATA_FIELDS, *fields]) for role, fields in _DATA_FIELDS.items()
}

#: The datasets of the lake, in a stable order (also the raw topics the sink consumes).
DATASETS: tuple[str, ...] = tuple(SCHEMAS)

#: Contract (schema file) of each dataset's topic, for the codec.
CONTRACT_OF: dict[str, str] = {
    "shop_products": "product",
    "blocked_products": "blocked_product",
    "banned_products": "ban",
    "orders": "order",
    "client_events": "client_event",
    "client_queries": "client_query",
}

# Compaction's hidden files (lake/compaction.py) beside a date's data files: the merged rows
# `.compact-<token>-<merged file's name>` and its intent, that name + `.json`.
COMPACT_MARK = ".compact-"
INTENT_SUFFIX = ".json"

_FILE_RE = re.compile(
    r"^part-(\d{3,})-(\d{12,})(?:-([0-9a-z]{1,32}))?(?:\.g([1-9]\d{0,8}))?\.parquet$"
)
_MERGED_RE = re.compile(r"^\.compact-[0-9a-f]{8}-(part-[^/]+\.parquet)$")
_INCARNATION_RE = re.compile(r"^[0-9a-z]{1,32}$")
# The incarnation in a data file's path, for SQL engines (DuckDB's RE2 and Spark's Java
# regex read it alike; no backslash, which Spark's string literals would unescape): group 1,
# empty for a file named without one.
INCARNATION_IN_PATH = "part-[0-9]+-[0-9]+-([0-9a-z]{1,32})([.]g[0-9]+)?[.]parquet$"
_DATE_DIR_RE = re.compile(r"^date=(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True, order=True)
class FileId:
    """What a lake file's name says: source partition, offset of its first record, the
    topic incarnation the offset belongs to ("" for files written before incarnations),
    and, for a file compaction merged, its generation (`.g1`, `.g2`…: 0 for a flushed one)."""

    partition: int
    first_offset: int
    incarnation: str = ""
    generation: int = 0


def schema_for(role: str) -> pa.Schema:
    try:
        return SCHEMAS[role]
    except KeyError:
        raise ValueError(f"unknown lake dataset {role!r}; one of {', '.join(DATASETS)}") from None


def dataset_path(root: str, role: str) -> str:
    """Directory of one dataset under the lake root (a path or URL, no trailing slash)."""
    schema_for(role)
    return f"{root.rstrip('/')}/{role}"


def date_dir(day: date) -> str:
    return f"date={day.isoformat()}"


def partition_path(root: str, role: str, day: date) -> str:
    return f"{dataset_path(root, role)}/{date_dir(day)}"


def file_name(partition: int, first_offset: int, incarnation: str = "", generation: int = 0) -> str:
    if partition < 0 or first_offset < 0:
        raise ValueError(f"partition and offset must be >= 0, got {partition}, {first_offset}")
    if incarnation and not _INCARNATION_RE.match(incarnation):
        raise ValueError(f"incarnation must be 1-32 characters [0-9a-z], got {incarnation!r}")
    if not 0 <= generation < 10**9:
        raise ValueError(f"generation must be 0 to 999999999, got {generation}")
    suffix = f"-{incarnation}" if incarnation else ""
    merged = f".g{generation}" if generation else ""
    return f"part-{partition:03d}-{first_offset:012d}{suffix}{merged}.parquet"


def file_path(
    root: str, role: str, day: date, partition: int, first_offset: int, incarnation: str = ""
) -> str:
    return f"{partition_path(root, role, day)}/{file_name(partition, first_offset, incarnation)}"


def parse_file_name(name: str) -> FileId | None:
    """`part-002-000000001234-1a2b3c4d.parquet` → FileId(2, 1234, "1a2b3c4d");
    `….g3.parquet` → generation 3; None for anything else (temp files)."""
    match = _FILE_RE.match(name.rsplit("/", 1)[-1])
    if match is None:
        return None
    return FileId(
        int(match.group(1)), int(match.group(2)), match.group(3) or "", int(match.group(4) or 0)
    )


def parse_date_dir(name: str) -> date | None:
    """`date=2024-05-01` → date(2024, 5, 1); None for anything else."""
    match = _DATE_DIR_RE.match(name.rstrip("/").rsplit("/", 1)[-1])
    if match is None:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        return None


def record_date(timestamp_ms: int) -> date:
    """The UTC date a record belongs to, from its Kafka timestamp (ms since the epoch)."""
    return datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC).date()


@dataclass(frozen=True)
class MergeIntent:
    """A decided merge: the merged file's name, the data files (of the same directory) whose
    rows it holds, deleted once it is in place, and its row count."""

    into: str
    absorbed: list[str]
    rows: int  # the merged file's: how a reader tells it from the file it replaces

    def to_json(self) -> bytes:
        return orjson.dumps({"into": self.into, "absorbed": self.absorbed, "rows": self.rows})

    @classmethod
    def from_json(cls, data: bytes, path: str) -> MergeIntent | None:
        """The intent at `path` (`<hidden merged file>.json`); None for anything but a whole
        intent naming data files of its own directory and the merged file its name is for
        (one cut short by a kill while it was written, or not ours)."""
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(value, dict):
            return None
        into, absorbed, rows = value.get("into"), value.get("absorbed"), value.get("rows")
        if not isinstance(into, str) or not isinstance(absorbed, list) or type(rows) is not int:
            return None
        names = [into, *absorbed]
        if not all(isinstance(n, str) and "/" not in n and parse_file_name(n) for n in names):
            return None
        if merged_file_of(path.removesuffix(INTENT_SUFFIX)) != into:
            return None
        return cls(into, list(absorbed), rows)


def merged_file_name(into: str, token: str) -> str:
    """The hidden name a merge writes its rows to, unique to the merge (two sinks that
    both believe they own a partition never write the same file)."""
    return f"{COMPACT_MARK}{token}-{into}"


def merged_file_of(name: str) -> str | None:
    """The data file name a hidden merged file is for; None for any other name."""
    match = _MERGED_RE.match(name.rsplit("/", 1)[-1])
    if match is None or parse_file_name(match.group(1)) is None:
        return None
    return match.group(1)
