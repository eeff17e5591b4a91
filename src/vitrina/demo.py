"""`vitrina demo`: the platform for a bounded time, with checks that it all worked.

Every step goes through the same paths a user takes (the SHOP load, the client HTTP API,
the ban API, the analytics job); the summary says what flowed and the exit code says whether
every check passed.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from vitrina.orchestrate import (
    Platform,
    load_sample,
    print_urls,
    start_platform,
    vitrina_argv,
    wait_until,
)
from vitrina.runstate import children_settings
from vitrina.settings import Settings, local_secret

# Order lines to wait for before the analytics run: enough for item-item similarity.
MIN_ORDER_LINES = 50
DEMO_CUSTOMERS = ["Alice", "Charlie", "Eva", "customer-new-0001"]
# Two shoppers search a word the sample catalogue lacks, find nothing, and search again:
# the analytics run learns the refinement, and the client API answers the word with it.
NOT_FOUND, SEARCHED_NEXT = "торба", "рюкзак"
REFINING_SHOPPERS = ("demo-shopper-1", "demo-shopper-2")


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class DemoReport:
    checks: list[Check] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, ok: bool, detail: str) -> bool:
        self.checks.append(Check(name, ok, detail))
        return ok

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)


class DemoClient:
    """Talks to the client API like the web page does."""

    def __init__(self, base: str, admin_token: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=10.0)
        self.admin = {"Authorization": f"Bearer {admin_token}"}

        self.searches = 0  # each is one client-queries record

    def answer(self, q: str, **params: Any) -> dict[str, Any]:
        resp = self.http.get("/api/v1/search", params={"q": q, "user": "demo", **params})
        self.searches += 1
        resp.raise_for_status()
        body: dict[str, Any] = resp.json()
        return body

    def search(self, q: str, **params: Any) -> list[dict[str, Any]]:
        body = self.answer(q, **params)
        return body.get("items") or body.get("hits") or body.get("results") or []

    def ban(self, product_id: str, reason: str) -> None:
        self.http.post(
            f"/api/v1/bans/{product_id}", json={"reason": reason}, headers=self.admin
        ).raise_for_status()

    def unban(self, product_id: str) -> None:
        self.http.delete(f"/api/v1/bans/{product_id}", headers=self.admin).raise_for_status()

    def recommend(self, user: str) -> dict[str, Any]:
        resp = self.http.get(f"/api/v1/recommendations/{user}")
        resp.raise_for_status()
        return resp.json()


def _pid_of(hit: dict[str, Any]) -> str:
    return str(hit.get("product_id") or hit.get("product", {}).get("product_id"))


def run_demo(settings: Settings, console: Console, duration: float = 90.0) -> DemoReport:
    report = DemoReport()
    started = time.monotonic()
    platform = start_platform(settings, console)
    try:
        _scenario(platform, report, console, started + duration)
        _summary(platform, report)
    finally:
        platform.stop()
    return report


def _scenario(platform: Platform, report: DemoReport, console: Console, deadline: float) -> None:
    settings = platform.settings
    base = platform.url("client_api")
    if not report.add(
        "client API up",
        wait_until(lambda: httpx.get(f"{base}/healthz", timeout=2).status_code == 200, 60),
        base,
    ):
        return
    print_urls(platform)
    console.rule("loading the sample catalogue through `vitrina shop load`")
    report.add("sample catalogue loaded", load_sample(settings, console), "shop-products")
    client = DemoClient(base, local_secret(settings, "admin.token"))

    console.rule("search")
    hits: list[dict[str, Any]] = []

    def searchable() -> bool:
        nonlocal hits
        hits = client.search("часы")
        return bool(hits)

    found = wait_until(searchable, 60)
    report.add("products searchable", found, f"'часы' → {len(hits)} results")
    if not found:
        return
    for hit in hits[:5]:
        doc = hit.get("product", hit)
        console.print(
            f"  {_pid_of(hit):>8}  {doc.get('name')}  {doc.get('price', {}).get('amount')} ₽"
        )

    console.rule(f"shoppers find nothing for «{NOT_FOUND}», then search «{SEARCHED_NEXT}»")
    for shopper in REFINING_SHOPPERS:
        missed = client.answer(NOT_FOUND, user=shopper)["total"]
        console.print(f"  {shopper}: «{NOT_FOUND}» → {missed} found", highlight=False)
        client.search(SEARCHED_NEXT, user=shopper)

    console.rule("ban a published product mid-run")
    victim = _pid_of(hits[0])
    t0 = time.monotonic()
    client.ban(victim, "демо: жалоба покупателя")
    gone = wait_until(lambda: victim not in {_pid_of(h) for h in client.search("часы")}, 30, 0.1)
    report.add(
        "banned product disappears from search",
        gone,
        f"{victim} gone after {time.monotonic() - t0:.2f} s" if gone else victim,
    )

    console.rule("analytics + recommendations (one run)")
    # Wait until the traffic generator's orders have reached the lake (the sink flushes every
    # few seconds), so the job has history to learn from, not only popularity.
    from vitrina.lake.reader import row_counts

    report.add(
        "orders reached the lake",
        wait_until(lambda: row_counts(settings).get("orders", 0) >= MIN_ORDER_LINES, 60, 1.0),
        f"≥ {MIN_ORDER_LINES} order lines",
    )
    searches = client.searches
    report.add(
        "searches reached the lake",
        wait_until(lambda: row_counts(settings).get("client_queries", 0) >= searches, 60, 1.0),
        f"≥ {searches} client-queries records",
    )
    job = subprocess.run(
        vitrina_argv("analytics", "run", settings_file=children_settings(settings)), check=False
    )
    report.add("analytics job", job.returncode == 0, f"exit code {job.returncode}")
    answered: dict[str, Any] = {}

    def refined() -> bool:
        nonlocal answered
        answered = client.answer(NOT_FOUND)
        return bool(answered.get("refined")) and bool(answered.get("items"))

    learned = wait_until(refined, 30, 0.5)
    said = answered.get("refined") or {}
    report.add(
        "a search that found nothing is answered with what shoppers searched next",
        learned and said.get("query") == SEARCHED_NEXT,
        f"«{NOT_FOUND}» → «{said.get('query')}», {answered.get('total', 0)} found",
    )
    for user in DEMO_CUSTOMERS:
        recs: dict[str, Any] = {}

        def has_recs(user: str = user) -> bool:
            nonlocal recs
            recs = client.recommend(user)
            return bool(recs.get("items"))

        ok = wait_until(has_recs, 30, 0.5)
        items = recs.get("items", [])
        report.add(
            f"recommendations for {user}",
            ok and victim not in {i["product_id"] for i in items},
            f"{len(items)} items, model {recs.get('model')}",
        )
        for item in items[:3]:
            console.print(
                f"  {user:>18}: {item['product_id']} {item.get('score', 0):.3f} "
                f"{item.get('reason', '')}"
            )
    # The ban is lifted again, so the demo leaves the ban list as it found it (the next
    # `vitrina up` on this data dir loaded the demo's ban and lacked the product); unbanning
    # republishes the product's latest version, so it comes back to search.
    console.rule("lift the ban")
    t0 = time.monotonic()
    client.unban(victim)
    back = wait_until(
        lambda: victim in {_pid_of(h) for h in client.search("часы", limit=100)}, 30, 0.1
    )
    report.add(
        "unbanned product returns to search",
        back,
        f"{victim} back after {time.monotonic() - t0:.2f} s" if back else victim,
    )
    remaining = deadline - time.monotonic()
    if remaining > 0:
        console.print(f"running {remaining:.0f} s more…")
        end = time.monotonic() + remaining
        while time.monotonic() < end:
            platform.supervisor.poll()
            time.sleep(0.5)


def _summary(platform: Platform, report: DemoReport) -> None:
    from vitrina.kafka.inspect import count_records

    settings = platform.settings
    topics = settings.topics.model_dump()
    counts = count_records(settings, list(topics.values()))
    report.counts = counts
    report.add(
        "products flowed through the filter",
        counts.get(settings.topics.filtered_products, 0) > 0,
        f"{counts.get(settings.topics.filtered_products, 0)} records in filtered-products",
    )
    restarts = {k: v for k, v in platform.supervisor.restarts().items() if v}
    report.add("no service crashed", not restarts, str(restarts or "none restarted"))
    from vitrina.lake.reader import row_counts

    rows = row_counts(settings)
    report.add(
        "every raw event lands in the lake",
        rows.get("shop_products", 0) > 0 and rows.get("client_events", 0) > 0,
        ", ".join(f"{k} {v}" for k, v in rows.items() if v) or "empty",
    )
    console = platform.console
    table = Table("topic", "records", title="what flowed")
    for name, count in counts.items():
        table.add_row(name, str(count))
    console.print(table)
    checks = Table("check", "result", "detail", title="demo checks")
    for check in report.checks:
        checks.add_row(check.name, "[green]ok[/]" if check.ok else "[red]FAILED[/]", check.detail)
    console.print(checks)
