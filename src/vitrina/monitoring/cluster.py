"""Prometheus + Alertmanager for the native cluster (`vitrina cluster up`): real broker metrics.

Prometheus scrapes the JMX exporter agent of every Kafka node (job `kafka`, the job name the
Kafka alert rules use) and MirrorMaker 2, evaluates the same rule files as every other
deployment (`deploy/prometheus/rules`), and sends to an Alertmanager whose config is the
distributed template (`deploy/alertmanager/alertmanager.yml.tmpl`) rendered with the
operator's Telegram chat and bot token (`vitrina.monitoring.alertmanager`). Tests point the
Telegram receiver's `api_url` at a local fake endpoint and shorten every interval.
"""

from __future__ import annotations

import contextlib
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vitrina.cluster.process import ComponentStatus, ManagedProcess
from vitrina.lifecycle import port_open
from vitrina.monitoring.embedded import (
    LOCALHOST,
    _seconds,
    alertmanager_binary,
    prometheus_binary,
    rules_source_dir,
    rules_with_for,
)


@dataclass
class Timings:
    """Scrape/evaluation interval, every rule's `for:` (None: as written) and Alertmanager
    grouping waits (None: as the template says)."""

    scrape: str = "15s"
    evaluation: str = "15s"
    rule_for: str | None = None
    group_wait: str | None = None
    group_interval: str | None = None


@dataclass
class ClusterMonitoring:
    """A `Component`: Prometheus and Alertmanager as managed processes."""

    root: Path
    targets: dict[str, list[str]]  # job -> ["127.0.0.1:port", ...]
    alertmanager_config: dict[str, Any]
    prometheus_port: int = 29090
    alertmanager_port: int = 29093
    timings: Timings = field(default_factory=Timings)
    name: str = "monitoring"

    @property
    def home(self) -> Path:
        return self.root / "monitoring"

    @property
    def prometheus_url(self) -> str:
        return f"http://{LOCALHOST}:{self.prometheus_port}"

    @property
    def alertmanager_url(self) -> str:
        return f"http://{LOCALHOST}:{self.alertmanager_port}"

    def prometheus_config(self) -> dict[str, Any]:
        jobs = [
            {"job_name": job, "static_configs": [{"targets": targets}]}
            for job, targets in self.targets.items()
        ]
        am = f"{LOCALHOST}:{self.alertmanager_port}"
        return {
            "global": {
                "scrape_interval": self.timings.scrape,
                "evaluation_interval": self.timings.evaluation,
                "scrape_timeout": min(self.timings.scrape, "10s", key=_seconds),
                "external_labels": {"deployment": "cluster"},
            },
            "rule_files": [str(self.home / "rules" / "*.yml")],
            "scrape_configs": jobs,
            "alerting": {"alertmanagers": [{"static_configs": [{"targets": [am]}]}]},
        }

    def _alertmanager_config(self) -> dict[str, Any]:
        config = yaml.safe_load(yaml.safe_dump(self.alertmanager_config))  # deep copy

        def retime(route: dict[str, Any]) -> None:
            for key, value in (
                ("group_wait", self.timings.group_wait),
                ("group_interval", self.timings.group_interval),
            ):
                if value is not None:
                    route[key] = value
            for child in route.get("routes", []):
                retime(child)

        retime(config["route"])
        return config

    def write_configs(self) -> None:
        rules = self.home / "rules"
        rules.mkdir(parents=True, exist_ok=True, mode=0o700)
        for old in rules.glob("*.yml"):
            old.unlink()
        for source in sorted(rules_source_dir().glob("*.yml")):
            doc = rules_with_for(yaml.safe_load(source.read_text("utf-8")), self.timings.rule_for)
            (rules / source.name).write_text(
                yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), "utf-8"
            )
        (self.home / "prometheus.yml").write_text(
            yaml.safe_dump(self.prometheus_config(), sort_keys=False)
        )
        am = self.home / "alertmanager.yml"
        am.touch(mode=0o600)  # may hold the bot token
        am.write_text(
            yaml.safe_dump(self._alertmanager_config(), sort_keys=False, allow_unicode=True)
        )

    def processes(self) -> list[ManagedProcess]:
        prometheus = ManagedProcess(
            "prometheus",
            self.root,
            [
                prometheus_binary(),
                f"--config.file={self.home / 'prometheus.yml'}",
                f"--storage.tsdb.path={self.home / 'prometheus-data'}",
                "--storage.tsdb.retention.time=2d",
                f"--web.listen-address={LOCALHOST}:{self.prometheus_port}",
                "--web.enable-lifecycle",
            ],
            ready=lambda: port_open(LOCALHOST, self.prometheus_port),
            start_timeout_s=60,
        )
        alertmanager = ManagedProcess(
            "alertmanager",
            self.root,
            [
                alertmanager_binary(),
                f"--config.file={self.home / 'alertmanager.yml'}",
                f"--storage.path={self.home / 'alertmanager-data'}",
                f"--web.listen-address={LOCALHOST}:{self.alertmanager_port}",
                "--cluster.listen-address=",
            ],
            ready=lambda: port_open(LOCALHOST, self.alertmanager_port),
            start_timeout_s=60,
        )
        return [alertmanager, prometheus]

    def start(self) -> None:
        """Write the configs and start what is not running; a running Prometheus or
        Alertmanager reads its new config (SIGHUP): `cluster up` again kept scraping the
        old targets until an operator sent the signal (a blind review)."""
        self.write_configs()
        for proc in self.processes():
            pid = proc.pid()
            if pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGHUP)
            proc.start()

    def stop(self) -> None:
        for proc in reversed(self.processes()):
            proc.stop()

    def status(self) -> ComponentStatus:
        pids = [p.pid() for p in self.processes()]
        running = all(pid is not None for pid in pids)
        answering = running and port_open(LOCALHOST, self.prometheus_port)
        return ComponentStatus(
            self.name,
            running,
            answering,
            self.prometheus_url,
            pids[-1],
            f"alertmanager {self.alertmanager_url}",
        )

    # -- reading back ----------------------------------------------------------------------
    def alerts(self, name: str | None = None, state: str = "firing") -> list[dict[str, Any]]:
        import httpx

        body = httpx.get(f"{self.prometheus_url}/api/v1/alerts", timeout=3).json()
        return [
            a
            for a in body["data"]["alerts"]
            if a.get("state") == state and (name is None or a["labels"].get("alertname") == name)
        ]
