"""Alerts in the operator view: what Prometheus says is firing, and what Alertmanager sent.

Two routes:
- ``GET /api/v1/ops/alerts`` (admin token): firing alerts read from Prometheus'
  /api/v1/alerts, most severe first, plus the notifications recently received on the webhook.
  When Prometheus is not running the answer is still 200 with ``available: false`` and a hint:
  monitoring is optional, so its absence is a state of the page, not an error.
- ``POST /api/v1/alerts/webhook``: Alertmanager's webhook receiver (payload version 4). The
  last ``INBOX_SIZE`` notifications are kept in memory (bounded; lost on restart, which is
  fine: Alertmanager and Prometheus remain the record).

Webhook access: every request needs a bearer token — the webhook token (generated into
``<data_dir>/secrets/alert-webhook.token`` on first use, mode 0600, never in git; or
``api.alert_webhook_token``) or the admin token. Loopback is no exemption: any local process
could otherwise post fake alerts. Alertmanager sends the token via
``webhook_configs[].http_config.authorization.credentials_file`` (monitoring/embedded.py
writes that). A browser page cannot forge a post either: the body must be
``application/json``, which a cross-site form cannot send without a CORS preflight this API
never grants.
"""

from __future__ import annotations

import hmac
import ipaddress
import threading
from collections import deque
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from vitrina import metrics
from vitrina.api.deps import AppState, require_admin, state
from vitrina.api.errors import error_responses
from vitrina.errors import AuthError, UnavailableError
from vitrina.settings import Settings, local_secret

router = APIRouter(prefix="/api/v1", tags=["alerts"])

Operator = Annotated[str, Depends(require_admin)]
App = Annotated[AppState, Depends(state)]

INBOX_SIZE = 100  # notifications kept: a few hours of a noisy embedded platform
ALERTS_PER_NOTIFICATION = 50  # kept per notification; the rest only counted (memory bound)
TEXT_CHARS = 500  # summary/runbook/description shown; annotations are meant to be one line
UNAVAILABLE_HINT = "start with `vitrina up --monitoring`"
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}

Short = Annotated[str, Field(max_length=10_000)]


# -- Alertmanager webhook payload (version 4) ------------------------------------------------
class WebhookAlert(BaseModel):
    """One alert of a notification; unknown fields are ignored (Alertmanager adds fields)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    status: Literal["firing", "resolved"]
    labels: dict[Short, Short] = Field(max_length=200)
    annotations: dict[Short, Short] = Field(default_factory=dict, max_length=200)
    starts_at: datetime = Field(alias="startsAt")
    ends_at: datetime | None = Field(None, alias="endsAt")
    generator_url: Short = Field("", alias="generatorURL")
    fingerprint: Short = ""


class WebhookNotification(BaseModel):
    """Alertmanager's webhook body: https://prometheus.io/docs/alerting/latest/configuration/"""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    version: Literal["4"]
    status: Literal["firing", "resolved"]
    receiver: Short = ""
    group_key: Short = Field("", alias="groupKey")
    truncated_alerts: int = Field(0, ge=0, alias="truncatedAlerts")
    group_labels: dict[Short, Short] = Field(default_factory=dict, alias="groupLabels")
    common_labels: dict[Short, Short] = Field(default_factory=dict, alias="commonLabels")
    external_url: Short = Field("", alias="externalURL")
    # 10 000: far above a real group, low enough that one request cannot exhaust memory.
    alerts: list[WebhookAlert] = Field(min_length=1, max_length=10_000)


# -- pure helpers ------------------------------------------------------------------------------
def _clip(text: str) -> str:
    return text if len(text) <= TEXT_CHARS else text[: TEXT_CHARS - 1] + "…"


def _service(labels: dict[str, str]) -> str:
    """Worker metrics carry `service`; `up`-based alerts only the scrape `job`."""
    return labels.get("service") or labels.get("job") or ""


def alert_row(alert: dict[str, Any]) -> dict[str, Any]:
    """A firing alert of `monitoring.embedded.firing_alerts` as the page shows it."""
    labels = alert.get("labels") or {}
    return {
        "severity": alert.get("severity") or "none",
        "name": alert.get("name") or "",
        "service": _service(labels),
        "instance": labels.get("instance", ""),
        "summary": _clip(alert.get("summary") or ""),
        "description": _clip(alert.get("description") or ""),
        "runbook": _clip(alert.get("runbook") or ""),
        "since": alert.get("active_at"),
    }


def notification_record(body: WebhookNotification, received_at: datetime) -> dict[str, Any]:
    """What the inbox keeps of one notification: small, display-ready, bounded."""
    kept = body.alerts[:ALERTS_PER_NOTIFICATION]
    alerts = [
        {
            "status": a.status,
            "name": a.labels.get("alertname", ""),
            "severity": a.labels.get("severity", "none"),
            "service": _service(a.labels),
            "summary": _clip(a.annotations.get("summary", "")),
            "runbook": _clip(a.annotations.get("runbook", "")),
            "starts_at": a.starts_at.isoformat(),
            # Alertmanager sends 0001-01-01 as "not ended" for firing alerts.
            "ends_at": a.ends_at.isoformat() if a.ends_at and a.ends_at.year > 1 else None,
            "fingerprint": a.fingerprint[:64],
        }
        for a in kept
    ]
    return {
        "received_at": received_at.isoformat(),
        "status": body.status,
        "receiver": _clip(body.receiver),
        "group_labels": body.group_labels,
        "alerts": alerts,
        "alerts_omitted": len(body.alerts) - len(kept) + body.truncated_alerts,
    }


WEBHOOK_TOKEN_FILE = "alert-webhook.token"


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def webhook_token(settings: Settings) -> str:
    """The webhook's token: api.alert_webhook_token, else generated into the secrets dir."""
    if settings.api.alert_webhook_token is not None:
        return settings.api.alert_webhook_token.get_secret_value()
    return local_secret(settings, WEBHOOK_TOKEN_FILE)


def webhook_allowed(authorization: str, *tokens: str) -> bool:
    """`Bearer <one of tokens>`; whoever the peer is."""
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return False
    return any(hmac.compare_digest(given.strip().encode(), token.encode()) for token in tokens)


# -- the inbox -----------------------------------------------------------------------------------
class AlertInbox:
    """The last `size` webhook notifications, newest first; safe across request threads."""

    def __init__(self, size: int = INBOX_SIZE) -> None:
        self._items: deque[dict[str, Any]] = deque(maxlen=size)
        self._lock = threading.Lock()
        self.received = 0

    def add(self, record: dict[str, Any]) -> None:
        with self._lock:
            self._items.appendleft(record)
            self.received += 1

    def recent(self, limit: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            items = list(self._items)
        return items if limit is None else items[:limit]


def inbox(request: Request) -> AlertInbox:
    box: AlertInbox | None = getattr(request.app.state, "alert_inbox", None)
    if box is None:  # an app built without create_app's wiring still works
        box = request.app.state.alert_inbox = AlertInbox()
    return box


Inbox = Annotated[AlertInbox, Depends(inbox)]


def webhook_access(request: Request, app: App) -> None:
    """Checked before the body is validated: a stranger gets 401, not a schema lesson."""
    peer = request.client.host if request.client else None
    tokens = (webhook_token(app.settings), app.admin_token)
    if not webhook_allowed(request.headers.get("authorization", ""), *tokens):
        raise AuthError(
            f"the alert webhook refused {peer or 'this client'}: it needs "
            "`Authorization: Bearer <token>`",
            hint=f"use the token in {app.settings.secrets_dir / WEBHOOK_TOKEN_FILE}"
            " (Alertmanager: webhook http_config.authorization."
            "credentials_file)",
        )


def firing(settings: Settings) -> dict[str, Any]:
    """Prometheus' firing alerts, or `available: false` with a hint when it does not answer."""
    from vitrina.monitoring.embedded import firing_alerts, prometheus_url

    try:
        rows = [alert_row(a) for a in firing_alerts(settings)]
    except UnavailableError as exc:
        return {"available": False, "hint": UNAVAILABLE_HINT, "reason": exc.message, "alerts": []}
    except (AttributeError, TypeError):  # something else answers on Prometheus' port
        return {
            "available": False,
            "hint": UNAVAILABLE_HINT,
            "alerts": [],
            "reason": f"{prometheus_url(settings)} does not answer like Prometheus",
        }
    rows.sort(key=lambda r: (SEVERITY_ORDER.get(r["severity"], 9), r["name"], r["service"]))
    return {"available": True, "prometheus": prometheus_url(settings), "alerts": rows}


# -- routes --------------------------------------------------------------------------------------
@router.get("/ops/alerts")
def ops_alerts(app: App, operator: Operator, box: Inbox) -> dict[str, Any]:
    """Firing alerts (from Prometheus) and the recent webhook notifications (newest first)."""
    return {
        **firing(app.settings),
        "notifications": box.recent(),
        "notifications_received": box.received,
    }


@router.post(
    "/alerts/webhook",
    status_code=202,
    dependencies=[Depends(webhook_access)],
    responses=error_responses(401, 413, 422),
)
def alert_webhook(box: Inbox, body: WebhookNotification) -> dict[str, Any]:
    """Alertmanager posts here with the webhook (or admin) bearer token."""
    box.add(notification_record(body, datetime.now(UTC)))
    metrics.CLIENT_API_ALERT_NOTIFICATIONS.labels(body.status).inc()
    return {"accepted": len(body.alerts)}
