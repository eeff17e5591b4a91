"""Alerts in the operator view, over a real uvicorn server on the real embedded broker.

- the webhook accepts Alertmanager's payload (version 4), rejects bad bodies with 422, keeps
  only the last 100 notifications and counts them in /metrics;
- access: every poster needs the webhook token (or the admin token), loopback included;
- `/api/v1/ops/alerts` says `available: false` with a hint when Prometheus is not running;
- with a real Prometheus and Alertmanager (Debian packages), VitrinaServiceDown for a
  service that is not running shows in `/api/v1/ops/alerts`, and Alertmanager's notification
  reaches the webhook.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import free_port, settings_on_broker, wait_for
from tests.integration.test_client_api import ADMIN, ApiServer
from tests.support import ChildProcess as Process

from vitrina.api.alerts import INBOX_SIZE, webhook_token
from vitrina.monitoring.embedded import client_api_webhook, monitoring_processes
from vitrina.settings import Settings

pytestmark = pytest.mark.integration

WEBHOOK = "/api/v1/alerts/webhook"
HOSTILE = '<img src=x onerror="window.__pwned=1">'


def alerts_settings(broker: Settings, data_dir: Path) -> Settings:
    """Unique topics, free ports for the API, Prometheus, Alertmanager and a dead `filter`."""
    ports = {name: free_port() for name in ("client_api", "prometheus", "alertmanager", "filter")}
    return settings_on_broker(broker, data_dir, ports=ports, api={"admin_token": ADMIN})


def notification(
    name: str = "VitrinaDeadLetters", status: str = "firing", **labels: str
) -> dict[str, Any]:
    """An Alertmanager webhook body as version 0.2x sends it (nanosecond timestamps)."""
    alert_labels = {"alertname": name, "severity": "warning", "service": "filter", **labels}
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{name}"}}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "operator",
        "groupLabels": {"alertname": name},
        "commonLabels": alert_labels,
        "commonAnnotations": {},
        "externalURL": "http://127.0.0.1:9093",
        "alerts": [
            {
                "status": status,
                "labels": alert_labels,
                "annotations": {
                    "summary": f"{HOSTILE} dead letters",
                    "runbook": "read `vitrina dlq show`",
                },
                "startsAt": "2026-11-01T10:00:00.123456789Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://127.0.0.1:9090/graph",
                "fingerprint": "abc123",
            }
        ],
    }


@pytest.fixture(scope="module")
def served(
    broker_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Settings, str]]:
    settings = alerts_settings(broker_settings, tmp_path_factory.mktemp("alerts"))
    with ApiServer(settings) as server:
        yield settings, server.url


@pytest.fixture
def client(served: tuple[Settings, str]) -> Iterator[httpx.Client]:
    """Posts carry the webhook token, as Alertmanager's credentials_file does."""
    token = webhook_token(served[0])
    with httpx.Client(
        base_url=served[1], timeout=30, headers={"Authorization": f"Bearer {token}"}
    ) as http:
        yield http


def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN}"}


def ops_alerts(client: httpx.Client) -> dict[str, Any]:
    response = client.get("/api/v1/ops/alerts", headers=admin())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def notifications_metric(client: httpx.Client, status: str) -> float:
    line = f'vitrina_client_api_alert_notifications_total{{status="{status}"}} '
    for row in client.get("/metrics").text.splitlines():
        if row.startswith(line):
            return float(row[len(line) :])
    return 0.0


def test_ops_alerts_needs_the_admin_token(client: httpx.Client) -> None:
    response = client.get("/api/v1/ops/alerts", headers={"Authorization": ""})
    assert response.status_code == 401
    assert "bearer token" in response.json()["error"]["message"]


def test_without_prometheus_the_view_says_how_to_start_it(client: httpx.Client) -> None:
    body = ops_alerts(client)
    assert body["available"] is False
    assert body["hint"] == "start with `vitrina up --monitoring`"
    assert body["alerts"] == []
    assert "notifications" in body


def test_webhook_keeps_the_notification_for_the_view(client: httpx.Client) -> None:
    before = notifications_metric(client, "resolved")
    marker = f"Marker{uuid.uuid4().hex[:6]}"
    response = client.post(WEBHOOK, json=notification(marker, status="resolved"))
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": 1}
    assert notifications_metric(client, "resolved") == before + 1

    newest = ops_alerts(client)["notifications"][0]
    assert newest["status"] == "resolved"
    alert = newest["alerts"][0]
    assert alert["name"] == marker and alert["service"] == "filter"
    assert alert["summary"] == f"{HOSTILE} dead letters"  # stored as text; the page escapes
    assert alert["runbook"] == "read `vitrina dlq show`"
    assert alert["ends_at"] is None  # Alertmanager's 0001-01-01 means "not ended"
    assert alert["starts_at"].startswith("2026-11-01T10:00:00.123456")


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b.update(version="3"),
        lambda b: b.update(status="exploded"),
        lambda b: b.update(alerts=[]),
        lambda b: b.pop("alerts"),
        lambda b: b["alerts"][0].update(startsAt="yesterday"),
        lambda b: b["alerts"][0].update(labels=["not", "a", "map"]),
    ],
    ids=["version", "status", "no-alerts", "missing-alerts", "bad-time", "labels-type"],
)
def test_webhook_rejects_a_bad_body_with_422(client: httpx.Client, mutate: Any) -> None:
    body = notification()
    mutate(body)
    before = notifications_metric(client, "firing")
    response = client.post(WEBHOOK, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"]
    assert notifications_metric(client, "firing") == before


def test_webhook_rejects_non_json(client: httpx.Client) -> None:
    # What a cross-site form could send: it must not be taken as a notification.
    response = client.post(
        WEBHOOK, content=b'{"version": "4"}', headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 422


def test_webhook_needs_a_token_even_from_loopback(served: tuple[Settings, str]) -> None:
    """Issue 12 item 9: any local process could post fake alerts without a token."""
    settings, url = served
    with httpx.Client(base_url=url, timeout=30) as anonymous:
        refused = anonymous.post(WEBHOOK, json=notification())
        assert refused.status_code == 401, refused.text
        assert "alert-webhook.token" in refused.json()["error"]["hint"]
        # A stranger learns nothing about the schema: 401 before validation.
        assert anonymous.post(WEBHOOK, json={"x": 1}).status_code == 401
        wrong = anonymous.post(
            WEBHOOK, json=notification(), headers={"Authorization": "Bearer nope"}
        )
        assert wrong.status_code == 401
        assert anonymous.post(WEBHOOK, json=notification(), headers=admin()).status_code == 202
    token_file = settings.secrets_dir / "alert-webhook.token"
    assert token_file.stat().st_mode & 0o777 == 0o600


def test_inbox_keeps_only_the_last_100(client: httpx.Client) -> None:
    for i in range(INBOX_SIZE + 5):
        response = client.post(WEBHOOK, json=notification(f"Bulk{i:03d}"))
        assert response.status_code == 202
    body = ops_alerts(client)
    kept = body["notifications"]
    assert len(kept) == INBOX_SIZE
    assert kept[0]["alerts"][0]["name"] == f"Bulk{INBOX_SIZE + 4:03d}"  # newest first
    assert kept[-1]["alerts"][0]["name"] == "Bulk005"  # the five oldest were dropped
    assert body["notifications_received"] >= INBOX_SIZE + 5


@pytest.mark.monitoring
@pytest.mark.skipif(
    not (shutil.which("prometheus") and shutil.which("prometheus-alertmanager")),
    reason="apt-get install -y prometheus prometheus-alertmanager",
)
def test_real_prometheus_alert_shows_in_the_view(
    served: tuple[Settings, str], client: httpx.Client, tmp_path: Path
) -> None:
    settings, _ = served
    # `filter` is scraped on a free port where nothing listens: VitrinaServiceDown fires
    # after the 1 s `for:`; Alertmanager then posts it to this API's webhook.
    processes = [
        Process(name, argv, tmp_path / f"{name}.log")
        for name, argv in monitoring_processes(
            settings,
            services=["filter", "client-api"],
            scrape_interval="1s",
            evaluation_interval="1s",
            for_override="1s",
            webhook_url=client_api_webhook(settings),
        )
    ]
    try:

        def service_down() -> dict[str, Any] | None:
            body = ops_alerts(client)
            return next(
                (
                    a
                    for a in body["alerts"]
                    if a["name"] == "VitrinaServiceDown" and a["service"] == "filter"
                ),
                None,
            )

        try:
            alert = wait_for(
                service_down,
                40,
                interval=0.5,
                message="VitrinaServiceDown{job=filter} in /api/v1/ops/alerts",
            )
        except AssertionError:
            raise AssertionError("\n".join(p.tail() for p in processes)) from None
        assert alert["severity"] == "critical"
        assert "filter" in alert["summary"]
        assert alert["runbook"] and alert["since"]
        body = ops_alerts(client)
        assert body["available"] is True
        # The client API itself is up, so it is not reported down.
        assert not any(
            a["name"] == "VitrinaServiceDown" and a["service"] == "client-api"
            for a in body["alerts"]
        )

        def delivered() -> bool:
            return any(
                a["name"] == "VitrinaServiceDown" and a["service"] == "filter"
                for n in ops_alerts(client)["notifications"]
                for a in n["alerts"]
            )

        # Alertmanager's group_wait is 5 s in the embedded config.
        wait_for(delivered, 30, interval=0.5, message="Alertmanager's webhook notification")
    finally:
        for process in processes:
            process.stop()
