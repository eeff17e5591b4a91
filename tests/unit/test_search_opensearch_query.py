"""The OpenSearch query builder's compound rules and fuzzy stage, without a server: which doc
counts the probe asks for, how the answers split or join words, and what the bodies hold.
The same rules against a real node: tests/backends/test_search_backends.py."""

from __future__ import annotations

import json

from vitrina.search.opensearch_query import (
    MAX_SPLIT_CHARS,
    Compounds,
    compound_probe_body,
    compounds_from_counts,
    fuzzy_clause,
    probe_counts,
    query_body,
)


def _questions(words: list[str]) -> set[str]:
    body = compound_probe_body(words)
    assert body is not None and body["size"] == 0
    return set(body["aggs"]["compounds"]["filters"]["filters"])


def test_the_probe_asks_only_what_the_rules_need() -> None:
    assert compound_probe_body(["чайник"]) is None  # too short to cut, nothing to join
    assert compound_probe_body(["samsung"]) is None
    assert compound_probe_body(["я" * (MAX_SPLIT_CHARS + 1)]) is None
    one = _questions(["фитнесбраслет"])
    assert {"matches фитнесбраслет", "name фитнес", "name браслет"} <= one
    assert not any(q.startswith("known") for q in one)  # one word: nothing to join
    two = _questions(["саунд", "бар"])
    assert two == {"known саунд", "known бар", "known саундбар"}
    assert "known samsungбар" in _questions(["samsung", "бар"])  # the first may be Latin
    assert "known барsamsung" not in _questions(["бар", "samsung"])  # a Latin word never joins


def test_a_word_the_index_lacks_is_split_longest_first_part_first() -> None:
    counts = {"matches фитнесбраслет": 0, "name фитнес": 3, "name браслет": 9}
    assert compounds_from_counts(["фитнесбраслет"], counts) == Compounds(
        ("фитнесбраслет",), {"фитнесбраслет": ("фитнес", "браслет")}
    )
    longer = {**counts, "name фитнесбрас": 1, "name лет": 5, "name фитнесб": 1, "name раслет": 1}
    found = compounds_from_counts(["фитнесбраслет"], longer)
    assert found is not None and found.splits["фитнесбраслет"] == ("фитнесб", "раслет")
    assert compounds_from_counts(["фитнесбраслет"], {**counts, "matches фитнесбраслет": 2}) is None
    assert compounds_from_counts(["фитнесбраслет"], {**counts, "name браслет": 0}) is None


def test_adjacent_words_join_when_not_both_known_and_the_join_is() -> None:
    counts = {"known бар": 4, "known саундбар": 7}
    assert compounds_from_counts(["саунд", "бар"], counts) == Compounds(("саундбар",), {})
    assert compounds_from_counts(["саунд", "бар"], {**counts, "known саунд": 1}) is None
    assert compounds_from_counts(["саунд", "бар"], {"known бар": 4}) is None
    # Left to right, as the embedded builder joins: each step's join must be known.
    three = {"known фитнесбрас": 1, "known фитнесбраслет": 2}
    assert compounds_from_counts(["фитнес", "брас", "лет"], three) == Compounds(
        ("фитнесбраслет",), {}
    )
    assert compounds_from_counts(["фитнес", "брас", "лет"], {"known фитнесбраслет": 2}) is None


def test_probe_counts_read_the_filters_aggregation() -> None:
    response = {
        "aggregations": {"compounds": {"buckets": {"name фитнес": {"doc_count": 3}, "known x": {}}}}
    }
    assert probe_counts(response) == {"name фитнес": 3, "known x": 0}
    assert probe_counts({}) == {}


def test_a_split_word_needs_both_parts() -> None:
    compounds = Compounds(("фитнесбраслет", "samsung"), {"фитнесбраслет": ("фитнес", "браслет")})
    body = query_body("фитнесбраслет samsung", mode="and", compounds=compounds)
    assert body is not None
    split, brand = body["query"]["bool"]["must"][0]["bool"]["must"]
    parts = split["bool"]["must"]
    assert [p["bool"]["should"][0]["multi_match"]["query"] for p in parts] == ["фитнес", "браслет"]
    assert parts[0]["bool"]["should"][0]["multi_match"]["boost"] < 1  # under the typed word
    assert "samsung" in json.dumps(brand)
    joined = query_body("саунд бар", mode="and", compounds=Compounds(("саундбар",), {}))
    assert joined is not None and len(joined["query"]["bool"]["must"][0]["bool"]["must"]) == 1


def test_the_fuzzy_stage_spells_english_style_and_knows_two_letter_typos() -> None:
    clause = json.dumps(fuzzy_clause("клинмастер"), ensure_ascii=False)
    assert '"query": "clinmaster", "fields": ["name^4", "brand^2"]' in clause
    assert '"query": "klinmaster"' in clause  # letter by letter, every fuzzy field
    typo = json.dumps(fuzzy_clause("сковаротка"), ensure_ascii=False)
    assert '"query": "сковорода"' in typo  # сковородка's meaning, not a fuzzy stem
    assert fuzzy_clause("кот") is None  # too short for any of it
