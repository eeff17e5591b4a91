"""The lake sink's process runs the garbage collector's youngest pass every 50,000
allocations instead of every 700 (its records die by reference count), and never lowers a
threshold someone set higher."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from vitrina.services.lake_sink import GC_GEN0_THRESHOLD, relax_gc


@pytest.fixture
def thresholds() -> Iterator[None]:
    saved = gc.get_threshold()
    yield
    gc.set_threshold(*saved)


@pytest.mark.usefixtures("thresholds")
def test_relax_gc_raises_only_the_youngest_generation() -> None:
    gc.set_threshold(700, 10, 10)
    relax_gc()
    assert gc.get_threshold() == (GC_GEN0_THRESHOLD, 10, 10)
    assert gc.isenabled()


@pytest.mark.usefixtures("thresholds")
def test_relax_gc_keeps_a_higher_threshold() -> None:
    gc.set_threshold(GC_GEN0_THRESHOLD * 2, 5, 5)
    relax_gc()
    assert gc.get_threshold() == (GC_GEN0_THRESHOLD * 2, 5, 5)
