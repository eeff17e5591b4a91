"""The query log survives a kill -9 of the client API process: every search's record reaches
`client-queries` (api/query_journal.py), produced by the next process to start."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import orjson
from tests.conftest import wait_for

from vitrina.api.querylog import ClientProducer
from vitrina.kafka.inspect import read_to_end
from vitrina.settings import Settings

# The child: the API's producer, 300 searches logged, then SIGKILL before its background
# thread could deliver them all (it drains every 50 ms).
CHILD = """
import os, signal, sys
from pathlib import Path
from vitrina.api.querylog import ClientProducer
from vitrina.settings import load_settings

data_dir, bootstrap, topic, marker = sys.argv[1:]
settings = load_settings(
    data_dir=Path(data_dir),
    kafka={"bootstrap_servers": bootstrap},
    topics={"client_queries": topic},
)
producer = ClientProducer(settings)
for n in range(300):
    producer.log_query("search", "u-%d" % (n % 7), "%s %d" % (marker, n), {}, n, 0.5)
os.kill(os.getpid(), signal.SIGKILL)
"""


def _logged(settings: Settings, marker: str) -> list[str]:
    return [
        record["query"]
        for msg in read_to_end(settings, [settings.topics.client_queries], 10)
        if (record := orjson.loads(msg.value() or b"{}")).get("query", "").startswith(marker)
    ]


def test_a_killed_processs_query_log_is_produced_by_the_next(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """Was: the records still queued in memory (up to ~55 ms of searches) were lost."""
    settings = make_settings()
    marker = f"kill-{tmp_path.name}"
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            str(settings.data_dir),
            settings.kafka.bootstrap_servers,
            settings.topics.client_queries,
            marker,
        ],
        check=False,
        timeout=120,
    )
    assert child.returncode == -9
    expected = {f"{marker} {n}" for n in range(300)}
    producer = ClientProducer(settings)  # a new API process starts: recovers the journal
    try:
        wait_for(
            lambda: set(_logged(settings, marker)) >= expected,
            60,
            message="every search of the killed process in client-queries",
        )
    finally:
        producer.close()
    logged = _logged(settings, marker)
    assert set(logged) == expected
    # Produced twice only if delivered in the instant before its acknowledgement was
    # written (the analytics count a query id once): at most a handful, never a batch.
    assert len(logged) - len(expected) <= 5
    assert list((settings.data_dir / "query-log").iterdir()) == []  # all done, all deleted


def test_searches_logged_while_the_broker_is_away_reach_it_later(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """Was: a record the broker did not take within 10 s was counted and dropped. Now it
    stays in the journal: here the process stops while the broker is unreachable, and the
    next one delivers it."""
    settings = make_settings()
    away = settings.model_copy(
        update={"kafka": settings.kafka.model_copy(update={"bootstrap_servers": "127.0.0.1:9"})}
    )
    marker = f"away-{tmp_path.name}"
    producer = ClientProducer(away)
    for n in range(20):
        producer.log_query("search", "u-1", f"{marker} {n}", {}, 1, 0.5)
    producer.close()  # SIGTERM with the broker away: flush gives up after 2 s
    assert list((settings.data_dir / "query-log").glob("*.jsonl"))
    producer = ClientProducer(settings)
    try:
        wait_for(
            lambda: len(set(_logged(settings, marker))) == 20,
            60,
            message="the searches logged while the broker was away",
        )
    finally:
        producer.close()
    assert list((settings.data_dir / "query-log").iterdir()) == []


def test_an_unwritable_journal_does_not_stop_the_query_log(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """A data dir where the journal cannot be made (here `query-log` is a file) must not
    keep the client API from starting: searches are still logged, only not through a
    kill -9."""
    settings = make_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "query-log").write_text("not a directory")
    marker = f"nojournal-{tmp_path.name}"
    producer = ClientProducer(settings)
    try:
        assert producer.journal is None
        producer.log_query("search", "u-1", marker, {}, 1, 0.5)
        wait_for(lambda: _logged(settings, marker) == [marker], 60, message="the search logged")
    finally:
        producer.close()
