"""A backend's `type` switches from any settings source (issue 11, item 5)."""

from __future__ import annotations

import os

import pytest

from vitrina.errors import ConfigError
from vitrina.search.backends import EmbeddedSearchSettings as EmbeddedSearch
from vitrina.search.backends import OpenSearchSettings as OpenSearchBackend
from vitrina.settings import FileLake, S3Lake, WebHdfsLake, load_settings


@pytest.fixture
def distributed(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for key in [k for k in os.environ if k.startswith("VITRINA_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("VITRINA__PROFILE", "distributed")  # webhdfs lake, opensearch search
    return monkeypatch


def test_lake_type_switches_to_s3_over_a_webhdfs_profile(distributed: pytest.MonkeyPatch) -> None:
    """Was: "lake.backend.s3.user: Extra inputs are not permitted"."""
    distributed.setenv("VITRINA__LAKE__BACKEND__TYPE", "s3")
    distributed.setenv("VITRINA__LAKE__BACKEND__ENDPOINT_URL", "http://127.0.0.1:9000")
    backend = load_settings().lake.backend
    assert isinstance(backend, S3Lake)
    assert backend.url == S3Lake().url  # not the profile's webhdfs:// url
    assert backend.endpoint_url == "http://127.0.0.1:9000"


def test_lake_type_switches_to_file_and_search_to_embedded(distributed: pytest.MonkeyPatch) -> None:
    distributed.setenv("VITRINA__LAKE__BACKEND__TYPE", "file")
    distributed.setenv("VITRINA__SEARCH__BACKEND__TYPE", "embedded")
    settings = load_settings(data_dir="/tmp/vitrina-x")
    assert settings.lake.backend == FileLake()
    assert settings.lake_url == "file:///tmp/vitrina-x/lake"
    assert isinstance(settings.search.backend, EmbeddedSearch)


def test_the_profile_still_applies_when_nothing_switches(distributed: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert isinstance(settings.lake.backend, WebHdfsLake)
    assert isinstance(settings.search.backend, OpenSearchBackend)


def test_a_url_alone_chooses_the_type(distributed: pytest.MonkeyPatch) -> None:
    distributed.setenv("VITRINA__LAKE__BACKEND__URL", "s3://bucket/lake")
    distributed.delenv("VITRINA__PROFILE")
    backend = load_settings().lake.backend
    assert isinstance(backend, S3Lake) and backend.url == "s3://bucket/lake"


def test_misspelt_keys_and_unknown_types_are_still_errors(distributed: pytest.MonkeyPatch) -> None:
    distributed.setenv("VITRINA__LAKE__BACKEND__URLL", "s3://x")
    with pytest.raises(ConfigError) as err:
        load_settings()
    # The key and variable to fix, without the union's tag ("lake.backend.webhdfs.urll").
    assert "lake.backend.urll: Extra inputs" in err.value.message
    assert "VITRINA__LAKE__BACKEND__URLL" in err.value.message
    distributed.delenv("VITRINA__LAKE__BACKEND__URLL")
    distributed.setenv("VITRINA__LAKE__BACKEND__TYPE", "gcs")
    with pytest.raises(ConfigError, match="'file', 'webhdfs', 's3'"):
        load_settings()
