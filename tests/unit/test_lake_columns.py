"""The columnar product path writes exactly what the per-record path (the definition) writes,
and a batch it cannot convert falls back to that path, which dead-letters only the culprit."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vitrina.contracts.codec import decode
from vitrina.domain.generator import generate_catalog
from vitrina.kafka.deadletter import headers_dict
from vitrina.lake.columns import VALUES, ColumnarUnfit, instants, lake_table
from vitrina.lake.rows import RecordMeta, lake_rows, timestamp_ms
from vitrina.lake.writer import LakeWriter, to_table
from vitrina.services.lake_sink import LakeSink
from vitrina.settings import load_settings

TS = 1714561200000  # 2024-05-01T11:00:00Z
TOPIC = {"shop_products": "shop-products", "blocked_products": "blocked-products"}


def pending(role: str, values: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (i, TS + i, str(v["product_id"]), orjson.dumps(v), b"k", None, *VALUES[role](v))
        for i, v in enumerate(values)
    ]


def per_record(role: str, values: list[dict[str, Any]]) -> pa.Table:
    rows = [
        row
        for i, v in enumerate(values)
        for row in lake_rows(
            role, v, RecordMeta(TOPIC[role], 3, i, TS + i, str(v["product_id"])), b"key"
        )
    ]
    return to_table(role, rows)


def catalogue(n: int) -> list[dict[str, Any]]:
    return [decode("product", orjson.dumps(p)) for p in generate_catalog(n, seed=3)]


def test_products_equal_the_per_record_path() -> None:
    values = catalogue(300)
    values[1]["created_at"] = "2024-04-01T10:00:00.123456Z"  # sub-ms: truncated alike
    values[2]["updated_at"] = "2024-04-02 10:00:00+0300"  # not Arrow's ISO: per value
    values[3]["created_at"] = 1714561200  # epoch seconds
    values[4]["updated_at"] = None
    values[5]["tags"] = None
    values[6].pop("specifications")
    values[7]["stock"] = {"available": 2**63 - 1, "reserved": 0}
    values[8]["price"] = {"amount": 5, "currency": "RUB"}  # an integer amount
    table = lake_table("shop_products", "shop-products", 3, pending("shop_products", values))
    assert table.equals(per_record("shop_products", values))


def test_blocked_products_equal_the_per_record_path() -> None:
    ban = {"reason": "подделка", "banned_by": "mod", "banned_at": "2024-05-01T10:00:00Z"}
    values = [{**v, "ban": ban} for v in catalogue(20)]
    values[0]["ban"] = {"reason": None, "banned_by": None, "banned_at": None}
    got = lake_table("blocked_products", "blocked-products", 3, pending("blocked_products", values))
    assert got.equals(per_record("blocked_products", values))


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 1, 1)),
    st.sampled_from(["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%d %H:%M:%S+00:00"]),
)
def test_instants_equal_the_definition(when: datetime, form: str) -> None:
    # Sub-millisecond fractions and far dates included: both paths are exact, truncating.
    text = when.strftime(form)
    assert instants([text], "t").cast(pa.int64()).to_pylist() == [timestamp_ms(text, "t")]


def test_a_value_arrow_refuses_makes_the_batch_unfit() -> None:
    values = catalogue(3)
    values[1]["stock"] = {"available": 2**63, "reserved": 0}  # beyond int64
    with pytest.raises(ColumnarUnfit):
        lake_table("shop_products", "shop-products", 0, pending("shop_products", values))


def test_an_unfit_batch_dead_letters_only_the_culprit(tmp_path: Path) -> None:
    config = load_settings(data_dir=tmp_path)
    sink = LakeSink(config, LakeWriter.from_settings(config), b"key")
    values = catalogue(5)
    values[2]["stock"] = {"available": 2**63, "reserved": 0}  # the door would refuse it
    table, dead = sink._table("shop_products", 0, pending("shop_products", values))
    assert table is not None and table.column("_offset").to_pylist() == [0, 1, 3, 4]
    assert len(dead) == 1
    letter, rule = dead[0]
    assert rule == "maximum"
    headers = headers_dict(letter.headers)
    assert headers["source_offset"] == "2" and "stock.available" in headers["error"]
    assert letter.value == orjson.dumps(values[2])


def test_an_impossible_instant_is_dead_lettered_with_the_codec_reason(tmp_path: Path) -> None:
    # The sink's decode leaves instants to the columnar path; the per-record path's codec
    # decode refuses 2025-02-30 as the door does.
    config = load_settings(data_dir=tmp_path)
    sink = LakeSink(config, LakeWriter.from_settings(config), b"key")
    values = catalogue(3)
    values[0]["created_at"] = "2025-02-30T10:00:00Z"
    table, dead = sink._table("shop_products", 0, pending("shop_products", values))
    assert table is not None and table.num_rows == 2
    assert [rule for _, rule in dead] == ["date-time"]
    assert "created_at" in headers_dict(dead[0][0].headers)["error"]


def test_timestamp_ms_is_exact_for_far_dates() -> None:
    # Through a float timestamp this was 17198438400001: 1 ms off.
    assert timestamp_ms("2514-12-31T00:00:00.002Z", "t") == 17198438400002
    assert timestamp_ms("1969-12-31T23:59:59.9995Z", "t") == 0  # toward zero, as Arrow
