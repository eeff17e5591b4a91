"""How the benchmarks measure (benchmarks/abba.py, benchmarks/api.py).

- `abba` runs A B B A and B A A B by turns after a warm-up run of each side: an A/A run of
  the lake benchmark (the same sink on both sides) gave B/A 1.23 with A B B A every round,
  because a round's first run was its slowest.
- The client API benchmark's rounds never measure a server right after a run of its own:
  with in-process, A, B, B, A, in-process, two identical servers gave the second a p99
  ~0.78x the first's in three A/A runs (its second run found its processes warm).
- One percentile, the nearest rank."""

from __future__ import annotations

import importlib.util
import itertools
import statistics
import sys
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def benchmark_module(name: str) -> ModuleType:
    """benchmarks/<name>.py as a module (the benchmarks import their sibling `abba`)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location(
            f"benchmark_{name}", BENCHMARKS / f"{name}.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.fixture(scope="module")
def abba() -> ModuleType:
    return benchmark_module("abba")


@pytest.fixture(scope="module")
def api_benchmark() -> ModuleType:
    return benchmark_module("api")


def test_a_round_s_first_run_being_slow_favours_neither_side(abba: ModuleType) -> None:
    calls = iter(range(1_000))

    def side() -> dict[str, Any]:
        position = next(calls) % 4  # its place in the round
        return {"rate": 80.0 if position == 0 else 100.0}

    result = abba.abba(side, side, rounds=4, warm_up=False)
    # Identical sides: A B B A rounds favour B as much as B A A B rounds favour A (with
    # A B B A every round, every ratio was 1.111).
    assert sorted(result["ratio"]["values"]) == [0.9, 0.9, 1.1111, 1.1111]
    assert abs(statistics.median(result["ratio"]["values"]) - 1.0) < 0.01


def test_each_side_s_first_run_is_a_warm_up_and_not_measured(abba: ModuleType) -> None:
    runs = {"a": 0, "b": 0}

    def side(name: str) -> dict[str, Any]:
        runs[name] += 1
        return {"rate": 10.0 if runs[name] == 1 else 100.0}  # cold the first time

    result = abba.abba(lambda: side("a"), lambda: side("b"), rounds=4)
    assert runs == {"a": 9, "b": 9}
    assert runs["a"] == abba.runs_of_each_side(4)  # what shop_load and filter prepare
    assert result["ratio"]["values"] == [1.0, 1.0, 1.0, 1.0]


def test_percentile_is_the_nearest_rank(abba: ModuleType) -> None:
    hundred = [float(i) for i in range(100, 0, -1)]
    assert abba.percentile(hundred, 0.99) == 99.0
    assert abba.percentile(hundred, 0.5) == 50.0
    assert abba.percentile([float(i) for i in range(1, 11)], 0.95) == 10.0
    assert abba.percentile([0.2, 0.1], 0.95) == 0.2  # the filter's p95 of 2 was 0.1


@pytest.mark.parametrize("names", [["granian"], ["uvicorn", "granian"]])
def test_no_server_run_follows_its_own_and_positions_balance(
    api_benchmark: ModuleType, names: list[str]
) -> None:
    order = api_benchmark.round_order(names)
    rounds = order * 3  # rounds follow each other too
    servers_back_to_back = [
        (a, b) for a, b in itertools.pairwise(rounds) if a == b and a != "in-process"
    ]
    assert servers_back_to_back == []
    positions = {name: [i for i, n in enumerate(order) if n == name] for name in names}
    assert all(len(p) == 2 for p in positions.values())
    assert len({statistics.fmean(p) for p in positions.values()}) == 1


def test_each_round_s_ratio_uses_that_round_s_in_process_runs(api_benchmark: ModuleType) -> None:
    # Two rounds: HTTP 100 then 200 req/s; in-process 200 then 400 searches/s.
    http = [
        {"rps": r, "p99_ms": 1.0, "p50_ms": 1.0, "server_cpu_us_per_request": 1.0}
        for r in (100.0, 100.0, 200.0, 200.0)
    ]
    per_round = api_benchmark.round_order(["granian"]).count("in-process")
    local = [{"rate": 200.0}] * per_round + [{"rate": 400.0}] * per_round
    summary = api_benchmark.server_summary(http, local, 2)
    assert summary["ratio"]["values"] == [0.5, 0.5]


def test_recs_csv_reads_every_iso_form_a_file_of_mixed_times_holds() -> None:
    import pyarrow as pa

    recs_csv = benchmark_module("recs_csv")
    texts = [
        "2017-03-01",
        "2017-03-01 10:15:00",
        "2017-03-01T10:15:00Z",
        "2017-03-01T13:15:00.5+03:00",
        "2017-03-01T13:15:00+0300",
    ]
    day, quarter_past = 1488326400, 1488326400 + 10 * 3600 + 15 * 60
    expected = [day, quarter_past, quarter_past, quarter_past, quarter_past]
    # numpy read the offsets too, with a DeprecationWarning: parsing them is going away
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert recs_csv.seconds(pa.chunked_array([texts])).tolist() == expected
