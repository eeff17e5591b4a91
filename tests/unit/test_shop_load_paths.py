"""Which paths `vitrina shop load` reads, and what it says about the ones it cannot."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vitrina.errors import VitrinaError
from vitrina.services.shop_load import catalogue_files


def test_a_fifo_is_named_for_what_it_is(tmp_path: Path) -> None:
    """Seen: `shop load fifo` said "fifo does not exist" about a path that exists."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(VitrinaError, match="is not a regular file") as err:
        catalogue_files([fifo])
    assert "does not exist" not in str(err.value)


def test_a_missing_path_and_a_folder(tmp_path: Path) -> None:
    with pytest.raises(VitrinaError, match="does not exist"):
        catalogue_files([tmp_path / "missing.json"])
    (tmp_path / "a.json").write_text("[]")
    (tmp_path / "notes.txt").write_text("x")
    assert catalogue_files([tmp_path]) == [tmp_path / "a.json"]
