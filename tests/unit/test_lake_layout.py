"""The lake layout is a contract analytics codes against: names, paths, schemas."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vitrina.lake import layout


def test_datasets_are_the_raw_topic_roles() -> None:
    assert set(layout.DATASETS) == {
        "shop_products",
        "banned_products",
        "blocked_products",
        "orders",
        "client_events",
        "client_queries",
    }
    assert set(layout.CONTRACT_OF) == set(layout.DATASETS)


def test_every_schema_starts_with_the_metadata_columns() -> None:
    for role in layout.DATASETS:
        schema = layout.SCHEMAS[role]
        assert schema.names[:5] == ["_topic", "_partition", "_offset", "_timestamp", "_key"]
        assert schema.field("_partition").type == pa.int32()
        assert schema.field("_offset").type == pa.int64()
        assert schema.field("_timestamp").type == pa.timestamp("ms", tz="UTC")


def test_typed_columns_match_the_contract() -> None:
    shop = layout.SCHEMAS["shop_products"]
    assert shop.field("price_amount").type == pa.float64()
    assert shop.field("stock_available").type == pa.int64()
    assert shop.field("tags").type == pa.list_(pa.string())
    assert shop.field("updated_at").type == pa.timestamp("ms", tz="UTC")
    blocked = layout.SCHEMAS["blocked_products"]
    assert set(shop.names) < set(blocked.names)
    assert {"ban_reason", "banned_by", "banned_at"} <= set(blocked.names)
    assert layout.SCHEMAS["banned_products"].field("tombstone").type == pa.bool_()
    orders = layout.SCHEMAS["orders"]
    assert orders.field("line_no").type == pa.int32()
    assert orders.field("price").nullable
    assert "email" not in orders.names and "email_hash" in orders.names
    assert layout.SCHEMAS["client_events"].field("rating").type == pa.int32()
    assert layout.SCHEMAS["client_queries"].field("latency_ms").type == pa.float64()


def test_paths_follow_the_layout() -> None:
    assert layout.dataset_path("file:///lake/", "orders") == "file:///lake/orders"
    assert layout.file_name(2, 1234) == "part-002-000000001234.parquet"
    assert (
        layout.file_path("/lake", "orders", date(2024, 5, 1), 2, 1234)
        == "/lake/orders/date=2024-05-01/part-002-000000001234.parquet"
    )


def test_unknown_dataset_and_negative_numbers_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown lake dataset"):
        layout.dataset_path("/lake", "shop-products")
    with pytest.raises(ValueError):
        layout.file_name(-1, 0)


@given(st.integers(0, 999), st.integers(0, 10**12 - 1))
def test_file_names_round_trip(partition: int, offset: int) -> None:
    name = layout.file_name(partition, offset)
    assert layout.parse_file_name(name) == layout.FileId(partition, offset)
    assert layout.parse_file_name(f"/lake/orders/date=2024-01-01/{name}") == layout.FileId(
        partition, offset
    )


@given(
    st.integers(0, 999),
    st.integers(0, 10**12 - 1),
    st.sampled_from(["", "1a2b3c4d"]),
    st.integers(0, 10**9 - 1),
)
def test_merged_file_names_round_trip(
    partition: int, offset: int, incarnation: str, generation: int
) -> None:
    name = layout.file_name(partition, offset, incarnation, generation)
    assert name.endswith(f".g{generation}.parquet") == (generation > 0)
    assert layout.parse_file_name(name) == layout.FileId(partition, offset, incarnation, generation)


@pytest.mark.parametrize(
    "name",
    [
        "part-001-000000000001-abc.g0.parquet",  # generation 0 is the plain name
        "part-001-000000000001-abc.g.parquet",
        ".compact-part-001-000000000001-abc.g1.parquet",
        ".part-001-000000000001.parquet.tmp-1a2b3c4d",
        "part-1-1.parquet",
        "README.md",
        "part-001-000000000001.parquet.crc",
        "",
    ],
)
def test_other_names_are_not_data_files(name: str) -> None:
    assert layout.parse_file_name(name) is None


def test_date_dirs_and_record_dates_are_utc() -> None:
    assert layout.parse_date_dir("date=2024-02-29") == date(2024, 2, 29)
    assert layout.parse_date_dir("date=2023-02-29") is None
    assert layout.parse_date_dir("dt=2024-01-01") is None
    # 23:30 at UTC-1 is already the next day in UTC
    late = datetime(2024, 1, 1, 23, 30, tzinfo=timezone(timedelta(hours=-1)))
    assert layout.record_date(int(late.timestamp() * 1000)) == date(2024, 1, 2)


def test_a_merge_s_hidden_file_and_intent_name_the_merged_file() -> None:
    into = layout.file_name(3, 40, "abc123", 2)
    hidden = layout.merged_file_name(into, "0123abcd")
    assert hidden == f".compact-0123abcd-{into}"
    assert layout.merged_file_of(f"/lake/orders/date=2024-05-01/{hidden}") == into
    assert layout.merged_file_of(".compact-0123abcd-README.md") is None
    assert layout.merged_file_of(f".compact-{into}") is None  # no token
    intent = layout.MergeIntent(into, [layout.file_name(3, 40, "abc123", 1)], 7)
    assert layout.MergeIntent.from_json(intent.to_json(), f"/d/{hidden}.json") == intent
    other = layout.merged_file_name(layout.file_name(3, 41, "abc123"), "0123abcd")
    assert layout.MergeIntent.from_json(intent.to_json(), f"/d/{other}.json") is None
    assert layout.MergeIntent.from_json(b'{"into": "x"', f"/d/{hidden}.json") is None
