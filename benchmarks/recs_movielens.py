"""Recommenders on a second real data set: MovieLens-100k, as shipped inside RecBole's wheel.

The data (100,000 ratings 1-5 of 1,682 films by 943 people, 1997-1998; GroupLens, research
use) is `recbole/dataset_example/ml-100k/` in the PyPI wheel `recbole==1.2.1` (MIT). Only
the wheel's files are read: an installed `recbole` if there is one, else the wheel fetched
once with `pip download --no-deps recbole==1.2.1` into ~/.cache/vitrina-benchmarks (recbole
itself needs torch, so it is not a dev dependency; nothing is imported from it).

Conversion: every rating is an order line (the person "bought" the film; `--min-rating 4`
keeps only the liked ones), each its own order, at the rating's time; a film's category is
its first genre, so the category fill has 18 categories to work with (Instacart had one).

Splits (as `recs_instacart.py`, with ratings for orders): `test` holds out each person's
last 5 ratings (by time, then film), everything earlier trains; `validation(2|3)` drop the
last 5 (10, 15) first and hold out the 5 before; `validation-all` pools the three;
`time` cuts the whole history at its 80 % time quantile (what `analytics evaluate` does):
what people with a training history rated after the cut is the truth. Every held-out film
is new to its person (a film is rated once), so recall@10 here is the issue's "new items".
`--keep 0.1` keeps a random tenth of the ratings (~7 per person): the sparse shape where
EASE leading the list loses to popularity (`vitrina_unchecked`: the model check off) and
the model check (analytics/guard.py) falls back to popularity alone. Each Vitrina run's
`model_check` row is in the JSON (`vitrina_model_check`).

    .venv/bin/python benchmarks/recs_movielens.py                 # prints one JSON object
    .venv/bin/python benchmarks/recs_movielens.py --split time --only vitrina,ease
    .venv/bin/python benchmarks/recs_movielens.py --keep 0.1 --only vitrina,vitrina_unchecked
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
from recs_common import (
    Matrix,
    ease,
    ease_top,
    implicit_model,
    item_cosine,
    neighbours_report,
    popular,
    print_report,
    rp3beta,
    run_models,
    user_knn,
    vitrina,
)

VERSION = "1.2.1"
WHEEL = f"recbole-{VERSION}-py3-none-any.whl"
FOLDER = "recbole/dataset_example/ml-100k"
CACHE = Path.home() / ".cache" / "vitrina-benchmarks"
HELD_OUT = 5  # ratings per person in each holdout
DROPPED = {"test": 0, "validation": 1, "validation2": 2, "validation3": 3}
VALIDATION_ALL = ("validation", "validation2", "validation3")
TIME_HOLDOUT = 0.2


def read_file(name: str) -> bytes:
    """One file of the data set, from an installed recbole or its wheel (fetched once)."""
    spec = importlib.util.find_spec("recbole")
    if spec is not None and spec.submodule_search_locations:
        path = Path(spec.submodule_search_locations[0]) / "dataset_example" / "ml-100k" / name
        if path.exists():
            return path.read_bytes()
    wheel = CACHE / WHEEL
    if not wheel.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "-q"]
        subprocess.run([*command, f"recbole=={VERSION}", "-d", str(CACHE)], check=True)
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(f"{FOLDER}/{name}")


def load(min_rating: float) -> tuple[pa.Table, dict[str, str]]:
    """Ratings (user, item, rating, timestamp; as text ids) and each film's first genre."""
    options = pcsv.ParseOptions(delimiter="\t", quote_char=False)
    ratings = pcsv.read_csv(io.BytesIO(read_file("ml-100k.inter")), parse_options=options)
    ratings = ratings.rename_columns(["user", "item", "rating", "timestamp"])
    ratings = ratings.filter(pc.greater_equal(ratings["rating"], min_rating))
    items = pcsv.read_csv(io.BytesIO(read_file("ml-100k.item")), parse_options=options)
    genres = {
        str(item): (str(kind).split(" ")[0] if kind else "unknown")
        for item, kind in zip(
            items.column(0).to_pylist(),
            items.column(items.num_columns - 1).to_pylist(),
            strict=True,
        )
    }
    return ratings, genres


def columns(users: np.ndarray, items: np.ndarray, stamps: np.ndarray) -> dict[str, Any]:
    """Training columns as `recs_common` takes them: every rating an order of one line."""
    return {
        "order_id": np.array(
            [f"{u}:{t}:{i}" for u, t, i in zip(users, stamps, items, strict=True)]
        ),
        "customer_id": users.astype(str),
        "product_id": items.astype(str),
        "line_no": np.ones(len(users), "int32"),
        "order_date": (stamps.astype("int64")).astype("datetime64[s]"),
    }


def split(
    ratings: pa.Table, name: str
) -> tuple[dict[str, Any], dict[str, set[str]], dict[str, set[str]]]:
    """Training columns, per-person rated sets and held-out new films of one split."""
    users = ratings["user"].to_numpy()
    items = ratings["item"].to_numpy()
    stamps = ratings["timestamp"].to_numpy().astype("int64")
    if name == "time":
        cut = np.quantile(stamps, 1.0 - TIME_HOLDOUT)
        train, test = stamps < cut, stamps >= cut
    else:
        # Each person's ratings by time (then film); position from their newest, 0 = newest.
        order = np.lexsort((items, stamps, users))
        users, items, stamps = users[order], items[order], stamps[order]
        ends = np.searchsorted(users, users, side="right")
        from_newest = ends - 1 - np.arange(len(users))
        dropped = HELD_OUT * DROPPED[name]
        test = (from_newest >= dropped) & (from_newest < dropped + HELD_OUT)
        train = from_newest >= dropped + HELD_OUT
    cols = columns(users[train], items[train], stamps[train])
    bought: dict[str, set[str]] = {}
    for u, p in zip(cols["customer_id"].tolist(), cols["product_id"].tolist(), strict=True):
        bought.setdefault(u, set()).add(p)
    truth: dict[str, set[str]] = {}
    for u, p in zip(
        users[test].astype(str).tolist(), items[test].astype(str).tolist(), strict=True
    ):
        if u in bought and p not in bought[u]:
            truth.setdefault(u, set()).add(p)
    return cols, bought, truth


def evaluate_split(
    ratings: pa.Table, genres: dict[str, str], name: str, wanted: list[str]
) -> dict[str, Any]:
    """Per-person recalls of the wanted models (and popularity) on one split."""
    from vitrina.analytics.definitions import Params

    cols, bought, truth = split(ratings, name)
    m = Matrix(cols)
    by_lines = m.items[np.argsort(-m.lines, kind="stable")].tolist()
    models: dict[str, Callable[[], dict[str, list[str]]]] = {
        "popularity": lambda: popular(by_lines, bought, m.users),
        "vitrina": lambda: vitrina(cols, genres, brand="movielens"),
        "vitrina_one_category": lambda: vitrina(cols, brand="movielens"),
        "vitrina_unchecked": lambda: vitrina(
            cols, genres, brand="movielens", params=Params(as_of=None, model_check_customers=0)
        ),
        "item_cosine": lambda: item_cosine(m),
        "rp3beta": lambda: rp3beta(m),
        "ease": lambda: ease(m),
        "ease_top2000": lambda: ease_top(m, 2000),
        "user_knn": lambda: user_knn(m),
        "als": lambda: implicit_model(m, "als"),
    }
    per, seconds = run_models(models, wanted or list(models), truth)
    return {"per": per, "seconds": seconds, "lines": len(cols["order_id"]), "people": len(truth)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="comma-separated model names")
    parser.add_argument(
        "--split",
        choices=(*DROPPED, "validation-all", "time"),
        default="test",
        help="test: each person's last 5 ratings held out; validation(2|3): the last 5 (10, "
        "15) dropped, the 5 before held out; validation-all: the three pooled; time: the "
        "newest 20 %% of all ratings held out",
    )
    parser.add_argument("--min-rating", type=float, default=1.0, help="ratings below are dropped")
    parser.add_argument(
        "--keep",
        type=float,
        default=1.0,
        help="keep this share of the ratings (random, seed 0): a sparser data set",
    )
    parser.add_argument(
        "--neighbours",
        action="store_true",
        help="instead: the product page's item neighbours on each person's held-out films "
        "(recs_common.neighbours_report)",
    )
    args = parser.parse_args()
    wanted = [w for w in args.only.split(",") if w]
    ratings, genres = load(args.min_rating)
    if args.keep < 1.0:
        kept = np.random.default_rng(0).random(ratings.num_rows) < args.keep
        ratings = ratings.filter(pa.array(kept))
    if args.neighbours:
        cols, _, truth = split(
            ratings, "validation" if args.split == "validation-all" else args.split
        )
        report = neighbours_report(cols, truth, genres, brand="movielens")
        print(
            json.dumps(
                {"dataset": f"MovieLens-100k ({WHEEL})", "split": args.split, **report}, indent=2
            )
        )
        return
    folds = VALIDATION_ALL if args.split == "validation-all" else (args.split,)
    runs = [evaluate_split(ratings, genres, fold, wanted) for fold in folds]
    per = {name: np.concatenate([r["per"][name] for r in runs]) for name in runs[0]["per"]}
    names = wanted or [n for n in runs[0]["seconds"] if n != "popularity"]
    seconds = {name: sum(r["seconds"][name] for r in runs) for name in names}
    print_report(
        {
            "dataset": f"MovieLens-100k from the wheel {WHEEL}",
            "split": args.split,
            "min_rating": args.min_rating,
            "keep": args.keep,
            "training_lines": [r["lines"] for r in runs],
            "people_scored": sum(r["people"] for r in runs),
        },
        per,
        seconds,
        names,
        target=1.0,  # never behind popularity (the model check's promise)
    )


if __name__ == "__main__":
    main()
