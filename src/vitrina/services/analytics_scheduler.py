"""The analytics service: runs the batch job every `analytics.interval_s` and on demand.

On demand means either touching `<data_dir>/run/analytics.trigger` (works from any shell, and
from `vitrina analytics run --via-service`) or sending SIGUSR1 to the process. A run that
finds the lake still empty is "skipped", not failed: the platform was just started. A
VitrinaError (broker away, bad settings) fails the run, which is retried at the next tick;
anything else crashes the service so its supervisor restarts it (house rule 4).
Metrics (defined below): vitrina_analytics_last_success_timestamp_seconds, _run_seconds,
_runs_total{status}, _recommended_users, _model_share, _model_check_hits{list}.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

from vitrina import metrics
from vitrina.errors import VitrinaError
from vitrina.lifecycle import on_signals
from vitrina.settings import Settings

log = logging.getLogger("vitrina.analytics")
POLL_S = 0.5  # how often the trigger file is looked at; on-demand runs start within this


EMPTY_LAKE_RETRY_S = 10.0


# -- the analytics job's metrics (served on settings.ports.analytics; here, not in
# vitrina.metrics, so that no other process exports them as 0: see that module's docstring).
# Alert rules use these names (deploy/prometheus/rules/analytics.yml): status is
# "success", "skipped" or "failed".
LAST_SUCCESS = Gauge(
    "vitrina_analytics_last_success_timestamp_seconds",
    "Unix time the last analytics run finished successfully",
)
RUN_SECONDS = Histogram(
    "vitrina_analytics_run_seconds",
    "Duration of one analytics run",
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
RUNS = Counter("vitrina_analytics_runs_total", "Analytics runs by outcome", ["status"])
RECOMMENDED_USERS = Gauge(
    "vitrina_analytics_recommended_users", "Customers with recommendations in the last run"
)
# The last run's model check (analytics/guard.py): 1 when the model's lead over popularity
# was significant and it is served, 0 when the run fell back to popularity alone; and how
# many hidden history items each list found (list = "model" | "popularity").
MODEL_SHARE = Gauge(
    "vitrina_analytics_model_share",
    "Share of the recommender model kept by the last run's check (0 = popularity alone)",
)
# NaN until a run has checked the model: a 0 before any run (an empty lake, failing runs)
# would say "popularity alone" and fire VitrinaRecommenderOnPopularity (`== 0`) after 6 h.
MODEL_SHARE.set(float("nan"))
MODEL_CHECK_HITS = Gauge(
    "vitrina_analytics_model_check_hits",
    "Hidden history items found by each list in the last run's model check",
    ["list"],
)


def publish_model_check(row: dict[str, Any]) -> None:
    """Export the run's `model_check` row (analytics/guard.py) as gauges (alert
    VitrinaRecommenderOnPopularity); a report without the row leaves the last values."""
    if "share" not in row:
        return
    MODEL_SHARE.set(float(row["share"]))
    MODEL_CHECK_HITS.labels(list="model").set(int(row.get("model_hits", 0)))
    MODEL_CHECK_HITS.labels(list="popularity").set(int(row.get("popularity_hits", 0)))


def trigger_path(settings: Settings) -> Path:
    return settings.data_dir / "run" / "analytics.trigger"


class AnalyticsScheduler:
    """Decides when the job runs; the job itself is injected so tests can count runs."""

    def __init__(
        self,
        settings: Settings,
        job: Callable[[Settings], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if job is None:
            from vitrina.analytics.job import run_job

            job = run_job
        self.settings = settings
        self.job = job
        self.clock = clock
        self.trigger = trigger_path(settings)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.runs: dict[str, int] = {"success": 0, "failed": 0, "skipped": 0}

    # -- control -------------------------------------------------------------------------
    def request_run(self, *_: Any) -> None:
        self._wake.set()

    def stop(self, *_: Any) -> None:
        self._stop.set()
        self._wake.set()

    def install_signal_handlers(self) -> None:
        on_signals((signal.SIGUSR1,), self.request_run)
        on_signals((signal.SIGTERM, signal.SIGINT), self.stop)

    # -- one run -------------------------------------------------------------------------
    def run_once(self) -> str:
        from vitrina.analytics.lakeio import EmptyLakeError

        started = time.monotonic()
        try:
            report = self.job(self.settings)
        except EmptyLakeError as exc:
            # Inside the platform the error's own hint ("run `vitrina up` … first") misleads:
            # the platform is running, and its lake sink has not written the data yet.
            log.warning(
                "analytics skipped: %s; retrying within %.0f s (the lake sink writes what the "
                "platform receives)",
                exc.message,
                EMPTY_LAKE_RETRY_S,
            )
            status = "skipped"
        except VitrinaError as exc:
            log.error("analytics run failed: %s", exc)
            status = "failed"
        except Exception:
            RUNS.labels(status="failed").inc()
            raise
        else:
            status = "success"
            LAST_SUCCESS.set(time.time())
            RECOMMENDED_USERS.set(getattr(report, "customers", 0))
            publish_model_check(getattr(report, "model_check", None) or {})
            log.info("analytics run done in %.1fs", time.monotonic() - started)
        RUN_SECONDS.observe(time.monotonic() - started)
        RUNS.labels(status=status).inc()
        self.runs[status] += 1
        return status

    def _triggered(self) -> bool:
        if self._wake.is_set():
            self._wake.clear()
            return not self._stop.is_set()
        if self.trigger.exists():
            self.trigger.unlink(missing_ok=True)
            return True
        return False

    def run(self, until: Callable[[], bool] | None = None) -> None:
        """Run now, then every interval and whenever triggered, until stopped."""
        interval = self.settings.analytics.interval_s
        next_due = self.clock()
        while not self._stop.is_set() and not (until and until()):
            if self.clock() >= next_due or self._triggered():
                status = self.run_once()
                # A just-started platform has an empty lake: retry soon rather than a whole
                # interval later, so the first recommendations appear within seconds.
                delay = min(interval, EMPTY_LAKE_RETRY_S) if status == "skipped" else interval
                next_due = self.clock() + delay
                continue
            self._wake.wait(POLL_S)


def main(settings: Settings) -> None:
    """Serve metrics on settings.ports.analytics and schedule the job until SIGTERM."""
    metrics.serve_metrics(settings, settings.ports.analytics)
    scheduler = AnalyticsScheduler(settings)
    scheduler.install_signal_handlers()
    scheduler.run()
