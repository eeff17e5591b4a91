"""The events' rate limit is one per client across the client API's processes (api.limits):
each process kept its own buckets, so with client_workers 2 a client got twice the limit."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from vitrina.api.deps import event_limiter
from vitrina.api.limits import SharedRateLimiter
from vitrina.settings import Settings


def _settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, api={"events_per_second": 0.001, "events_burst": 3})


def _take_in_another_process(data_dir: str, key: str, count: int) -> list[bool]:
    limiter = event_limiter(_settings(Path(data_dir)))
    return [limiter.allow(key) for _ in range(count)]


def test_a_client_s_burst_is_spent_once_across_processes(tmp_path: Path) -> None:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        other = pool.apply(_take_in_another_process, (str(tmp_path), "10.0.0.7", 4))
    assert other == [True, True, True, False]
    here = event_limiter(_settings(tmp_path))
    assert not here.allow("10.0.0.7")  # its burst went in the other process
    assert here.allow("10.0.0.8")  # another client's is its own


def test_a_bucket_outlives_its_process_and_a_restarted_clock_refills_it(tmp_path: Path) -> None:
    now = [1000.0]
    path = tmp_path / "buckets"
    first = SharedRateLimiter(1.0, 2, path, clock=lambda: now[0])
    assert [first.allow("k"), first.allow("k"), first.allow("k")] == [True, True, False]
    first.close()
    again = SharedRateLimiter(1.0, 2, path, clock=lambda: now[0])
    assert not again.allow("k")  # the API restarted; the client's bucket did not
    now[0] += 1.0
    assert again.allow("k") and not again.allow("k")  # one token a second
    now[0] = 5.0  # the machine rebooted under the kept file: its clock began again
    assert again.allow("k")


def test_keys_that_share_a_slot_each_start_afresh(tmp_path: Path) -> None:
    limiter = SharedRateLimiter(0.001, 1, tmp_path / "buckets", slots=1, clock=lambda: 1.0)
    assert limiter.allow("a") and not limiter.allow("a")
    assert limiter.allow("b")  # the one slot now holds b; a's spent bucket is gone
    assert limiter.allow("a")
