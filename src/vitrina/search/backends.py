"""The search backends, keyed by `search.backend.type`: embedded (tantivy) and opensearch.

Each backend is its settings model (a member of the `SearchBackendSettings` union the
settings tree uses) and one entry in `SEARCH_BACKENDS`: how to open it. Adding a backend is
one model and one entry; callers only see the `SearchBackend` protocol (search/base.py).
This module imports pydantic only: the heavy clients load inside `open_backend`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from vitrina.errors import ConfigError

if TYPE_CHECKING:
    from vitrina.search.base import SearchBackend
    from vitrina.settings import Settings


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EmbeddedSearchSettings(_Frozen):
    """The tantivy index on the local disk (the embedded default)."""

    type: Literal["embedded"] = "embedded"
    path: str = ""  # empty: <data_dir>/search-index


class OpenSearchSettings(_Frozen):
    """An OpenSearch (or Elasticsearch-compatible) cluster."""

    type: Literal["opensearch"] = "opensearch"
    url: str = "https://opensearch:9200"
    index: str = "vitrina-products"
    username: str | None = None
    password: SecretStr | None = None
    verify_certs: bool = True
    ca_certs: Path | None = None
    # Used when the indexer creates the index; a 3-node cluster would use 3 / 1.
    shards: int = Field(1, ge=1)
    replicas: int = Field(0, ge=0)
    timeout_s: float = Field(30.0, gt=0)
    url_schemes: ClassVar[tuple[str, ...]] = ("http", "https")  # a url alone chooses the type


SearchBackendSettings = Annotated[
    EmbeddedSearchSettings | OpenSearchSettings, Field(discriminator="type")
]


def _open_embedded(settings: Settings, readonly: bool) -> SearchBackend:
    from vitrina.search.embedded import EmbeddedSearch

    return EmbeddedSearch(settings.search_path, readonly=readonly)


def _open_opensearch(settings: Settings, readonly: bool) -> SearchBackend:
    try:
        from vitrina.search.opensearch import OpenSearchIndex
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"the opensearch backend needs {exc.name}", hint="pip install 'vitrina[opensearch]'"
        ) from None
    backend: Any = settings.search.backend
    return OpenSearchIndex.from_settings(backend, readonly=readonly)


SEARCH_BACKENDS: dict[str, Callable[[Settings, bool], SearchBackend]] = {
    "embedded": _open_embedded,
    "opensearch": _open_opensearch,
}


def open_backend(settings: Settings, readonly: bool = False) -> SearchBackend:
    """The backend named by `settings.search.backend.type`."""
    kind = settings.search.backend.type
    opener = SEARCH_BACKENDS.get(kind)
    if opener is None:  # pragma: no cover - the settings union admits only registered types
        raise ConfigError(
            f"unknown search backend {kind!r}",
            hint=f"set search.backend.type to one of: {', '.join(SEARCH_BACKENDS)}",
        )
    return opener(settings, readonly)


def describe_backend(settings: Settings) -> str:
    """Where the index really is, for a service's start log: OpenSearch's URL (credentials
    left out) and index, or the local index folder. The indexer logged the local folder
    while it wrote to OpenSearch, sending an operator to look at an empty directory."""
    backend = settings.search.backend
    if isinstance(backend, OpenSearchSettings):
        parts = urlsplit(backend.url)
        host = parts.hostname or ""
        where = f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}{parts.path}"
        return f"OpenSearch {where.rstrip('/')} index {backend.index}"
    return f"the embedded index {settings.search_path}"
