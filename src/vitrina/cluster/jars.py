"""Jar sets resolved from Maven Central with Maven, one cache directory per component.

Each component is a small pom under ``deploy/<component>/pom.xml`` that only lists
dependencies; ``mvn dependency:copy-dependencies`` copies them (checksums verified by Maven)
into ``<cache>/<component>/``. Nothing is built and nothing is committed. Resolution is
idempotent: a complete cache (marked by a stamp newer than the pom) is reused as is.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from vitrina.errors import VitrinaError

DEPLOY_DIR = Path(__file__).resolve().parents[3] / "deploy"
DEFAULT_CACHE = Path.home() / ".cache" / "vitrina" / "jars"
_STAMP = ".resolved"


class JarsError(VitrinaError):
    """Java or Maven is missing, or Maven could not resolve a component."""


def pom_path(component: str) -> Path:
    path = DEPLOY_DIR / component / "pom.xml"
    if not path.is_file():
        raise JarsError(
            f"no pom for component {component!r} at {path}",
            hint="components are the folders of deploy/ that hold a pom.xml",
        )
    return path


def classpath_dir(component: str, cache: Path = DEFAULT_CACHE) -> Path:
    return cache / component


def is_resolved(component: str, cache: Path = DEFAULT_CACHE) -> bool:
    stamp = classpath_dir(component, cache) / _STAMP
    return stamp.is_file() and stamp.stat().st_mtime >= pom_path(component).stat().st_mtime


def check_tools() -> None:
    """Fail with what to install when Java or Maven is missing."""
    missing = [tool for tool in ("java", "mvn") if shutil.which(tool) is None]
    if missing:
        raise JarsError(
            f"{' and '.join(missing)} not found on PATH",
            hint="install Java 17 and Maven (Debian: apt-get install -y "
            "openjdk-17-jre-headless maven)",
        )


def resolve(component: str, cache: Path = DEFAULT_CACHE, quiet: bool = True) -> Path:
    """Make sure the jars of `component` are in the cache; return their directory."""
    target = classpath_dir(component, cache)
    if is_resolved(component, cache):
        return target
    check_tools()
    pom = pom_path(component)
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    cmd = [
        "mvn",
        "-B",
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={staging}",
        "-DincludeScope=runtime",
    ]
    if quiet:
        cmd.insert(2, "-q")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise JarsError(
            f"Maven could not resolve {component}:\n{tail}",
            hint="check that Maven Central is reachable (mvn -v; ~/.m2/settings.xml)",
        )
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    (target / _STAMP).touch()
    return target


def classpath(component: str, cache: Path = DEFAULT_CACHE) -> str:
    """The `-cp` argument for a resolved component (a wildcard over its directory)."""
    return str(resolve(component, cache) / "*")
