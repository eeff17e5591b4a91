"""OpenSearch request bodies from a customer's words: the embedded index's query plan
(`tantivy_query`) in the query DSL, as pure functions unit tests check without a server.

Every word (or one of its alternatives: synonyms, brands, compounds — `query_understanding`)
must match; when nothing does, any word may; when still nothing, words a few edits away,
their English-style Latin spelling, and dictionary words two letters off.

Some rules depend on what the index holds: a word the index lacks is split into two words it
has (фитнесбраслет → фитнес + браслет) or looked for as typed on the other keyboard layout
(ыщтн → sony); two adjacent words are joined when they are not both in the index and together
they are (саунд бар → саундбар; yjen er → ноутбук, split by the Latin layout at the б key).
The embedded builder asks its term dictionary; here one probe request asks the cluster
(`probe_body`: a `filters` aggregation, one doc count per question), and only after the
plain "all words" query found nothing — as then some word matches nothing, which is when
these rules apply. Why a probe and not index-side analysis: a decompounder needs a word
list or a hyphenation grammar, and shingles (tokens joined without a separator) would mean
a new mapping and a reindex of every deployed index and would match across any two adjacent
words of a name; the probe needs neither, applies the embedded rules as they are, and
leaves queries that find something as they were (same request, same ranking, no extra
round trip).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from vitrina.domain.search_document import clean_query, filter_key, query_words
from vitrina.search.analysis import lemma_text, stems
from vitrina.search.analysis import lemmas as dictionary_lemmas
from vitrina.search.base import SearchFilters, SortOrder, check_request
from vitrina.search.fields import BOOSTS
from vitrina.search.keyboard_layout import SPLITTING_KEYS, keyboard_twin
from vitrina.search.query_understanding import (
    FUZZY_MIN_CHARS,
    MIN_COMPOUND_PART,
    alternatives,
    compound_meaning,
    fuzzy_distance,
    is_cyrillic,
    misspelt_meanings,
    transliterate,
    transliterate_english,
)

# A compound found as two words of the index ranks a little under the word as typed (the
# embedded builder's weight, `tantivy_query.COMPOUND_SPLIT_WEIGHT`).
COMPOUND_SPLIT_WEIGHT = 0.8
# Words longer than this are not cut: the longest two-part compounds of the catalogues are
# ~20 letters, and each cut is two more questions in the probe (a 256-letter word: 500).
MAX_SPLIT_CHARS = 30
# Joins of up to three typed words (фитнес брас лет): longer spans would add a question per
# span to the probe of every long zero-hit query for compounds nobody types.
MAX_JOINED_WORDS = 3

STEM_FIELDS = [f"{name}^{boost:g}" for name, boost in BOOSTS.items()]
FUZZY_FIELDS = [f"{name}^{boost:g}" for name, boost in BOOSTS.items() if name != "specifications"]
# An English-style Latin spelling is a name typed in Cyrillic: it is in the name or the brand.
ENGLISH_FIELDS = [f"{name}^{BOOSTS[name]:g}" for name in ("name", "brand")]


@dataclass(frozen=True)
class Reading:
    """A zero-hit query's words as the index suggests reading them: adjacent words joined
    (саунд бар → саундбар; yjen er → ноутбук, typed on the Latin layout, split at the б key),
    words looked for as two (фитнесбраслет → фитнес, браслет), and words looked for as the
    same keys give them on the other layout (ктyjdj → леново)."""

    words: tuple[str, ...]
    splits: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    twins: Mapping[str, str] = field(default_factory=dict)


def filter_clauses(filters: SearchFilters | None) -> list[dict[str, Any]]:
    if filters is None:
        return []
    out: list[dict[str, Any]] = []
    if filters.category:
        out.append({"term": {"category_key": filter_key(filters.category)}})
    if filters.brand:
        out.append({"term": {"brand_key": filter_key(filters.brand)}})
    price: dict[str, float] = {}
    if filters.price_min is not None:
        price["gte"] = float(filters.price_min)
    if filters.price_max is not None:
        price["lte"] = float(filters.price_max)
    if price:
        out.append({"range": {"price": price}})
    if filters.in_stock:
        out.append({"term": {"in_stock": True}})
    return out


def _any(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    return {"bool": {"should": clauses, "minimum_should_match": 1}}


def term_clauses(word: str, weight: float = 1.0) -> list[dict[str, Any]]:
    """One word on the stemmed fields and its lemmas on the lemma fields (scores add up)."""
    return [
        {
            "multi_match": {
                "query": word,
                "fields": STEM_FIELDS,
                "type": "most_fields",
                "boost": weight,
            }
        },
        {
            "multi_match": {
                "query": lemma_text(word),
                "fields": ["name_lemma^4", "body_lemma"],
                "type": "most_fields",
                "boost": weight,
            }
        },
    ]


def forms_clauses(word: str) -> list[dict[str, Any]]:
    """The word as typed and its alternatives (synonyms, brands, compounds)."""
    should = term_clauses(word)
    for alt in alternatives(word, dictionary_lemmas(word)):
        should += term_clauses(alt.word, alt.weight)
    return should


def split_clause(parts: tuple[str, str]) -> dict[str, Any]:
    """Both parts of a compound the index has only as two words (Фитнес-браслет), or a
    prefixed compound's adjective and base (Электрическая зубная щётка)."""
    return {"bool": {"must": [_any(term_clauses(p, COMPOUND_SPLIT_WEIGHT)) for p in parts]}}


def word_clause(word: str, reading: Reading | None = None) -> dict[str, Any]:
    """The word as typed or any of its alternatives — or, where the `reading` says the
    index has neither, its two parts or its other-layout twin — or, for a prefixed compound,
    its adjective and base together (электрощетка → электрический + щетка)."""
    if reading is not None and word in reading.splits:
        should = [split_clause(reading.splits[word])]
    elif reading is not None and word in reading.twins:
        should = forms_clauses(reading.twins[word])
    else:
        should = forms_clauses(word)
    meaning = compound_meaning(word)
    if meaning is not None:
        should.append(split_clause(meaning))
    return _any(should)


def _fuzzy(text: str, fields: list[str]) -> dict[str, Any] | None:
    stem = next(iter(stems(text)), "")
    if len(stem) < FUZZY_MIN_CHARS:
        return None
    return {
        "multi_match": {
            "query": text,
            "fields": fields,
            "type": "most_fields",
            "fuzziness": fuzzy_distance(stem),
        }
    }


def fuzzy_clause(word: str) -> dict[str, Any] | None:
    """The last resort: stems a few edits away; a Cyrillic word's Latin spellings, letter by
    letter (хуавэй → huawei) and English-style in name and brand (клинмастер → clinmaster,
    two edits from CleanMaster); and what a word two letters off a dictionary word means
    (сковаротка → сковородка → сковорода: three edits from the index's stem)."""
    spellings = [(word, FUZZY_FIELDS)]
    if is_cyrillic(word):
        spellings.append((transliterate(word), FUZZY_FIELDS))
        english = transliterate_english(word)
        if english != spellings[-1][0]:
            spellings.append((english, ENGLISH_FIELDS))
    should = [c for text, fields in spellings if (c := _fuzzy(text, fields)) is not None]
    if is_cyrillic(word):
        for alt in misspelt_meanings(word):
            should += term_clauses(alt.word, alt.weight)
    return _any(should) if should else None


def text_clause(
    words: list[str], mode: str, reading: Reading | None = None
) -> dict[str, Any] | None:
    if mode == "fuzzy":
        clauses = [c for c in (fuzzy_clause(w) for w in words) if c is not None]
    else:
        clauses = [word_clause(w, reading) for w in words]
    if not clauses:
        return None
    if mode == "and":
        return {"bool": {"must": clauses}}
    return _any(clauses)


def query_body(
    query: str,
    filters: SearchFilters | None = None,
    sort: SortOrder = "relevance",
    limit: int = 10,
    offset: int = 0,
    mode: str = "and",
    reading: Reading | None = None,
) -> dict[str, Any] | None:
    """The search request body of one mode; None when there is nothing to look for.
    `reading`: the query's words as the probe said to read them (`read_words`)."""
    check_request(filters, sort, limit, offset)
    words = list(reading.words) if reading else query_words(query)
    if not words and clean_query(query):
        return None
    text = text_clause(words, mode, reading) if words else {"match_all": {}}
    if text is None:
        return None
    body: dict[str, Any] = {
        "query": {"bool": {"must": [text], "filter": filter_clauses(filters)}},
        "from": offset,
        "size": limit,
        "track_total_hits": True,
        "_source": ["product"],
    }
    if sort != "relevance":
        body["sort"] = [
            {"price": {"order": "asc" if sort == "price_asc" else "desc"}},
            {"product_id": {"order": "asc"}},
        ]
    return body


# -- compounds and keyboard layouts: what the index holds -------------------------------------


def _cuts(word: str) -> list[tuple[str, str]]:
    """Two-part readings of a Cyrillic word, the longest first part first."""
    if not is_cyrillic(word) or not 2 * MIN_COMPOUND_PART <= len(word) <= MAX_SPLIT_CHARS:
        return []
    return [
        (word[:cut], word[cut:])
        for cut in range(len(word) - MIN_COMPOUND_PART, MIN_COMPOUND_PART - 1, -1)
    ]


def _latin(word: str) -> bool:
    return word.isascii() and word.isalpha()


def _layout_joins(first: str, second: str) -> list[str]:
    """One Russian word two Latin-layout words may have been, split at a key that is
    punctuation on the Latin layout (yjen + er → ноутбук), in `SPLITTING_KEYS` order."""
    return [f"{keyboard_twin(first)}{key}{keyboard_twin(second)}" for key in SPLITTING_KEYS]


def _spans(words: list[str]) -> list[str]:
    """Adjacent words joined, as a join may need them: every word after the first Cyrillic."""
    found: list[str] = []
    for start in range(len(words)):
        for end in range(start + 1, min(start + MAX_JOINED_WORDS, len(words)) + 1):
            if end - start > 1 and not is_cyrillic(words[end - 1]):
                break
            found.append("".join(words[start:end]))
    return found


def _questions(words: list[str], matched_nothing: frozenset[str]) -> dict[str, dict[str, Any]]:
    """Filter name → query, the doc counts the rules need (names as in tantivy_query):
    `known X` — a stem of X in some text field (`joined_compounds`, `joined_layout_splits`);
    `matches W` — W or an alternative matches something (else W may be split, or typed on
    the other layout); `name P` — a stem of part P in some product name (`compound_parts`).
    Words of `matched_nothing` are known to match nothing: not asked."""
    texts: list[str] = []
    if len(words) > 1:
        texts += _spans(words)
        for first, second in pairwise(words):
            if _latin(first) and _latin(second):
                texts += _layout_joins(first, second)
    out = {
        f"known {text}": {"multi_match": {"query": text, "fields": list(BOOSTS)}} for text in texts
    }
    for word in words:
        cuts = _cuts(word)
        if (cuts or keyboard_twin(word) is not None) and word not in matched_nothing:
            out[f"matches {word}"] = _any(forms_clauses(word))
        for part in (p for cut in cuts for p in cut):
            out[f"name {part}"] = {"match": {"name": part}}
    return out


def probe_body(
    words: list[str], matched_nothing: frozenset[str] = frozenset()
) -> dict[str, Any] | None:
    """One request for every doc count the rules need; None when there is no question.
    The customer's filters are left out on purpose: the rules ask what the index holds,
    as doc_freq does."""
    questions = _questions(words, matched_nothing)
    if not questions:
        return None
    return {"size": 0, "aggs": {"questions": {"filters": {"filters": questions}}}}


def probe_counts(response: dict[str, Any]) -> dict[str, int]:
    buckets = ((response.get("aggregations") or {}).get("questions") or {}).get("buckets") or {}
    return {name: int(bucket.get("doc_count") or 0) for name, bucket in buckets.items()}


def read_words(
    words: list[str], counts: Mapping[str, int], matched_nothing: frozenset[str] = frozenset()
) -> Reading | None:
    """The embedded builder's rules over the probe's doc counts, in its order: words split
    by the Latin layout joined, then compounds joined (a joined word is in the index, so it
    is never split nor twinned), then each word that matches nothing split, else twinned.
    None when they change nothing. A join the probe did not ask about (of a layout-joined
    word with its neighbour, of more than three words) is not made."""

    def known(text: str) -> bool:
        return counts.get(f"known {text}", 0) > 0

    def matches(word: str) -> bool:
        return word not in matched_nothing and counts.get(f"matches {word}", 1) > 0

    joined: list[str] = []
    for word in words:
        latin_unknown = [_latin(w) and not known(w) for w in (joined[-1:] or [""]) + [word]]
        if joined and all(latin_unknown):
            layout = next((w for w in _layout_joins(joined[-1], word) if known(w)), None)
            if layout is not None:
                joined[-1] = layout
                continue
        joined.append(word)
    words_read: list[str] = []
    for word in joined:
        if (
            words_read
            and is_cyrillic(word)
            and not (known(words_read[-1]) and known(word))
            and known(words_read[-1] + word)
        ):
            words_read[-1] += word
            continue
        words_read.append(word)
    splits: dict[str, tuple[str, str]] = {}
    twins: dict[str, str] = {}
    for word in (w for w in words_read if w in words and not matches(w)):
        parts = next(
            (cut for cut in _cuts(word) if all(counts.get(f"name {p}", 0) for p in cut)), None
        )
        if parts is not None:
            splits[word] = parts
        elif (twin := keyboard_twin(word)) is not None:
            twins[word] = twin
    if words_read == words and not splits and not twins:
        return None
    return Reading(tuple(words_read), splits, twins)


def suggest_body(text: str, limit: int = 8) -> dict[str, Any] | None:
    """Completions as the customer types: names with the earlier words and a word starting
    with the last, partly typed one (its Latin spelling too: самсу → samsung)."""
    words = query_words(text)
    if not words:
        return None
    *done, last = words
    typed: list[dict[str, Any]] = [
        {"prefix": {"name": {"value": p}}}
        for p in dict.fromkeys([last, *([transliterate(last)] if is_cyrillic(last) else [])])
    ]
    typed.append({"match": {"name": last}})  # a whole word typed: its stem, not a prefix
    must: list[dict[str, Any]] = [{"match": {"name": w}} for w in done]
    must.append({"bool": {"should": typed, "minimum_should_match": 1}})
    # Twice the limit: several products share a name; distinct names are kept.
    return {"query": {"bool": {"must": must}}, "size": limit * 2, "_source": ["product"]}
