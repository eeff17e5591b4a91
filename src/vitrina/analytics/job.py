"""The batch job: lake → definitions on an engine → `recommendations`, `analytics-categories`
and the lake.

`run_job(settings)` is what `vitrina analytics run`, the scheduler and `vitrina demo` call.
Recommendations are published per known customer (key user_id) plus one record for
user_id "__popular__": the popular list a serving API shows to customers it does not know.
Both topics are compacted, so the latest run per key is what a reader folds to.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from vitrina.analytics.definitions import OUTPUTS, POPULAR_USER, STATEMENTS, Params
from vitrina.analytics.engines import open_engine, run_definitions
from vitrina.analytics.lakeio import RUN_ID_FORMAT, AnalyticsLake, InputFiles
from vitrina.contracts.codec import encode
from vitrina.domain.recommend import group_recommendations
from vitrina.errors import BrokerError, VitrinaError
from vitrina.lake.filesystems import hadoop_url
from vitrina.settings import Settings

log = logging.getLogger(__name__)

MODEL = "ease-v1"  # EASE over the most-bought products, popularity breaks ties and fills
# When the model check (guard.py) finds the model no better than popularity on this lake, the
# lists are popularity alone, and the records say so.
FALLBACK_MODEL = "popularity"
Progress = Callable[[str], None]


@dataclass
class JobReport:
    """What one run did: sizes, where outputs went, how long it took."""

    run_id: str
    engine: str
    generated_at: str
    duration_s: float
    rows: dict[str, int] = field(default_factory=dict)
    customers: int = 0
    published: dict[str, int] = field(default_factory=dict)
    withdrawn: int = 0  # customers of the last published run without a list now: tombstones
    lake_paths: dict[str, str] = field(default_factory=dict)
    # The model's check against popularity on this lake (analytics/guard.py): the weight
    # its scores led with (0: popularity alone) and the hidden-item hits behind it.
    model_check: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)


def compute(
    settings: Settings,
    params: Params,
    *,
    engine_name: str | None = None,
    evaluation: bool = False,
    progress: Progress | None = None,
    engine_options: dict[str, Any] | None = None,
    first: Callable[[], None] | None = None,
) -> dict[str, pa.Table]:
    """Run every definition over the lake and fetch the outputs as Arrow tables (over a
    fresh listing if an input file vanished under the run: `AnalyticsLake.read_listed`).
    `first` runs once the lake is known to hold the inputs, before any work."""
    lake = AnalyticsLake.from_settings(settings)

    def run(inputs: dict[str, InputFiles]) -> dict[str, pa.Table]:
        if first is not None:
            first()
        return _compute(
            settings, params, lake, inputs, engine_name, evaluation, progress, engine_options
        )

    return lake.read_listed(run)


def _compute(
    settings: Settings,
    params: Params,
    lake: AnalyticsLake,
    inputs: dict[str, InputFiles],
    engine_name: str | None,
    evaluation: bool,
    progress: Progress | None,
    engine_options: dict[str, Any] | None,
) -> dict[str, pa.Table]:
    options = dict(engine_options or {})
    if not lake.local and (engine_name or settings.analytics.engine) == "duckdb":
        options.setdefault("filesystem", lake.fs)
    if (engine_name or settings.analytics.engine) == "spark":  # no WebHDFS in pyspark's Hadoop
        inputs = {
            name: replace(files, urls=[hadoop_url(settings.lake.backend, u) for u in files.urls])
            for name, files in inputs.items()
        }
    engine = open_engine(settings, engine_name, **options)
    try:
        run_definitions(
            engine,
            inputs,
            params,
            evaluation=evaluation,
            on_step=(lambda s: progress(s.name)) if progress else None,
        )
        wanted = dict(OUTPUTS)
        if evaluation:
            wanted.update(
                {
                    "holdout": "user_id, product_id",
                    "bought": "user_id, product_id",
                    "recommendable": "product_id",
                }
            )
        results = {}
        for name, order in wanted.items():
            results[name] = engine.fetch(name, order)
            if progress:
                progress(f"fetch {name}")
        return results
    finally:
        engine.close()


def progress_steps(evaluation: bool = False) -> int:
    """How many progress ticks `compute` reports (for a progress bar's total)."""
    statements = [s for s in STATEMENTS if evaluation or "evaluation" not in s.tags]
    return len(statements) + len(OUTPUTS) + (3 if evaluation else 0)


def category_records(table: pa.Table, computed_at: datetime) -> list[dict[str, Any]]:
    stamp = computed_at.isoformat()
    return [{**row, "computed_at": stamp} for row in table.to_pylist()]


def recommendation_records(
    recs: pa.Table,
    popular: pa.Table,
    top_k: int,
    generated_at: datetime,
    model: str = MODEL,
) -> list[dict[str, Any]]:
    records = group_recommendations(recs.to_pylist(), model=model, generated_at=generated_at)
    top = [r for r in popular.to_pylist() if r["rank"] <= top_k]
    records += group_recommendations(top, model=f"{model}/popular", generated_at=generated_at)
    return records


def served_model(model_check: pa.Table) -> str:
    """The model a run's lists come from: the model, or popularity alone when the model
    check found the model no better on this lake (a weight of 0)."""
    rows = model_check.to_pylist()
    return FALLBACK_MODEL if rows and not rows[0]["weight"] else MODEL


class InvalidOutputError(VitrinaError):
    """An output of the run is not fit to serve; nothing of the run was published."""


def check_outputs(results: dict[str, pa.Table]) -> None:
    """Raise InvalidOutputError if any output holds a NaN, an infinity or a null score/id."""
    import pyarrow.compute as pc

    for name, table in results.items():
        for column in table.column_names:
            values = table[column]
            if column in ("score", "product_id", "user_id", "other_id") and values.null_count:
                raise InvalidOutputError(
                    f"analytics output {name}.{column} has {values.null_count} null values",
                    hint="this is a bug in the definitions; the previous run keeps serving",
                )
            if pa.types.is_floating(values.type):
                bad = pc.sum(pc.invert(pc.fill_null(pc.is_finite(values), True))).as_py()
                if bad:
                    raise InvalidOutputError(
                        f"analytics output {name}.{column} has {bad} NaN/infinite values",
                        hint="this is a bug in the definitions; the previous run keeps serving",
                    )


def encoded(
    contract: str, key_field: str, records: list[dict[str, Any]]
) -> list[tuple[bytes, bytes]]:
    """(key, value) of every record, each validated against `contract` (raises on the first)."""
    return [(str(r[key_field]).encode(), encode(contract, r)) for r in records]


# The transactional id of the run's publish (the analytics principal owns `vitrina-analytics*`
# ids). One for every run: a run started while another publishes fences it, and a run killed
# mid-publish has its transaction aborted by the next one's start (or by its timeout).
PUBLISH_TRANSACTIONAL_ID = "vitrina-analytics-publish"


def transactional_publish(settings: Settings) -> bool:
    """Whether a run publishes in one transaction: on Apache Kafka (embedded or a cluster),
    not on the opt-in Tansu engine, which delivers aborted transactions."""
    return settings.kafka.transactions or settings.broker.engine != "tansu"


def publish(
    settings: Settings,
    messages: dict[str, list[tuple[bytes, bytes | None]]],
    timeout_s: float = 60.0,
) -> dict[str, int]:
    """Produce a run's already validated (key, value) messages (None: a tombstone), every
    topic in ONE transaction where the broker keeps them (`transactional_publish`): readers
    see all of the run or none of it. A kill -9 mid-publish left half a run served, the
    categories of the new run beside the lists of the old (a blind review). Raises
    BrokerError unless all land. Returns the records written per topic."""
    from confluent_kafka import KafkaException, Producer

    from vitrina.kafka.clients import producer_config
    from vitrina.kafka.produce import produce

    errors: list[str] = []

    def delivered(err: Any, _msg: Any) -> None:
        if err is not None:
            errors.append(str(err))

    transactional = transactional_publish(settings)
    producer = Producer(
        producer_config(
            settings,
            "analytics",
            transactional_id=PUBLISH_TRANSACTIONAL_ID if transactional else None,
        )
    )
    topics = ", ".join(messages)

    def abort() -> None:  # if it cannot, the next run's start aborts it, or its timeout
        if transactional:
            with contextlib.suppress(KafkaException):
                producer.abort_transaction(10)

    try:
        if transactional:
            producer.init_transactions(timeout_s)
            producer.begin_transaction()
        for topic, batch in messages.items():
            for key, value in batch:
                produce(producer, topic, value, key, on_delivery=delivered)  # waits if full
                producer.poll(0)
        left = producer.flush(timeout_s)
        if transactional and not (left or errors):
            producer.commit_transaction(timeout_s)
    except KafkaException as exc:
        abort()
        raise BrokerError(
            f"cannot write to {topics}: {exc}",
            hint="is the broker running? `vitrina broker status`",
        ) from None
    if left or errors:
        abort()
        first = errors[0] if errors else f"{left} messages not delivered in {timeout_s:.0f}s"
        total = sum(len(batch) for batch in messages.values())
        raise BrokerError(
            f"writing {total} records to {topics} failed: {first}",
            hint="check `vitrina broker status` and `vitrina topics apply`",
        )
    return {topic: len(batch) for topic, batch in messages.items()}


def withdrawn(lake: AnalyticsLake, topic: str, current: set[str]) -> list[str]:
    """Customers whose list an earlier run sent and this run has none for: their old list
    would be served for ever from the compacted topic (a blind review: a customer who then
    bought everything kept a "personal" list of what they had bought). Each run withdraws
    its predecessors' leftovers, so the topic's keys are the customers of the last published
    run and of any run after it that published but was killed before its marker (a chaos
    review: four such runs); their outputs stay in the lake until pruned."""
    listed = lake.committed_runs()  # listed once, for both questions
    last = lake.last_published_run(topic, runs=listed)
    committed = set(listed)
    runs = [last] if last is not None else []
    runs += [
        run
        for run in lake.output_runs("recommendations")
        if run not in committed and (last is None or run > last)
    ]
    before: set[str] = set()
    for run in runs:
        try:
            table = lake.read_output("recommendations", run, columns=["user_id"])
        except (FileNotFoundError, OSError, ValueError, VitrinaError):
            continue  # a run being deleted, or a file cut short by a kill
        before.update(table.column("user_id").unique().to_pylist())
    return sorted(before - current - {POPULAR_USER})


def run_job(
    settings: Settings,
    *,
    engine_name: str | None = None,
    publish_topics: bool = True,
    now: datetime | None = None,
    as_of: datetime | None = None,
    progress: Progress | None = None,
    engine_options: dict[str, Any] | None = None,
) -> JobReport:
    """Compute all analytics once and write them to the lake and Kafka, all or nothing.

    Order: compute → check every output and validate every record → write the run's lake
    files → publish → mark the run current in the lake. A failure at any step leaves the
    previous run current (the lake readers follow the marker); the publish is one
    transaction where the broker keeps them (`publish`).
    """
    started = time.monotonic()
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    run_id = moment.strftime(RUN_ID_FORMAT)
    params = Params(
        as_of=as_of.timestamp() if as_of else None,
        top_k=settings.analytics.top_k,
        ease_products=settings.analytics.ease_products,
    )

    def topics_reachable() -> None:  # a broker away is said before the work, not a minute after
        from vitrina.kafka.inspect import topic_partitions

        for topic in (settings.topics.analytics_categories, settings.topics.recommendations):
            topic_partitions(settings, topic, principal="analytics")

    results = compute(
        settings,
        params,
        engine_name=engine_name,
        progress=progress,
        engine_options=engine_options,
        first=topics_reachable if publish_topics else None,
    )
    check_outputs(results)
    recs = recommendation_records(
        results["recommendations"],
        results["popular"],
        params.top_k,
        moment,
        model=served_model(results["model_check"]),
    )
    lake = AnalyticsLake.from_settings(settings)
    topics = settings.topics
    stale = withdrawn(lake, topics.recommendations, {r["user_id"] for r in recs})
    messages: dict[str, list[tuple[bytes, bytes | None]]] = {
        topics.analytics_categories: list(
            encoded(
                "category_stats", "category", category_records(results["category_stats"], moment)
            )
        ),
        topics.recommendations: [
            *encoded("recommendation", "user_id", recs),
            *((user.encode(), None) for user in stale),
        ],
    }
    report = JobReport(
        run_id=run_id,
        engine=engine_name or settings.analytics.engine,
        generated_at=moment.isoformat(),
        duration_s=0.0,
    )
    report.model_check = next(iter(results["model_check"].to_pylist()), {})
    report.customers = sum(1 for r in recs if r["user_id"] != POPULAR_USER)
    try:
        for name, table in results.items():
            report.rows[name] = table.num_rows
            report.lake_paths[name] = lake.write_output(name, run_id, table)
        if progress:
            progress("write lake")
        if publish_topics:
            report.published = publish(settings, messages)
            report.withdrawn = len(stale)
            if progress:
                progress("publish")
        report.duration_s = round(time.monotonic() - started, 3)
        lake.commit_run(run_id, report.to_json().encode())
    except BaseException:  # a failed run leaves no outputs behind (a kill -9's: pruning's)
        lake.discard_run(run_id, list(results))
        raise
    try:  # the lake kept every run's outputs: ~1,440 a day at the default interval
        pruned = lake.prune_runs(settings.analytics.keep_runs, moment)
        if pruned:
            log.info("analytics: %d older runs deleted from the lake", len(pruned))
    except (OSError, VitrinaError) as exc:  # the run is committed: pruning waits for the next
        log.warning("analytics: older runs not deleted: %s", exc)
    status = settings.data_dir / "run" / "analytics-last.json"
    status.parent.mkdir(parents=True, exist_ok=True)
    status.write_text(report.to_json(), encoding="utf-8")
    return report
