"""KafkaBrokerDown from the brokers' JMX metrics, through Alertmanager to Telegram; and the
Kafka dashboard's traffic panel on the same Prometheus, counting each message once.

Real: the 3 brokers with their JMX exporter agents, Prometheus and Alertmanager (Debian
packages), the committed rules and the distributed Alertmanager template. Fake (cannot run
here): Telegram itself — a local HTTP endpoint answers the Bot API's sendMessage and records
what it got.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import free_port, wait_for
from tests.distributed.conftest import SecuredCluster

from vitrina.monitoring.alertmanager import render_alertmanager, template_path
from vitrina.monitoring.cluster import ClusterMonitoring, Timings
from vitrina.monitoring.dashboards import all_dashboards, expressions

pytestmark = [pytest.mark.distributed, pytest.mark.slow, pytest.mark.monitoring]

if shutil.which("prometheus") is None or shutil.which("prometheus-alertmanager") is None:
    pytest.skip(
        "needs Debian prometheus + prometheus-alertmanager (scripts/test.sh installs them)",
        allow_module_level=True,
    )

FAKE_TOKEN = "123456789:AAfakefakefakefakefakefakefakefake"
CHAT_ID = "-1001234567890"


class FakeTelegram(ThreadingHTTPServer):
    messages: list[dict[str, Any]]


class _Handler(BaseHTTPRequestHandler):
    server: FakeTelegram

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path.endswith("/sendMessage"):
            ctype = self.headers.get("Content-Type", "")
            if "json" in ctype:
                fields = json.loads(body)
            else:
                from urllib.parse import parse_qs

                fields = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            self.server.messages.append({"path": self.path, **fields})
        reply = {
            "ok": True,
            "result": {
                "message_id": len(self.server.messages),
                "date": 0,
                "chat": {"id": int(CHAT_ID), "type": "supergroup"},
            },
        }
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def telegram() -> Iterator[FakeTelegram]:
    server = FakeTelegram(("127.0.0.1", free_port()), _Handler)
    server.messages = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def monitoring(
    secured_cluster: SecuredCluster,
    telegram: FakeTelegram,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ClusterMonitoring]:
    """One Prometheus + Alertmanager for the module's tests (each start costs ~20-30 s); each
    test asks for `healthy_cluster` itself."""
    tmp_path = tmp_path_factory.mktemp("monitoring")
    token_file = tmp_path / "bot-token"
    token_file.write_text(FAKE_TOKEN)
    webhook = free_port()  # nothing listens: the operator webhook is not under test here
    config = render_alertmanager(
        template_path().read_text(),
        {
            "TELEGRAM_CHAT_ID": CHAT_ID,
            "TELEGRAM_BOT_TOKEN_FILE": str(token_file),
            "ALERT_WEBHOOK_URL": f"http://127.0.0.1:{webhook}/hook",
            "ALERTMANAGER_TEMPLATES_DIR": str(template_path().parent / "templates"),
        },
    )
    for receiver in config["receivers"]:
        for tg in receiver.get("telegram_configs", []):
            tg["api_url"] = f"http://127.0.0.1:{telegram.server_address[1]}"
    jmx = [f"127.0.0.1:{p.jmx}" for p in secured_cluster.plan.primary_ports]
    mon = ClusterMonitoring(
        tmp_path,
        {"kafka": jmx},
        config,
        prometheus_port=free_port(),
        alertmanager_port=free_port(),
        # A scrape of a broker's exporter walks every MBean, per partition too, so it slows
        # as the session cluster gathers topics: 1 s idle with 100 topics here, 2 s with 300,
        # and a CI run (three test workers sharing the CPU) saw all three targets time out at
        # 2 s for a whole minute. 350 topics and three busy CPU hogs reproduce that; with a
        # 10 s interval (so a 10 s timeout, the production one) the test passes under both.
        timings=Timings(
            scrape="10s", evaluation="2s", rule_for="6s", group_wait="1s", group_interval="2s"
        ),
    )
    mon.start()
    try:
        yield mon
    finally:
        mon.stop()


def test_broker_killed_pages_telegram_and_resolves(
    healthy_cluster: SecuredCluster, monitoring: ClusterMonitoring, telegram: FakeTelegram
) -> None:
    _wait_scraped(monitoring)
    # Quiet before the kill, so the page below is the kill's. Waited for, not asserted at
    # once: the session's cluster may be fresh, or have had a node just restarted (by the
    # healthy_cluster fixture or a test before), so the first scrapes can miss an exporter not
    # serving yet or see the controller still counting a broker as fenced, and the rule is
    # evaluated every 2 s (a rehearsal with three test workers saw it still firing when all
    # three exporters were up).
    wait_for(
        lambda: _quiet(monitoring, "KafkaBrokerDown"),
        timeout=90,
        interval=1,
        message="a quiet KafkaBrokerDown with all three brokers up",
    )

    # Only what Telegram gets from here on counts: the fixtures are the module's, and a
    # first scrape may have paged (and resolved) before this test.
    before = len(telegram.messages)
    healthy_cluster.kill(3)
    wait_for(
        lambda: monitoring.alerts("KafkaBrokerDown"),
        timeout=90,
        interval=1,
        message="KafkaBrokerDown to fire in Prometheus",
    )
    wait_for(
        lambda: _sent(telegram, "KafkaBrokerDown", since=before),
        timeout=60,
        interval=0.5,
        message="the Telegram message",
    )
    first = _sent(telegram, "KafkaBrokerDown", since=before)[0]
    assert first["chat_id"] == CHAT_ID and FAKE_TOKEN in first["path"]

    fired = len(telegram.messages)
    healthy_cluster.restart(3)
    wait_for(
        lambda: _quiet(monitoring, "KafkaBrokerDown"),
        timeout=90,
        interval=1,
        message="KafkaBrokerDown to resolve",
    )
    wait_for(
        lambda: any("resolved" in m["text"].lower() for m in telegram.messages[fired:]),
        timeout=60,
        interval=0.5,
        message="the resolved message on Telegram",
    )


def test_the_kafka_dashboard_counts_each_message_once(
    healthy_cluster: SecuredCluster, monitoring: ClusterMonitoring, tmp_path: Path
) -> None:
    """The "Messages in per broker" panel, its rate taken off (the counter itself), moves by
    what was produced: N messages to a new topic move it by N, not 2N."""
    import re

    from confluent_kafka import Producer
    from confluent_kafka.admin import NewTopic

    [panel] = [
        e
        for e in expressions(all_dashboards()["vitrina-kafka.json"])
        if "brokertopicmetrics_messagesin" in e
    ]
    counter = "sum(" + re.sub(r"rate\((.+)\[\$__rate_interval\]\)", r"\1", panel) + ")"
    assert "rate" not in counter, counter
    _wait_scraped(monitoring)
    before = _value(monitoring, counter)
    topic, n = f"dashboard-{tmp_path.name}", 1000
    admin = healthy_cluster.kafka.admin()
    admin.create_topics([NewTopic(topic, 3, 3)])[topic].result(timeout=30)
    producer = Producer(healthy_cluster.kafka.client_config())
    for i in range(n):
        producer.produce(topic, b"x", key=str(i).encode())
    assert producer.flush(30) == 0

    # Every message of the topic scraped (only this test writes it), and at that same instant:
    ours = f'sum(kafka_server_brokertopicmetrics_messagesin_total{{topic="{topic}"}})'
    at = wait_for(
        lambda: _instant_when(monitoring, ours, n),
        timeout=60,
        interval=1,
        message=f"Prometheus to have scraped the {n} messages of {topic}",
    )
    moved = _value(monitoring, counter, at) - before
    # Other writes (offset commits) can add a few; a double count adds n.
    assert n <= moved < 1.5 * n, f"the panel moved by {moved:.0f} for {n} messages: {panel}"


def _instant_when(mon: ClusterMonitoring, query: str, value: float) -> float | None:
    """Now, if `query` is `value` now (so other queries can be asked at that same instant)."""
    import time

    at = time.time()
    return at if _value(mon, query, at) == value else None


def _value(mon: ClusterMonitoring, query: str, at: float | None = None) -> float:
    """An instant query's single value (0 when it has no series)."""
    import httpx

    params: dict[str, Any] = {"query": query}
    if at is not None:
        params["time"] = at
    body = httpx.get(f"{mon.prometheus_url}/api/v1/query", params=params, timeout=3).json()
    result = body["data"]["result"]
    return float(result[0]["value"][1]) if result else 0.0


def _quiet(mon: ClusterMonitoring, alert: str) -> bool:
    """Neither firing nor pending."""
    return not mon.alerts(alert) and not mon.alerts(alert, state="pending")


def _wait_scraped(mon: ClusterMonitoring) -> None:
    wait_for(
        lambda: _scraped(mon) == 3,
        timeout=60,
        interval=1,
        message="Prometheus scraping the 3 JMX exporters",
        explain=lambda: _targets(mon),
    )


def _scraped(mon: ClusterMonitoring) -> int:
    import httpx

    try:
        body = httpx.get(
            f"{mon.prometheus_url}/api/v1/query",
            params={"query": 'sum(up{job="kafka"})'},
            timeout=3,
        ).json()
        result = body["data"]["result"]
    except (httpx.HTTPError, KeyError, ValueError):
        return 0
    return int(float(result[0]["value"][1])) if result else 0


def _targets(mon: ClusterMonitoring) -> str:
    """Each target's health, last scrape time and last error, as Prometheus reports them."""
    import httpx

    try:
        body = httpx.get(f"{mon.prometheus_url}/api/v1/targets", timeout=3).json()
        active = body["data"]["activeTargets"]
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        return f"no targets from Prometheus: {exc!r}"
    return "; ".join(
        f"{t['scrapeUrl']} {t['health']} in {t.get('lastScrapeDuration', 0):.2f}s"
        + (f": {t['lastError']}" if t.get("lastError") else "")
        for t in active
    )


def _sent(telegram: FakeTelegram, text: str, since: int = 0) -> list[dict[str, Any]]:
    return [m for m in telegram.messages[since:] if text in m.get("text", "")]
