"""Interleaved measurement for a noisy shared machine: baseline A and candidate B run as
A B B A and B A A B by turns, after an unmeasured warm-up run of each, so a load spike hits
both sides alike; the result is the median ratio over rounds, its spread (min–max), and the
1-minute load average around each run.

Every benchmark in this directory imports `abba`, `load_average` and `free_port` from here;
`run_all.py` reads the `ratio` and `load_average` of each benchmark's JSON.
"""

from __future__ import annotations

import math
import os
import signal
import socket
import statistics
import sys
from collections.abc import Callable
from typing import Any

Side = Callable[[], dict[str, Any]]  # one timed run: {"rate": per-second, ...extras}


def stop_cleanly_on_sigterm() -> None:
    """SIGTERM (`kill`, a CI timeout) as Ctrl-C: the benchmark's `finally` blocks stop the
    broker and servers it started. Python's default for SIGTERM exits without them, and a
    benchmark's broker and client API outlived it (found orphaned after `pkill -f api.py`)."""

    def exit_cleanly(signum: int, _frame: object) -> None:
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, exit_cleanly)


def free_port() -> int:
    """A free port on 127.0.0.1 for a broker or server the benchmark starts at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def load_average() -> float:
    """The 1-minute load average now (2 cores: above 2 means work was queued)."""
    return round(os.getloadavg()[0], 2)


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank q-quantile: the ceil(q n)-th smallest (every benchmark's p50, p95
    and p99; they had three definitions, one of which gave the smaller of two values as
    their p95)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def spread(values: list[float]) -> dict[str, Any]:
    return {
        "median": round(statistics.median(values), 4),
        "min": round(min(values), 4),
        "max": round(max(values), 4),
        "values": [round(v, 4) for v in values],
    }


def runs_of_each_side(rounds: int, warm_up: bool = True) -> int:
    """How often `abba` calls each side: for a benchmark that prepares every run's topics
    before the first is timed."""
    return 2 * max(1, rounds) + (1 if warm_up else 0)


def abba(
    baseline: Side, candidate: Side, rounds: int = 4, key: str = "rate", warm_up: bool = True
) -> dict[str, Any]:
    """Run A B B A and B A A B by turns, `rounds` rounds (an even number runs each order
    as often); ratio per round = mean(B[key]) / mean(A[key]).

    Not A B B A every round: an A/A run of the lake benchmark (the sink on both sides,
    100k, 3 rounds) gave B/A 1.23, 0.99, 1.23, because a round's first run was the slowest
    (84-94k against 102-124k msg/s). By turns over 4 rounds: 1.18, 0.96, 1.13, 0.96,
    median 1.05 — the first round's runs still warmed up the broker, and an odd count of
    rounds still favours B. So with `warm_up` each side runs once, unmeasured, first: the
    same A/A run then gave 1.01, 0.97, 1.16, 1.04, median 1.03."""
    a_runs: list[dict[str, Any]] = []
    b_runs: list[dict[str, Any]] = []
    ratios: list[float] = []
    loads: list[float] = []
    if warm_up:
        baseline()
        candidate()
    for number in range(max(1, rounds)):
        round_a: list[dict[str, Any]] = []
        round_b: list[dict[str, Any]] = []
        order = "abba" if number % 2 == 0 else "baab"
        for side in order:
            runs = round_a if side == "a" else round_b
            loads.append(load_average())
            runs.append((baseline if side == "a" else candidate)())
        a_mean = statistics.fmean(r[key] for r in round_a)
        b_mean = statistics.fmean(r[key] for r in round_b)
        ratios.append(b_mean / a_mean if a_mean else 0.0)
        a_runs += round_a
        b_runs += round_b
    loads.append(load_average())
    return {
        "rounds": max(1, rounds),
        "order": "ABBA, BAAB by turns",
        "baseline": spread([r[key] for r in a_runs]),
        "candidate": spread([r[key] for r in b_runs]),
        "ratio": spread(ratios),
        "load_average": spread(loads),
        "baseline_runs": a_runs,
        "candidate_runs": b_runs,
    }
