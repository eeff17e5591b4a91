"""Client API search throughput: HTTP at 32 concurrent clients vs the same searches in-process.

Builds an index of N generated products (vitrina.domain.generator, real embedded backend),
starts its own embedded broker and `vitrina run client-api` as a subprocess, then fires the
same fixed query mix (a) in-process through the backend and (b) over HTTP from 32
concurrent clients. The ratio http_rps / inprocess_rps is the cost of HTTP + FastAPI + the
query log. Prints JSON.

    .venv/bin/python benchmarks/api.py            # 100k products
    .venv/bin/python benchmarks/api.py --n 5000   # quick
    .venv/bin/python benchmarks/api.py --wrk      # also wrk (Debian `wrk`) at 1/8/32/128 clients
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from rich.progress import Progress

from vitrina import broker
from vitrina.domain.generator import generate_catalog
from vitrina.kafka.admin import apply_topics
from vitrina.search.base import SearchFilters
from vitrina.search.embedded import EmbeddedSearch
from vitrina.settings import load_settings

QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("клавиатура", {}), ("умные часы", {}), ("кроссовки", {"in_stock": True}),
    ("гантели", {"sort": "price_asc"}), ("наушники беспроводные", {}),
    ("ноутбук", {"price_max": 80000}), ("кофемашина", {"sort": "price_desc"}),
    ("чайник", {"in_stock": True}), ("рюкзак", {}), ("монитор", {"price_min": 10000}),
    ("", {"category": "Электроника", "sort": "price_asc"}), ("пылесос робот", {}),
    ("куртка", {}), ("смартфон", {"in_stock": True, "sort": "price_desc"}),
    ("велосипед", {}), ("мяч", {"price_max": 3000}),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def summary(latencies: list[float], elapsed: float) -> dict[str, float]:
    return {"requests": len(latencies), "rps": round(len(latencies) / elapsed, 1),
            "p50_ms": round(percentile(latencies, 0.5) * 1000, 3),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 3)}


def build_index(path: Path, n: int) -> float:
    index = EmbeddedSearch(path)
    started = time.perf_counter()
    batch: list[dict[str, Any]] = []
    with Progress() as progress:
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


def in_process(path: Path, total: int) -> dict[str, float]:
    index = EmbeddedSearch(path, readonly=True)
    latencies = []
    started = time.perf_counter()
    for i in range(total):
        q, opts = QUERIES[i % len(QUERIES)]
        filters = SearchFilters(**{k: v for k, v in opts.items() if k != "sort"})
        t0 = time.perf_counter()
        index.search(q, filters, opts.get("sort", "relevance"), 10, 0)
        latencies.append(time.perf_counter() - t0)
    result = summary(latencies, time.perf_counter() - started)
    index.close()
    return result


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
            response = await http.get("/api/v1/search", params={"q": q, "limit": 10,
                                                                "user": f"bench-{user}", **opts})
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


def with_wrk(url: str, connections: list[int], seconds: int = 5) -> list[dict[str, Any]]:
    """The same query mix from wrk (C, not Python: the client is not the bottleneck)."""
    import re
    import shutil
    from urllib.parse import urlencode

    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    paths = ["/api/v1/search?" + urlencode({"q": q, **{k: str(v).lower() if isinstance(v, bool)
                                                     else v for k, v in p.items()}})
             for q, p in QUERIES]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % ", ".join(json.dumps(p) for p in paths))
    rows = []
    for conns in connections:
        out = subprocess.run(["wrk", "-t", str(min(2, conns)), "-c", str(conns), "-d",
                              f"{seconds}s", "--latency", "-s", script.name, url],
                             capture_output=True, text=True, check=True).stdout
        rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))  # type: ignore[union-attr]
        lat = dict(re.findall(r"\s+(50|99)%\s+([0-9.]+\w+)", out))
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        rows.append({"clients": conns, "rps": rps, "p50": lat.get("50"), "p99": lat.get("99"),
                     "non_2xx": int(errors.group(1)) if errors else 0})
    os.unlink(script.name)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="products in the index")
    parser.add_argument("--requests", type=int, default=4000, help="searches per side")
    parser.add_argument("--clients", type=int, default=32, help="concurrent HTTP clients")
    parser.add_argument("--wrk", action="store_true",
                        help="also measure with wrk at 1/8/32/128 connections")
    args = parser.parse_args()
    wrk_rows: list[dict[str, Any]] = []

    with tempfile.TemporaryDirectory(prefix="vitrina-bench-api-") as tmp:
        data_dir = Path(tmp)
        port, api_port = free_port(), free_port()
        settings = load_settings(data_dir=data_dir, broker={"port": port},
                                 kafka={"bootstrap_servers": f"127.0.0.1:{port}"},
                                 ports={"client_api": api_port})
        broker.start(settings)
        server = None
        try:
            apply_topics(settings)
            index_s = build_index(settings.search_path, args.n)
            env = {**os.environ, "VITRINA__DATA_DIR": str(data_dir),
                   "VITRINA__KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{port}",
                   "VITRINA__PORTS__CLIENT_API": str(api_port)}
            server = subprocess.Popen([sys.executable, "-m", "vitrina", "run", "client-api"],
                                      env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
            url = f"http://127.0.0.1:{api_port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the client API did not become ready in 60 s")
                time.sleep(0.2)
            asyncio.run(over_http(url, min(200, args.requests), args.clients))  # warm-up
            local = in_process(settings.search_path, args.requests)
            http = asyncio.run(over_http(url, args.requests, args.clients))
            if args.wrk:
                wrk_rows = with_wrk(url, [1, 8, 32, 128])
        finally:
            if server is not None:
                server.terminate()
                server.wait(15)
            broker.stop(settings)

    print(json.dumps({
        "benchmark": "client_api_search", "products": args.n, "index_build_s": round(index_s, 2),
        "in_process": local, "http": http,
        "ratio_http_to_in_process_rps": round(http["rps"] / local["rps"], 4),
        "wrk": wrk_rows,
        "note": "in-process = one thread calling the backend; http = uvicorn (1 worker) "
                "+ FastAPI + query log to Kafka, 32 concurrent clients; shared 2-core machine",
    }, indent=2))


if __name__ == "__main__":
    main()
