"""`vitrina search`: a table of hits, options after the query, clean errors."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from tests.support import run_vitrina

from vitrina.domain.generator import generate_catalog
from vitrina.search.base import product_summary
from vitrina.search.embedded import EmbeddedSearch


def run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"VITRINA__DATA_DIR": str(data_dir), "COLUMNS": "200", "PATH": "/usr/bin:/bin"}
    return run_vitrina("search", *args, env=env, timeout=60)


def test_search_cli(tmp_path: Path) -> None:
    missing = run(tmp_path / "empty", "часы")
    assert missing.returncode == 1 and "no search index" in missing.stderr
    assert "vitrina run indexer" in missing.stderr and "Traceback" not in missing.stderr

    index = EmbeddedSearch(tmp_path / "search-index")
    index.upsert(list(generate_catalog(300, seed=42)))
    index.commit()
    index.close()
    found = run(tmp_path, "умные часы", "--category", "Электроника", "--limit", "3")
    assert found.returncode == 0, found.stderr
    assert found.stdout.count("Умные часы") == 3 and "found" in found.stdout
    # the price as the web page and `vitrina client search` write it (4 999,99 RUB)
    assert re.search(r"\b\d{1,3}( \d{3})*,\d{2} RUB\b", found.stdout), found.stdout

    cheap = run(tmp_path, "--sort", "price_asc", "--in-stock", "--json", "-n", "2")
    assert cheap.returncode == 0, cheap.stderr
    page = json.loads(cheap.stdout)  # the client API's page: the same keys, the same items
    assert set(page) == {"total", "limit", "offset", "items"} and len(page["items"]) == 2
    first, second = page["items"]
    assert set(first) == {*product_summary({}), "score"}
    assert first["in_stock"] and first["price"]["amount"] <= second["price"]["amount"]

    bad = run(tmp_path, "часы", "--sort", "cheapest")
    assert bad.returncode == 1 and "unknown sort" in bad.stderr and "price_asc" in bad.stderr
    odd = run(tmp_path, '"(AND:' + "я" * 10_000)
    assert odd.returncode == 0 and "Traceback" not in odd.stderr
