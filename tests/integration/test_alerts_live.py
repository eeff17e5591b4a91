"""Live alerting: a real broker, a real stream worker, real Prometheus and Alertmanager.

Stopping the embedded broker must make KafkaBrokerDown fire in Prometheus (within the test's
short `for:` window) and reach Alertmanager; restarting it must resolve the alert because the
worker reaches the broker again (not because its metrics vanished). A second test shows
Alertmanager's inhibition: while KafkaBrokerDown fires, its consequences are suppressed.

The worker is this file run as a script (`probe`): a StreamWorker over one topic, restarted on
BrokerError the way `vitrina up`'s supervisor restarts a crashed service.
"""

from __future__ import annotations

import shutil
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.monitoring]

if __name__ != "__main__":
    from tests.conftest import free_port, wait_for
    from tests.support import ChildProcess as Process

    from vitrina import broker
    from vitrina.kafka.admin import apply_topics
    from vitrina.monitoring.cluster import ClusterMonitoring
    from vitrina.monitoring.embedded import monitoring_processes, write_configs
    from vitrina.settings import Settings, load_settings

    if not (shutil.which("prometheus") and shutil.which("prometheus-alertmanager")):
        pytest.skip(
            "apt-get install -y prometheus prometheus-alertmanager", allow_module_level=True
        )


def get_json(url: str, **params: Any) -> Any:
    try:
        response = httpx.get(url, params=params, timeout=2.0)
    except httpx.HTTPError:
        return None
    return response.json() if response.status_code == 200 else None


def prometheus_alerts(settings: Settings, name: str) -> list[dict]:
    body = get_json(f"http://127.0.0.1:{settings.ports.prometheus}/api/v1/alerts") or {}
    return [
        a for a in body.get("data", {}).get("alerts", []) if a["labels"].get("alertname") == name
    ]


def firing(settings: Settings, name: str) -> bool:
    return any(a["state"] == "firing" for a in prometheus_alerts(settings, name))


def scraped_broker_up(settings: Settings) -> float | None:
    body = get_json(
        f"http://127.0.0.1:{settings.ports.prometheus}/api/v1/query",
        query="max(vitrina_worker_broker_up)",
    )
    result = (body or {}).get("data", {}).get("result", [])
    return float(result[0]["value"][1]) if result else None


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Settings, dict[str, Process]]]:
    port = free_port()
    settings = load_settings(
        data_dir=tmp_path / "data",
        broker={"port": port},
        kafka={"bootstrap_servers": f"127.0.0.1:{port}"},
        ports={"filter": free_port(), "prometheus": free_port(), "alertmanager": free_port()},
    )
    broker.start(settings)
    apply_topics(settings)
    procs: dict[str, Process] = {}
    try:
        procs["probe"] = Process(
            "probe",
            [
                sys.executable,
                __file__,
                "probe",
                settings.kafka.bootstrap_servers,
                str(settings.ports.filter),
                settings.topics.shop_products,
            ],
            tmp_path / "probe.log",
        )
        # 1 s scrapes and evaluations, 2 s `for:`: the real rules with short windows.
        for name, argv in monitoring_processes(
            settings,
            services=["filter"],
            scrape_interval="1s",
            evaluation_interval="1s",
            for_override="2s",
        ):
            procs[name] = Process(name, argv, tmp_path / f"{name}.log")
        yield settings, procs
    finally:
        for proc in procs.values():
            proc.stop()
        broker.stop(settings)


def test_broker_down_fires_then_resolves_after_restart(live) -> None:
    settings, procs = live
    logs = lambda: "\n".join(p.tail() for p in procs.values())  # noqa: E731
    wait_for(
        lambda: scraped_broker_up(settings) == 1.0,
        40,
        message=f"Prometheus to scrape broker_up=1 from the worker\n{logs()}",
    )
    assert not firing(settings, "KafkaBrokerDown")  # healthy: quiet

    broker.stop(settings)
    stopped = time.monotonic()
    wait_for(
        lambda: firing(settings, "KafkaBrokerDown"),
        30,
        message=f"KafkaBrokerDown to fire\n{logs()}",
    )
    fired_after = time.monotonic() - stopped
    alert = prometheus_alerts(settings, "KafkaBrokerDown")[0]
    assert alert["labels"]["severity"] == "critical"
    assert alert["annotations"]["runbook"]
    # Prometheus handed it to Alertmanager (the generated alerting config works).
    am = f"http://127.0.0.1:{settings.ports.alertmanager}/api/v2/alerts"
    wait_for(
        lambda: any(a["labels"]["alertname"] == "KafkaBrokerDown" for a in get_json(am) or []),
        15,
        message=f"Alertmanager to receive KafkaBrokerDown\n{logs()}",
    )

    broker.start(settings)
    apply_topics(settings)  # memory storage: the restarted broker has no topics
    # ~4 s here; 45 s ran out once in a loaded CI run (the probe's only line: expelled from
    # its group), so the wait is longer and a failure says what Prometheus saw meanwhile.
    seen: list[float | None] = []
    wait_for(
        lambda: (
            seen.append(scraped_broker_up(settings))
            or not prometheus_alerts(settings, "KafkaBrokerDown")
        ),
        90,
        interval=0.5,
        message="KafkaBrokerDown to resolve",
        explain=lambda: (
            f"broker_up scraped meanwhile: {sorted(set(seen), key=str)}, last {seen[-5:]}\n{logs()}"
        ),
    )
    # Resolved because the worker reaches the broker again, not because its series vanished.
    assert scraped_broker_up(settings) == 1.0
    print(f"KafkaBrokerDown fired {fired_after:.1f} s after the broker stopped")


def test_the_clusters_prometheus_watches_the_vitrina_services(tmp_path: Path) -> None:
    """A blind review of `vitrina cluster up` found its Prometheus scraping Kafka and
    MirrorMaker 2 only: no Vitrina service, so 12 of the 17 rules could never fire there.
    It now scrapes every service where the platform on the cluster serves it (the plan's
    `service_ports`, written into the cluster's profile): one serving is up, the others
    page VitrinaServiceDown. A second review saw `cluster up` again rewrite the targets
    while the running Prometheus kept the old ones: it is told to reload (SIGHUP)."""
    import dataclasses

    from prometheus_client import start_http_server

    from vitrina.cluster import topology
    from vitrina.monitoring.cluster import Timings

    def plan_with_filter_on(port: int) -> topology.Plan:
        index = topology.SERVICE_PORT_FIELDS.index("filter")
        return dataclasses.replace(plan, services_port=port - index)

    plan = dataclasses.replace(
        topology.Plan.at(tmp_path), prometheus_port=free_port(), alertmanager_port=free_port()
    )
    timings = Timings(scrape="1s", evaluation="1s", rule_for="2s")
    first, second = free_port(), free_port()
    monitoring = topology._monitoring(plan_with_filter_on(first))
    assert isinstance(monitoring, ClusterMonitoring)
    monitoring.timings = timings
    servers = [start_http_server(port, addr="127.0.0.1")[0] for port in (first, second)]
    monitoring.start()
    try:
        query = f"{monitoring.prometheus_url}/api/v1/query"

        def scraped(job: str) -> dict[str, float]:
            result = (get_json(query, query=f'up{{job="{job}"}}') or {}).get("data", {})
            return {r["metric"]["instance"]: float(r["value"][1]) for r in result.get("result", [])}

        wait_for(lambda: scraped("filter") == {f"127.0.0.1:{first}": 1.0}, 30, message="the filter")
        paged: list[set[str]] = [set()]

        def down() -> bool:
            paged[0] = {a["labels"]["job"] for a in monitoring.alerts("VitrinaServiceDown")}
            return {"indexer", "lake-sink", "client-api"} <= paged[0]

        wait_for(down, 30, message="VitrinaServiceDown for the services not running")
        assert "filter" not in paged[0], paged[0]
        # `cluster up` again with the platform elsewhere: the running Prometheus follows
        moved = topology._monitoring(plan_with_filter_on(second))
        assert isinstance(moved, ClusterMonitoring)
        moved.timings = timings
        moved.start()
        wait_for(lambda: f"127.0.0.1:{second}" in scraped("filter"), 30, message="the new target")
    finally:
        monitoring.stop()
        for server in servers:
            server.shutdown()


def test_the_clusters_alertmanager_pages_the_client_api_of_the_platform(tmp_path: Path) -> None:
    """A blind review: the cluster's Alertmanager had an empty receiver until a Telegram token
    was given, so an alert went nowhere but its UI. It now posts to the client API of the
    platform on the cluster (the plan's client API port), with the webhook token the client
    API reads from the profile's data dir, as `up --monitoring` does on one machine."""
    import dataclasses
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from vitrina.api.alerts import webhook_token
    from vitrina.cluster import topology
    from vitrina.monitoring.cluster import Timings

    posts: list[tuple[str, str, dict[str, Any]]] = []

    class ClientApi(BaseHTTPRequestHandler):  # the webhook's end: what Alertmanager sent
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            posts.append((self.path, self.headers.get("Authorization", ""), body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    api = ThreadingHTTPServer(("127.0.0.1", 0), ClientApi)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    plan = dataclasses.replace(
        topology.Plan.at(tmp_path),
        prometheus_port=free_port(),
        alertmanager_port=free_port(),
        services_port=api.server_address[1],  # the client API is the first service port
    )
    monitoring = topology._monitoring(plan)
    assert isinstance(monitoring, ClusterMonitoring)
    monitoring.timings = Timings(scrape="1s", evaluation="1s", rule_for="2s", group_wait="1s")
    monitoring.start()
    try:
        wait_for(lambda: posts, 60, message="a notification from the cluster's Alertmanager")
        path, authorization, body = posts[0]
        assert path == "/api/v1/alerts/webhook"
        token = webhook_token(load_settings(data_dir=plan.data_dir))
        assert authorization == f"Bearer {token}"
        # Nothing runs here: KafkaBrokerDown or VitrinaServiceDown, whichever is sent first
        assert body["status"] == "firing" and body["alerts"], body
    finally:
        monitoring.stop()
        api.shutdown()


def test_broker_down_inhibits_its_consequences(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data", ports={"alertmanager": free_port()})
    write_configs(settings)
    _, argv = monitoring_processes(settings)[1]
    am = Process("alertmanager", argv, tmp_path / "am.log")
    try:
        base = f"http://127.0.0.1:{settings.ports.alertmanager}/api/v2"
        wait_for(lambda: get_json(f"{base}/status"), 20, message=f"Alertmanager\n{am.tail()}")
        alerts = [
            {"labels": {"alertname": name, "severity": sev, **extra}}
            for name, sev, extra in [
                ("KafkaBrokerDown", "critical", {}),
                (
                    "VitrinaConsumerLagGrowing",
                    "warning",
                    {"service": "indexer", "topic": "filtered-products"},
                ),
                ("VitrinaApiErrorRate", "critical", {"api": "client"}),
                ("VitrinaDeadLetters", "warning", {"service": "filter"}),
            ]
        ]
        assert httpx.post(f"{base}/alerts", json=alerts, timeout=5).status_code == 200

        def states() -> dict[str, str] | None:
            got = {
                a["labels"]["alertname"]: a["status"]["state"]
                for a in get_json(f"{base}/alerts") or []
            }
            return got if len(got) == 4 and got["VitrinaApiErrorRate"] == "suppressed" else None

        got = wait_for(states, 15, message=f"inhibition\n{am.tail()}")
        assert got == {
            "KafkaBrokerDown": "active",
            "VitrinaConsumerLagGrowing": "suppressed",
            "VitrinaApiErrorRate": "suppressed",
            "VitrinaDeadLetters": "active",
        }
    finally:
        am.stop()


def probe(bootstrap: str, metrics_port: int, topic: str) -> None:
    """A StreamWorker that consumes and outputs nothing: exports vitrina_worker_broker_up."""
    from vitrina import metrics
    from vitrina.errors import VitrinaError
    from vitrina.kafka.worker import Step, StreamWorker
    from vitrina.settings import load_settings

    class Idle(Step):
        service = "filter"  # scraped as the filter job

        def process(self, message: Any) -> list:
            return []

    settings = load_settings(kafka={"bootstrap_servers": bootstrap})
    metrics.serve_metrics(settings, metrics_port)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    while not stopping:
        try:
            worker = StreamWorker(settings, Idle(), [topic], group_id="alert-probe")
            worker.run(until=lambda: bool(stopping))
        except VitrinaError as exc:  # e.g. the restarted broker has no topic yet
            print(f"probe: worker stopped ({exc}); starting again", flush=True)
            time.sleep(0.5)


if __name__ == "__main__" and sys.argv[1:2] == ["probe"]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
    probe(sys.argv[2], int(sys.argv[3]), sys.argv[4])
