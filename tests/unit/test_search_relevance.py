"""Relevance on the judged set: MRR and recall@10 of the embedded index over the generated
catalogue, for each analysis mode, with floors measured on this catalogue.

Measured (2000 products, seed 42, 67 queries; `pytest -s` prints the numbers):
default (stem+lemma, all words → any word → one-edit fuzzy): MRR 0.970, recall@10 0.970
(misses: "мышку" — diminutive, "самсунг" — transliteration). Exact matching only:
stem 0.896 / lemma 0.925 / stem+lemma 0.925 (MRR = recall@10) — stem+lemma is the default
(lemmas fix кроссовок; stems keep words missing from the dictionary matchable).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from vitrina.domain.generator import generate_catalog
from vitrina.search.embedded import EmbeddedSearch

JUDGED = Path(__file__).resolve().parents[1] / "fixtures" / "judged-queries.json"


def is_relevant(rule: dict[str, Any], product: dict[str, Any]) -> bool:
    if "ids" in rule:
        return product["product_id"] in rule["ids"]
    return bool(product["name"].startswith(rule.get("name_prefix", ""))
                and rule.get("brand", product.get("brand")) == product.get("brand")
                and rule.get("category", product.get("category")) == product.get("category"))


def judged_scores(index: EmbeddedSearch, judged: dict[str, Any],
                  catalog: list[dict[str, Any]]) -> dict[str, Any]:
    """MRR@10 and recall@10 (relevant in top 10 / min(relevant, 10)) over the judged set."""
    rr_sum = recall_sum = 0.0
    misses = []
    for case in judged["queries"]:
        rule = case["relevant"]
        n_relevant = sum(1 for p in catalog if is_relevant(rule, p))
        hits = index.search(case["query"], limit=10).hits
        flags = [is_relevant(rule, h.product) for h in hits]
        rank = flags.index(True) + 1 if True in flags else None
        rr_sum += 1 / rank if rank else 0.0
        recall_sum += sum(flags) / min(n_relevant, 10)
        if rank != 1:
            misses.append((case["query"], rank))
    n = len(judged["queries"])
    return {"mrr": round(rr_sum / n, 4), "recall_at_10": round(recall_sum / n, 4),
            "queries": n, "not_first": misses}


@pytest.fixture(scope="module")
def judged() -> dict[str, Any]:
    return json.loads(JUDGED.read_text("utf-8"))


@pytest.fixture(scope="module")
def catalog(judged: dict[str, Any]) -> list[dict[str, Any]]:
    return list(generate_catalog(judged["catalog"]["n"], seed=judged["catalog"]["seed"]))


@pytest.fixture(scope="module")
def index_path(tmp_path_factory: pytest.TempPathFactory, catalog: list[dict[str, Any]]) -> Path:
    path = tmp_path_factory.mktemp("judged-index")
    writer = EmbeddedSearch(path)
    writer.upsert(catalog)
    writer.commit()
    writer.close()
    return path


def test_judged_set_is_large_enough(judged: dict[str, Any], catalog: list[dict[str, Any]]) -> None:
    assert len(judged["queries"]) >= 30
    kinds = {c["kind"] for c in judged["queries"]}
    assert {"morphology", "exact-name"} <= kinds
    for case in judged["queries"]:
        assert any(is_relevant(case["relevant"], p) for p in catalog), case


def test_default_analysis_meets_measured_floor(index_path: Path, judged: dict[str, Any],
                                               catalog: list[dict[str, Any]]) -> None:
    scores = judged_scores(EmbeddedSearch(index_path, readonly=True), judged, catalog)
    print("stem+lemma", scores)
    # Floors a little under the measured values (see module docstring), so a regression in
    # analysis or boosts fails here.
    assert scores["mrr"] >= 0.95, scores
    assert scores["recall_at_10"] >= 0.95, scores


def test_stem_plus_lemma_is_the_best_analysis(index_path: Path, judged: dict[str, Any],
                                              catalog: list[dict[str, Any]]) -> None:
    """Compare analyses on exact matching only (the fuzzy fallback would hide the difference)."""
    scores = {analysis: judged_scores(EmbeddedSearch(index_path, readonly=True,
                                                     analysis=analysis, matching="and"),
                                      judged, catalog)
              for analysis in ("stem", "lemma", "stem+lemma")}
    for analysis, score in scores.items():
        print(analysis, "(and only)", {k: v for k, v in score.items() if k != "not_first"},
              score["not_first"])
    best = scores["stem+lemma"]
    assert best["recall_at_10"] > scores["stem"]["recall_at_10"]  # кроссовок ↔ кроссовки
    assert best["recall_at_10"] >= scores["lemma"]["recall_at_10"]
    assert best["mrr"] >= max(scores["stem"]["mrr"], scores["lemma"]["mrr"])


def test_morphology_pairs_find_the_same_products(index_path: Path) -> None:
    index = EmbeddedSearch(index_path, readonly=True)
    for a, b in [("кроссовок", "кроссовки"), ("гантель", "гантели"),
                 ("клавиатура", "клавиатуры"), ("часы", "часов")]:
        ids_a = {h.product_id for h in index.search(a, limit=50).hits}
        ids_b = {h.product_id for h in index.search(b, limit=50).hits}
        assert ids_a and ids_a == ids_b, (a, b)
