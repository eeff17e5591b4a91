"""The analytics job on real Parquet lakes (DuckDB), publishing to the real embedded broker."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from prometheus_client import REGISTRY
from tests.conftest import wait_for
from typer.testing import CliRunner

from vitrina.analytics.definitions import POPULAR_USER, Params
from vitrina.analytics.evaluation import evaluate
from vitrina.analytics.job import compute, run_job
from vitrina.analytics.lakeio import AnalyticsLake, EmptyLakeError
from vitrina.analytics.synthetic import (
    add_incarnation,
    add_products,
    add_searches,
    as_small_files,
    copy_records,
    write_generated_lake,
)
from vitrina.contracts.codec import decode
from vitrina.domain.recommend import forbidden_items, group_recommendations
from vitrina.kafka.inspect import fold_latest
from vitrina.lake.writer import LakeWriter
from vitrina.services.analytics_scheduler import MODEL_SHARE, AnalyticsScheduler, trigger_path
from vitrina.settings import Settings, load_settings

pytestmark = pytest.mark.integration


def _lake(settings: Settings, **kwargs: Any) -> dict[str, Any]:
    return write_generated_lake(LakeWriter.from_settings(settings), **kwargs)


def _bought(settings: Settings) -> dict[str, set[str]]:
    """Purchases read straight from the lake files, independently of the job's SQL."""
    import pyarrow.parquet as pq

    writer = LakeWriter.from_settings(settings)
    bought: dict[str, set[str]] = {}
    for f in writer.files("orders"):
        for row in pq.read_table(f.path).to_pylist():
            bought.setdefault(row["customer_id"], set()).add(row["product_id"])
    for f in writer.files("client_events"):
        for row in pq.read_table(f.path).to_pylist():
            if row["type"] == "purchase":
                bought.setdefault(row["user_id"], set()).add(row["product_id"])
    return bought


def test_recommendations_never_contain_banned_out_of_stock_or_bought(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    info = _lake(settings)
    out = compute(settings, Params(as_of=info["end"].timestamp()))
    records = group_recommendations(
        out["recommendations"].to_pylist(), model="t", generated_at=info["end"]
    )
    records += group_recommendations(
        out["popular"].to_pylist(), model="t", generated_at=info["end"]
    )
    out_of_stock = {p["product_id"] for p in info["catalog"] if p["stock"]["available"] == 0}
    bought = _bought(settings)
    assert len(records) > 50 and info["banned"] and out_of_stock
    for record in records:
        assert len(record["items"]) >= 10, record["user_id"]
        assert (
            forbidden_items(
                record,
                banned=info["banned"],
                out_of_stock=out_of_stock,
                bought=bought.get(record["user_id"], set()),
            )
            == []
        )
    reasons = {i["reason"] for r in records for i in r["items"]}
    # Similarity leads; the fill tiers (category, overall) only show where it runs out
    # (tests/unit/test_analytics_scores.py: test_the_category_fill_shows_its_category).
    assert any(r.startswith("похоже на то") for r in reasons)
    assert all(r.startswith(("похоже на то", "популярно")) for r in reasons), reasons


def test_category_stats_match_the_catalogue(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    info = _lake(settings, products=120, customer_count=20, messages=1500)
    stats = {
        r["category"]: r for r in compute(settings, Params(as_of=2e9))["category_stats"].to_pylist()
    }
    live = [p for p in info["catalog"] if p["product_id"] not in info["banned"]]
    for category in {p["category"] for p in live}:
        mine = [p for p in live if p["category"] == category]
        assert stats[category]["products"] == len(mine)
        assert stats[category]["max_price"] == pytest.approx(
            max(p["price"]["amount"] for p in mine), abs=0.01
        )
        assert stats[category]["stock_available"] == sum(p["stock"]["available"] for p in mine)
    assert sum(r["orders"] for r in stats.values()) > 0


def test_a_category_stock_past_int64_is_capped_not_a_failed_run(tmp_path: Path) -> None:
    """Each product's stock keeps the contract (at most 2^63 - 1), a category's sum need
    not: two such products failed every run (DuckDB: "INT128 ... can't be cast to INT64"),
    and the analytics service crash-looped until its supervisor gave up on it (found by a
    hostile-input review). The sum is capped at 2^63 - 1."""
    settings = load_settings(data_dir=tmp_path)
    info = _lake(settings, products=60, customer_count=10, messages=400)
    most = 2**63 - 1
    first = info["catalog"][0]
    huge = [
        {**first, "product_id": f"huge-{n}", "stock": {"available": most, "reserved": most}}
        for n in range(2)
    ]
    add_products(LakeWriter.from_settings(settings), huge, info["end"])
    out = compute(settings, Params(as_of=info["end"].timestamp()))["category_stats"]
    stats = {r["category"]: r for r in out.to_pylist()}
    assert stats[first["category"]]["stock_available"] == most
    assert stats[first["category"]]["stock_reserved"] == most
    others = [
        p
        for p in info["catalog"]
        if p["category"] != first["category"] and p["product_id"] not in info["banned"]
    ]
    category = others[0]["category"]  # no huge product: its sum is exact, as before
    assert stats[category]["stock_available"] == sum(
        p["stock"]["available"] for p in others if p["category"] == category
    )


def test_recommender_beats_popularity_on_recall(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    _lake(settings, products=1000, customer_count=300, messages=30000)
    report = evaluate(settings, k=10)
    rec, pop = report.models["recommender"], report.models["popularity"]
    assert report.users > 100
    assert rec["recall@10"] > pop["recall@10"], report.to_dict()
    assert rec["coverage"] > pop["coverage"]


@pytest.mark.parametrize(("seed", "ahead"), [(7, True), (11, False)])
def test_recommender_beats_popularity_on_a_sparse_lake(
    tmp_path: Path, seed: int, ahead: bool
) -> None:
    # 20k messages for 300 customers: the lakes where the model of 4042950 lost to
    # popularity (0.087 vs 0.094, 0.070 vs 0.079); v3 0.142 / 0.098, EASE (cd7cd20) 0.160 /
    # 0.082 against the same popularity. On seed 11 EASE's lead (one customer's hit) is not
    # significant on the model check's hidden items (747 vs 726), so it falls back to
    # popularity alone there: level, never behind (analytics/guard.py).
    settings = load_settings(data_dir=tmp_path)
    _lake(settings, products=1000, customer_count=300, messages=20000, seed=seed)
    report = evaluate(settings, k=10)
    rec, pop = report.models["recommender"], report.models["popularity"]
    assert rec["recall@10"] >= pop["recall@10"], report.to_dict()
    assert report.model_check["share"] == (1.0 if ahead else 0.0), report.model_check
    if ahead:
        assert rec["recall@10"] > pop["recall@10"], report.to_dict()


def test_empty_lake_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    with pytest.raises(EmptyLakeError, match="has no products yet"):
        compute(settings, Params(as_of=2e9))
    from vitrina.cli.main import app

    result = CliRunner().invoke(
        app, ["analytics", "run", "--no-publish"], env={"VITRINA__DATA_DIR": str(tmp_path)}
    )
    assert result.exit_code == 1
    assert "vitrina up" in result.output and "Traceback" not in result.output


def test_run_publishes_recommendations_and_categories(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    _lake(settings, products=150, customer_count=25, messages=2500)
    report = run_job(settings)
    recs = fold_latest(settings, settings.topics.recommendations)
    assert POPULAR_USER in recs
    assert len(recs) == report.customers + 1
    for raw in recs.values():
        record = decode("recommendation", raw) if isinstance(raw, bytes) else raw
        assert record["items"]
    categories = fold_latest(settings, settings.topics.analytics_categories)
    assert len(categories) == report.rows["category_stats"]
    lake = AnalyticsLake.from_settings(settings)
    assert lake.last_run() == report.run_id
    assert lake.read_output("category_stats").num_rows == report.rows["category_stats"]


def test_a_customer_a_run_has_no_list_for_loses_the_old_one(
    make_settings: Callable[..., Settings],
) -> None:
    """A blind review: a customer who got a personal list and then had none in a later run
    (they bought everything) kept the old list for ever in the compacted topic, served as
    "personal". The run withdraws the lists of its predecessor it has none for."""
    import pyarrow.parquet as pq

    settings = make_settings()
    _lake(settings, products=150, customer_count=25, messages=2500)
    first = run_job(settings)
    listed = set(fold_latest(settings, settings.topics.recommendations)) - {POPULAR_USER}
    gone = sorted(listed)[0]
    writer = LakeWriter.from_settings(settings)
    for role, column in (("orders", "customer_id"), ("client_events", "user_id")):
        for f in writer.files(role):
            table = pq.read_table(f.path)
            kept = [r for r in table.to_pylist() if r[column] != gone]
            writer.fs.rm_file(f.path)
            if kept:
                writer.write(role, f.day, kept, f.incarnation)
    second = run_job(settings, now=datetime(2031, 1, 1, tzinfo=UTC))
    assert second.withdrawn == 1 and first.withdrawn == 0
    served = fold_latest(settings, settings.topics.recommendations)
    assert gone not in served
    assert set(served) - {POPULAR_USER} == listed - {gone}


def test_a_run_killed_after_its_publish_and_before_its_marker_has_its_lists_withdrawn(
    make_settings: Callable[..., Settings],
) -> None:
    """A chaos review killed `analytics run` after its transaction committed and before its
    marker, four times: the lists it published were then invisible to the withdrawal, which
    read the last *marked* published run. A run left unmarked (its outputs stay in the lake
    until pruned) counts too."""
    import pyarrow as pa
    from confluent_kafka import Producer

    from vitrina.kafka.clients import producer_config
    from vitrina.kafka.produce import produce

    settings = make_settings()
    _lake(settings, products=150, customer_count=25, messages=2500)
    first = run_job(settings)
    ghost = "ghost-of-a-killed-run"
    killed = "20300101T000000000000Z"  # after the first run, before the next
    row = {"user_id": [ghost], "rank": [1], "product_id": ["x"], "score": [1.0], "reason": ["r"]}
    AnalyticsLake.from_settings(settings).write_output("recommendations", killed, pa.table(row))
    producer = Producer(producer_config(settings, "test"))
    record = {"user_id": ghost, "items": [], "model": "m", "generated_at": "2030-01-01T00:00:00Z"}
    produce(producer, settings.topics.recommendations, orjson.dumps(record), ghost.encode())
    assert producer.flush(10) == 0
    assert ghost in fold_latest(settings, settings.topics.recommendations)
    second = run_job(settings, now=datetime(2031, 1, 1, tzinfo=UTC))
    assert second.withdrawn == 1 and first.withdrawn == 0
    assert ghost not in fold_latest(settings, settings.topics.recommendations)


def test_a_publish_that_fails_half_way_changes_neither_topic(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A blind review killed `analytics run` while it published: the categories of the
    killed run were served beside the lists of the one before. A run's records go out in
    one transaction: a publish that fails half-way (here: the broker refusing the first
    list, after every category record) leaves what readers see as it was."""
    from confluent_kafka import KafkaError, KafkaException

    from vitrina.errors import BrokerError
    from vitrina.kafka import produce as produce_module

    settings = make_settings()
    _lake(settings, products=150, customer_count=25, messages=2500)
    run_job(settings)
    categories = fold_latest(settings, settings.topics.analytics_categories)
    lists = fold_latest(settings, settings.topics.recommendations)
    real = produce_module.produce

    def refused_at_the_lists(producer: Any, topic: str, *args: Any, **kwargs: Any) -> None:
        if topic == settings.topics.recommendations:
            raise KafkaException(KafkaError(KafkaError._TRANSPORT, "the broker went away"))
        real(producer, topic, *args, **kwargs)

    monkeypatch.setattr(produce_module, "produce", refused_at_the_lists)
    with pytest.raises(BrokerError, match="went away"):
        run_job(settings, now=datetime(2031, 1, 1, tzinfo=UTC))
    assert fold_latest(settings, settings.topics.analytics_categories) == categories
    assert fold_latest(settings, settings.topics.recommendations) == lists


def test_the_holdout_is_a_share_of_the_orders_that_count(tmp_path: Path) -> None:
    """A blind review: `analytics evaluate --holdout 0.2` held out 0.1 % of the orders. The
    cut was a quantile over order LINES (one order of 1,000 lines moved it), and counted
    cancelled orders. 100 one-line orders a day apart, one order of 1,000 lines among the
    first half, one dated 9999 (one order, as any other), one cancelled late: the last
    fifth of the 102 orders that count is held out."""
    from datetime import timedelta

    import pyarrow.parquet as pq

    from vitrina.analytics.evaluation import holdout_cutoff

    settings = load_settings(data_dir=tmp_path)
    _lake(settings, products=100, customer_count=15, messages=1200)
    writer = LakeWriter.from_settings(settings)
    files = writer.files("orders")
    template = pq.read_table(files[0].path).to_pylist()[0]
    for f in files:
        writer.fs.rm_file(f.path)
    start = datetime(2026, 1, 1, tzinfo=UTC)

    def line(offset: int, order: str, day: float, line_no: int = 0, **more: Any) -> dict:
        when = start + timedelta(days=day)
        return {
            **template,
            "_offset": offset,
            "order_id": order,
            "order_date": when,
            "line_no": line_no,
            "state": "created",
            **more,
        }

    rows = [line(i, f"o{i}", i) for i in range(100)]
    rows += [line(100, "big", 40.5, n) for n in range(1000)]
    rows += [line(101, "future", 0, order_date=datetime(9999, 1, 1, tzinfo=UTC))]
    rows += [line(102, "cancelled", 99.5, state="Cancelled")]
    writer.write("orders", files[0].day, rows, files[0].incarnation)
    cut = datetime.fromtimestamp(holdout_cutoff(AnalyticsLake.from_settings(settings), 0.2), UTC)
    assert start + timedelta(days=79) <= cut <= start + timedelta(days=81), cut


def _a_run_without_personal_lists(data_dir: Path) -> AnalyticsLake:
    import pyarrow as pa

    lake = AnalyticsLake.from_settings(load_settings(data_dir=data_dir))
    run = "20261206T120000000000Z"
    columns = {"user_id": [], "rank": [], "product_id": [], "score": [], "reason": []}
    types = [pa.string(), pa.int64(), pa.string(), pa.float64(), pa.string()]
    empty = pa.table({k: pa.array(v, t) for (k, v), t in zip(columns.items(), types, strict=True)})
    popular = pa.table(
        {
            "user_id": [POPULAR_USER],
            "rank": pa.array([1], pa.int64()),
            "product_id": ["RN1"],
            "score": [1.0],
            "reason": ["популярно у покупателей"],
        }
    )
    lake.write_output("recommendations", run, empty)
    lake.write_output("popular", run, popular)
    lake.commit_run(run, b"{}")
    return lake


def test_show_prints_the_popular_list_of_a_run_without_personal_lists(tmp_path: Path) -> None:
    """A blind review: `vitrina analytics show` on a run with no personal list printed
    nothing (the popular list its help promises was shown only for an unknown customer),
    and 1 run in 10 aborted at exit with "terminate called without an active exception"
    (exit 134): Arrow's read-ahead of a file of no rows. Five runs in a row, each exit 0.
    (The abort was still 1 run in 20 on a loaded machine: the test below is the exact one.)"""
    from tests.support import run_vitrina

    _a_run_without_personal_lists(tmp_path)
    for _ in range(5):
        shown = run_vitrina(
            "analytics", "show", env={"VITRINA__DATA_DIR": str(tmp_path)}, timeout=60
        )
        assert shown.returncode == 0, shown.stderr
        assert POPULAR_USER in shown.stdout and "RN1" in shown.stdout


def test_show_names_the_products_the_search_index_holds(tmp_path: Path) -> None:
    """`analytics show` printed product ids alone; it names them from the search index, as
    customers see them, and still shows the lists by id when there is no index."""
    from tests.support import run_vitrina

    from vitrina.domain.generator import generate_catalog
    from vitrina.search.embedded import EmbeddedSearch

    _a_run_without_personal_lists(tmp_path)
    env = {"VITRINA__DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    bare = run_vitrina("analytics", "show", env=env, timeout=60)
    assert bare.returncode == 0, bare.stderr
    assert "RN1" in bare.stdout and "names not shown: no search index" in bare.stdout
    index = EmbeddedSearch(tmp_path / "search-index")
    index.upsert(
        [
            {
                **next(iter(generate_catalog(1, seed=5))),
                "product_id": "RN1",
                "name": "Ноутбук Lenovo IdeaPad 3",
            }
        ]
    )
    index.commit()
    index.close()
    named = run_vitrina("analytics", "show", env=env, timeout=60)
    assert named.returncode == 0, named.stderr
    assert "RN1" in named.stdout and "Ноутбук Lenovo IdeaPad 3" in named.stdout


def test_an_output_is_read_by_the_calling_thread_alone(tmp_path: Path) -> None:
    """CI: `analytics show` still aborted at exit 1 run in 20 ("terminate called without an
    active exception"). gdb: Arrow had read the lake's Python file in its own threads and
    let go of it there, after the read, while the interpreter was exiting. The file is now
    read whole by the caller; no other thread touches it."""
    from tests.support import threads_touching_files

    lake = _a_run_without_personal_lists(tmp_path)
    with threads_touching_files(lake.fs) as touched:
        for name in ("recommendations", "popular"):
            for columns in (None, ["user_id"]):
                table = lake.read_output(name, columns=columns)
                assert table.num_rows == (name == "popular")
    assert touched == {threading.get_ident()}


def test_a_lake_of_products_and_events_without_orders_gives_statistics_and_lists(
    make_settings: Callable[..., Settings],
) -> None:
    """A blind review: a lake with products and client events but no orders failed every
    run ("no orders yet", the service retrying every 10 s), so not even the category
    statistics, which need no orders, were made. Views and carts are signals of their own."""
    settings = make_settings()
    _lake(settings, products=150, customer_count=25, messages=2500)
    writer = LakeWriter.from_settings(settings)
    for f in writer.files("orders"):
        writer.fs.rm_file(f.path)
    report = run_job(settings)
    assert report.customers > 0 and report.rows["category_stats"] > 0
    stats = fold_latest(settings, settings.topics.analytics_categories)
    assert stats and all(decode("category_stats", v)["orders"] == 0 for v in stats.values())
    with pytest.raises(EmptyLakeError, match="no order dates"):
        evaluate(settings, k=10)


def test_the_run_reports_its_model_check(tmp_path: Path) -> None:
    """Which way the model check went is in the run's report (marker) and in the lake."""
    settings = load_settings(data_dir=tmp_path)
    _lake(settings, products=150, customer_count=40, messages=4000)
    report = run_job(settings, publish_topics=False)
    check = report.model_check
    assert check["customers"] > 0 and check["share"] in (0.0, 1.0)
    assert check["weight"] == check["share"] * Params().cf_weight
    assert check["chosen_hits"] == (
        check["model_hits"] if check["share"] else check["popularity_hits"]
    )
    last = json.loads((settings.data_dir / "run" / "analytics-last.json").read_text())
    assert last["model_check"] == check
    lake = AnalyticsLake.from_settings(settings)
    assert lake.read_output("model_check").to_pylist() == [check]


def test_a_failed_run_publishes_nothing_and_the_previous_run_keeps_serving(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression (issue 16): a NaN score used to fail the run after it had already published
    `analytics-categories` and written NaN outputs to the lake."""
    import pyarrow as pa

    from vitrina.analytics import job

    settings = make_settings()
    _lake(settings, products=150, customer_count=25, messages=2500)
    first = run_job(settings, publish_topics=False)
    real_compute = job.compute

    def nan_scores(*args: Any, **kwargs: Any) -> dict[str, Any]:
        # Stands in for a definitions bug (the old wall-clock 0/0): the real outputs, one
        # score replaced by NaN.
        out = real_compute(*args, **kwargs)
        recs = out["recommendations"]
        scores = recs["score"].to_pylist()
        scores[0] = float("nan")
        out["recommendations"] = recs.set_column(
            recs.schema.get_field_index("score"), "score", pa.array(scores, pa.float64())
        )
        return out

    monkeypatch.setattr(job, "compute", nan_scores)
    with pytest.raises(job.InvalidOutputError, match=r"recommendations\.score"):
        run_job(settings)
    assert fold_latest(settings, settings.topics.analytics_categories) == {}
    assert fold_latest(settings, settings.topics.recommendations) == {}
    lake = AnalyticsLake.from_settings(settings)
    assert lake.last_run() == first.run_id


def _run_folders(settings: Settings) -> set[str]:
    """Every run= folder of every analytics output in the lake (committed or not)."""
    root = AnalyticsLake.from_settings(settings).root
    return {p.name for p in Path(root).glob("*/run=*") if p.is_dir()}


def test_a_run_whose_publish_fails_leaves_no_outputs_in_the_lake(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that failed to publish left its uncommitted run= folders in every output
    dataset (seen after a broker stop), kept until they aged out of the runs pruning keeps.
    Now the run deletes what it wrote; the previous run keeps serving."""
    from vitrina.analytics import job
    from vitrina.errors import BrokerError

    settings = make_settings()
    _lake(settings, products=150, customer_count=25, messages=2500)
    first = run_job(settings, publish_topics=False)
    kept = _run_folders(settings)
    assert kept and all(name == f"run={first.run_id}" for name in kept)

    def refused(*_args: Any, **_kwargs: Any) -> int:
        raise BrokerError("the broker went away mid-publish")

    monkeypatch.setattr(job, "publish", refused)
    with pytest.raises(BrokerError, match="mid-publish"):
        run_job(settings, now=datetime(2031, 1, 1, tzinfo=UTC))
    assert _run_folders(settings) == kept
    assert AnalyticsLake.from_settings(settings).last_run() == first.run_id


def test_a_run_whose_commit_fails_after_its_marker_keeps_its_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed run deletes what it wrote, but not once its marker is there (a commit that
    raised after the rename, e.g. on the directory's fsync): readers follow the marker, and
    its outputs must stay where it points."""
    from vitrina.analytics import lakeio

    settings = load_settings(data_dir=tmp_path)
    _lake(settings, products=100, customer_count=15, messages=1200)
    real_commit = lakeio.AnalyticsLake.commit_run

    def committed_then_failed(self: Any, run_id: str, report: bytes) -> str:
        real_commit(self, run_id, report)
        raise OSError("fsync of the runs folder failed")

    monkeypatch.setattr(lakeio.AnalyticsLake, "commit_run", committed_then_failed)
    with pytest.raises(OSError, match="fsync"):
        run_job(settings, publish_topics=False)
    lake = AnalyticsLake.from_settings(settings)
    run = lake.last_run()
    assert run is not None and _run_folders(settings)  # the marker's outputs are there
    assert lake.read_output("recommendations", run).num_rows > 0


def test_a_run_with_its_broker_away_says_so_before_computing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`analytics run` with the broker stopped computed the whole run, waited 61 s in
    silence on publishing, then failed. The topics are asked for first: nothing listens,
    so the command fails at once, before any work, and the lake holds no run."""
    from tests.conftest import free_port

    from vitrina.analytics import job
    from vitrina.cli.main import app

    settings = load_settings(data_dir=tmp_path)
    _lake(settings, products=100, customer_count=15, messages=1200)
    computed: list[int] = []
    monkeypatch.setattr(job, "_compute", lambda *a, **k: computed.append(1))
    port = free_port()
    result = CliRunner().invoke(
        app,
        ["analytics", "run"],
        env={
            "VITRINA__DATA_DIR": str(tmp_path),
            "VITRINA__KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{port}",
        },
    )
    said = " ".join(result.output.split())
    assert result.exit_code == 1, said
    assert f"cannot reach the Kafka broker at 127.0.0.1:{port}" in said
    assert computed == [] and _run_folders(settings) == set()


def test_years_old_lake_gets_finite_scores_from_the_wall_clock_run(tmp_path: Path) -> None:
    """Regression (issue 16): decay from the wall clock made every score NaN on old data."""
    from datetime import UTC, datetime

    settings = load_settings(data_dir=tmp_path)
    _lake(
        settings,
        products=200,
        customer_count=40,
        messages=4000,
        start=datetime(2017, 1, 1, tzinfo=UTC),
    )
    report = run_job(settings, publish_topics=False, now=datetime(2026, 11, 30, tzinfo=UTC))
    lake = AnalyticsLake.from_settings(settings)
    assert lake.last_run() == report.run_id
    recs = lake.read_output("recommendations").to_pylist()
    assert recs and all(r["score"] == r["score"] and r["score"] > 0 for r in recs)
    reasons = {r["reason"] for r in recs}
    assert any(r.startswith("похоже на то") for r in reasons)


def test_cli_run_takes_an_explicit_as_of(tmp_path: Path) -> None:
    import json

    from vitrina.cli.main import app

    settings = load_settings(data_dir=tmp_path)
    _lake(settings, products=150, customer_count=25, messages=2500)
    result = CliRunner().invoke(
        app,
        ["analytics", "run", "--no-publish", "--json", "--as-of", "2030-01-01"],
        env={"VITRINA__DATA_DIR": str(tmp_path)},
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["rows"]["recommendations"] > 0
    assert AnalyticsLake.from_settings(settings).last_run() == report["run_id"]
    shown = CliRunner().invoke(
        app, ["analytics", "show", "--limit", "1"], env={"VITRINA__DATA_DIR": str(tmp_path)}
    )
    assert shown.exit_code == 0, shown.output
    assert f"run {report['run_id']} was not published" in " ".join(shown.output.split())
    assert "served are none yet" in " ".join(shown.output.split())


def test_searches_shows_what_was_not_found_and_what_customers_searched_next(
    tmp_path: Path,
) -> None:
    """`vitrina analytics searches`: the zero-result queries of the last run, each with the
    refinement the client API answers it with, or a dash where customers found nothing
    either (a word for the word lists); then the learned refinements."""
    from vitrina.cli.main import app

    settings = load_settings(data_dir=tmp_path)
    _lake(settings, products=150, customer_count=25, messages=2500)
    add_searches(
        LakeWriter.from_settings(settings),
        [(u, "кравчучка", 0, 0) for u in ("x-1", "x-2")],
        datetime(2024, 5, 1, tzinfo=UTC),
    )
    env = {"VITRINA__DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    before = CliRunner().invoke(app, ["analytics", "searches"], env=env)
    assert before.exit_code == 1 and "analytics run" in before.output
    ran = CliRunner().invoke(app, ["analytics", "run", "--no-publish"], env=env)
    assert ran.exit_code == 0, ran.output
    result = CliRunner().invoke(app, ["analytics", "searches"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    # the generated lake's customers searched «ыфвафыва», then «смартфон» (synthetic.py)
    assert any("ыфвафыва" in line and "«смартфон» (" in line for line in lines), result.output
    assert any("кравчучка" in line and "—" in line for line in lines), result.output
    learned = lines[next(i for i, line in enumerate(lines) if "learned refinements" in line) :]
    assert any("ыфвафыва" in line and "смартфон" in line for line in learned)
    assert not any("кравчучка" in line for line in learned)


def test_scheduler_runs_at_start_and_on_trigger(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(analytics={"interval_s": 3600})
    _lake(settings, products=100, customer_count=15, messages=1200)
    before = REGISTRY.get_sample_value("vitrina_analytics_runs_total", {"status": "success"}) or 0.0
    scheduler = AnalyticsScheduler(settings)
    thread = threading.Thread(target=scheduler.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: scheduler.runs["success"] == 1, 60, message="the first run")
        trigger = trigger_path(settings)
        trigger.parent.mkdir(parents=True, exist_ok=True)
        trigger.touch()
        wait_for(lambda: scheduler.runs["success"] == 2, 60, message="the triggered run")
        assert not trigger.exists()
        scheduler.request_run()  # what SIGUSR1 does
        wait_for(lambda: scheduler.runs["success"] == 3, 60, message="the signalled run")
    finally:
        scheduler.stop()
        thread.join(10)
    assert not thread.is_alive()
    after = REGISTRY.get_sample_value("vitrina_analytics_runs_total", {"status": "success"})
    assert after == before + 3
    assert (REGISTRY.get_sample_value("vitrina_analytics_last_success_timestamp_seconds") or 0) > 0


def test_the_scheduler_exports_the_model_check_as_gauges(tmp_path: Path) -> None:
    """The alert VitrinaRecommenderOnPopularity reads vitrina_analytics_model_share: after a
    run it holds that run's choice, and the hit gauges hold the run's hidden-item hits."""
    settings = load_settings(data_dir=tmp_path)
    _lake(settings, products=150, customer_count=40, messages=4000)
    reports: list[Any] = []

    def job(s: Settings) -> Any:
        reports.append(run_job(s, publish_topics=False))
        return reports[-1]

    MODEL_SHARE.set(-1)  # no run yet: a value no check gives
    assert AnalyticsScheduler(settings, job=job).run_once() == "success"
    check = reports[0].model_check
    assert REGISTRY.get_sample_value("vitrina_analytics_model_share") == check["share"]
    for name, key in (("model", "model_hits"), ("popularity", "popularity_hits")):
        value = REGISTRY.get_sample_value("vitrina_analytics_model_check_hits", {"list": name})
        assert value == check[key]
    assert check["model_hits"] + check["popularity_hits"] > 0


def test_scheduler_skips_an_empty_lake_instead_of_failing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(data_dir=tmp_path)
    before = REGISTRY.get_sample_value("vitrina_analytics_runs_total", {"status": "skipped"}) or 0.0
    with caplog.at_level("WARNING"):
        assert AnalyticsScheduler(settings).run_once() == "skipped"
    # Inside `vitrina up` the hint "run `vitrina up` … first" misled a new user: the platform
    # was running; the log says the run is retried once the lake sink has written.
    (line,) = [r.getMessage() for r in caplog.records if "analytics skipped" in r.getMessage()]
    assert "retrying within" in line and "vitrina up" not in line, line
    assert (
        REGISTRY.get_sample_value("vitrina_analytics_runs_total", {"status": "skipped"})
        == before + 1
    )


def test_the_ease_products_setting_reaches_the_model_in_run_and_evaluate(tmp_path: Path) -> None:
    """`analytics.ease_products` bounds the EASE model in `run` and in `evaluate` alike."""
    from vitrina.analytics import model

    settings = load_settings(data_dir=tmp_path, analytics={"ease_products": 7})
    _lake(settings, products=150, customer_count=40, messages=4000)
    run_job(settings, publish_topics=False)
    neighbours = AnalyticsLake.from_settings(settings).read_output("item_neighbours")
    products = set(neighbours["product_id"].to_pylist()) | set(neighbours["other_id"].to_pylist())
    assert 2 <= len(products) <= 7, products
    # evaluate publishes nothing: its solve (the model's cache key) shows the parameter.
    model._CACHE.clear()
    evaluate(settings, k=10)
    ((key, solution),) = model._CACHE
    assert key[1] == 7 and len(solution.products) == 7


def test_a_price_outside_the_contract_reads_as_unknown_not_a_failed_run(tmp_path: Path) -> None:
    """One order line priced 1e308 (or inf, NaN, negative; or of 2^62 items) in the lake
    made every run fail ("Could not cast value inf to DECIMAL(28,6)"): the contract now
    refuses it, but a lake written before that, or by another writer, still holds it. Such a
    price or quantity reads as unknown, exactly as a missing one does (the product's
    catalogue price, one item)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def lake_with(
        prices: list[float | None], quantity: int | None, product_price: float | None
    ) -> dict[str, Any]:
        settings = load_settings(data_dir=tmp_path / str(len(list(tmp_path.iterdir()))))
        _lake(settings, products=120, customer_count=20, messages=1500)
        writer = LakeWriter.from_settings(settings)
        orders = sorted(writer.files("orders"), key=lambda f: f.path)[0].path
        table = pq.read_table(orders)
        price = table.column("price").to_pylist()
        price[: len(prices)] = prices
        table = table.set_column(
            table.schema.get_field_index("price"), "price", pa.array(price, pa.float64())
        )
        quantities = table.column("quantity").to_pylist()
        quantities[len(prices)] = quantity
        table = table.set_column(
            table.schema.get_field_index("quantity"), "quantity", pa.array(quantities, pa.int64())
        )
        pq.write_table(table, orders)
        products = sorted(writer.files("shop_products"), key=lambda f: f.path)[0].path
        table = pq.read_table(products)
        amount = table.column("price_amount").to_pylist()
        amount[0] = product_price
        index = table.schema.get_field_index("price_amount")
        table = table.set_column(index, "price_amount", pa.array(amount, pa.float64()))
        pq.write_table(table, products)
        return compute(settings, Params(as_of=2e9))

    hostile = lake_with([1e308, float("inf"), float("nan"), -5.0], 2**62, float("inf"))
    unknown = lake_with([None, None, None, None], None, None)
    for name in ("category_stats", "top_products"):
        assert hostile[name].to_pylist() == unknown[name].to_pylist(), name


def test_one_order_dated_in_the_future_does_not_move_the_clock(tmp_path: Path) -> None:
    """Recency is measured from the newest fact in the lake: one order dated 2999 (orders
    reach Kafka from the stores' own generators, any instant) made every other fact 20
    half-lives old, so every customer's recency weights became equal. A fact dated after the
    wall clock (+ 1 day) is no clock; the order itself is still counted."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from vitrina.analytics.reports import NOT_IN_CATALOGUE

    def outputs(future_order: bool) -> dict[str, Any]:
        settings = load_settings(data_dir=tmp_path / ("future" if future_order else "plain"))
        _lake(settings, products=120, customer_count=20, messages=1500)
        if future_order:
            writer = LakeWriter.from_settings(settings)
            source = sorted(writer.files("orders"), key=lambda f: f.path)[0].path
            row = pq.read_table(source).slice(0, 1)
            future = datetime(2999, 1, 1, tzinfo=UTC)
            for name, value in (
                ("_offset", 10**12),
                ("order_id", "o-future"),
                ("customer_id", "c-future"),  # a new customer, one item no one else bought
                ("product_id", "p-future"),
                ("order_date", future),
            ):
                index = row.schema.get_field_index(name)
                column = pa.array([value], row.schema.field(name).type)
                row = row.set_column(index, row.schema.field(name), column)
            folder = Path(source).parent.parent / "date=2999-01-01"
            folder.mkdir()
            pq.write_table(row, folder / "part-000-001000000000000.parquet")
        return compute(settings, Params())

    plain, future = outputs(False), outputs(True)
    counted = {r["category"]: r["orders"] for r in future["category_stats"].to_pylist()}
    assert counted[NOT_IN_CATALOGUE] == 1  # the order is in the statistics
    others = pc.field("user_id") != "c-future"
    mine = future["recommendations"].filter(others)
    assert mine.to_pylist() == plain["recommendations"].to_pylist()


def test_a_search_logged_as_endless_does_not_fail_every_run(tmp_path: Path) -> None:
    """Two client-queries records of latency_ms 1e308 (the contract bounds it below only)
    made the search statistics' average latency infinite, so the output check refused every
    run after them. Such a latency reads as unknown, as a missing one does."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from vitrina.analytics.job import check_outputs

    def outputs(latency: float | None) -> dict[str, Any]:
        settings = load_settings(data_dir=tmp_path / str(latency))
        _lake(settings, products=120, customer_count=20, messages=1500)
        writer = LakeWriter.from_settings(settings)
        source = sorted(writer.files("client_queries"), key=lambda f: f.path)[0].path
        table = pq.read_table(source)
        values = table.column("latency_ms").to_pylist()
        values[:2] = [latency, latency]
        index = table.schema.get_field_index("latency_ms")
        table = table.set_column(index, "latency_ms", pa.array(values, pa.float64()))
        pq.write_table(table, source)
        return compute(settings, Params(as_of=2e9))

    endless, unknown = outputs(1e308), outputs(None)
    check_outputs(endless)
    assert endless["search_by_category"].to_pylist() == unknown["search_by_category"].to_pylist()


def test_a_query_log_record_produced_twice_is_counted_once(tmp_path: Path) -> None:
    """The query log's journal produces a record again when a kill -9 came between its
    delivery and its acknowledgement (api/query_journal.py): the copy carries the same
    query_id at another offset, and the search statistics count it once."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    settings = load_settings(data_dir=tmp_path)
    _lake(settings, products=120, customer_count=20, messages=1500)
    before = compute(settings, Params(as_of=2e9))
    writer = LakeWriter.from_settings(settings)
    before_files = writer.files("client_queries")
    source = sorted(before_files, key=lambda f: f.path)[0].path
    table = pq.read_table(source)
    copies = table.set_column(
        table.schema.get_field_index("_offset"), "_offset", pc.add(table.column("_offset"), 10**9)
    )
    partition, first, incarnation = re.fullmatch(
        r"part-(\d+)-(\d+)(-[0-9a-z]+)?\.parquet", Path(source).name
    ).groups()  # type: ignore[union-attr]
    copy = f"part-{partition}-{int(first) + 10**9:0{len(first)}d}{incarnation or ''}.parquet"
    pq.write_table(copies, str(Path(source).with_name(copy)))
    assert len(writer.files("client_queries")) == len(before_files) + 1
    after = compute(settings, Params(as_of=2e9))
    assert table.num_rows > 0
    for name in ("search_top_queries", "search_zero_results", "search_by_category"):
        assert after[name].num_rows, name
        assert after[name].to_pylist() == before[name].to_pylist(), name


@pytest.mark.parametrize("which", [0, 1])  # the first file (its schema is read), a middle one
def test_a_damaged_lake_file_is_named_not_a_traceback(tmp_path: Path, which: int) -> None:
    """A lake file cut in half (a disk, a copy, a hand edit: the sink writes whole files)
    failed `analytics run` with DuckDB's own traceback; the error now names the file and
    what to do, and nothing is computed from the rest as if it were whole."""
    from vitrina.analytics.lakeio import UnreadableLakeFile

    settings = load_settings(data_dir=tmp_path)
    _lake(settings, products=120, customer_count=20, messages=1500)
    files = sorted(LakeWriter.from_settings(settings).files("orders"), key=lambda f: f.path)
    damaged = Path(files[which].path)
    data = damaged.read_bytes()
    damaged.write_bytes(data[: len(data) // 2])
    with pytest.raises(UnreadableLakeFile) as caught:
        compute(settings, Params(as_of=2e9))
    assert str(damaged) in caught.value.message
    assert "move it out of the lake" in (caught.value.hint or "")


def test_the_lake_keeps_the_newest_runs_only(tmp_path: Path) -> None:
    """Seen: every run's outputs stayed in the lake for ever (30 runs in the demo's first
    18 minutes, ~1,440 a day at the default 60 s), and every reader listed all markers."""
    from datetime import timedelta

    settings = load_settings(data_dir=tmp_path, analytics={"keep_runs": 2})
    _lake(settings, products=150, customer_count=25, messages=2500)
    lake = AnalyticsLake.from_settings(settings)
    start = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    # a run killed after writing an output, long before, and one started just now
    lake.write_output("popular", "20261203T010000000000Z", _popular_table())
    lake.write_output("popular", "20261203T115900000000Z", _popular_table())
    runs = [
        run_job(settings, publish_topics=False, now=start + timedelta(minutes=i)).run_id
        for i in range(4)
    ]
    assert lake.committed_runs() == runs[-2:]
    assert lake.last_run() == runs[-1] and lake.read_output("recommendations").num_rows
    kept = {runs[-2], runs[-1], "20261203T115900000000Z"}  # the young uncommitted one too
    for dataset in sorted((tmp_path / "lake").glob("analytics_*")):
        if dataset.name == "analytics_runs":
            continue
        found = {p.name.removeprefix("run=") for p in dataset.glob("run=*")}
        assert found <= kept and {runs[-2], runs[-1]} <= found, (dataset.name, found)


def _popular_table() -> Any:
    import pyarrow as pa

    return pa.table({"product_id": ["1"], "score": [1.0]})


def test_pruning_runs_never_deletes_the_run_served(tmp_path: Path) -> None:
    import pyarrow as pa

    lake = AnalyticsLake.from_settings(load_settings(data_dir=tmp_path))
    table = pa.table({"product_id": ["1"], "score": [1.0]})
    for minute in range(5):
        run = f"20261203T12{minute:02d}00000000Z"
        lake.write_output("popular", run, table)
        lake.commit_run(run, b"{}")
    with pytest.raises(ValueError):
        lake.prune_runs(0, datetime(2026, 12, 3, 13, tzinfo=UTC))
    assert lake.prune_runs(1, datetime(2026, 12, 3, 13, tzinfo=UTC)) == [
        f"20261203T12{m:02d}00000000Z" for m in range(4)
    ]
    assert lake.last_run("popular") == "20261203T120400000000Z"
    assert lake.read_output("popular").num_rows == 1


@pytest.mark.parametrize("command", ["run", "evaluate"])
def test_a_run_reads_the_lake_again_when_compaction_merged_a_listed_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """The sink's compaction deletes small files once a merged file holds their rows; a run
    (or an evaluation) that listed them before reads a file that is gone. It lists again,
    and counts each order once (not an `UnreadableLakeFile` blaming the disk)."""
    from vitrina.lake.compaction import compact

    settings = load_settings(data_dir=tmp_path)
    _lake(settings, products=120, customer_count=20, messages=1500)
    writer = LakeWriter.from_settings(settings)
    as_small_files(writer, ("orders",), 5)  # as a sink flushing often writes them
    outcome = {
        "run": lambda: compute(settings, Params(as_of=2e9)),
        "evaluate": lambda: evaluate(settings).to_dict(),
    }[command]
    before = outcome()
    files = writer.files("orders")
    assert len(files) > 12, "several orders files per partition to merge"
    listed = AnalyticsLake.inputs
    calls = []

    def listed_then_merged(self: AnalyticsLake) -> Any:
        inputs = listed(self)
        if not calls:  # the first listing only: compaction runs between listing and reading
            for incarnation in {f.incarnation for f in files}:
                committed = {f.partition: 1 << 60 for f in files}
                assert compact(writer, "orders", committed, incarnation, 1 << 30).absorbed
        calls.append(inputs)
        return inputs

    monkeypatch.setattr(AnalyticsLake, "inputs", listed_then_merged)
    after = outcome()
    assert len(calls) >= 2
    assert len(writer.files("orders")) < len(files)
    if command == "run":
        for name in ("category_stats", "recommendations", "popular"):
            assert after[name].equals(before[name]), name
    else:
        assert after["models"] == before["models"]


def test_a_run_reads_what_it_listed_while_compaction_merges_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seen in a 70-minute `vitrina up`: a run failed after listing the lake three times,
    each time a file it listed was merged away before its engine read it. On a local lake a
    run reads hard links of the files it listed (their own directory, gone after the run):
    compaction while the engine reads costs it nothing, not even a second listing."""
    import vitrina.analytics.job as job
    from vitrina.analytics.lakeio import PINS_DIR
    from vitrina.lake.compaction import compact

    settings = load_settings(data_dir=tmp_path)
    _lake(settings, products=120, customer_count=20, messages=1500)
    writer = LakeWriter.from_settings(settings)
    as_small_files(writer, ("orders",), 5)
    before = compute(settings, Params(as_of=2e9))
    files = writer.files("orders")
    assert len(files) > 12, "several orders files per partition to merge"
    listed, reading = AnalyticsLake.inputs, job._compute
    calls: list[Any] = []
    merged: list[int] = []

    def counted(self: AnalyticsLake) -> Any:
        calls.append(1)
        return listed(self)

    def merged_while_read(*args: Any) -> Any:
        if not merged:  # after the listing, before the engine reads a file
            for incarnation in {f.incarnation for f in files}:
                committed = {f.partition: 1 << 60 for f in files}
                merged.append(compact(writer, "orders", committed, incarnation, 1 << 30).absorbed)
        return reading(*args)

    monkeypatch.setattr(AnalyticsLake, "inputs", counted)
    monkeypatch.setattr(job, "_compute", merged_while_read)
    after = compute(settings, Params(as_of=2e9))
    assert sum(merged) > 12 and not any(Path(f.path).exists() for f in files[:3])
    assert len(calls) == 1, f"listed {len(calls)} times"
    for name in ("category_stats", "recommendations", "popular"):
        assert after[name].equals(before[name]), name
    pins = Path(writer.root) / PINS_DIR
    assert not pins.exists() or not any(pins.iterdir()), "the run's links outlived it"


def test_the_links_of_a_killed_run_go_with_the_next_run(tmp_path: Path) -> None:
    """A run killed -9 leaves its hard links; once compaction deleted the files they link,
    they held the space for ABANDONED_AFTER (6 hours). The next run drops the pins of a
    process gone from this host at once, and keeps those of a live one and of another
    host (whose process ids it cannot check)."""
    import subprocess

    from vitrina.analytics.lakeio import HOST, PINS_DIR, _pin_name

    settings = load_settings(data_dir=tmp_path)
    _lake(settings, products=60, customer_count=10, messages=300)
    pins = Path(LakeWriter.from_settings(settings).root) / PINS_DIR
    gone = subprocess.Popen(["true"])
    gone.wait()
    alive = subprocess.Popen(["sleep", "60"])
    try:
        left = {
            "killed": pins / _pin_name("20261204T000000", HOST, gone.pid),
            "running": pins / _pin_name("20261204T000000", HOST, alive.pid),
            "elsewhere": pins / _pin_name("20261204T000000", "other.host", gone.pid),
        }
        for path in left.values():
            (path / "orders").mkdir(parents=True)
        compute(settings, Params(as_of=2e9))
        assert not left["killed"].exists()
        assert left["running"].exists() and left["elsewhere"].exists()
    finally:
        alive.kill()
        alive.wait()


def test_records_of_two_incarnations_at_the_same_offsets_both_count(tmp_path: Path) -> None:
    """The lake keeps the files of every incarnation of a topic (lake/layout.py): after a
    topic was created again, or the broker lost its data, offsets start again at 0 and two
    different records share a (partition, offset). Regression: the job's deduplication by
    Kafka position kept one of each pair, so the new incarnation's orders, and clicks,
    were lost to every statistic and recommendation."""
    settings = load_settings(data_dir=tmp_path)
    _lake(settings, products=120, customer_count=20, messages=1500)
    before = compute(settings, Params(as_of=2e9))
    writer = LakeWriter.from_settings(settings)
    assert {f.incarnation for f in writer.files("orders")} == {""}
    add_incarnation(writer, "orders", "b2", "order_id")
    after = compute(settings, Params(as_of=2e9))
    orders = {r["category"]: r["orders"] for r in before["category_stats"].to_pylist()}
    assert sum(orders.values()) > 0
    assert {r["category"]: r["orders"] for r in after["category_stats"].to_pylist()} == {
        category: 2 * n for category, n in orders.items()
    }
    units = {r["product_id"]: r["units"] for r in before["top_products"].to_pylist()}
    assert {r["product_id"]: r["units"] for r in after["top_products"].to_pylist()} == {
        product: 2 * n for product, n in units.items()
    }


def test_a_record_the_lake_holds_twice_counts_once(tmp_path: Path) -> None:
    """The sink writes each record once; a lake copied by hand, or left by an older sink,
    may hold some twice (same incarnation, partition and offset): every output is the
    same as with one copy."""
    settings = load_settings(data_dir=tmp_path)
    _lake(settings, products=120, customer_count=20, messages=1500)
    writer = LakeWriter.from_settings(settings)
    before = compute(settings, Params(as_of=2e9))
    files = len(writer.files("orders")) + len(writer.files("client_events"))
    assert copy_records(writer, "orders") and copy_records(writer, "client_events")
    assert len(writer.files("orders")) + len(writer.files("client_events")) == 2 * files
    after = compute(settings, Params(as_of=2e9))
    for name in before:
        assert before[name].num_rows, name
        assert after[name].to_pylist() == before[name].to_pylist(), name


Rows = list[dict[str, Any]]


def _same_outputs_as(
    tmp_path: Path, added: Callable[[Rows], Rows], instead: Callable[[Rows], Rows]
) -> dict[str, Any]:
    """Every output of a generated lake with `added(rows)` written after its first orders
    file equals that of the same lake with the file's rows replaced by `instead(rows)`;
    the latter's outputs."""
    import pyarrow.parquet as pq

    def lake(at: Path) -> tuple[LakeWriter, Any, Rows]:
        settings = load_settings(data_dir=at)
        _lake(settings, products=120, customer_count=20, messages=1500)
        writer = LakeWriter.from_settings(settings)
        [first] = sorted(writer.files("orders"), key=lambda f: f.path)[:1]
        return writer, first, pq.read_table(first.path).to_pylist()

    writer, first, rows = lake(tmp_path / "changed")
    extra = added(rows)
    assert extra
    writer.write("orders", first.day, extra, first.incarnation)
    changed = compute(load_settings(data_dir=tmp_path / "changed"), Params(as_of=2e9))
    writer, first, rows = lake(tmp_path / "expected")
    writer.fs.rm_file(first.path)
    writer.write("orders", first.day, instead(rows), first.incarnation)
    expected = compute(load_settings(data_dir=tmp_path / "expected"), Params(as_of=2e9))
    for name in expected:
        assert changed[name].to_pylist() == expected[name].to_pylist(), name
    return expected


def _newer(rows: Rows, **changes: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A row as a later record of the file would carry it (next offset, newest timestamp)."""
    newest, later = max(r["_offset"] for r in rows), max(r["_timestamp"] for r in rows)
    return lambda r: {**r, "_offset": newest + 1, "_timestamp": later, **changes}


def test_an_order_cancelled_by_a_later_record_counts_nowhere(tmp_path: Path) -> None:
    """A blind review: a cancellation sent as a later record of the order (and a state in
    capitals, "CANCELLED") changed nothing. The lake with one order cancelled later must
    give every output of the lake without that order."""

    def cancelled(rows: Rows) -> str:
        return str(sorted({r["order_id"] for r in rows})[1])

    def cancel(rows: Rows) -> Rows:
        later = _newer(rows, state="CANCELLED")
        return [later(r) for r in rows if r["order_id"] == cancelled(rows)]

    expected = _same_outputs_as(
        tmp_path, cancel, lambda rows: [r for r in rows if r["order_id"] != cancelled(rows)]
    )
    assert sum(r["orders"] for r in expected["category_stats"].to_pylist()) > 0


@pytest.mark.parametrize("change", ["sent again", "quantity corrected"])
def test_an_order_sent_again_counts_its_lines_once(tmp_path: Path, change: str) -> None:
    """A blind review: an order a store sent twice (the same lines in a later record)
    counted once in `orders` but twice in revenue and units. The newest record's version of
    each line counts: a lake with an order sent again must give every output of the lake
    with only its newest record."""
    extra = 1 if change == "quantity corrected" else 0

    def again(rows: Rows) -> str:  # the order with the most lines
        return str(
            max({r["order_id"] for r in rows}, key=lambda o: [r["order_id"] for r in rows].count(o))
        )

    def newer(rows: Rows) -> Callable[[dict[str, Any]], dict[str, Any]]:
        later = _newer(rows)
        return lambda r: {**later(r), "quantity": r["quantity"] + extra}

    def sent_again(rows: Rows) -> Rows:
        return [newer(rows)(r) for r in rows if r["order_id"] == again(rows)]

    def replaced(rows: Rows) -> Rows:
        return [r if r["order_id"] != again(rows) else newer(rows)(r) for r in rows]

    expected = _same_outputs_as(tmp_path, sent_again, replaced)
    assert sum(r["revenue"] for r in expected["category_stats"].to_pylist()) > 0


def test_runs_over_the_same_lake_publish_the_same_lists(tmp_path: Path) -> None:
    """Regression: with the facts read in whatever order the engine's threads deliver them
    (no ranking of every record any more), a customer's favourite categories of equal
    weight were ranked by the last bit of a float sum, and two runs over the same lake
    published different lists (in 3 of 3 tries of four runs each). Favourite-category
    weights are rounded before they are ranked now, like every other ranked score. A lake
    of ~2,000 small files, as a sink's trickle leaves it, spreads the reads most."""
    settings = load_settings(data_dir=tmp_path)
    writer = LakeWriter.from_settings(settings)
    write_generated_lake(writer, products=500, customer_count=200, messages=20000)
    as_small_files(writer, ("orders", "client_events", "client_queries"), 10)
    first = compute(settings, Params(as_of=2e9))
    assert first["recommendations"].num_rows
    for _ in range(3):
        again = compute(settings, Params(as_of=2e9))
        for name in first:
            assert again[name].equals(first[name]), name


def test_what_customers_searched_after_finding_nothing_is_learned(tmp_path: Path) -> None:
    """A search that finds nothing, then the same customer's next search within five
    minutes that finds something: two customers doing the same is a refinement the client
    API serves (каскан → мантоварка). One customer, an anonymous one, a next search that
    also found nothing, or one an hour later teaches nothing."""
    settings = load_settings(data_dir=tmp_path)
    _lake(settings, products=120, customer_count=20, messages=1500)
    add_searches(
        LakeWriter.from_settings(settings),
        [
            ("u-1", "Каскан ", 0, 0),
            ("u-1", "мантоварка", 4, 20),
            ("u-2", "каскан", 0, 100),
            ("u-2", "мантоварка", 4, 130),
            ("u-3", "каскан", 0, 200),
            ("u-3", "пароварка", 6, 230),  # the less common refinement loses
            ("u-4", "диспоузер", 0, 0),  # one customer only
            ("u-4", "измельчитель", 3, 10),
            ("anonymous", "кравчучка", 0, 0),
            ("anonymous", "тележка", 5, 10),
            ("anonymous", "кравчучка", 0, 20),
            ("anonymous", "тележка", 5, 30),
            ("u-5", "безмен", 0, 0),  # the next search also found nothing
            ("u-5", "безмен весы", 0, 10),
            ("u-6", "безмен", 0, 0),
            ("u-6", "безмен весы", 0, 10),
            ("u-7", "тональник", 0, 0),  # an hour later: another errand
            ("u-7", "кушон", 9, 3600),
            ("u-8", "тональник", 0, 0),
            ("u-8", "кушон", 9, 3600),
        ],
        datetime(2024, 5, 1, tzinfo=UTC),
    )
    learned = compute(settings, Params(as_of=2e9))["search_refinements"].to_pylist()
    assert {"query": "каскан", "refined_to": "мантоварка", "users": 2} in learned
    assert {row["query"] for row in learned}.isdisjoint(
        {"диспоузер", "кравчучка", "безмен", "тональник"}
    )
    assert len({row["query"] for row in learned}) == len(learned)  # one refinement a query
