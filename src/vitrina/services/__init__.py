"""Long-running services. Each module exposes `main(settings)`, which runs until SIGTERM."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from vitrina.settings import Settings


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    target: str  # "module:function"
    port_field: str  # attribute of settings.ports serving /metrics (and HTTP for APIs)
    description: str
    http: bool = False  # serves a web API on its port (else a metrics-only port)
    # Niceness `vitrina up` adds: batch work yields the CPU to what users wait on (search,
    # recommendations, a ban taking effect); on a small machine they share the same cores.
    nice: int = 0

    def load(self) -> Callable[[Settings], None]:
        module_name, func = self.target.split(":")
        return getattr(importlib.import_module(module_name), func)

    def available(self) -> bool:
        try:
            self.load()
            return True
        except (ModuleNotFoundError, AttributeError):
            return False


# Start order of `vitrina up`; stop order is the reverse.
SERVICES: list[ServiceSpec] = [
    ServiceSpec(
        "filter",
        "vitrina.services.filter:main",
        "filter",
        "shop-products → filtered-products / blocked-products, live ban list",
    ),
    ServiceSpec(
        "indexer", "vitrina.services.indexer:main", "indexer", "filtered-products → search index"
    ),
    ServiceSpec(
        "lake-sink",
        "vitrina.services.lake_sink:main",
        "lake_sink",
        "raw topics → Parquet data lake",
        nice=5,
    ),
    ServiceSpec(
        "shop-api",
        "vitrina.services.shop_api:main",
        "shop_api",
        "HTTP: stores POST products",
        http=True,
    ),
    ServiceSpec(
        "client-api",
        "vitrina.services.client_api:main",
        "client_api",
        "HTTP: search, recommendations, web page, operator view",
        http=True,
    ),
    ServiceSpec(
        "analytics",
        "vitrina.services.analytics_scheduler:main",
        "analytics",
        "periodic analytics + recommendations job",
        nice=10,
    ),
    ServiceSpec(
        "traffic",
        "vitrina.services.traffic:main",
        "traffic",
        "demo traffic: orders and client events",
        nice=5,
    ),
]


def service(name: str) -> ServiceSpec:
    for spec in SERVICES:
        if spec.name == name:
            return spec
    known = ", ".join(s.name for s in SERVICES)
    from vitrina.errors import ConfigError

    raise ConfigError(f"unknown service {name!r}", hint=f"one of: {known}")
