"""The client API benchmark's round order (benchmarks/api.py): no side is measured right
after a run of its own, and every server's runs sit at the same mean position.

With in-process, A, B, B, A, in-process, two identical servers gave the second a p99 ~0.78x
the first's in three A/A runs: its second run found its processes warm from its first."""

from __future__ import annotations

import importlib.util
import itertools
import statistics
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def api_benchmark() -> ModuleType:
    sys.path.insert(0, str(BENCHMARKS))  # it imports its sibling `abba`
    try:
        spec = importlib.util.spec_from_file_location("api_benchmark", BENCHMARKS / "api.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCHMARKS))


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
    assert order.count("in-process") == api_benchmark.IN_PROCESS_PER_ROUND
