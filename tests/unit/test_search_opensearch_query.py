"""The OpenSearch query builder's index-dependent rules and fuzzy stage, without a server:
which doc counts the probe asks for, how the answers join, split or re-key words, and what
the bodies hold. The same rules against a real node: tests/backends/test_search_backends.py."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from vitrina.search.opensearch_query import (
    BRAND_CUT_EXPANSIONS,
    MAX_QUERY_TERMS,
    fuzzy_clause,
    query_body,
    text_clause,
)
from vitrina.search.opensearch_reading import (
    MAX_SPLIT_CHARS,
    Reading,
    probe_body,
    probe_counts,
    read_words,
)
from vitrina.search.query_roles import PURPOSE_WEIGHT
from vitrina.search.word_lists import BRANDS, PHRASE_SYNONYMS


def _questions(words: list[str], matched_nothing: frozenset[str] = frozenset()) -> set[str]:
    body = probe_body(words, matched_nothing)
    assert body is not None and body["size"] == 0
    return set(body["aggs"]["questions"]["filters"]["filters"])


def test_the_probe_asks_only_what_the_rules_need() -> None:
    assert probe_body(["чайник"]) is not None  # it may be typed on the other layout
    assert probe_body(["чайник"], frozenset(["чайник"])) is None  # known to match nothing
    assert probe_body(["щётка"]) is None  # too short to cut, ё has no Latin-layout key
    assert probe_body(["я" * (MAX_SPLIT_CHARS + 1)], frozenset(["я" * 31])) is None
    one = _questions(["фитнесбраслет"])
    assert {"matches фитнесбраслет", "name фитнес", "name браслет"} <= one
    assert not any(q.startswith("known") for q in one)  # one word: nothing to join
    two = _questions(["саунд", "бар"], frozenset(["саунд", "бар"]))
    # Joins, and for "any word" whether a word matches on the Latin layout (б has no letter).
    assert two == {"known саунд", "known бар", "known саундбар", "matches cfeyl"}
    assert "known samsungбар" in _questions(["samsung", "бар"])  # the first may be Latin
    assert "known барsamsung" not in _questions(["бар", "samsung"])  # a Latin word never joins
    layout = _questions(["yjen", "er"])
    assert {"known ноутбук", "known ноутюук", "matches yjen", "matches er"} <= layout


def test_a_word_the_index_lacks_is_split_longest_first_part_first() -> None:
    counts = {"matches фитнесбраслет": 0, "name фитнес": 3, "name браслет": 9}
    assert read_words(["фитнесбраслет"], counts) == Reading(
        ("фитнесбраслет",), {"фитнесбраслет": ("фитнес", "браслет")}
    )
    longer = {**counts, "name фитнесбрас": 1, "name лет": 5, "name фитнесб": 1, "name раслет": 1}
    found = read_words(["фитнесбраслет"], longer)
    assert found is not None and found.splits["фитнесбраслет"] == ("фитнесб", "раслет")
    assert read_words(["фитнесбраслет"], {**counts, "matches фитнесбраслет": 2}) is None
    # No split: the same keys on the Latin layout (б is a comma there: no such word here).
    assert read_words(["фитнесбраслет"], {**counts, "name браслет": 0}) is None
    assert read_words(["кофемашинка"], {"matches кофемашинка": 0}) == Reading(
        ("кофемашинка",), twins={"кофемашинка": "rjatvfibyrf"}
    )


def test_adjacent_words_join_when_not_both_known_and_the_join_is() -> None:
    counts = {"known бар": 4, "known саундбар": 7}
    assert read_words(["саунд", "бар"], counts) == Reading(("саундбар",))
    assert read_words(["саунд", "бар"], {**counts, "known саунд": 1}) is None
    assert read_words(["саунд", "бар"], {"known бар": 4}) is None
    # Left to right, as the embedded builder joins: each step's join must be known.
    three = {"known фитнесбрас": 1, "known фитнесбраслет": 2}
    assert read_words(["фитнес", "брас", "лет"], three) == Reading(("фитнесбраслет",))
    assert read_words(["фитнес", "брас", "лет"], {"known фитнесбраслет": 2}) is None


def test_words_typed_on_the_latin_layout_are_read_on_the_russian_one() -> None:
    # yjen,er: the comma is the б key, so the query's words are yjen and er.
    assert read_words(["yjen", "er"], {"known ноутбук": 5}) == Reading(("ноутбук",))
    assert read_words(["yjen", "er"], {"known ноутбук": 5, "known yjen": 1}) is None
    # A fragment of one or two letters may be in the index by chance (sizes, the l of
    # L'Oréal): l;bycs is still джинсы (probe round 6), as "er" is still the end of ноутбук.
    assert read_words(["l", "bycs"], {"known джинсы": 3, "known l": 9}) == Reading(("джинсы",))
    assert read_words(["yjen", "er"], {"known ноутбук": 5, "known er": 1}) == Reading(("ноутбук",))
    # One word that matches nothing: its twin (ыщтн → sony), Latin words the other way.
    assert read_words(["ыщтн"], {}, frozenset(["ыщтн"])) == Reading(
        ("ыщтн",), twins={"ыщтн": "sony"}
    )
    assert read_words(["cvfhnajy"], {"matches cvfhnajy": 0}) == Reading(
        ("cvfhnajy",), twins={"cvfhnajy": "смартфон"}
    )
    assert read_words(["samsung"], {"matches samsung": 3}) is None


def test_probe_counts_read_the_filters_aggregation() -> None:
    response = {
        "aggregations": {"questions": {"buckets": {"name фитнес": {"doc_count": 3}, "known x": {}}}}
    }
    assert probe_counts(response) == {"name фитнес": 3, "known x": 0}
    assert probe_counts({}) == {}


def test_bodies_follow_the_reading() -> None:
    reading = Reading(("фитнесбраслет", "samsung"), {"фитнесбраслет": ("фитнес", "браслет")})
    body = query_body("фитнесбраслет samsung", mode="and", reading=reading)
    assert body is not None
    split, brand = body["query"]["bool"]["must"][0]["bool"]["must"]
    (both,) = split["bool"]["should"]  # the word itself matches nothing: not sent
    parts = both["bool"]["must"]
    assert [p["bool"]["should"][0]["multi_match"]["query"] for p in parts] == ["фитнес", "браслет"]
    assert parts[0]["bool"]["should"][0]["multi_match"]["boost"] < 1  # under the typed word
    assert "samsung" in json.dumps(brand)
    joined = query_body("саунд бар", mode="and", reading=Reading(("саундбар",)))
    assert joined is not None and len(joined["query"]["bool"]["must"][0]["bool"]["must"]) == 1
    twin = query_body("ыщтн", reading=Reading(("ыщтн",), twins={"ыщтн": "sony"}))
    assert '"query": "sony"' in json.dumps(twin) and "ыщтн" not in json.dumps(twin)


def test_a_prefixed_compound_also_looks_for_its_adjective_and_base() -> None:
    body = json.dumps(query_body("электрощетка"), ensure_ascii=False)
    assert '"query": "электрический"' in body and '"query": "щетка"' in body


def test_the_fuzzy_stage_spells_english_style_and_knows_two_letter_typos() -> None:
    clause = json.dumps(fuzzy_clause("клинмастер"), ensure_ascii=False)
    assert '"query": "clinmaster", "fields": ["name^4", "brand^2"]' in clause
    assert '"query": "klinmaster"' in clause  # letter by letter, every fuzzy field
    typo = json.dumps(fuzzy_clause("сковаротка"), ensure_ascii=False)
    assert '"query": "сковорода"' in typo  # сковородка's meaning, not a fuzzy stem
    short = json.dumps(fuzzy_clause("кот"), ensure_ascii=False)  # too short for a fuzzy stem:
    assert "fuzziness" not in short and '"query": "кто", "fields": ["name^4"]' in short  # swaps
    assert fuzzy_clause("я") is None


def _multi_matches(node: object) -> list[dict[str, Any]]:
    """Every multi_match of a query body, however deep."""
    if isinstance(node, dict):
        found = [node["multi_match"]] if "multi_match" in node else []
        return found + [m for value in node.values() for m in _multi_matches(value)]
    return [m for item in node for m in _multi_matches(item)] if isinstance(node, list) else []


def _term_queries(node: object) -> int:
    """Term queries a body makes the cluster run: each word of a multi_match per field."""
    if isinstance(node, dict):
        if "multi_match" in node:
            match = node["multi_match"]
            return len(match["query"].split()) * len(match["fields"])
        return sum(_term_queries(v) for v in node.values())
    return sum(_term_queries(v) for v in node) if isinstance(node, list) else 0


def test_a_long_query_stays_under_the_clusters_clause_limit() -> None:
    """Four or five long Cyrillic words with all their alternatives (16 compound prefixes
    each) passed Lucene's 1024 term queries, and the cluster answered HTTP 500."""
    query = "робот пылесос с влажной уборкой для дома и квартиры xiaomi"
    for mode in ("and", "or"):
        body = query_body(query, mode=mode)
        assert body is not None and _term_queries(body) <= MAX_QUERY_TERMS
        text = json.dumps(body, ensure_ascii=False)
        for word in ("робот", "пылесос", "влажной", "уборкой", "квартиры", "xiaomi"):
            assert f'"query": "{word}"' in text  # every word as typed stays
        assert '"query": "pylesos"' in text  # the best alternatives too
    short = json.dumps(query_body("пылесос"), ensure_ascii=False)
    assert '"query": "минипылесос"' in short  # a short query keeps all its alternatives
    phrases = "звуковая панель плюшевый мишка стиральная машинка сушилка для волос на зиму"
    for mode in ("and", "or", "fuzzy"):  # the phrases' meanings count too
        body = query_body(phrases, mode=mode)
        assert body is not None and _term_queries(body) <= MAX_QUERY_TERMS, mode


def test_a_glued_brands_cuts_keep_few_expansions_and_leave_the_others_theirs() -> None:
    """gloriajins: each cut (gloria jins …) is a fuzzy query on the brand keys, a term per
    brand, with a few expansions fixed; counted as such, they leave the word's fuzzy
    clauses in name and brand OpenSearch's 50 (a share of the budget each took them to 27)."""
    body = query_body("gloriajins", mode="fuzzy")
    assert body is not None
    text = json.dumps(body)
    assert '"query": "gloria jins"' in text
    matches = _multi_matches(body)
    cuts = [m for m in matches if " " in str(m["query"])]
    assert cuts and all(m["max_expansions"] == BRAND_CUT_EXPANSIONS for m in cuts)
    assert all("max_expansions" not in m for m in matches if m not in cuts)


def test_a_long_query_of_typos_expands_each_fuzzy_term_less() -> None:
    """The cluster rewrites a fuzzy term into up to max_expansions term queries per field
    (50 by default): ten typos × three spellings × five fields could pass the limit."""
    one = query_body("клавиатурв", mode="fuzzy")
    assert one is not None and "max_expansions" not in json.dumps(one)  # OpenSearch's 50
    query = "клавиатурв механичесская игравая подсвеиткой беспроводнная сенсорнная мышька"
    body = query_body(query, mode="fuzzy")
    assert body is not None
    fuzzy_terms = exact_terms = 0
    for match in _multi_matches(body):
        if "fuzziness" in match:
            fuzzy_terms += len(match["fields"]) * match["max_expansions"]
        else:
            exact_terms += len(match["fields"]) * len(match["query"].split())
    assert fuzzy_terms and fuzzy_terms + exact_terms <= MAX_QUERY_TERMS


def test_any_word_looks_fuzzily_for_a_word_nothing_matches() -> None:
    """нордвей велосипед: велосипед matches, нордвей nothing (not as typed, split, on the
    other layout or as an adjective + base), so "any word" looks for нордвей fuzzily."""
    words = ["нордвей", "велосипед"]
    counts = {"matches нордвей": 0, "matches yjhldtq": 0, "matches велосипед": 40}
    counts |= {"known нордвей": 0, "known велосипед": 40, "known нордвейвелосипед": 0}
    reading = read_words(words, counts)
    assert reading == Reading(("нордвей", "велосипед"), unmatched=frozenset(["нордвей"]))
    assert not reading.rereads(words)  # "all words" would ask the same again: skipped
    body = json.dumps(query_body("нордвей велосипед", mode="or", reading=reading))
    assert '"fuzziness"' in body and '"query": "nordvey"' in body
    assert '"fuzziness"' not in json.dumps(query_body("нордвей велосипед", mode="or"))
    twin_matches = read_words(words, {**counts, "matches yjhldtq": 2})
    assert twin_matches == Reading(tuple(words), twins={"нордвей": "yjhldtq"})
    assert read_words(["нордвей"], {}, frozenset(["нордвей"])) == Reading(
        ("нордвей",), twins={"нордвей": "yjhldtq"}
    )  # one word: no "any word" stage


def test_a_phrase_is_its_words_or_its_meaning() -> None:
    """звуковая панель: "all words" asks for both words, or for саундбар (a phrase synonym,
    `word_lists.PHRASE_SYNONYMS`); "any word" adds the meaning as one more word."""
    body = query_body("звуковая панель", mode="and")
    assert body is not None
    (phrase,) = body["query"]["bool"]["must"][0]["bool"]["must"]
    (either,) = phrase["bool"]["must"]
    words, meaning = either["bool"]["should"]
    assert len(words["bool"]["must"]) == 2
    assert '"query": "саундбар"' in json.dumps(meaning, ensure_ascii=False)
    # each word as typed still adds to the score (яндекс станция: Яндекс's speakers first)
    typed = json.dumps(phrase["bool"]["should"], ensure_ascii=False)
    assert len(phrase["bool"]["should"]) == 2 and '"query": "звуковая"' in typed
    any_word = query_body("мишка плюшевый", mode="or")
    assert any_word is not None
    should = any_word["query"]["bool"]["must"][0]["bool"]["should"]
    assert len(should) == 3  # мишка, плюшевый, and their meaning
    assert '"query": "мягкий"' in json.dumps(should[2], ensure_ascii=False)
    plain = query_body("звуковая колонка", mode="and")
    assert plain is not None and len(plain["query"]["bool"]["must"][0]["bool"]["must"]) == 2


def test_a_prefixed_compound_no_name_has_is_read_as_its_base() -> None:
    """аудиоколонка: no name has аудио, so it is no split; колонка is in names (the probe
    asks each cut's parts already), so the word is looked for as колонка, under a word as
    typed."""
    reading = read_words(["аудиоколонка"], {"name колонка": 40}, frozenset(["аудиоколонка"]))
    assert reading == Reading(("аудиоколонка",), bases={"аудиоколонка": "колонка"})
    assert reading.rereads(["аудиоколонка"])
    body = json.dumps(query_body("аудиоколонка", reading=reading), ensure_ascii=False)
    assert '"query": "колонка"' in body and '"query": "аудиоколонка"' not in body
    no_base = read_words(["аудиоколонка"], {}, frozenset(["аудиоколонка"]))
    assert no_base is not None and not no_base.bases  # колонка in no name: not read so


def test_a_compound_is_read_as_the_longest_ending_a_name_has() -> None:
    """робопылесос (probe round 11): робо is no listed prefix; the probe asks each cut's
    parts, and the longest ending some name has is what the word is looked for as."""
    counts = {"name пылесос": 50, "name есос": 0}
    reading = read_words(["робопылесос"], counts, frozenset(["робопылесос"]))
    assert reading == Reading(("робопылесос",), bases={"робопылесос": "пылесос"})
    assert {"name пылесос", "name сос"} & _questions(["робопылесос"]) == {"name пылесос"}
    teapot = read_words(["электрочайник"], {"name чайник": 9}, frozenset(["электрочайник"]))
    assert teapot is None or not teapot.bases  # an adjective's prefix: never its base


def test_a_latin_name_with_a_case_ending_is_read_as_its_normal_forms_spelling() -> None:
    """смартфон на снапдрагоне: the probe asks whether snapdragon matches; if so, and the word
    as typed does not, it is looked for as snapdragon (probe round 11)."""
    words = ["смартфон", "на", "снапдрагоне"]
    assert "matches snapdragon" in _questions(words)
    asked = dict.fromkeys(_questions(words), 0)  # the probe answers every question
    counts = {**asked, "matches смартфон": 9, "matches на": 9, "matches snapdragon": 1}
    reading = read_words(words, counts)
    assert reading is not None and reading.latins == {"снапдрагоне": "snapdragon"}
    assert "снапдрагоне" not in reading.unmatched
    body = json.dumps(query_body(" ".join(words), reading=reading), ensure_ascii=False)
    assert '"query": "snapdragon"' in body


def test_optional_words_only_add_to_a_score_and_what_it_is_for_weighs_less() -> None:
    """«мышь для ноутбука»: для is a `should` beside the needed words (never enough alone),
    ноутбука is boosted PURPOSE_WEIGHT, and the fuzzy stage leaves для out."""
    words = ["мышь", "для", "ноутбука"]
    for mode in ("and", "or"):
        clause = text_clause(words, mode)
        assert clause is not None
        should = json.dumps(clause["bool"]["should"], ensure_ascii=False)
        assert '"для"' in should and "мышь" not in should and "ноутбук" not in should
        needed = json.dumps(clause["bool"]["must"], ensure_ascii=False)
        assert '"для"' not in needed
        assert f'"boost": {PURPOSE_WEIGHT}' in needed
    fuzzy = json.dumps(text_clause(words, "fuzzy"), ensure_ascii=False)
    assert '"для"' not in fuzzy and "ноутбука" in fuzzy  # мышь: too short for fuzzy


# Pieces of queries that take the plan's every path: phrases of the word lists (which fold
# into one clause), brands, the prepositions that make roles (для, без), numbers and units,
# price and order words.
_PLAN_PIECES = sorted(
    {
        *(" ".join(phrase) for phrase in list(PHRASE_SYNONYMS)[:12]),
        *list(BRANDS)[:8],
        *("без", "без", "для", "с", "и", "под", "до", "от", "не", "который"),
        *("15000", "5к", "2", "сорок", "второй", "тысяч", "рублей", "кг", "x11"),
        *("самый", "дешевый", "найковские", "нoутбук", "yjen,er", "в наличии"),
        *("фитнес браслет", "зарядки", "xiaomi", "смартфон", "чехол", "кеды", "черный"),
    }
)


@settings(max_examples=300, deadline=None)
@given(
    pieces=st.lists(st.sampled_from(_PLAN_PIECES), min_size=1, max_size=6),
    mode=st.sampled_from(["and", "or", "fuzzy"]),
)
def test_any_query_of_the_plans_words_builds_a_body_in_every_stage(
    pieces: list[str], mode: str
) -> None:
    """«фитнес браслет без зарядки» raised an IndexError here: a phrase folded before the
    words after без were left out by their places as typed (probe round 33)."""
    body = query_body(" ".join(pieces), mode=mode)
    assert body is None or ("query" in body and json.loads(json.dumps(body)) == body)
