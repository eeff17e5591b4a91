"""Embedded monitoring: Prometheus + Alertmanager from the Debian packages, on 127.0.0.1.

`vitrina up --monitoring` asks `monitoring_processes(settings)` for two argv lists and runs
them under its supervisor. Their configs are generated into `<data_dir>/monitoring/` from the
settings (one scrape job per service, on the ports of `settings.ports`) and from the same
alert rules the distributed stack uses (`deploy/prometheus/rules`), so what is tested with
promtool is what runs here. `firing_alerts` reads them back for the web page's operator view.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from vitrina.errors import UnavailableError, VitrinaError
from vitrina.settings import Settings

LOCALHOST = "127.0.0.1"
INSTALL_HINT = (
    "install the Debian packages: `apt-get install -y prometheus "
    "prometheus-alertmanager` (or run scripts/install-system-deps.sh as root)"
)
# Path of the client API's alert webhook, for `write_configs(webhook_url=...)`.
WEBHOOK_PATH = "/api/v1/alerts/webhook"


def rules_source_dir() -> Path:
    """The alert rules: packaged copy in a wheel, else deploy/prometheus/rules of the repo."""
    packaged = Path(__file__).parent / "rules"
    if packaged.is_dir():
        return packaged
    repo = Path(__file__).resolve().parents[3] / "deploy" / "prometheus" / "rules"
    if repo.is_dir():
        return repo
    raise VitrinaError(
        "the Prometheus alert rules were not found",
        hint="reinstall vitrina (the wheel ships them) or run from the repository",
    )


def _binary(names: tuple[str, ...]) -> str:
    """First of `names` on PATH (Debian installs them in /usr/bin)."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise VitrinaError(
        f"{names[0]} is not installed (looked for {', '.join(names)} on PATH)", hint=INSTALL_HINT
    )


def prometheus_binary() -> str:
    return _binary(("prometheus",))


def alertmanager_binary() -> str:
    # Debian names it prometheus-alertmanager; upstream tarballs call it alertmanager.
    return _binary(("prometheus-alertmanager", "alertmanager"))


# -- pure config builders ----------------------------------------------------------------
def scrape_targets(
    settings: Settings, services: Iterable[str] | None = None
) -> list[tuple[str, int]]:
    """(job, port) for every service to scrape; job = the service name of SERVICES."""
    from vitrina.services import SERVICES

    if services is None:
        chosen = [s for s in SERVICES if s.available()]
        targets = [(s.name, getattr(settings.ports, s.port_field)) for s in chosen]
    else:
        wanted = list(services)
        by_name = {s.name: s.port_field for s in SERVICES}
        by_name.setdefault("mirror", "mirror")
        targets = [
            (name, getattr(settings.ports, by_name[name])) for name in wanted if name in by_name
        ]
    return targets


def prometheus_config(
    settings: Settings,
    targets: list[tuple[str, int]],
    rule_files: list[str],
    *,
    scrape_interval: str = "15s",
    evaluation_interval: str = "15s",
    alertmanager: bool = True,
) -> dict[str, Any]:
    """prometheus.yml as a dict: one job per service, itself and Alertmanager, the rules."""
    jobs: list[dict[str, Any]] = [
        {"job_name": job, "static_configs": [{"targets": [f"{LOCALHOST}:{port}"]}]}
        for job, port in targets
    ]
    jobs.append(
        {
            "job_name": "prometheus",
            "static_configs": [{"targets": [f"{LOCALHOST}:{settings.ports.prometheus}"]}],
        }
    )
    config: dict[str, Any] = {
        "global": {
            "scrape_interval": scrape_interval,
            "evaluation_interval": evaluation_interval,
            # Scrapes must finish within the interval; 10 s is Prometheus' default.
            "scrape_timeout": min(scrape_interval, "10s", key=_seconds),
            "external_labels": {"deployment": "embedded"},
        },
        "rule_files": rule_files,
        "scrape_configs": jobs,
    }
    if alertmanager:
        am = f"{LOCALHOST}:{settings.ports.alertmanager}"
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [am]}]}]}
        jobs.append({"job_name": "alertmanager", "static_configs": [{"targets": [am]}]})
    return config


def alertmanager_config(webhook_url: str | None, token_file: Path | None = None) -> dict[str, Any]:
    """alertmanager.yml for one machine: group by alert, inhibit consequences of KafkaBrokerDown.

    With no webhook the receiver is a sink: alerts are still visible in Alertmanager's UI and
    in Prometheus (`firing_alerts`). Telegram belongs to the distributed template.
    """
    receiver: dict[str, Any] = {"name": "operator"}
    if webhook_url:
        receiver["webhook_configs"] = [{"url": webhook_url, "send_resolved": True}]
        if token_file is not None:  # the client API's webhook needs its bearer token
            receiver["webhook_configs"][0]["http_config"] = {
                "authorization": {"type": "Bearer", "credentials_file": str(token_file)}
            }
    return {
        "route": {
            "receiver": "operator",
            "group_by": ["alertname", "service"],
            # 5 s / 1 m: one machine, the operator watches live; the distributed config
            # uses longer waits to batch pages.
            "group_wait": "5s",
            "group_interval": "1m",
            "repeat_interval": "4h",
        },
        "receivers": [receiver],
        "inhibit_rules": inhibit_rules(),
    }


def inhibit_rules() -> list[dict[str, Any]]:
    """Shared by both deployments: a dead broker explains lag, stalls and API errors."""
    return [
        {
            "source_matchers": ["alertname = KafkaBrokerDown"],
            "target_matchers": [
                'alertname =~ "KafkaClientDisconnected|VitrinaConsumerLagGrowing|'
                "VitrinaWorkerStalled|VitrinaPipelineStalled|VitrinaApiErrorRate|"
                "VitrinaApiLatencyHigh|VitrinaAnalyticsStale|VitrinaAnalyticsFailing|"
                'VitrinaWorkerRewinding"'
            ],
        },
        {
            # A flood explains the single dead letters; a stalled worker explains its lag.
            "source_matchers": ["alertname = VitrinaDeadLetterFlood"],
            "target_matchers": ["alertname = VitrinaDeadLetters"],
            "equal": ["service"],
        },
        {
            "source_matchers": ["alertname = VitrinaWorkerStalled"],
            "target_matchers": ["alertname = VitrinaConsumerLagGrowing"],
            "equal": ["service"],
        },
        {
            # A broker that is down (or partitions without leader) explains under-replication.
            "source_matchers": ['alertname =~ "KafkaBrokerDown|KafkaOfflinePartitions"'],
            "target_matchers": ["alertname = KafkaUnderReplicatedPartitions"],
        },
    ]


def rules_with_for(doc: dict[str, Any], for_override: str | None) -> dict[str, Any]:
    """A copy of a rule file with every alert's `for:` replaced (short windows for tests)."""
    if for_override is None:
        return doc
    groups = []
    for group in doc.get("groups", []):
        rules = []
        for rule in group.get("rules", []):
            rule = dict(rule)
            if "alert" in rule:
                rule["for"] = for_override
            rules.append(rule)
        groups.append({**group, "rules": rules})
    return {**doc, "groups": groups}


def _seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    for unit in ("ms", "s", "m", "h"):
        if duration.endswith(unit) and duration[: -len(unit)].isdecimal():
            return int(duration[: -len(unit)]) * units[unit]
    raise VitrinaError(f"unsupported duration {duration!r}", hint="use e.g. 500ms, 1s, 15s, 1m")


# -- files and processes ---------------------------------------------------------------
@dataclass(frozen=True)
class MonitoringFiles:
    root: Path
    prometheus_yml: Path
    alertmanager_yml: Path
    rules_dir: Path
    prometheus_data: Path
    alertmanager_data: Path


def monitoring_dir(settings: Settings) -> Path:
    return settings.data_dir / "monitoring"


def write_configs(
    settings: Settings,
    *,
    services: Iterable[str] | None = None,
    scrape_interval: str = "15s",
    evaluation_interval: str = "15s",
    for_override: str | None = None,
    webhook_url: str | None = None,
) -> MonitoringFiles:
    """Write prometheus.yml, the rules and alertmanager.yml into <data_dir>/monitoring/."""
    root = monitoring_dir(settings).resolve()
    rules_dir = root / "rules"
    rules_dir.mkdir(parents=True, exist_ok=True)
    for old in rules_dir.glob("*.yml"):
        old.unlink()
    for source in sorted(rules_source_dir().glob("*.yml")):
        doc = yaml.safe_load(source.read_text("utf-8"))
        (rules_dir / source.name).write_text(
            yaml.safe_dump(rules_with_for(doc, for_override), sort_keys=False, allow_unicode=True),
            "utf-8",
        )
    files = MonitoringFiles(
        root,
        root / "prometheus.yml",
        root / "alertmanager.yml",
        rules_dir,
        root / "prometheus-data",
        root / "alertmanager-data",
    )
    config = prometheus_config(
        settings,
        scrape_targets(settings, services),
        [str(rules_dir / "*.yml")],
        scrape_interval=scrape_interval,
        evaluation_interval=evaluation_interval,
    )
    files.prometheus_yml.write_text(yaml.safe_dump(config, sort_keys=False), "utf-8")
    token_file = None
    if webhook_url:
        from vitrina.api.alerts import WEBHOOK_TOKEN_FILE, webhook_token

        webhook_token(settings)  # generated on first use
        token_file = (settings.secrets_dir / WEBHOOK_TOKEN_FILE).resolve()
    files.alertmanager_yml.write_text(
        yaml.safe_dump(alertmanager_config(webhook_url, token_file), sort_keys=False), "utf-8"
    )
    return files


def client_api_webhook(settings: Settings) -> str:
    """The client API's webhook URL (pass it as `webhook_url` once the API serves it)."""
    return f"http://{LOCALHOST}:{settings.ports.client_api}{WEBHOOK_PATH}"


def prometheus_argv(settings: Settings, files: MonitoringFiles) -> list[str]:
    return [
        prometheus_binary(),
        f"--config.file={files.prometheus_yml}",
        f"--storage.tsdb.path={files.prometheus_data}",
        # 2 d: a development machine needs hours of history, not weeks of disk.
        "--storage.tsdb.retention.time=2d",
        f"--web.listen-address={LOCALHOST}:{settings.ports.prometheus}",
        "--web.enable-lifecycle",
    ]


def alertmanager_argv(settings: Settings, files: MonitoringFiles) -> list[str]:
    return [
        alertmanager_binary(),
        f"--config.file={files.alertmanager_yml}",
        f"--storage.path={files.alertmanager_data}",
        f"--web.listen-address={LOCALHOST}:{settings.ports.alertmanager}",
        # Empty: no HA gossip (it would listen on 0.0.0.0:9094).
        "--cluster.listen-address=",
    ]


def monitoring_processes(settings: Settings, **config: Any) -> list[tuple[str, list[str]]]:
    """(name, argv) for Prometheus and Alertmanager; configs written first.

    Keyword arguments go to `write_configs` (services, intervals, for_override, webhook_url).
    Raises VitrinaError with an install hint when the Debian packages are absent.
    """
    prometheus, alertmanager = prometheus_binary(), alertmanager_binary()  # fail before writing
    del prometheus, alertmanager
    files = write_configs(settings, **config)
    return [
        ("prometheus", prometheus_argv(settings, files)),
        ("alertmanager", alertmanager_argv(settings, files)),
    ]


def prometheus_url(settings: Settings) -> str:
    return f"http://{LOCALHOST}:{settings.ports.prometheus}"


def alerts(settings: Settings, *, timeout: float = 2.0) -> list[dict[str, Any]]:
    """Every alert Prometheus currently evaluates as pending or firing."""
    import httpx

    url = f"{prometheus_url(settings)}/api/v1/alerts"
    try:
        response = httpx.get(url, timeout=timeout)
        response.raise_for_status()
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise UnavailableError(
            f"Prometheus does not answer at {url}: {exc}",
            hint="start it with `vitrina up --monitoring`",
        ) from None
    return list(body.get("data", {}).get("alerts", []))


def firing_alerts(settings: Settings, *, timeout: float = 2.0) -> list[dict[str, Any]]:
    """Firing alerts, most severe first: {name, severity, labels, summary, runbook, active_at}."""
    order = {"critical": 0, "warning": 1}
    result = []
    for alert in alerts(settings, timeout=timeout):
        if alert.get("state") != "firing":
            continue
        labels = alert.get("labels", {})
        notes = alert.get("annotations", {})
        result.append(
            {
                "name": labels.get("alertname", ""),
                "severity": labels.get("severity", "none"),
                "labels": labels,
                "summary": notes.get("summary", ""),
                "description": notes.get("description", ""),
                "runbook": notes.get("runbook", ""),
                "active_at": alert.get("activeAt"),
                "value": alert.get("value"),
            }
        )
    result.sort(key=lambda a: (order.get(a["severity"], 9), a["name"]))
    return result
