"""Every third-party package the code imports is declared in pyproject.toml.

Regression: contracts/codec.py imported jsonschema_rs, which came only with the dev extra's
schemathesis — a plain `pip install vitrina` could not validate a single message.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    specs = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        specs += extra
    return {normalised(re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0]) for spec in specs}


def imported_modules() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "src" / "vitrina").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    return {n for n in names if n != "vitrina" and n not in sys.stdlib_module_names}


def test_every_imported_package_is_declared() -> None:
    dists = packages_distributions()
    have = declared()
    missing = {
        module: dists.get(module, ["?"])
        for module in sorted(imported_modules())
        if not {normalised(d) for d in dists.get(module, [module])} & have
    }
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"
