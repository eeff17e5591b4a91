"""`vitrina up` and `vitrina demo`: the whole platform on one machine.

Order: embedded broker → topics → every built service as its own process (supervised) →
sample catalogue → traffic. Ctrl-C (or the end of the demo) stops everything in reverse.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.text import Text

from vitrina import broker
from vitrina.errors import VitrinaError
from vitrina.services import SERVICES
from vitrina.settings import Settings
from vitrina.supervisor import ProcessSpec, Supervisor


@dataclass
class Platform:
    settings: Settings
    supervisor: Supervisor
    console: Console
    started_broker: bool = False
    started_mirror_broker: bool = False
    services: list[str] = field(default_factory=list)

    def url(self, port_field: str) -> str:
        return f"http://{self.settings.api.host}:{getattr(self.settings.ports, port_field)}"

    def stop(self) -> None:
        self.console.print("[bold]stopping services…[/]")
        self.supervisor.stop_all()
        if self.started_mirror_broker:
            broker.stop(self.settings, "mirror-broker")
        if self.started_broker:
            broker.stop(self.settings)
            self.console.print("broker stopped")


def vitrina_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "vitrina", *args]


def sample_catalog() -> Path:
    return Path(str(resources.files("vitrina") / "data" / "sample-catalog.json"))


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.3) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return True
        except Exception:  # the service is still starting; keep polling
            pass
        time.sleep(interval)
    return False


def http_ok(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def start_platform(settings: Settings, console: Console, *, monitoring: bool = False,
                   mirror: bool = False, traffic: bool = True,
                   only: list[str] | None = None) -> Platform:
    """Start the broker, topics and every built service; return the running platform."""
    from vitrina.kafka.admin import apply_topics

    def emit(name: str, color: str, line: str) -> None:
        text = Text(f"{name:>12} │ ", style=color)
        text.append(line)
        console.print(text, highlight=False, soft_wrap=True)

    supervisor = Supervisor(settings.data_dir / "logs", emit)
    platform = Platform(settings, supervisor, console)
    if settings.broker.embedded:
        was_running = broker.status(settings).running
        with console.status("starting the embedded broker…"):
            st = broker.start(settings)
        platform.started_broker = not was_running
        console.print(f"broker: {st.address} (pid {st.pid})")
    report = apply_topics(settings)
    console.print(f"topics: {len(report.created)} created, {len(report.unchanged)} unchanged, "
                  f"{len(report.differs)} differ")
    try:
        for spec in SERVICES:
            if only is not None and spec.name not in only:
                continue
            if spec.name == "traffic" and not traffic:
                continue
            if not spec.available():
                console.print(f"[dim]{spec.name}: not built in this version, skipped[/]")
                continue
            supervisor.start(ProcessSpec(spec.name, vitrina_argv("run", spec.name)))
            platform.services.append(spec.name)
        if mirror:
            was_running = broker.status(settings, "mirror-broker",
                                        settings.broker.mirror_port).running
            broker.start(settings, "mirror-broker", settings.broker.mirror_port)
            platform.started_mirror_broker = not was_running
            supervisor.start(ProcessSpec("mirror", vitrina_argv("mirror")))
            platform.services.append("mirror")
        if monitoring:
            from vitrina.monitoring.embedded import client_api_webhook, monitoring_processes

            webhook = (client_api_webhook(settings) if "client-api" in platform.services
                       else None)
            for name, argv in monitoring_processes(settings, services=list(platform.services),
                                                   webhook_url=webhook):
                supervisor.start(ProcessSpec(name, argv))
                platform.services.append(name)
    except (VitrinaError, ModuleNotFoundError):
        platform.stop()
        raise
    return platform


def load_sample(settings: Settings, console: Console, path: Path | None = None) -> bool:
    """Load the packaged sample catalogue through the real `shop load` path."""
    catalog = path or sample_catalog()
    if not catalog.is_file():
        console.print(f"[yellow]sample catalogue {catalog} is missing; nothing loaded[/]")
        return False
    result = subprocess.run(vitrina_argv("shop", "load", str(catalog)), check=False)
    return result.returncode == 0


def print_urls(platform: Platform) -> None:
    c = platform.console
    if "client-api" in platform.services:
        c.print(f"[bold green]web page:[/]   {platform.url('client_api')}/")
        c.print(f"client API:  {platform.url('client_api')}/docs")
    if "shop-api" in platform.services:
        c.print(f"SHOP API:    {platform.url('shop_api')}/docs")
    if "prometheus" in platform.services:
        c.print(f"Prometheus:  http://127.0.0.1:{platform.settings.ports.prometheus}/")


def supervise_forever(platform: Platform) -> None:
    try:
        while True:
            platform.supervisor.poll()
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        platform.stop()
