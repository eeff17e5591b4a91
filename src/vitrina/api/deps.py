"""What the client API's routes share: settings, the search index, the view, the producer.

The search index is opened lazily and reopened after a failure, so the API starts before the
indexer has written anything and recovers when it has; until then search answers 503 with
a hint, and /readyz says what is missing.
"""

from __future__ import annotations

import hmac
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from vitrina.api.limits import RateLimiter, SharedRateLimiter, shared_or_own_limiter
from vitrina.api.querylog import ClientProducer
from vitrina.errors import AuthError, UnavailableError, VitrinaError
from vitrina.search.api import open_search
from vitrina.search.base import SearchBackend, SearchFilters
from vitrina.services.recs_view import LocalView
from vitrina.settings import Settings, local_secret

log = logging.getLogger(__name__)


def stock_available(doc: dict[str, Any] | None) -> int | None:
    """Units available in an index document; None when there is no document."""
    if doc is None:
        return None
    available = (doc.get("stock") or {}).get("available")
    return int(available) if isinstance(available, int | float) else 0


@dataclass
class AppState:
    settings: Settings
    view: LocalView
    producer: ClientProducer
    admin_token: str
    event_limiter: RateLimiter | SharedRateLimiter | None = None
    search_backend: SearchBackend | None = None
    search_error: str | None = None
    ban_service: Any = None  # vitrina.services.bans.BanService, created on first use
    # vitrina.analytics.neighbours.ItemNeighbours, following the lake (build_state starts it)
    neighbours: Any = None
    # vitrina.analytics.refinements.SearchRefinements, following the lake the same way
    refinements: Any = None
    admin_client: Any = None  # confluent_kafka AdminClient for /readyz, created on first use
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- search index --------------------------------------------------------------------
    def search(self) -> SearchBackend:
        backend = self.search_backend
        if backend is not None:
            return backend
        with self._lock:
            if self.search_backend is None:
                try:
                    self.search_backend = open_search(self.settings, readonly=True)
                    self.search_error = None
                except VitrinaError as exc:
                    self.search_error = str(exc)
                except Exception as exc:  # e.g. the index directory does not exist yet
                    self.search_error = f"{type(exc).__name__}: {exc}"
            if self.search_backend is None:
                raise UnavailableError(
                    f"the search index is not available: {self.search_error}",
                    hint="start the indexer (`vitrina up` or `vitrina run indexer`) and retry",
                )
            return self.search_backend

    def stock_of(self, product_id: str) -> int | None:
        """Units available now, from the index document; None when the product is unknown."""
        return stock_available(self.search().get(product_id))

    def top_in_stock(self, limit: int) -> list[dict[str, Any]]:
        page = self.search().search("", SearchFilters(in_stock=True), "relevance", limit, 0)
        return [
            {"product_id": hit.product_id, "score": float(hit.score), "reason": "in stock now"}
            for hit in page.hits
        ]

    def admin(self) -> Any:
        """One admin client for the process's readiness checks: a new one per /readyz
        cost ~55 ms (its threads, a connection, on the secured cluster a TLS and SASL
        handshake) and a connection the broker set up and tore down for every probe."""
        with self._lock:
            if self.admin_client is None:
                from confluent_kafka.admin import AdminClient

                from vitrina.kafka.clients import admin_config

                self.admin_client = AdminClient(admin_config(self.settings, "client-api"))
            return self.admin_client

    def bans(self) -> Any:
        """The ban service (one producer for the process), created on first use."""
        with self._lock:
            if self.ban_service is None:
                from vitrina.services.bans import BanService

                # Its own principal (ACL: reads and writes the ban list), not admin's.
                self.ban_service = BanService(self.settings, principal="client-api")
            return self.ban_service

    def close(self) -> None:
        self.view.stop()
        for follower in (self.neighbours, self.refinements):
            if follower is not None:
                follower.stop()
        if self.ban_service is not None:
            self.ban_service.close()
        self.producer.close()
        if self.search_backend is not None:
            self.search_backend.close()


def build_state(settings: Settings) -> AppState:
    token = (
        settings.api.admin_token.get_secret_value()
        if settings.api.admin_token
        else local_secret(settings, "admin.token")
    )
    view = LocalView(settings)
    state = AppState(
        settings=settings,
        view=view,
        producer=ClientProducer(settings),
        admin_token=token,
        event_limiter=event_limiter(settings),
        neighbours=following("neighbours", settings),
        refinements=following("refinements", settings),
    )
    # A ban whose key's latest record is not a ban is written again (recs_view's docstring).
    view.on_shadowed_bans = lambda bans: state.bans().reassert(bans)
    view.start()
    return state


def following(what: str, settings: Settings) -> Any:
    """The product page's lists ("neighbours") or search's learned refinements
    ("refinements"), read off the request path from before the first request; None (the
    product route then reads its lists itself, and says what fails; search serves without
    refinements) when the lake's client cannot even be made: the rest of the API starts."""
    from vitrina.analytics.neighbours import item_neighbours
    from vitrina.analytics.refinements import search_refinements

    try:
        if what == "neighbours":
            return item_neighbours(settings).start()
        return search_refinements(settings).start()
    except Exception as exc:
        log.warning("%s not followed: %s", what, exc)
        return None


def event_limiter(settings: Settings) -> RateLimiter | SharedRateLimiter:
    """The events' rate limit, one per client for every client API process of this data
    directory (they map one file of buckets)."""
    return shared_or_own_limiter(
        settings.api.events_per_second,
        settings.api.events_burst,
        settings.data_dir / "run" / "event-buckets",
    )


def app_state_of(request: Request) -> AppState:
    app_state: AppState = request.app.state.vitrina
    return app_state


async def state(request: Request) -> AppState:
    """The app's state as a dependency; async so FastAPI needs no threadpool hop for it."""
    return app_state_of(request)


def require_admin(request: Request) -> str:
    """Check the bearer token of an operator request; returns the operator's name."""
    app_state = app_state_of(request)
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise AuthError(
            "operator endpoints need a bearer token",
            hint="send `Authorization: Bearer <token>`; the token is in "
            f"{app_state.settings.secrets_dir / 'admin.token'} "
            "or settings api.admin_token",
        )
    if not hmac.compare_digest(token.strip().encode(), app_state.admin_token.encode()):
        raise AuthError(
            "the admin token is wrong",
            hint=f"use the token from {app_state.settings.secrets_dir / 'admin.token'}",
        )
    return request.headers.get("x-operator", "operator")[:200] or "operator"
