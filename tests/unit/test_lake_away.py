"""A lake whose storage does not answer (the HDFS DataNode killed, seen by a blind review of
the native cluster) is not a damaged lake: the sink crash-looped on the client's raw
ConnectionError instead of pausing and retrying, `analytics run` told the operator to move
healthy files out of the lake, and `lake ls|stats` printed a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from tests.unit.test_lake_sink_writes import PRODUCTS, feed, make_sink, offsets
from typer.testing import CliRunner

from vitrina.analytics.lakeio import AnalyticsLake, unreadable
from vitrina.errors import UnavailableError
from vitrina.lake.filesystems import lake_away
from vitrina.settings import load_settings

# What WebHDFS's client raised when the DataNode was killed (port of its HTTP server).
REFUSED = requests.exceptions.ConnectionError(
    "HTTPConnectionPool(host='127.0.0.1', port=33864): Max retries exceeded with url: "
    "/webhdfs/v1/vitrina/lake/shop_products/x.parquet?op=CREATE (Caused by "
    "NewConnectionError('Failed to establish a new connection: [Errno 111] Connection refused'))"
)


@pytest.mark.parametrize(
    "exc",
    [
        REFUSED,
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError("timed out"),
        RuntimeError("IO Error: " + str(REFUSED)),  # an engine's wrapping, text only
        # fsspec's WebHDFS: the NameNode is back, no DataNode registered yet
        RuntimeError("Failed to find datanode, suggest to check cluster health."),
    ],
)
def test_a_storage_that_does_not_answer_is_away(exc: BaseException) -> None:
    assert lake_away(exc)


@pytest.mark.parametrize(
    "exc",
    [
        RuntimeError("Invalid Input Error: No magic bytes found at end of file 'x.parquet'"),
        FileNotFoundError(2, "No such file or directory"),
        ValueError("Parquet file size is 0 bytes"),
    ],
)
def test_a_damaged_or_missing_file_is_not(exc: BaseException) -> None:
    assert not lake_away(exc)


def test_a_write_the_storage_refused_is_retried_not_a_crash(tmp_path: Path) -> None:
    sink, writer = make_sink(tmp_path)
    writer.fail = REFUSED
    feed(sink, 0, 3)
    sink.flush_if_due(0.0)
    with pytest.raises(UnavailableError) as caught:  # the worker pauses and retries on this
        sink.flush()
    assert "does not answer" in caught.value.message
    assert sink.buffered == 3 and not sink.durable()
    sink.flush()  # the storage is back
    assert sink.durable() and offsets(writer) == list(range(3))
    assert len(PRODUCTS) >= 3


def test_an_engine_that_cannot_reach_the_lake_does_not_blame_the_file(tmp_path: Path) -> None:
    from vitrina.analytics.synthetic import write_generated_lake
    from vitrina.lake.writer import LakeWriter

    settings = load_settings(data_dir=tmp_path)
    writer = LakeWriter.from_settings(settings)
    write_generated_lake(writer, products=50, customer_count=5, messages=200)
    lake = AnalyticsLake.from_settings(settings)
    path = writer.files("orders")[0].path

    def read(_inputs: object) -> None:
        raise RuntimeError(f"IO Error: reading {path}: {REFUSED}")

    with pytest.raises(UnavailableError) as caught:
        lake.read_listed(read)
    assert "does not answer" in caught.value.message and "move it out" not in str(caught.value.hint)


def test_a_damaged_files_message_keeps_the_url_that_names_it_whole() -> None:
    path = "/vitrina/lake/shop_products/a.parquet"
    reason = f"HTTP error 500 at http://127.0.0.1:1/webhdfs/v1{path}?op=OPEN for '{path}'"
    message = unreadable(path, reason).message
    assert f"/webhdfs/v1{path}?op=OPEN" in message  # it read "…/webhdfs/v1it?op=OPEN"
    assert "for it" in message


def test_lake_commands_say_the_storage_does_not_answer(tmp_path: Path) -> None:
    from vitrina.cli.main import app

    port = 1  # nothing listens: WebHDFS's client is refused at once
    env = {
        "VITRINA__DATA_DIR": str(tmp_path),
        "VITRINA__LAKE__BACKEND": f'{{"type": "webhdfs", "url": "webhdfs://127.0.0.1:{port}"}}',
    }
    for command in (["lake", "ls"], ["lake", "stats"]):
        result = CliRunner().invoke(app, command, env=env)
        said = " ".join(result.output.split())
        assert result.exit_code == 1, said
        assert "does not answer" in said and "Traceback" not in said, said


def test_exists_asks_the_storage_and_does_not_take_its_silence_for_no(tmp_path: Path) -> None:
    """A second blind review: with the WebHDFS NameNode down, fsspec's `exists` said False,
    so `analytics run` said the lake "has no products yet" and a starting lake sink found no
    leftover files past its commit to delete (whose rows it would then write again)."""
    import fsspec
    from tests.conftest import free_port

    from vitrina.lake.filesystems import exists

    local = fsspec.filesystem("file")
    (tmp_path / "here").write_text("x")
    assert exists(local, str(tmp_path / "here")) and not exists(local, str(tmp_path / "gone"))
    nobody = fsspec.filesystem("webhdfs", host="127.0.0.1", port=free_port(), user="vitrina")
    assert not nobody.exists("/vitrina/lake/shop_products")  # what fsspec says: "no"
    with pytest.raises(Exception) as caught:
        exists(nobody, "/vitrina/lake/shop_products")
    assert lake_away(caught.value), caught.value


def test_analytics_on_a_lake_whose_namenode_is_down_says_so(tmp_path: Path) -> None:
    """The same review: `analytics run` said "the lake … has no products yet", hint "run
    `vitrina shop load` first", about a lake holding every product behind a NameNode down."""
    from tests.conftest import free_port

    url = f"webhdfs://127.0.0.1:{free_port()}/vitrina/lake"
    settings = load_settings(data_dir=tmp_path, lake={"backend": {"type": "webhdfs", "url": url}})
    lake = AnalyticsLake.from_settings(settings)
    with pytest.raises(UnavailableError) as caught:
        lake.read_listed(lambda inputs: inputs)
    assert "does not answer" in caught.value.message and "no products" not in caught.value.message
