"""Client API search throughput: HTTP (wrk, 32 clients) vs the same searches in-process.

Builds an index of N generated products (vitrina.domain.generator, real embedded backend),
starts its own embedded broker and `vitrina run client-api` as a subprocess (its
`api.client_workers` processes), then replays the same query sequence (A) in-process
through the backend, one thread, and (B) over HTTP from wrk (C, its own process: not the
bottleneck) at 32 connections, interleaved A B A B A (in-process, HTTP,
in-process, HTTP, in-process) for --rounds rounds. The sequence is a
Zipf-weighted draw from 1,000 distinct searches (`--mix zipf`, default: the index's page
cache sees a realistic share of repeats, on both sides) or 16 searches (`--mix fixed`). The ratio B/A is the
cost of HTTP + FastAPI + the query log; target >= 0.5 with p99 < 20 ms. Prints JSON with the
median, spread and load average, and CPU per search on both sides (the API's processes' CPU
per wrk request, from /proc): steadier than rates on a shared machine.

    .venv/bin/python benchmarks/api.py            # 100k products
    .venv/bin/python benchmarks/api.py --n 5000   # quick
    .venv/bin/python benchmarks/api.py --wrk      # also wrk at 1/8/32/128 clients
    .venv/bin/python benchmarks/api.py --httpx    # also the Python (httpx) client at 32
    .venv/bin/python benchmarks/api.py --platform # with the rest of the platform running
    .venv/bin/python benchmarks/api.py --server uvicorn,granian  # both servers, interleaved

`--server A,B` starts one client API per HTTP server (`api.client_server`), each on its own
port with the same workers, index and broker, and interleaves them in every round:
in-process, A, B, in-process, B, A, in-process (and A B A B at each `--wrk` client count).
No server's run follows its own: with in-process, A, B, B, A, in-process, two identical
servers (an A/A run, 100k, `--platform`) gave the second a p99 0.78× the first's
(0.75-1.03 over 3 rounds; the same in two more runs with either server second), because
its second run came straight after its first, on warm processes. The top-level
figures (`http`, `ratio`, `wrk`, ...) are the first server's; `servers` has each server's, and
`server_comparison` the per-round ratio B/A of req/s and of p99 and CPU per request.

`--platform` measures as users see it: `vitrina up --only` the other services (filter,
indexer, lake sink, SHOP API, analytics, demo traffic) on the same broker and data dir, at the
priorities `vitrina up` gives them, while both sides run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from abba import Side, free_port, load_average, percentile, spread, stop_cleanly_on_sigterm
from rich.console import Console
from rich.progress import Progress

from vitrina import broker
from vitrina.domain.generator import generate_catalog
from vitrina.kafka.admin import apply_topics
from vitrina.search.base import SearchFilters
from vitrina.search.embedded import EmbeddedSearch
from vitrina.settings import load_settings

QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("клавиатура", {}),
    ("умные часы", {}),
    ("кроссовки", {"in_stock": True}),
    ("гантели", {"sort": "price_asc"}),
    ("наушники беспроводные", {}),
    ("ноутбук", {"price_max": 80000}),
    ("кофемашина", {"sort": "price_desc"}),
    ("чайник", {"in_stock": True}),
    ("рюкзак", {}),
    ("монитор", {"price_min": 10000}),
    ("", {"category": "Электроника", "sort": "price_asc"}),
    ("пылесос робот", {}),
    ("куртка", {}),
    ("смартфон", {"in_stock": True, "sort": "price_desc"}),
    ("велосипед", {}),
    ("мяч", {"price_max": 3000}),
]


# The default mix: a shop's query log is a long tail with a head (Zipf, s = 1): DISTINCT
# searches (product types, type + brand, category browsing, price/stock filters, sorts) from
# a generated catalogue, drawn by rank weight 1/r into a fixed sequence both sides replay. A
# result cache sees a realistic share of repeats (the 16-query `fixed` mix repeats only).
DISTINCT = 1000
SEQUENCE = 20_000


def zipf_mix(distinct: int = DISTINCT, length: int = SEQUENCE) -> list[tuple[str, dict[str, Any]]]:
    rng = random.Random(15)
    kinds: set[tuple[str, tuple[tuple[str, Any], ...]]] = set()
    options: list[dict[str, Any]] = [
        {},
        {"in_stock": True},
        {"sort": "price_asc"},
        {"sort": "price_desc", "in_stock": True},
        {"price_max": 5000},
        {"price_min": 1000, "price_max": 50000},
    ]
    for product in generate_catalog(5000, seed=2):
        name, brand = str(product["name"]), str(product["brand"])
        kind = name.split(brand)[0].strip().lower() if brand in name else name.lower()
        for text, extra in (
            (kind, rng.choice(options)),
            (f"{kind} {brand.lower()}", rng.choice(options)),
            ("", {"category": product["category"], **rng.choice(options[1:])}),
        ):
            kinds.add((text, tuple(sorted(extra.items()))))
    ranked = sorted(kinds)
    rng.shuffle(ranked)
    ranked = ranked[:distinct]
    weights = [1 / rank for rank in range(1, len(ranked) + 1)]
    return [(q, dict(opts)) for q, opts in rng.choices(ranked, weights, k=length)]


def summary(latencies: list[float], elapsed: float) -> dict[str, float]:
    return {
        "requests": len(latencies),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 3),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 3),
    }


def build_index(path: Path, n: int) -> float:
    index = EmbeddedSearch(path)
    started = time.perf_counter()
    batch: list[dict[str, Any]] = []
    with Progress(console=Console(stderr=True)) as progress:
        task = progress.add_task(f"indexing {n} products", total=n)
        for product in generate_catalog(n, seed=1):
            batch.append(product)
            if len(batch) == 5000:
                index.upsert(batch)
                progress.advance(task, len(batch))
                batch = []
        index.upsert(batch)
        progress.advance(task, len(batch))
        index.commit()
    index.close()
    return time.perf_counter() - started


def in_process(
    index: EmbeddedSearch, seconds: float, mix: list[tuple[str, dict[str, Any]]]
) -> dict[str, Any]:
    """The query mix in this process, one thread, for `seconds`."""
    latencies = []
    started, cpu_started = time.perf_counter(), time.process_time()
    i = 0
    while time.perf_counter() - started < seconds:
        q, opts = mix[i % len(mix)]
        i += 1
        filters = SearchFilters(**{k: v for k, v in opts.items() if k != "sort"})
        t0 = time.perf_counter()
        index.search(q, filters, opts.get("sort", "relevance"), 10, 0)
        latencies.append(time.perf_counter() - t0)
    cpu_s = time.process_time() - cpu_started
    return {
        **summary(latencies, time.perf_counter() - started),
        "cpu_us_per_search": round(cpu_s / max(1, len(latencies)) * 1e6, 1),
        "rate": len(latencies) / (time.perf_counter() - started),
        "load_average": load_average(),
    }


async def over_http(url: str, total: int, clients: int) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    counter = iter(range(total))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(http: httpx.AsyncClient, user: int) -> None:
        nonlocal errors
        for i in counter:
            q, opts = QUERIES[i % len(QUERIES)]
            t0 = time.perf_counter()
            response = await http.get(
                "/api/v1/search", params={"q": q, "limit": 10, "user": f"bench-{user}", **opts}
            )
            latencies.append(time.perf_counter() - t0)
            errors += response.status_code != 200

    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http, u) for u in range(clients)))
        elapsed = time.perf_counter() - started
    return {**summary(latencies, elapsed), "errors": errors, "clients": clients}


WRK_SCRIPT = """
paths = {%s}
i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
"""


def wrk_paths(mix: list[tuple[str, dict[str, Any]]] = QUERIES) -> list[str]:
    return [
        "/api/v1/search?"
        + urlencode(
            {"q": q, **{k: str(v).lower() if isinstance(v, bool) else v for k, v in p.items()}}
        )
        for q, p in mix
    ]


def to_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return round(float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit], 3)


def server_cpu_s(pid: int | None) -> float:
    """CPU seconds (user + system) used so far by a server process and its live children (the
    API's worker processes): CPU per request is steadier than rates on a shared machine."""
    if pid is None:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:  # gone meanwhile, or no /proc (not Linux)
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        pending.extend(int(child) for child in children)
    return total


def wrk_run(
    url: str, connections: int, seconds: float, script: str, server_pid: int | None = None
) -> dict[str, Any]:
    """wrk (C, not Python: the client is not the bottleneck) for `seconds`; with the server's
    pid, also the server's CPU per request."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    cpu_before = server_cpu_s(server_pid)
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(min(2, connections)),
            "-c",
            str(connections),
            "-d",
            f"{max(1, round(seconds))}s",
            "--latency",
            "-s",
            script,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cpu_s = server_cpu_s(server_pid) - cpu_before
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    lat = dict(re.findall(r"\s+(50|99)%\s+([0-9.]+\w+)", out))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "clients": connections,
        "rps": rps,
        "rate": rps,
        "p50_ms": to_ms(lat["50"]) if "50" in lat else None,
        "p99_ms": to_ms(lat["99"]) if "99" in lat else None,
        "server_cpu_us_per_request": (
            round(cpu_s / requests * 1e6, 1) if server_pid is not None and requests else None
        ),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else None,
        "load_average": load_average(),
    }


def start_api(env: dict[str, str], url: str, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as err:  # the child keeps its own copy of the descriptor
        server = subprocess.Popen(
            [sys.executable, "-m", "vitrina", "run", "client-api"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            server.terminate()
            raise SystemExit(
                f"the client API did not become ready in 60 s; see {log}:\n"
                + log.read_text()[-2000:]
            )
        time.sleep(0.2)


# Everything `vitrina up` runs but the client API, which the benchmark starts itself.
PLATFORM = "filter,indexer,lake-sink,shop-api,analytics,traffic"


def start_platform(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`vitrina up --only PLATFORM` on the benchmark's broker and data dir; ready once it says
    "platform running" (every service started, the sample catalogue loaded)."""
    ports = {
        f"VITRINA__PORTS__{name.upper()}": str(free_port())
        for name in ("shop_api", "filter", "indexer", "lake_sink", "analytics", "traffic")
    }
    env = {**env, **ports}
    with open(log, "wb") as out:
        up = subprocess.Popen(
            [sys.executable, "-m", "vitrina", "up"]
            + [arg for name in PLATFORM.split(",") for arg in ("--only", name)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and up.poll() is None:
        if "platform running" in log.read_text(errors="replace"):
            return up
        time.sleep(0.5)
    up.terminate()
    raise SystemExit(f"the platform did not come up in 120 s:\n{log.read_text()[-2000:]}")


def round_order(names: list[str]) -> list[str]:
    """One round's runs: in-process, names..., in-process, reversed(names)..., in-process.
    Each server's two runs sit at the same mean position (a drift in load hits every side
    alike), and none follows a run of its own: one server's run right after its own (A B
    B A) found its processes warm and gave it a lower p99 (see the module's docstring)."""
    return ["in-process", *names, "in-process", *reversed(names), "in-process"]


IN_PROCESS_PER_ROUND = round_order([]).count("in-process")


def interleave(
    sides: dict[str, Side], names: list[str], rounds: int
) -> tuple[dict[str, list[dict[str, Any]]], list[float]]:
    """`rounds` rounds of `round_order`: a load spike hits every side alike. Returns each
    side's runs per round."""
    order = round_order(names)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in order}
    loads: list[float] = []
    for _ in range(max(1, rounds)):
        for name in order:
            loads.append(load_average())
            runs[name].append(sides[name]())
    loads.append(load_average())
    return runs, loads


def per_round(runs: list[dict[str, Any]], per: int, key: str) -> list[float]:
    """The mean of `key` over each round's `per` runs of one side."""
    values = [r[key] for r in runs]
    return [statistics.fmean(values[i : i + per]) for i in range(0, len(values), per)]


def median_spread(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"median": ordered[len(ordered) // 2], "min": ordered[0], "max": ordered[-1]}


def server_summary(
    runs: list[dict[str, Any]], in_process_runs: list[dict[str, Any]], rounds: int
) -> dict[str, Any]:
    """One server's wrk runs at 32: req/s, p99, CPU per request, and per-round HTTP /
    in-process ratio (each side's mean over its runs of the round)."""
    per = len(runs) // rounds
    http = per_round(runs, per, "rps")
    local = per_round(in_process_runs, IN_PROCESS_PER_ROUND, "rate")
    return {
        "http": spread([r["rps"] for r in runs]),
        "http_p99_ms_at_32": median_spread([r["p99_ms"] for r in runs if r["p99_ms"]]),
        "http_p50_ms_at_32": median_spread([r["p50_ms"] for r in runs if r["p50_ms"]]),
        "server_cpu_us_per_request_at_32": median_spread(
            [r["server_cpu_us_per_request"] for r in runs]
        ),
        "ratio": spread([h / a if a else 0.0 for h, a in zip(http, local, strict=True)]),
        "http_best_run": max(runs, key=lambda r: r["rps"]),
        "runs": runs,
    }


def main() -> None:
    stop_cleanly_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="products in the index")
    parser.add_argument("--rounds", type=int, default=3, help="ABBA rounds (>= 3 to trust)")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each run")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="client API processes (default: settings api.client_workers)",
    )
    parser.add_argument(
        "--server",
        default=None,
        help="HTTP server(s) of the client API, comma-separated, interleaved: uvicorn, "
        "granian, each optionally /asyncio for asyncio's event loop instead of uvloop "
        "(default: settings api.client_server)",
    )
    parser.add_argument(
        "--mix",
        choices=["zipf", "fixed"],
        default="zipf",
        help=f"zipf: {DISTINCT} distinct searches, Zipf-weighted (default); fixed: 16 searches",
    )
    parser.add_argument(
        "--wrk",
        action="store_true",
        help="also wrk at 1/8/32/128 connections, once each (A B A B with two servers)",
    )
    parser.add_argument(
        "--platform",
        action="store_true",
        help=f"run the rest of the platform meanwhile (vitrina up --only {PLATFORM})",
    )
    parser.add_argument(
        "--httpx",
        action="store_true",
        help="also the Python httpx client at 32 (it is the bottleneck)",
    )
    args = parser.parse_args()
    wrk_rows: list[dict[str, Any]] = []
    httpx_row: dict[str, Any] | None = None

    with tempfile.TemporaryDirectory(prefix="vitrina-bench-api-") as tmp:
        data_dir = Path(tmp)
        port = free_port()
        settings = load_settings(
            data_dir=data_dir,
            broker={"port": port},
            kafka={"bootstrap_servers": f"127.0.0.1:{port}"},
        )
        workers = args.workers or settings.api.client_workers
        names = (args.server or settings.api.client_server).split(",")
        known = {f"{s}{loop}" for s in ("uvicorn", "granian") for loop in ("", "/asyncio")}
        if len(set(names)) != len(names) or not set(names) <= known:
            raise SystemExit(f"--server: distinct names of {sorted(known)}; got {args.server}")
        broker.start(settings)
        servers: dict[str, subprocess.Popen[bytes]] = {}
        platform = None
        script = data_dir / "mix.lua"
        mix = zipf_mix() if args.mix == "zipf" else QUERIES
        script.write_text(WRK_SCRIPT % ", ".join(json.dumps(p) for p in wrk_paths(mix)))
        try:
            apply_topics(settings)
            index_s = build_index(settings.search_path, args.n)
            env = {
                **os.environ,
                "VITRINA__DATA_DIR": str(data_dir),
                "VITRINA__KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{port}",
                "VITRINA__BROKER__PORT": str(port),
                "VITRINA__API__CLIENT_WORKERS": str(workers),
            }
            urls: dict[str, str] = {}
            for name in names:
                api_port = free_port()
                urls[name] = f"http://127.0.0.1:{api_port}"
                server_env = {
                    **env,
                    "VITRINA__PORTS__CLIENT_API": str(api_port),
                    "VITRINA__API__CLIENT_SERVER": name.split("/")[0],
                    # "uvicorn/asyncio": asyncio's own event loop instead of uvloop
                    "VITRINA__API__CLIENT_EVENT_LOOP": [*name.split("/"), "uvloop"][1],
                }
                servers[name] = start_api(
                    server_env, urls[name], data_dir / f"client-api-{name.replace('/', '-')}.log"
                )
            if args.platform:
                # The platform's own client API port is never used (--only leaves it out).
                platform = start_platform(
                    {**env, "VITRINA__PORTS__CLIENT_API": str(free_port())},
                    data_dir / "platform.log",
                )
            for name in names:  # warm-up: every process loads its searcher
                wrk_run(urls[name], 32, 1, str(script))
            index = EmbeddedSearch(settings.search_path, readonly=True)
            in_process(index, 0.5, mix)
            sides: dict[str, Side] = {"in-process": lambda: in_process(index, args.seconds, mix)}
            for name in names:
                sides[name] = partial(
                    wrk_run, urls[name], 32, args.seconds, str(script), servers[name].pid
                )
            runs, loads = interleave(sides, names, args.rounds)
            if args.wrk:
                for clients in (1, 8, 32, 128):
                    # A B A B: neither server's run follows its own (as in round_order)
                    for name in [*names, *names] if len(names) > 1 else names:
                        row = wrk_run(
                            urls[name],
                            clients,
                            max(args.seconds, 5),
                            str(script),
                            servers[name].pid,
                        )
                        wrk_rows.append({"server": name, **row})
            if args.httpx:
                httpx_row = asyncio.run(over_http(urls[names[0]], 2000, 32))
        finally:
            for process in (platform, *servers.values()):
                if process is not None:
                    process.terminate()  # `vitrina up` stops its services in order
                    process.wait(60)
            broker.stop(settings)

    rounds = max(1, args.rounds)
    by_server = {name: server_summary(runs[name], runs["in-process"], rounds) for name in names}
    first = by_server[names[0]]
    comparison = None
    if len(names) == 2:
        a, b = (runs[name] for name in names)
        comparison = {
            f"{key}_{names[1]}_to_{names[0]}": spread(
                [
                    y / x if x else 0.0
                    for x, y in zip(per_round(a, 2, key), per_round(b, 2, key), strict=True)
                ]
            )
            for key in ("rps", "p99_ms", "server_cpu_us_per_request")
        }
    print(
        json.dumps(
            {
                "benchmark": "client_api_search",
                "products": args.n,
                "mix": args.mix,
                "platform_running": args.platform,
                "distinct_searches": len(set(wrk_paths(mix))),
                "index_build_s": round(index_s, 2),
                "workers": workers,
                "server": names[0],
                "in_process": spread([r["rate"] for r in runs["in-process"]]),
                "in_process_cpu_us_per_search": median_spread(
                    [r["cpu_us_per_search"] for r in runs["in-process"]]
                ),
                "http": first["http"],
                "http_p99_ms_at_32": first["http_p99_ms_at_32"],
                "http_best_run": first["http_best_run"],
                "server_cpu_us_per_request_at_32": first["server_cpu_us_per_request_at_32"],
                "ratio_http_to_in_process_rps": first["ratio"]["median"],
                "ratio": first["ratio"],
                "load_average": spread(loads),
                "rounds": rounds,
                "order": " ".join(round_order(names)),
                "servers": {
                    name: {k: v for k, v in summary.items() if k != "runs"}
                    for name, summary in by_server.items()
                },
                "server_comparison": comparison,
                "runs_at_32": {name: by_server[name]["runs"] for name in names},
                "wrk": [r for r in wrk_rows if r["server"] == names[0]],
                "wrk_by_server": wrk_rows if len(names) > 1 else None,
                "httpx_32": httpx_row,
                "targets": {"ratio": ">= 0.5", "p99_ms_at_32": "< 20"},
                "note": "in-process = one thread calling the backend in this process; "
                f"HTTP = wrk at 32 connections against {', '.join(names)} ({workers} "
                "processes each) + FastAPI + query log to Kafka; shared 2-core machine, wrk "
                "itself uses CPU there",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
