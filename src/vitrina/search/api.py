"""Open the configured search backend, and the one `search()` the CLI and the client API call."""

from __future__ import annotations

from typing import Any

from vitrina.search.backends import open_backend
from vitrina.search.base import SearchBackend, SearchFilters, SearchPage, SortOrder
from vitrina.settings import Settings


def open_search(settings: Settings, readonly: bool = False) -> SearchBackend:
    """The backend named by `settings.search.backend.type` (see search/backends.py).

    `readonly` is for readers (client API, CLI): the embedded index then does not take the
    writer lock, so they run next to the indexer.
    """
    return open_backend(settings, readonly=readonly)


def search(
    query: str,
    filters: SearchFilters | dict[str, Any] | None = None,
    sort: SortOrder = "relevance",
    limit: int = 10,
    offset: int = 0,
    *,
    backend: SearchBackend | None = None,
    settings: Settings | None = None,
) -> SearchPage:
    """Search products; opens (and closes) a read-only backend unless one is given."""
    if isinstance(filters, dict):
        filters = SearchFilters(**filters)
    if backend is not None:
        return backend.search(query, filters, sort, limit, offset)
    if settings is None:
        from vitrina.settings import get_settings

        settings = get_settings()
    opened = open_search(settings, readonly=True)
    try:
        return opened.search(query, filters, sort, limit, offset)
    finally:
        opened.close()
