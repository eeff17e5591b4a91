"""benchmarks/abba.py runs A B B A and B A A B by turns: an A/A run of the lake benchmark
(the same sink on both sides) gave B/A 1.23 with A B B A every round, because a round's
first run was its slowest. Here a side's speed depends only on its position in the round."""

from __future__ import annotations

import statistics
import sys
from pathlib import Path
from typing import Any

BENCHMARKS = str(Path(__file__).resolve().parents[2] / "benchmarks")


def test_a_round_s_first_run_being_slow_favours_neither_side() -> None:
    sys.path.insert(0, BENCHMARKS)
    try:
        from abba import abba
    finally:
        sys.path.remove(BENCHMARKS)
    calls = iter(range(1_000))

    def side() -> dict[str, Any]:
        position = next(calls) % 4  # its place in the round
        return {"rate": 80.0 if position == 0 else 100.0}

    result = abba(side, side, rounds=4, warm_up=False)
    # Identical sides: A B B A rounds favour B as much as B A A B rounds favour A (with
    # A B B A every round, every ratio was 1.111).
    assert sorted(result["ratio"]["values"]) == [0.9, 0.9, 1.1111, 1.1111]
    assert abs(statistics.median(result["ratio"]["values"]) - 1.0) < 0.01


def test_each_side_s_first_run_is_a_warm_up_and_not_measured() -> None:
    sys.path.insert(0, BENCHMARKS)
    try:
        from abba import abba
    finally:
        sys.path.remove(BENCHMARKS)
    runs = {"a": 0, "b": 0}

    def side(name: str) -> dict[str, Any]:
        runs[name] += 1
        return {"rate": 10.0 if runs[name] == 1 else 100.0}  # cold the first time

    result = abba(lambda: side("a"), lambda: side("b"), rounds=4)
    assert runs == {"a": 9, "b": 9}
    assert result["ratio"]["values"] == [1.0, 1.0, 1.0, 1.0]


def test_percentile_is_the_nearest_rank() -> None:
    sys.path.insert(0, BENCHMARKS)
    try:
        from abba import percentile
    finally:
        sys.path.remove(BENCHMARKS)
    hundred = [float(i) for i in range(100, 0, -1)]
    assert percentile(hundred, 0.99) == 99.0
    assert percentile(hundred, 0.5) == 50.0
    assert percentile([float(i) for i in range(1, 11)], 0.95) == 10.0
    assert percentile([0.2, 0.1], 0.95) == 0.2  # the filter's p95 of 2 was 0.1
