"""Engines that execute the analytics definitions: DuckDB (embedded default) and Spark.

An engine knows how to expose lake files as a relation, create a named relation from one
DuckDB-dialect SELECT, and hand a relation back as an Arrow table. Everything else (what to
compute) lives in `definitions.py`, once. `open_engine(settings)` picks the engine by
`settings.analytics.engine`; pyspark is imported only inside `spark_engine.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

import pyarrow as pa

from vitrina.analytics.definitions import Params, statements
from vitrina.analytics.lakeio import InputFiles
from vitrina.analytics.relations import (
    RECORD_KEYS,
    Statement,
    duplicates_sql,
    each_once_sql,
    input_projection,
)
from vitrina.settings import Settings

log = logging.getLogger(__name__)


class Engine(Protocol):
    name: str

    def register_input(self, files: InputFiles) -> None: ...

    def create(self, name: str, sql: str, materialize: bool) -> None: ...

    def fetch(self, name: str, order_by: str) -> pa.Table: ...

    def table(self, name: str) -> pa.Table: ...

    def put(self, name: str, table: pa.Table) -> None: ...

    def scalar(self, sql: str) -> Any: ...

    def close(self) -> None: ...


def _quote_list(urls: list[str]) -> str:
    return "[" + ", ".join("'" + u.replace("'", "''") + "'" for u in urls) + "]"


class DuckDBEngine:
    """DuckDB in-process: the embedded default."""

    name = "duckdb"

    def __init__(
        self,
        filesystem: Any = None,
        threads: int | None = None,
        memory_limit: str | None = None,
        spill_dir: str | None = None,
    ) -> None:
        import duckdb

        self.con = duckdb.connect(":memory:")
        if memory_limit:
            self.con.execute(f"SET memory_limit = '{memory_limit}'")
        if spill_dir:
            self.con.execute(f"SET temp_directory = '{spill_dir.replace(chr(39), '')}'")
        # UTC: no statement may depend on the machine's time zone.
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute("SET preserve_insertion_order = false")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        if filesystem is not None:
            self.con.register_filesystem(filesystem)

    def register_input(self, files: InputFiles) -> None:
        source = None
        if files.urls:
            source = (
                f"read_parquet({_quote_list(files.urls)}, union_by_name = true, "
                f"hive_partitioning = false, filename = true)"
            )
        self.create(
            files.dataset,
            input_projection(files.dataset, source, set(files.columns)),
            materialize=False,
        )

    def create(self, name: str, sql: str, materialize: bool) -> None:
        kind = "TABLE" if materialize else "VIEW"
        self.con.execute(f"CREATE OR REPLACE TEMP {kind} {name} AS {sql}")

    def fetch(self, name: str, order_by: str) -> pa.Table:
        return self.con.sql(f"SELECT * FROM {name} ORDER BY {order_by}").to_arrow_table()

    def table(self, name: str) -> pa.Table:
        return self.con.sql(f"SELECT * FROM {name}").to_arrow_table()

    def put(self, name: str, table: pa.Table) -> None:
        self.con.register("__vitrina_put", table)
        try:
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM __vitrina_put")
        finally:
            self.con.unregister("__vitrina_put")

    def scalar(self, sql: str) -> Any:
        rows = self.con.execute(sql).fetchall()  # to the end: no unfinished result left
        return rows[0][0] if rows else None

    def close(self) -> None:
        self.con.close()


def open_engine(settings: Settings, name: str | None = None, **options: Any) -> Engine:
    """The engine named by `name` or settings.analytics.engine."""
    chosen = name or settings.analytics.engine
    if chosen == "duckdb":
        spill = settings.data_dir.resolve() / "tmp" / "duckdb"
        spill.mkdir(parents=True, exist_ok=True)
        options.setdefault("memory_limit", settings.analytics.duckdb_memory_limit)
        options.setdefault("spill_dir", str(spill))
        return DuckDBEngine(**options)
    if chosen == "spark":
        from vitrina.analytics.spark_engine import SparkEngine

        return SparkEngine(settings.analytics.spark_master, **options)
    from vitrina.errors import ConfigError

    raise ConfigError(f"unknown analytics engine {chosen!r}", hint="use duckdb or spark")


def _each_record_once(engine: Engine, dataset: str) -> None:
    """Read a fact dataset's copies of one record once. Checked first, as copying is
    rare and the check cheap: at 5M order lines, ~0.5 s against ~4 s for a ranking of
    every record (which the statements did at every run before)."""
    copies = engine.scalar(duplicates_sql(dataset))
    if not copies:
        return
    log.warning(
        "analytics: the lake holds %d %s records more than once; each is read once",
        copies,
        dataset,
    )
    engine.create(f"{dataset}__each_once", each_once_sql(dataset), materialize=True)
    engine.create(dataset, f"SELECT * FROM {dataset}__each_once", materialize=False)


def run_definitions(
    engine: Engine,
    inputs: dict[str, InputFiles],
    params: Params,
    *,
    evaluation: bool = False,
    on_step: Callable[[Statement], None] | None = None,
) -> None:
    """Register the inputs (each Kafka record once) and create every defined relation, in
    order."""
    for files in inputs.values():
        engine.register_input(files)
        if files.urls and files.dataset in RECORD_KEYS:
            _each_record_once(engine, files.dataset)
    for statement, sql in statements(params, evaluation=evaluation):
        if statement.model:
            from vitrina.analytics.model import STEPS

            reads, step = STEPS[statement.model]
            engine.put(statement.name, step({n: engine.table(n) for n in reads}, params))
        else:
            engine.create(statement.name, sql, statement.materialize)
        if on_step is not None:
            on_step(statement)
