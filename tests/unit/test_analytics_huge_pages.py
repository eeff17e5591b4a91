"""The analytics job's process does not ask for transparent huge pages for numpy's arrays
(analytics/model.py says why: a fault could stall for a second), unless the operator
chose with numpy's own switch. Each case in a fresh interpreter: the setting is global."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# numpy first: the model must turn the advice off itself, not only vitrina's default.
PROBE = (
    "import numpy._core.multiarray as m\n"
    "import vitrina.analytics.model\n"
    "print(m._set_madvise_hugepage(True))\n"  # returns the setting in force
)


def _setting(env: dict[str, str]) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"}
    run = subprocess.run(
        [sys.executable, "-c", PROBE], env={**clean, **env}, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def test_the_model_turns_numpys_huge_page_advice_off() -> None:
    assert _setting({}) == "False"


@pytest.mark.parametrize("choice", ["1", "0"])
def test_the_operators_choice_stands(choice: str) -> None:
    assert _setting({"NUMPY_MADVISE_HUGEPAGE": choice}) == str(choice == "1")


def test_vitrina_turns_pyarrows_huge_pages_off_before_pyarrow_loads() -> None:
    """pyarrow's allocator (mimalloc) reads its option when pyarrow loads: importing
    vitrina first sets it, in this process and the ones it starts."""
    clean = {k: v for k, v in os.environ.items() if k != "MIMALLOC_ALLOW_THP"}
    probe = "import vitrina, os, pyarrow; print(os.environ['MIMALLOC_ALLOW_THP'])"
    run = subprocess.run(
        [sys.executable, "-c", probe], env=clean, capture_output=True, text=True, check=True
    )
    assert run.stdout.strip() == "0"
