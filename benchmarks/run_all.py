"""Every benchmark, one after the other, and ONE table of every issue-15 target vs now.

    .venv/bin/python benchmarks/run_all.py                # quick sizes, ~10 min on 2 cores
    .venv/bin/python benchmarks/run_all.py --full         # the issue's sizes (~1 h)
    .venv/bin/python benchmarks/run_all.py --only api,shop_load --json /tmp/all.json

Each benchmark runs in its own process (its JSON read back from stdout); those that compare
a candidate with a baseline interleave them themselves (shop_load, filter, lake, and
search's index build against its previous path: A B B A and B A A B by turns, 4 rounds;
api: in-process, HTTP, in-process, HTTP, in-process, 3 rounds) and report the
median, its spread and the load average; analytics is a single run, for which the table says
"single run" and shows the 1-minute load average before and after. The
machine is shared: read every number next to its load average (2 cores: above 2, work was
queued). Prints the table, then where the JSON (every benchmark's whole output) went.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from abba import load_average

HERE = Path(__file__).resolve().parent


def dig(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


@dataclass
class Target:
    what: str
    target: str
    value: Callable[[dict[str, Any]], Any]
    ok: Callable[[Any], bool]
    spread: Callable[[dict[str, Any]], Any] = lambda _d: None
    # Whether the run was at the size the target is stated for (else: reported, not judged).
    applies: Callable[[dict[str, Any]], bool] = lambda _d: True
    load: Callable[[dict[str, Any]], Any] = lambda _d: None  # this row's own load average


@dataclass
class Bench:
    name: str
    quick: list[str]
    full: list[str]
    targets: list[Target]
    interleaved: bool = False
    timeout_s: float = 600
    load: Callable[[dict[str, Any]], Any] = lambda _d: None
    notes: list[str] = field(default_factory=list)


def spread_of(stats: Any) -> str | None:
    if not isinstance(stats, dict) or "min" not in stats:
        return None
    return f"{stats['min']:g}–{stats['max']:g}"


def wrk_row(clients: int) -> Callable[[dict[str, Any]], Any]:
    def row(d: dict[str, Any]) -> Any:
        for r in d.get("wrk") or []:
            if r.get("clients") == clients:
                return f"{r['rps']:.0f} req/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms"
        return None

    return row


def wrk_load(clients: int) -> Callable[[dict[str, Any]], Any]:
    return lambda d: next(
        (r.get("load_average") for r in d.get("wrk") or [] if r.get("clients") == clients), None
    )


def largest_size(d: dict[str, Any]) -> int:
    return max((int(k) for k in d.get("sizes") or {}), default=0)


def analytics_size(d: dict[str, Any], what: str) -> Any:
    sizes = d.get("sizes") or {}
    if not sizes:
        return None
    largest = sizes[max(sizes, key=int)]
    return dig(largest, "duckdb", what)


def lt(limit: float) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int | float) and v < limit


def ge(limit: float) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int | float) and v >= limit


def le(limit: float) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int | float) and v <= limit


def informational(_v: Any) -> bool:
    return True


BENCHES = [
    Bench(
        "api",
        ["--n", "20000", "--rounds", "3", "--seconds", "2", "--wrk"],
        ["--n", "100000", "--rounds", "5", "--seconds", "5", "--wrk"],
        [
            Target(
                "client API over HTTP / in-process search (wrk, 32 clients)",
                ">= 0.5",
                lambda d: d.get("ratio_http_to_in_process_rps"),
                ge(0.5),
                lambda d: spread_of(d.get("ratio")),
            ),
            Target(
                "client API p99 at 32 clients, ms (median of runs)",
                "< 20",
                lambda d: dig(d, "http_p99_ms_at_32", "median"),
                lt(20),
                lambda d: spread_of(d.get("http_p99_ms_at_32")),
            ),
            Target(
                "in-process search, queries/s",
                "baseline",
                lambda d: dig(d, "in_process", "median"),
                informational,
                lambda d: spread_of(d.get("in_process")),
            ),
            *[
                Target(f"wrk {c} clients", "report", wrk_row(c), informational, load=wrk_load(c))
                for c in (1, 8, 32, 128)
            ],
        ],
        interleaved=True,
        load=lambda d: dig(d, "load_average", "median"),
    ),
    Bench(
        "shop_load",
        ["--n", "100000", "--rounds", "4"],
        ["--n", "200000", "--rounds", "4"],
        [
            Target(
                "shop load / raw produce",
                ">= 0.7",
                lambda d: d.get("ratio"),
                ge(0.7),
                lambda d: spread_of(d.get("ratio_spread")),
            ),
            Target(
                "shop load, products/s (median)",
                "report",
                lambda d: d.get("products_per_s"),
                informational,
            ),
            Target(
                "shop load / raw produce, client CPU us per product",
                "report",
                lambda d: f"{d.get('load_cpu_us_per_record')} / {d.get('raw_cpu_us_per_record')}",
                informational,
            ),
        ],
        interleaved=True,
        load=lambda d: dig(d, "load_average", "median"),
    ),
    Bench(
        "search",
        # 400 of the judged queries: with all 2,800 the naive scan alone took past the
        # 1,200 s this script allows a benchmark (at 20k products, 2 cores)
        ["--n", "20000", "--rounds", "2", "--freshness", "10", "--sample", "400"],
        ["--n", "100000"],
        [
            Target(
                "search index build, docs/s (ABBA median)",
                ">= 30000",
                lambda d: dig(d, "index_build", "docs_per_s"),
                ge(30_000),
                lambda d: spread_of(dig(d, "index_build", "docs_per_s_spread")),
                load=lambda d: dig(d, "index_build", "load_average", "median"),
            ),
            Target(
                "search index build, CPU us per doc (now / previous path)",
                "report",
                lambda d: (
                    f"{round(dig(d, 'index_build', 'cpu_us_per_doc') or 0, 1)} / "
                    f"{round(dig(d, 'index_build', 'baseline_cpu_us_per_doc') or 0, 1)}"
                ),
                informational,
            ),
            Target(
                "search query p99, ms (in-process)",
                "report",
                lambda d: dig(d, "query_ms", "p99"),
                informational,
            ),
            Target(
                "suggest-as-you-type p99, ms (in-process, every prefix of the queries)",
                "< 10",
                lambda d: dig(d, "suggest_ms", "p99"),
                lt(10),
                load=lambda d: dig(d, "suggest_ms", "load_average"),
            ),
            Target(
                "search query p99 / mean, ms, queries not seen before (in-process)",
                "report",
                lambda d: (
                    f"{dig(d, 'query_ms_first_sight', 'p99')} / "
                    f"{dig(d, 'query_ms_first_sight', 'mean')}"
                    if dig(d, "query_ms_first_sight")
                    else None  # the queries part did not run
                ),
                informational,
            ),
            Target(
                "search index / naive scan, queries/s (ABBA median)",
                "report",
                lambda d: dig(d, "queries_per_s", "speedup", "median"),
                informational,
                lambda d: spread_of(dig(d, "queries_per_s", "speedup")),
                load=lambda d: dig(d, "queries_per_s", "load_average", "median"),
            ),
            Target(
                "product -> searchable p95, ms",
                "< 500",
                lambda d: dig(d, "freshness", "p95_ms"),
                lt(500),
            ),
            Target(
                "ban -> gone from the index p95, ms",
                "< 500",
                lambda d: dig(d, "freshness", "ban_to_gone", "p95_ms"),
                lt(500),
            ),
        ],
        timeout_s=1200,  # the index build runs 18 times (4 rounds, a warm-up of each path)
    ),
    Bench(
        "filter",
        ["--n", "20000", "--rounds", "4", "--latency-bans", "10"],
        ["--n", "200000", "--rounds", "4"],
        [
            Target(
                "filter / plain loop parsing JSON",
                ">= 0.85",
                lambda d: d.get("ratio"),
                ge(0.85),
                lambda d: spread_of(d.get("ratio_spread")),
            ),
            Target(
                "filter / plain loop, CPU us per record",
                "report",
                lambda d: (
                    f"{d.get('filter_cpu_us_per_record')} / {d.get('plain_loop_cpu_us_per_record')}"
                ),
                informational,
            ),
            Target(
                "filter peak RSS at 200k, MB (the filter's own process)",
                "<= 300",
                lambda d: d.get("filter_peak_rss_mb"),
                le(300),
                applies=lambda d: (d.get("products") or 0) >= 200_000,
            ),
            Target(
                "ban -> tombstone p95, s",
                "< 0.5",
                lambda d: dig(d, "ban_to_tombstone_s", "p95"),
                lt(0.5),
            ),
            Target(
                "banned products leaked", "0", lambda d: d.get("banned_leaked"), lambda v: v == 0
            ),
        ],
        interleaved=True,
        timeout_s=1800,
        load=lambda d: dig(d, "load_average", "median"),
    ),
    Bench(
        "filter_rebuild",
        ["--n", "50000", "--rounds", "4"],
        ["--n", "200000", "--rounds", "4"],
        [
            Target(
                "filter state rebuild, products a second (shipped reader)",
                "report",
                lambda d: dig(d, "candidate", "median"),
                informational,
                lambda d: spread_of(d.get("candidate")),
            ),
            Target(
                "filter state rebuild / the reader before (1 s pause on a full queue)",
                "report",
                lambda d: dig(d, "ratio", "median"),
                informational,
                lambda d: spread_of(d.get("ratio")),
            ),
        ],
        interleaved=True,
        timeout_s=900,
        load=lambda d: dig(d, "load_average", "median"),
    ),
    Bench(
        "lake",
        # 50k: lake.py measures both sides alike at any size (its docstring), 100k in --full
        ["--n", "50000", "--rounds", "4"],
        [],
        [
            Target(
                "lake sink / consume + parse",
                ">= 0.6",
                lambda d: d.get("ratio_sink_to_baseline"),
                ge(0.6),
                lambda d: spread_of(d.get("ratio_spread")),
            ),
            Target(
                "lake sink / consume + parse, CPU us per record",
                "report",
                lambda d: (
                    f"{d.get('sink_cpu_us_per_record')} / {d.get('baseline_cpu_us_per_record')}"
                ),
                informational,
            ),
            Target(
                "lake exactly once", "true", lambda d: d.get("exactly_once"), lambda v: v is True
            ),
        ],
        interleaved=True,
        timeout_s=1200,  # 12 runs at 100k in the full run
        load=lambda d: dig(d, "load_average", "median"),
    ),
    Bench(
        "lake_files",
        ["--messages", "20000", "--rounds", "2"],
        ["--messages", "60000", "--per-file", "5", "--rounds", "4"],
        [
            Target(
                "analytics over compacted / small lake files",
                "report",
                lambda d: dig(d, "ratio", "median"),
                informational,
                lambda d: f"{d.get('files_small')} -> {d.get('files_compacted')} files",
            ),
            Target(
                "compaction keeps the outputs",
                "true",
                lambda d: d.get("same_outputs"),
                lambda v: v is True,
            ),
        ],
        interleaved=True,
        timeout_s=1200,
        load=lambda d: dig(d, "load_average", "median"),
    ),
    Bench(
        "analytics",
        ["--sizes", "500000", "--engines", "duckdb"],
        ["--sizes", "1000000,5000000", "--engines", "duckdb,spark"],
        [
            Target(
                "analytics DuckDB, s (largest size run)",
                "<= 30 at 5M",
                lambda d: analytics_size(d, "seconds"),
                le(30),
                lambda d: f"at {largest_size(d):,} lines",
                lambda d: largest_size(d) >= 5_000_000,
            ),
            Target(
                "analytics DuckDB peak RSS, MB",
                "<= 4096 at 5M",
                lambda d: analytics_size(d, "peak_rss_mb"),
                le(4096),
                lambda d: f"at {largest_size(d):,} lines",
                lambda d: largest_size(d) >= 5_000_000,
            ),
        ],
        timeout_s=1200,
    ),
]


def last_json(stdout: str) -> dict[str, Any] | None:
    """The benchmark's JSON: the whole stdout, or its last line that is a JSON object."""
    try:
        value = json.loads(stdout)
        return value if isinstance(value, dict) else None
    except json.JSONDecodeError:
        pass
    start = stdout.find("\n{")
    for candidate in ([stdout[start + 1 :]] if start >= 0 else []) + stdout.splitlines()[::-1]:
        try:
            value = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    return None


def run(bench: Bench, full: bool) -> dict[str, Any]:
    argv = [sys.executable, str(HERE / f"{bench.name}.py"), *(bench.full if full else bench.quick)]
    before, started = load_average(), time.monotonic()
    print(
        f"running {bench.name}: {' '.join(argv[1:])}  (load average {before})",
        file=sys.stderr,
        flush=True,
    )
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=bench.timeout_s, cwd=HERE
        )
        output, code, error = done.stdout, done.returncode, done.stderr[-1500:]
    except subprocess.TimeoutExpired:
        output, code, error = "", None, f"timed out after {bench.timeout_s:.0f} s"
    data = last_json(output)
    return {
        "benchmark": bench.name,
        "argv": argv[1:],
        "exit_code": code,
        "seconds": round(time.monotonic() - started, 1),
        "load_average_before": before,
        "load_average_after": load_average(),
        "load_average_median": bench.load(data) if data else None,
        "interleaved": bench.interleaved,
        "result": data,
        "error": None if data else (error or "no JSON on stdout"),
    }


def rows(bench: Bench, outcome: dict[str, Any]) -> list[dict[str, Any]]:
    data = outcome["result"]
    load = (
        outcome["load_average_median"]
        if outcome["load_average_median"] is not None
        else f"{outcome['load_average_before']}→{outcome['load_average_after']}"
    )
    out = []
    for target in bench.targets:
        value = target.value(data) if data else None
        judged = value is not None and target.ok is not informational and target.applies(data)
        met = target.ok(value) if judged else None
        own_load = target.load(data) if data else None
        out.append(
            {
                "benchmark": bench.name,
                "what": target.what,
                "target": target.target,
                "now": value,
                "spread": target.spread(data) if data else None,
                "met": met,
                "load_average": own_load if own_load is not None else load,
                "method": "ABBA x rounds, median" if bench.interleaved else "single run",
                "error": outcome["error"],
            }
        )
    return out


def table(all_rows: list[dict[str, Any]]) -> str:
    head = ["benchmark", "what", "target", "now", "spread", "met", "load avg", "method"]
    cells = [
        [
            r["benchmark"],
            r["what"],
            r["target"],
            "ERROR: " + str(r["error"]).strip().splitlines()[-1][:60]
            if r["error"]
            else str(r["now"]),
            r["spread"] or "",
            {True: "yes", False: "NO", None: ""}[r["met"]],
            str(r["load_average"]),
            r["method"],
        ]
        for r in all_rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(head)]
    lines = [
        " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)),
        "-+-".join("-" * w for w in widths),
    ]
    lines += [" | ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True)) for cell in cells]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the issue's sizes (about an hour)")
    parser.add_argument("--only", default="", help="comma-separated benchmark names")
    parser.add_argument(
        "--json", default=None, help="where the JSON goes (default: a file in the temp directory)"
    )
    args = parser.parse_args()
    chosen = [b for b in BENCHES if not args.only or b.name in args.only.split(",")]
    outcomes, all_rows = [], []
    for bench in chosen:
        outcome = run(bench, args.full)
        outcomes.append(outcome)
        all_rows += rows(bench, outcome)
    report = {
        "benchmark": "run_all",
        "full": args.full,
        "cpus": os.cpu_count(),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "rows": all_rows,
        "runs": outcomes,
    }
    path = (
        Path(args.json)
        if args.json
        else Path(os.environ.get("TMPDIR", "/tmp")) / f"vitrina-run-all-{int(time.time())}.json"
    )
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    print(table(all_rows))
    print(f"\nJSON (every benchmark's whole output): {path}")
    return 0 if all(o["result"] is not None for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
