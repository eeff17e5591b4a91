"""Lake writer on real files: atomic named files, listing, crash-leftover deletion, backends."""

from __future__ import annotations

import importlib.util
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from vitrina.errors import ConfigError
from vitrina.lake import layout
from vitrina.lake.writer import LakeWriter, lake_filesystem, storage_options
from vitrina.settings import load_settings

DAY = date(2024, 5, 1)


def event_rows(partition: int, offsets: range) -> list[dict]:
    return [
        {
            "_topic": "client-events",
            "_partition": partition,
            "_offset": o,
            "_timestamp": 1714561200000 + o,
            "_key": "u-1",
            "event_id": f"e-{o}",
            "user_id": "u-1",
            "type": "view",
            "product_id": "1",
            "timestamp": 1714561200000,
            "rating": None,
        }
        for o in offsets
    ]


@pytest.fixture
def writer(tmp_path: Path) -> LakeWriter:
    settings = load_settings(data_dir=tmp_path)
    return LakeWriter.from_settings(settings)


def test_default_lake_is_a_local_directory_under_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    url, kind, _ = storage_options(settings)
    assert url == (tmp_path / "lake").resolve().as_uri() and kind == "file"
    fs, root = lake_filesystem(settings)
    assert "file" in fs.protocol and root == str((tmp_path / "lake").resolve())


def test_write_names_the_file_by_partition_and_first_offset(writer: LakeWriter) -> None:
    written = writer.write("client_events", DAY, event_rows(2, range(40, 50)))
    expected = (
        Path(writer.root) / "client_events" / "date=2024-05-01" / "part-002-000000000040.parquet"
    )
    assert written.path == str(expected) and written.rows == 10
    assert written.bytes == expected.stat().st_size > 0
    table = pq.read_table(expected)
    assert table.schema == layout.SCHEMAS["client_events"]
    assert table.column("_offset").to_pylist() == list(range(40, 50))
    # no temporary left behind
    assert [p.name for p in expected.parent.iterdir()] == [expected.name]


def test_rewriting_the_same_batch_replaces_the_file(writer: LakeWriter) -> None:
    writer.write("client_events", DAY, event_rows(0, range(0, 5)))
    writer.write("client_events", DAY, event_rows(0, range(0, 5)))
    files = writer.files("client_events")
    assert len(files) == 1
    assert pq.read_metadata(files[0].path).num_rows == 5


def test_listing_and_deleting_uncommitted_files(writer: LakeWriter) -> None:
    writer.write("client_events", DAY, event_rows(0, range(0, 5)))
    writer.write("client_events", DAY, event_rows(0, range(5, 9)))
    writer.write("client_events", date(2024, 5, 2), event_rows(0, range(9, 12)))
    writer.write("client_events", DAY, event_rows(1, range(0, 5)))
    leftover = (
        Path(writer.root)
        / "client_events"
        / "date=2024-05-01"
        / ".part-000-000000000012.parquet.tmp-deadbeef"
    )
    leftover.write_bytes(b"half a file")
    assert [(f.partition, f.first_offset) for f in writer.files("client_events")] == [
        (0, 0),
        (0, 5),
        (1, 0),
        (0, 9),
    ]
    assert [f.first_offset for f in writer.files("client_events", partition=0)] == [0, 5, 9]

    deleted = writer.delete_uncommitted("client_events", 0, committed=5)
    assert len(deleted) == 3 and not leftover.exists()
    assert [(f.partition, f.first_offset) for f in writer.files("client_events")] == [
        (0, 0),
        (1, 0),
    ]


def test_missing_dataset_lists_nothing(writer: LakeWriter) -> None:
    assert writer.files("orders") == []
    assert writer.delete_uncommitted("orders", 0, 0) == []


def test_webhdfs_backend_selects_the_webhdfs_filesystem(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path,
        lake={
            "backend": {
                "type": "webhdfs",
                "url": "webhdfs://namenode:9870/vitrina/lake",
                "user": "etl",
            }
        },
    )
    url, kind, options = storage_options(settings)
    assert (url, kind, options) == (
        "webhdfs://namenode:9870/vitrina/lake",
        "webhdfs",
        {"user": "etl"},
    )
    fs, root = lake_filesystem(settings)  # builds the client; connects only on first use
    assert "webhdfs" in fs.protocol and root == "/vitrina/lake"


def test_s3_backend_options_and_install_hint(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path,
        lake={
            "backend": {
                "type": "s3",
                "url": "s3://bucket/lake",
                "endpoint_url": "http://minio:9000",
                "access_key": "AK",
                "secret_key": "SK",
            }
        },
    )
    url, kind, options = storage_options(settings)
    assert url == "s3://bucket/lake" and kind == "s3"
    assert options == {
        "client_kwargs": {"endpoint_url": "http://minio:9000"},
        "key": "AK",
        "secret": "SK",
        "use_listings_cache": False,
    }
    if importlib.util.find_spec("s3fs") is None:
        with pytest.raises(ConfigError) as err:
            lake_filesystem(settings)
        assert "vitrina[s3]" in (err.value.hint or "")
    else:
        fs, root = lake_filesystem(settings)
        assert "s3" in fs.protocol and root == "bucket/lake"


def test_url_that_does_not_match_the_backend_is_refused(tmp_path: Path) -> None:
    # Another type's url is dropped by the settings (its default applies); an hdfs:// url is
    # a webhdfs lake's NameNode RPC address, which fsspec cannot open without libhdfs.
    settings = load_settings(
        data_dir=tmp_path,
        lake={"backend": {"type": "webhdfs", "url": "hdfs://namenode:8020/vitrina/lake"}},
    )
    with pytest.raises(ConfigError, match="does not match"):
        storage_options(settings)


def test_a_product_file_encodes_repeated_values_only_and_reads_back_equal(
    writer: LakeWriter,
) -> None:
    import duckdb
    import orjson

    from vitrina.domain.generator import generate_catalog
    from vitrina.lake.product_batch import product_batch

    raws = [orjson.dumps(p) for p in generate_catalog(300, seed=44)]
    items = [(i, 1714561200000 + i, f"k{i}", raw, b"k", None) for i, raw in enumerate(raws)]
    table, _, _ = product_batch("shop-products", 1, items)
    assert table is not None and table.num_rows == len(raws)
    written = writer.write_table("shop_products", DAY, table)
    assert pq.read_table(written.path).equals(table)
    counted = duckdb.sql(f"SELECT count(*), sum(_offset) FROM '{written.path}'").fetchall()
    assert counted == [(300, sum(range(300)))]
    metadata = pq.ParquetFile(written.path).metadata.row_group(0)
    column = {metadata.column(i).path_in_schema: metadata.column(i) for i in range(21)}
    # Dictionary pages where values repeat, none where they rarely do.
    assert "RLE_DICTIONARY" in column["category"].encodings
    assert "RLE_DICTIONARY" in column["tags.list.element"].encodings
    assert "RLE_DICTIONARY" not in column["description"].encodings
    assert "RLE_DICTIONARY" not in column["product_id"].encodings
    # The readers' file ranges (offsets, timestamps) keep their statistics; long texts none.
    assert column["_offset"].statistics.has_min_max
    assert column["description"].statistics is None


def test_a_file_merged_away_between_listing_and_reading_is_listed_again(
    writer: LakeWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression (a CI run, the sink running beside the reader): compaction merged two files
    and deleted them after `files` listed them and before they were read, and read_dataset
    raised FileNotFoundError. Here the merge happens right after the first listing."""
    from vitrina.lake.reader import read_dataset

    writer.write("client_events", DAY, event_rows(0, range(0, 5)))
    writer.write("client_events", DAY, event_rows(0, range(5, 9)))
    listed = writer.files("client_events")
    calls = 0
    real_files = LakeWriter.files

    def files_then_merge(self: LakeWriter, role: str, partition: int | None = None) -> list:
        nonlocal calls
        calls += 1
        found = real_files(self, role, partition)
        if calls == 1:  # a merge right after this listing: one file of all rows, sources gone
            merged = writer.write("client_events", DAY, event_rows(0, range(0, 9)))
            for f in listed:
                if f.path != merged.path:
                    writer.fs.rm(f.path)
        return found

    monkeypatch.setattr(LakeWriter, "files", files_then_merge)
    ids = read_dataset(writer, "client_events", ["event_id"]).column("event_id").to_pylist()
    assert sorted(ids) == sorted(f"e-{o}" for o in range(9))
    assert calls == 2
