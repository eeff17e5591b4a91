"""Query-building cost: the search's query understanding at a git revision (A) against the
working tree (B), interleaved A B B A and B A A B by turns.

    .venv/bin/python benchmarks/query_cost.py --base HEAD~3
    .venv/bin/python benchmarks/query_cost.py --base 1b00260 --n 20000 --rounds 3

Every judged query (`tests/fixtures/judged-queries.json`) is built uncached, in all three
stages the embedded backend tries (all words, any word, fuzzy), by `TantivyQueries` directly
(not through its LRU), and the thread CPU per query is measured; one unmeasured pass warms
the word caches first. Both sides read one shared index of --n generated products built with
the working tree's code, and each side runs in its own interpreter whose `vitrina` is that
side's source (`git archive BASE src` for A), so a rule added or removed between the two is
all that differs. Prints one JSON object: `ratio` is B's queries per CPU-second over A's
(below 1: the change made query building dearer), with the per-query mean, p50 and p99 of
every run, and the load average around each.

`--queries gibberish`: whole searches (every stage built and run, as `EmbeddedSearch.search`
runs them, its page and query caches emptied before each) of 200 made-up queries of 1-10
words (`--words 20-40`: longer ones, as text pasted into the box): what a client typing
nonsense costs a server process, whose event loop waits meanwhile.

`--cold`: each query built with the word caches of `search.analysis` emptied first (its
lemmas, dictionary checks …; pymorphy3's loaded dictionary stays): what a query made of
words no customer typed before costs — the long tail, and a hostile client's gibberish.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from abba import abba, percentile

ROOT = Path(__file__).resolve().parents[1]
JUDGED = ROOT / "tests" / "fixtures" / "judged-queries.json"
PASSES = 3  # measured passes over the judged queries per run
GIBBERISH_QUERIES = 200


def gibberish(n: int = GIBBERISH_QUERIES, words: tuple[int, int] = (1, 10)) -> list[str]:
    """`n` distinct queries of `words` (1-10) made-up Cyrillic words (3-9 letters), a fixed
    draw."""
    rng = random.Random(29)
    letters = "абвгдежзиклмнопрстуфхцчшщэюя"
    return [
        " ".join(
            "".join(rng.choice(letters) for _ in range(rng.randint(3, 9)))
            for _ in range(rng.randint(*words))
        )
        for _ in range(n)
    ]


def one_side(
    src: str,
    index_path: str,
    cold: bool = False,
    queries_of: str = "judged",
    words: tuple[int, int] = (1, 10),
) -> dict[str, float]:
    """Runs in the side's own interpreter (`--side`): build every judged query's three
    stages with that side's code; thread CPU per query. `queries_of` "gibberish": whole
    searches (stages built and run) of made-up words, the index's caches emptied first."""
    sys.path.insert(0, src)
    import vitrina

    if not vitrina.__file__ or not vitrina.__file__.startswith(src):
        raise SystemExit(f"imported {vitrina.__file__}, not the side's source {src}")
    from vitrina.domain.search_document import query_words
    from vitrina.search.embedded import EmbeddedSearch

    judged = json.loads(JUDGED.read_text("utf-8"))["queries"]
    queries = [tuple(query_words(case["query"])) for case in judged]
    index = EmbeddedSearch(Path(index_path), readonly=True)
    builder = index._queries
    from vitrina.search import analysis

    word_caches = [
        f for name, f in vars(analysis).items() if hasattr(f, "cache_clear") and name != "_morph"
    ]
    if queries_of == "gibberish":
        return searches(index, gibberish(words=words), word_caches if cold else [])

    def one_pass() -> list[float]:
        micros = []
        for words in queries:
            if cold:
                for cache in word_caches:
                    cache.cache_clear()
            started = time.thread_time_ns()
            for mode in ("and", "or", "fuzzy"):
                builder.text_query(words, mode)
            micros.append((time.thread_time_ns() - started) / 1000)
        return micros

    return measured(one_pass, len(queries))


def measured(one_pass: Callable[[], list[float]], queries: int) -> dict[str, float]:
    """One unmeasured pass (word caches warm, as in a running API), then PASSES measured:
    the rate, mean, p50 and p99 of the microseconds per query."""
    one_pass()
    times = sorted(t for _ in range(PASSES) for t in one_pass())
    mean = statistics.fmean(times)
    return {
        "rate": 1e6 / mean,
        "queries": queries,
        "mean_us": round(mean, 1),
        "p50_us": round(percentile(times, 0.5), 1),
        "p99_us": round(percentile(times, 0.99), 1),
    }


def searches(index: Any, texts: list[str], word_caches: list[Any]) -> dict[str, float]:
    """Thread CPU of each whole search of `texts`, none answered from the index's caches
    (nor from `word_caches`, emptied too): what a client typing made-up words costs a
    server process (its event loop waits meanwhile)."""

    def one_pass() -> list[float]:
        micros = []
        for text in texts:
            for cache in word_caches:
                cache.cache_clear()
            index._pages.clear()
            index._queries_built.clear()
            started = time.thread_time_ns()
            index.search(text)
            micros.append((time.thread_time_ns() - started) / 1000)
        return micros

    return measured(one_pass, len(texts))


def extract(rev: str, into: Path) -> Path:
    """`src/` as it is at `rev`, unpacked under `into`."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "src"], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def build_index(path: Path, n: int) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    from vitrina.domain.generator import generate_catalog
    from vitrina.search.embedded import EmbeddedSearch

    writer = EmbeddedSearch(path)
    products = list(generate_catalog(n, seed=42))
    for start in range(0, len(products), 5000):
        writer.upsert(products[start : start + 5000])
    writer.commit()
    writer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="HEAD", help="git revision of side A (default HEAD)")
    parser.add_argument("--n", type=int, default=20_000, help="generated products in the index")
    parser.add_argument("--rounds", type=int, default=4, help="ABBA/BAAB rounds (even, >= 4)")
    parser.add_argument(
        "--cold", action="store_true", help="empty the word caches before each query"
    )
    parser.add_argument(
        "--queries",
        choices=("judged", "gibberish"),
        default="judged",
        help="judged: every judged query's three stages built; gibberish: whole searches "
        f"of {GIBBERISH_QUERIES} made-up queries of 1-10 words, uncached",
    )
    parser.add_argument(
        "--words",
        default="1-10",
        help="gibberish: words per query, MIN-MAX (e.g. 20-40: text pasted into the box)",
    )
    parser.add_argument("--side", nargs=2, metavar=("SRC", "INDEX"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    low, _, high = args.words.partition("-")
    words = (int(low), int(high or low))
    if args.side:
        print(
            json.dumps(one_side(*args.side, cold=args.cold, queries_of=args.queries, words=words))
        )
        return
    with tempfile.TemporaryDirectory(prefix="vitrina-query-cost-") as tmp:
        base_src = extract(args.base, Path(tmp) / "base")
        index = Path(tmp) / "index"
        build_index(index, args.n)

        def side(src: Path):
            def run() -> dict[str, float]:
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--side",
                        str(src),
                        str(index),
                        *(["--cold"] if args.cold else []),
                        "--queries",
                        args.queries,
                        "--words",
                        args.words,
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                return json.loads(out.strip().splitlines()[-1])

            return run

        result = abba(side(base_src), side(ROOT / "src"), rounds=args.rounds)
    print(
        json.dumps(
            {
                "benchmark": "query_cost",
                "base": args.base,
                "products": args.n,
                "word_caches": "emptied before each query" if args.cold else "warm",
                "queries": args.queries,
                **({"words": args.words} if args.queries == "gibberish" else {}),
                **result,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
