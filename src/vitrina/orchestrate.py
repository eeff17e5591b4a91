"""`vitrina up` and `vitrina demo`: the whole platform on one machine.

Order: the data dir's lock (one platform per data dir) → embedded broker → topics → every
service as its own process (supervised, started with the resolved settings file) → sample
catalogue → traffic. Ctrl-C, SIGTERM or SIGHUP (or the end of the demo) stops everything in
reverse; a dead embedded broker is restarted and its topics re-applied (lifecycle.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from vitrina import broker
from vitrina.errors import ConfigError
from vitrina.lifecycle import BrokerWatch, port_open, signals_ignored, wait_until
from vitrina.runstate import PlatformLock, children_settings, make_private
from vitrina.services import SERVICES, ServiceSpec
from vitrina.settings import Settings
from vitrina.supervisor import ProcessSpec, Supervisor

# New files of the platform and its services (lake, index, logs, secrets): owner only.
PRIVATE_UMASK = 0o077
# How long `up` waits for its ports to be freed by a platform that was just killed.
PORTS_FREED_S = 5.0


@dataclass
class Platform:
    settings: Settings
    supervisor: Supervisor
    console: Console
    started_broker: bool = False
    started_mirror_broker: bool = False
    services: list[str] = field(default_factory=list)
    lock: PlatformLock | None = None
    broker_watch: BrokerWatch | None = None
    stopped: bool = False
    # Built but held back until `start_deferred` (`vitrina up`: the client API, so its port
    # answers only once the sample catalogue is searchable).
    deferred: list[ProcessSpec] = field(default_factory=list)

    def url(self, port_field: str) -> str:
        return f"http://{self.settings.api.host}:{getattr(self.settings.ports, port_field)}"

    def start_deferred(self) -> None:
        """Start the services held back at `start_platform(defer=…)`."""
        for spec in self.deferred:
            self.supervisor.start(spec)
            self.services.append(spec.name)
        self.deferred = []
        if self.lock is not None:
            self.lock.services = list(self.services)
            self.lock.write()

    def note_looping(self) -> None:
        """Record the services in a crash loop with the lock, for `vitrina status` (it saw
        a crash-looping lake sink "up" whenever its metrics port answered between deaths)."""
        looping = self.supervisor.looping()
        if self.lock is not None and looping != self.lock.looping:
            self.lock.looping = looping
            self.lock.write()

    def stop(self) -> None:
        """Stop every service (together, bounded by one grace), then the brokers; signals
        are ignored meanwhile."""
        if self.stopped:
            return
        self.stopped = True
        with signals_ignored():
            self.console.print("[bold]stopping services…[/]")
            self.supervisor.stop_all()
            if self.started_mirror_broker:
                broker.stop(self.settings, "mirror-broker")
            if self.started_broker or (self.broker_watch and self.broker_watch.restarts):
                broker.stop(self.settings)
                self.console.print("broker stopped")
            if self.lock is not None:
                self.lock.release()


def vitrina_argv(*args: str, settings_file: Path | None = None) -> list[str]:
    """argv of a `vitrina` child; `settings_file` hands it the parent's resolved settings."""
    head = ["--settings-file", str(settings_file)] if settings_file else []
    return [sys.executable, "-m", "vitrina", *head, *args]


def ports_in_use(settings: Settings, fields: list[str], wait_s: float = 0.0) -> list[str]:
    """`ports.<field> = N` for every port of `fields` something still listens on after
    `wait_s` seconds (asked again every 0.25 s while any is)."""
    deadline = time.monotonic() + wait_s
    while True:
        busy = []
        for name in fields:
            port = getattr(settings.ports, name)
            if port_open(settings.api.host, port):
                busy.append(f"ports.{name} = {port}")
        if not busy or time.monotonic() >= deadline:
            return busy
        time.sleep(0.25)


def start_embedded_broker(settings: Settings, console: Console) -> broker.BrokerStatus:
    """The embedded broker, started once more when its process ends while it starts: a
    kill -9 two seconds into `vitrina up` stopped the whole platform (chaos review), where
    a broker that dies later is restarted by the watch. It dies with `vitrina up` even on
    kill -9, like the services (one running before, e.g. `vitrina broker start`, is left
    as it is)."""
    try:
        return broker.start(settings, die_with_starter=True)
    except broker.BrokerExited as exc:
        console.print(f"[yellow]{escape(exc.message.splitlines()[0])}: starting it once more")
        return broker.start(settings, die_with_starter=True)


def watch_broker(settings: Settings, emit: Callable[[str, str, str], None]) -> BrokerWatch:
    """The embedded broker's watch: restart it with `broker.start`, topics with apply_topics."""
    from vitrina.kafka.admin import apply_topics

    def restart() -> str:  # in the supervisor's main thread, as PR_SET_PDEATHSIG needs
        return broker.start(settings, die_with_starter=True).address

    def topics() -> str:
        report = apply_topics(settings)
        return f"{len(report.created)} created, {len(report.unchanged)} unchanged"

    return BrokerWatch(lambda: broker.status(settings).running, restart, topics, emit)


def sample_catalog() -> Path:
    return Path(str(resources.files("vitrina") / "data" / "sample-catalog.json"))


def http_ok(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def start_platform(
    settings: Settings,
    console: Console,
    *,
    monitoring: bool = False,
    mirror: bool = False,
    traffic: bool = True,
    only: list[str] | None = None,
    defer: tuple[str, ...] = (),
) -> Platform:
    """Start the broker, topics and every built service; return the running platform.
    Services named in `defer` are built but started only by `Platform.start_deferred`."""

    def emit(name: str, color: str, line: str) -> None:
        text = Text(f"{name:>12} │ ", style=color)
        text.append(line)
        console.print(text, highlight=False, soft_wrap=True)

    unknown = sorted(set(only or []) - {spec.name for spec in SERVICES})
    if unknown:
        raise ConfigError(
            f"unknown service(s): {', '.join(unknown)}",
            hint=f"--only takes: {', '.join(spec.name for spec in SERVICES)}",
        )
    lock = PlatformLock(settings).acquire()  # refuses a second platform on this data dir
    try:
        os.umask(PRIVATE_UMASK)
        make_private(settings)
        wanted = [
            spec
            for spec in SERVICES
            if (only is None or spec.name in only) and (traffic or spec.name != "traffic")
        ]
        # Waited for: right after a kill -9 of `vitrina up` its services (stopping on their
        # parent's death) still held their ports for ~0.6 s, and an `up` started then was
        # refused with "another program listens there" (chaos review).
        busy = ports_in_use(settings, [spec.port_field for spec in wanted], PORTS_FREED_S)
        if busy:
            raise ConfigError(
                f"ports already in use: {', '.join(busy)}",
                hint="another program listens there: stop it, or set other "
                "ports (VITRINA__PORTS__<NAME>=…)",
            )
        settings_file = children_settings(settings)
    except BaseException:
        lock.release()
        raise
    supervisor = Supervisor(settings.data_dir / "logs", emit)
    platform = Platform(settings, supervisor, console, lock=lock)
    try:
        _start(
            platform,
            settings_file,
            wanted,
            monitoring=monitoring,
            mirror=mirror,
            emit=emit,
            defer=defer,
        )
    except BaseException:
        platform.stop()
        raise
    lock.services = list(platform.services)
    lock.write()
    return platform


def _start(
    platform: Platform,
    settings_file: Path,
    wanted: list[ServiceSpec],
    *,
    monitoring: bool,
    mirror: bool,
    emit: Callable[[str, str, str], None],
    defer: tuple[str, ...] = (),
) -> None:
    from vitrina.kafka.admin import apply_topics

    settings, console, supervisor = platform.settings, platform.console, platform.supervisor
    if settings.broker.embedded:
        was_running = broker.status(settings).running
        with console.status("starting the embedded broker…"):
            st = start_embedded_broker(settings, console)
        platform.started_broker = not was_running
        console.print(f"broker: {st.address} (pid {st.pid})")
        platform.broker_watch = watch_broker(settings, emit)
    report = apply_topics(settings)
    console.print(
        f"topics: {len(report.created)} created, {len(report.unchanged)} unchanged, "
        f"{len(report.differs)} differ"
    )
    for spec in wanted:
        process = ProcessSpec(
            spec.name, vitrina_argv("run", spec.name, settings_file=settings_file), nice=spec.nice
        )
        if spec.name in defer:
            platform.deferred.append(process)
            continue
        supervisor.start(process)
        platform.services.append(spec.name)
    if mirror:
        was_running = broker.status(settings, "mirror-broker", settings.broker.mirror_port).running
        broker.start(settings, "mirror-broker", settings.broker.mirror_port, die_with_starter=True)
        platform.started_mirror_broker = not was_running
        supervisor.start(ProcessSpec("mirror", vitrina_argv("mirror", settings_file=settings_file)))
        platform.services.append("mirror")
    if monitoring:
        _start_monitoring(platform)


def _start_monitoring(platform: Platform) -> None:
    """Prometheus and Alertmanager for the services started (`up --monitoring`)."""
    from vitrina.monitoring.embedded import client_api_webhook, monitoring_processes

    settings = platform.settings
    taken = [
        f"{port} (ports.{field})"
        for field in ("prometheus", "alertmanager")
        if port_open("127.0.0.1", port := getattr(settings.ports, field))
    ]
    if taken:
        # The profile `vitrina cluster up` writes points both ports at the cluster's
        # Prometheus and Alertmanager, which watch these services already: a second pair
        # could not bind.
        platform.console.print(
            f"monitoring: port {' and '.join(taken)} already answers, so no Prometheus or "
            "Alertmanager is started here. On the profile `vitrina cluster up` wrote, those "
            "are the cluster's, which watch these services; otherwise choose other "
            "ports.prometheus and ports.alertmanager",
            highlight=False,
            soft_wrap=True,
        )
        return
    expected = [*platform.services, *(p.name for p in platform.deferred)]
    webhook = client_api_webhook(settings) if "client-api" in expected else None
    for name, argv in monitoring_processes(settings, services=expected, webhook_url=webhook):
        platform.supervisor.start(ProcessSpec(name, argv))
        platform.services.append(name)


# Written once `vitrina up` has sent the sample catalogue into a data dir: later starts do
# not send it again (a new user's price and stock changes to sample products were undone at
# every restart).
SAMPLE_SENT = "sample-sent"


def sample_sent_at(settings: Settings) -> str | None:
    """When `vitrina up` sent the sample catalogue into this data dir, or None (always on
    the in-memory Tansu engine, which forgets it at every restart)."""
    if settings.broker.embedded and settings.broker.engine == "tansu":
        return None
    try:
        return (settings.data_dir / SAMPLE_SENT).read_text(encoding="utf-8").strip() or "?"
    except FileNotFoundError:
        return None


def mark_sample_sent(settings: Settings) -> None:
    moment = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime())
    (settings.data_dir / SAMPLE_SENT).write_text(moment + "\n", encoding="utf-8")


def load_sample(settings: Settings, console: Console, path: Path | None = None) -> bool:
    """Load the packaged sample catalogue through the real `shop load` path."""
    catalog = path or sample_catalog()
    if not catalog.is_file():
        console.print(f"[yellow]sample catalogue {catalog} is missing; nothing loaded[/]")
        return False
    argv = vitrina_argv("shop", "load", str(catalog), settings_file=children_settings(settings))
    result = subprocess.run(argv, check=False)
    return result.returncode == 0


def wait_searchable(
    settings: Settings,
    console: Console,
    path: Path | None = None,
    timeout: float = 60.0,
    settle: float = 3.0,
) -> bool:
    """Until the search index holds the sample catalogue, so the page finds it from its
    first search: as many products as the sample has, or a count that stopped growing for
    `settle` seconds (banned products never arrive); at most `timeout` seconds."""
    import orjson

    from vitrina.search.api import open_search
    from vitrina.search.base import SearchBackend

    catalog = path or sample_catalog()
    products = orjson.loads(catalog.read_bytes()) if catalog.is_file() else []
    expected = len(products) if isinstance(products, list) else 1
    started = time.monotonic()
    seen = {"count": 0, "changed": started}
    opened: list[SearchBackend] = []  # once the index exists; its count() reloads

    def searchable() -> bool:
        if not opened:
            opened.append(open_search(settings, readonly=True))  # raises until it exists
        count, now = opened[0].count(), time.monotonic()
        if count != seen["count"]:
            seen.update(count=count, changed=now)
        return count >= expected or (count > 0 and now - seen["changed"] >= settle)

    try:
        with console.status("indexing the sample catalogue…"):
            found = wait_until(searchable, timeout, interval=0.2)
    finally:
        for backend in opened:
            backend.close()
    count = int(seen["count"])
    if found:
        console.print(
            f"search: {count} products searchable "
            f"({time.monotonic() - started:.1f} s after the sample was sent)"
        )
    else:
        console.print(
            f"[yellow]search: {count} of the sample's {expected} products indexed after "
            f"{timeout:.0f} s; see `vitrina status` and {settings.data_dir / 'logs'}[/]"
        )
    return found


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
    """Restart what dies (services, the embedded broker) until Ctrl-C / SIGTERM / SIGHUP."""
    try:
        while True:
            platform.supervisor.poll()
            platform.note_looping()
            if platform.broker_watch is not None:
                platform.broker_watch.check()
            time.sleep(0.5)
    except KeyboardInterrupt:  # also lifecycle.Stopped (SIGTERM, SIGHUP)
        pass
    finally:
        platform.stop()
