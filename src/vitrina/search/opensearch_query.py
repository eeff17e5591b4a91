"""OpenSearch request bodies from a customer's words: the query plan (`query_plan`, the
one the embedded index translates too) in the query DSL, as pure functions unit tests check
without a server.

Every word (or one of its alternatives: synonyms, brands, compounds — `query_understanding`)
must match; when nothing does, any word may; when still nothing, words a few edits away,
their English-style Latin spelling, and dictionary words two letters off. A long query
leaves out its least-weighted alternatives to stay under the cluster's limit of term
queries a search (`MAX_QUERY_TERMS`); the embedded index has no such limit. What the index
holds (compounds split or joined, the other keyboard layout) is read from one probe
request: `search.opensearch_reading`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vitrina.domain.search_document import clean_query, is_decimal, query_words
from vitrina.search.analysis import form_lemma_text, stems, whole_part
from vitrina.search.analysis import lemmas as dictionary_lemmas
from vitrina.search.base import SearchFilters, SortOrder, check_request
from vitrina.search.fields import BOOSTS, SERVED_BOOST, SERVED_PURPOSE_BOOST
from vitrina.search.misspellings import (
    FUZZY_MIN_CHARS,
    LEMMA_FUZZY_FIELD,
    MISSPELT_WEIGHT,
    brand_cuts,
    brand_fuzzy_stems,
    fuzzy_distance,
    lemma_fuzzy_distance,
    swapped_neighbours,
    whole_brand_spellings,
)
from vitrina.search.model_codes import name_spellings
from vitrina.search.opensearch_requests import filter_clauses
from vitrina.search.phrases import (
    PhraseMatch,
)
from vitrina.search.query_plan import (
    ALL_NEEDED_MODES,
    GLUED_IDF,
    PlannedWord,
    QueryPlan,
    assemble,
    plan_query,
    rewritten_words,
    said_in_words,
    typed_words,
)
from vitrina.search.query_understanding import (
    COMPOUND_SPLIT_WEIGHT,
    COMPOUND_WEIGHT,
    TRANSLIT_WEIGHT,
    Form,
    compound_meanings,
    glued_typo_cuts,
    may_be_cut_short,
    misspelt_meanings,
    word_forms,
)
from vitrina.search.transliteration import (
    BRAND_KEY_TAIL,
    SOUND_BRAND_BOOST,
    english_spellings,
    fuzzy_cyrillic_spellings,
    is_cyrillic,
    transliterate,
    word_sound,
)

if TYPE_CHECKING:  # the reading module builds its probe from this one's clauses
    from vitrina.search.opensearch_reading import Reading

# Lucene's limit on the term queries of one search (OpenSearch's
# `indices.query.bool.max_clause_count`, 1024 by default; past it the cluster answers HTTP
# 500). Every alternative costs a term per field (6 stemmed, 2 lemma fields): four or five
# long Cyrillic words with their 16 compound prefixes each went past it. 900: the count here
# is the client's (words per field), the rest is left for filters and tokenizer surprises.
MAX_QUERY_TERMS = 900
_TOKEN = re.compile(r"\w+")
MAX_FUZZY_EXPANSIONS = 50  # OpenSearch's default max_expansions
# A brand cut (`misspellings.brand_cuts`) looks two edits from the brand keys: a handful
# of brands at most are that near, so its expansions are few and fixed.
BRAND_CUT_EXPANSIONS = 5

STEM_FIELDS = [
    *(f"{name}^{boost:g}" for name, boost in BOOSTS.items()),
    f"name_served^{SERVED_BOOST:g}",
]
FUZZY_FIELDS = [f"{name}^{boost:g}" for name, boost in BOOSTS.items() if name != "specifications"]
# An English-style Latin spelling is a name typed in Cyrillic: it is in the name or the brand.
ENGLISH_FIELDS = [f"{name}^{BOOSTS[name]:g}" for name in ("name", "brand")]
SWAPPED_FIELDS = [f"name^{BOOSTS['name']:g}"]
BRAND_FIELDS = [f"brand^{BOOSTS['brand']:g}"]
BRAND_KEY_FIELDS = [f"brand_key^{BOOSTS['brand']:g}"]


def any_of(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    return {"bool": {"should": clauses, "minimum_should_match": 1}}


def term_clauses(word: str, weight: float = 1.0, guess: bool = True) -> list[dict[str, Any]]:
    """One word on the stemmed fields and its lemmas on the lemma fields (scores add up);
    `guess` off: a made-up form's lemmas are not guessed (`analysis.form_lemmas`). A decimal
    (6.7) must match as itself, and its whole part adds to the score
    (the index holds it before the decimal: `analysis.whole_part`)."""
    if not is_decimal(word):
        return _field_clauses(word, weight, guess)
    exact = {"bool": {"should": _field_clauses(word, weight, guess)}}
    whole = _field_clauses(whole_part(word)[0], weight, guess)
    return [{"bool": {"must": [exact], "should": whole}}]


def _field_clauses(word: str, weight: float, guess: bool) -> list[dict[str, Any]]:
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
                "query": form_lemma_text(word, guess),
                "fields": ["name_lemma^4", "body_lemma"],
                "type": "most_fields",
                "boost": weight,
            }
        },
    ]


def forms_clauses(word: str) -> list[dict[str, Any]]:
    """The word as typed and its alternatives (synonyms, brands, compounds)."""
    return [c for text, weight, guess in _forms(word) for c in term_clauses(text, weight, guess)]


def _forms(word: str) -> list[Form]:
    return word_forms(word, dictionary_lemmas(word))


def split_clause(parts: tuple[str, str]) -> dict[str, Any]:
    """Both parts of a compound the index has only as two words (Фитнес-браслет), or a
    prefixed compound's adjective and base (Электрическая зубная щётка)."""
    return {"bool": {"must": [any_of(term_clauses(p, COMPOUND_SPLIT_WEIGHT)) for p in parts]}}


@dataclass(frozen=True)
class _WordPlan:
    """What one word's clause looks for: forms, each enough alone (the first is the word as
    typed, or its twin), and pairs of words both needed (split parts, adjective + base) —
    in "any word", a split's parts each counting (`either`)."""

    forms: list[Form]
    pairs: list[tuple[str, str]]
    either: bool = False

    def clause(self) -> dict[str, Any]:
        should = [
            c for text, weight, guess in self.forms for c in term_clauses(text, weight, guess)
        ]
        if self.either and self.pairs:  # фитнесчасы xyz: часы and xyz outweigh фитнес+часы
            should += [any_of(term_clauses(p, COMPOUND_SPLIT_WEIGHT)) for p in self.pairs[0]]
            return any_of(should + [split_clause(pair) for pair in self.pairs[1:]])
        return any_of(should + [split_clause(pair) for pair in self.pairs])


def _word_plan(word: str, reading: Reading | None, either: bool = False) -> _WordPlan:
    if reading is not None and word in reading.splits:
        plan = _WordPlan([], [reading.splits[word]], either)
    elif reading is not None and word in reading.bases:  # аудиоколонка → колонка
        plan = _WordPlan([(reading.bases[word], COMPOUND_WEIGHT, True)], [])
    elif reading is not None and word in reading.latins:  # снапдрагоне → snapdragon
        plan = _WordPlan([(reading.latins[word], TRANSLIT_WEIGHT, True)], [])
    elif reading is not None and word in reading.twins:
        plan = _WordPlan(_forms(reading.twins[word]), [])
    else:
        plan = _WordPlan(_forms(word), [])
    meanings = compound_meanings(word)
    return plan if not meanings else _WordPlan(plan.forms, [*plan.pairs, *meanings], plan.either)


def word_clause(word: str, reading: Reading | None = None) -> dict[str, Any]:
    """The word as typed or any of its alternatives — or, where the `reading` says the
    index has neither, its two parts or its other-layout twin — or, for a prefixed compound,
    its adjective and base together (электрощетка → электрический + щетка)."""
    return _word_plan(word, reading).clause()


def _terms(text: str, guess: bool = True) -> int:
    """Term queries one form costs at most: a term per word per stemmed field, and one per
    lemma per lemma field (a made-up form's lemmas not guessed, as `term_clauses` sends it)."""
    lemma_terms = len(form_lemma_text(text, guess).split())
    whole = _terms(whole_part(text)[0], guess) if is_decimal(text) else 0
    return len(STEM_FIELDS) * len(_TOKEN.findall(text)) + 2 * lemma_terms + whole


def _within_budget(plans: list[_WordPlan], reserved: int = 0) -> list[_WordPlan]:
    """The plans with the least-weighted alternatives (compounds first, of the last words
    first) left out until the query has at most MAX_QUERY_TERMS terms with the `reserved`
    ones (phrases' meanings); every word as typed (or its twin or parts) stays. Short
    queries are far under and left whole."""
    total = reserved + sum(_terms(text, guess) for plan in plans for text, _, guess in plan.forms)
    total += sum(_terms(a) + _terms(b) for plan in plans for a, b in plan.pairs)
    if total <= MAX_QUERY_TERMS:
        return plans
    dropped: set[tuple[int, int]] = set()
    optional = [(f[1], -i, j) for i, p in enumerate(plans) for j, f in enumerate(p.forms) if j]
    for _, minus_i, j in sorted(optional):
        if total <= MAX_QUERY_TERMS:
            break
        dropped.add((-minus_i, j))
        text, _, guess = plans[-minus_i].forms[j]
        total -= _terms(text, guess)
    return [
        _WordPlan(
            [f for j, f in enumerate(plan.forms) if (i, j) not in dropped], plan.pairs, plan.either
        )
        for i, plan in enumerate(plans)
    ]


def _fuzzy(text: str, fields: list[str]) -> dict[str, Any] | None:
    stem = next(iter(stems(text)), "")
    if len(stem) < FUZZY_MIN_CHARS:
        return None
    return {
        "multi_match": {
            "query": text,
            "fields": fields,
            "type": "most_fields",
            "fuzziness": fuzzy_distance(stem, text),
        }
    }


def _glued_typo_clause(known: str, rest: str) -> dict[str, Any]:
    """`known` as a word and `rest` a typo or two off a name's word, both needed
    (`query_understanding.glued_typo_cuts`: зубнаяпста → зубная + паста)."""
    stem = next(iter(stems(rest)), rest)
    near = [
        {
            "multi_match": {
                "query": rest,
                "fields": ["name"],
                "fuzziness": max(1, fuzzy_distance(stem)),
            }
        },
        {"multi_match": {"query": rest, "fields": [LEMMA_FUZZY_FIELD], "fuzziness": 1}},
    ]
    for match in near:  # each its boost alone, as tantivy's fuzzy terms score
        match["multi_match"]["fuzzy_rewrite"] = "constant_score"
    return {
        "bool": {
            "must": [
                any_of(term_clauses(known)),
                {"bool": {"should": near, "boost": BOOSTS["name"]}},
            ]
        }
    }


def name_starting_clause(start: str) -> dict[str, Any]:
    """A name's word that starts with `start`, weighted as a name's word."""
    return {"prefix": {"name": {"value": start, "boost": BOOSTS["name"]}}}


def fuzzy_clause(word: str) -> dict[str, Any] | None:
    """The last resort: stems a few edits away; a Cyrillic word's Latin spellings, letter by
    letter (хуавэй → huawei) and English-style in name and brand (клинмастер → clinmaster,
    two edits from CleanMaster; альфа → alpha); what a word two letters off a dictionary
    word means (сковаротка → сковородка → сковорода: three edits from the index's stem);
    and the word with two neighbours swapped back (роамн → роман, фне → фен)."""
    spellings = [(word, FUZZY_FIELDS)]
    if is_cyrillic(word):
        spellings.append((transliterate(word), FUZZY_FIELDS))
        for english in english_spellings(word):
            if all(english != text for text, _ in spellings):
                spellings.append((english, ENGLISH_FIELDS))
    else:  # kastrulya → каструля ~ кастрюля
        spellings += [(cyrillic, FUZZY_FIELDS) for cyrillic in fuzzy_cyrillic_spellings(word)]
    should = [c for text, fields in spellings if (c := _fuzzy(text, fields)) is not None]
    should += [_glued_typo_clause(known, rest) for known, rest in glued_typo_cuts(word)]
    if is_cyrillic(word) and (distance := lemma_fuzzy_distance(word)):
        # смтана: a typo can move where the stemmer cuts; the name's lemma is near (сметана)
        should.append(
            {
                "multi_match": {
                    "query": word,
                    "fields": [f"{LEMMA_FUZZY_FIELD}^{BOOSTS['name']}"],
                    "fuzziness": distance,
                    # its boost alone, as tantivy's fuzzy term scores: BM25 on a short
                    # name (Клавиатура YZA) lifted it over the word's stem match elsewhere
                    "fuzzy_rewrite": "constant_score",
                }
            }
        )
    # bosh → bosch, тефль → tefl → tefal: one edit for a four-letter spelling, brand only
    should += [
        {"multi_match": {"query": stem, "fields": BRAND_FIELDS, "fuzziness": 1}}
        for stem in brand_fuzzy_stems(word, (text for text, _ in spellings))
    ]
    # delongi ~ de'longhi, gloriajens ~ gloria jeans: two edits from the whole brand key
    should += [
        {"multi_match": {"query": text, "fields": BRAND_KEY_FIELDS, "fuzziness": 2}}
        for text in whole_brand_spellings(text for text, _ in spellings)
    ]
    # gloriajins ~ gloria jeans: the word cut in two, each cut two edits from the key; the
    # key field has a term per brand, so few expansions (left out of the term budget's share)
    should += [
        {
            "multi_match": {
                "query": cut,
                "fields": BRAND_KEY_FIELDS,
                "fuzziness": 2,
                "max_expansions": BRAND_CUT_EXPANSIONS,
            }
        }
        for cut in brand_cuts(word)
    ]
    if (sound := word_sound(word)) is not None:  # мишлен ~ michelin; гелакси ~ galaxy
        key_sound = sound + BRAND_KEY_TAIL
        should += [
            {
                "regexp": {
                    "brand_key": {"value": key_sound, "boost": SOUND_BRAND_BOOST, "flags": "NONE"}
                }
            },
            {"regexp": {"name": {"value": sound, "boost": BOOSTS["name"], "flags": "NONE"}}},
        ]
    for alt in misspelt_meanings(word):  # микраволнофка → микроволновка, mause → mouse
        should += term_clauses(alt.word, alt.weight)
    # in the name only, a term a variant: one no name has matches nothing
    should += [
        {"multi_match": {"query": swapped, "fields": SWAPPED_FIELDS, "boost": MISSPELT_WEIGHT}}
        for swapped in swapped_neighbours(word)
    ]
    if may_be_cut_short(word):  # наушн → наушники
        should.append(name_starting_clause(word))
    return any_of(should) if should else None


def _multi_matches(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node["multi_match"]] if "multi_match" in node else []
        return found + [m for value in node.values() for m in _multi_matches(value)]
    return [m for item in node for m in _multi_matches(item)] if isinstance(node, list) else []


def _fuzzy_within_budget(clauses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A fuzzy term becomes up to `max_expansions` term queries per field (its nearest
    terms) when the cluster rewrites it; a long query of typos gets fewer per term, so the
    whole stays under MAX_QUERY_TERMS. Short queries keep OpenSearch's 50."""
    matches = _multi_matches(clauses)
    pinned = [m for m in matches if "max_expansions" in m]  # a brand cut's few: as set
    fuzzy = [m for m in matches if "fuzziness" in m and m not in pinned]
    exact = sum(
        len(m["fields"]) * len(_TOKEN.findall(m["query"])) for m in matches if "fuzziness" not in m
    )
    exact += sum(len(m["fields"]) * m["max_expansions"] for m in pinned)
    slots = sum(len(m["fields"]) for m in fuzzy)
    expansions = (MAX_QUERY_TERMS - exact) // slots if slots else MAX_FUZZY_EXPANSIONS
    if expansions < MAX_FUZZY_EXPANSIONS:
        for match in fuzzy:
            match["max_expansions"] = max(1, expansions)
    return clauses


def meanings_clause(phrase: PhraseMatch) -> dict[str, Any]:
    """Any meaning of a phrase (звуковая панель → саундбар), each with all its words."""
    return any_of(
        [
            {"bool": {"must": [any_of(term_clauses(w, phrase.weight)) for w in meaning]}}
            for meaning in phrase.meanings
        ]
    )


def text_clause(
    words: list[str],
    mode: str,
    reading: Reading | None = None,
    said: tuple[tuple[str, tuple[str, ...]], ...] = (),
) -> dict[str, Any] | None:
    """The words' query of one stage: planned (`query_plan`; `said`: its numbers said in
    words), then translated into the query DSL."""
    plan = plan_query(tuple(words), mode, said=said)
    return assemble(plan, _OpenSearchClauses(plan, reading))


class _OpenSearchClauses:
    """A query plan's pieces as query DSL (`query_plan.Clauses`). Its own, unlike the
    embedded index's: what the index holds comes from the probe's `reading` (a word's split
    parts, base, Latin spelling or other-layout twin; in "any word", the `unmatched` words
    nothing matches, which go straight to their fuzzy clause), not from term-by-term probes;
    and a long query leaves out its least-weighted alternatives, and its fuzzy terms get
    fewer expansions, to stay under the cluster's MAX_QUERY_TERMS (tantivy has no limit)."""

    def __init__(self, plan: QueryPlan, reading: Reading | None) -> None:
        self.unmatched = reading.unmatched if reading is not None else frozenset()
        words = [w.word for w in plan.words]
        reserved = sum(_terms(w) for p in plan.phrases for meaning in p.meanings for w in meaning)
        if plan.mode == "and":  # and each phrase word once more, as typed
            reserved += sum(_terms(w) for p in plan.phrases for w in typed_words(plan, p))
        exact = [i for i, w in enumerate(plan.words) if self._exact(w)]
        either = plan.mode == "or"  # "any word": a split compound's parts count each
        plans = _within_budget([_word_plan(words[i], reading, either) for i in exact], reserved)
        self.plans = dict(zip(exact, plans, strict=True))

    def _exact(self, planned: PlannedWord) -> bool:
        return planned.request == "word" or (
            planned.request == "word_or_fuzzy" and planned.word not in self.unmatched
        )

    def word(self, index: int, planned: PlannedWord) -> dict[str, Any] | None:
        if self._exact(planned):
            return self.plans[index].clause()
        return fuzzy_clause(planned.word)  # "any word": nothing matches it (нордвей → Nordway)

    def weighted(self, clause: dict[str, Any], weight: float) -> dict[str, Any]:
        return {"bool": {"must": [clause], "boost": weight}}

    def meaning(self, phrase: PhraseMatch) -> dict[str, Any]:
        return meanings_clause(phrase)

    def typed(self, word: str) -> list[dict[str, Any]]:
        return [any_of(term_clauses(word))]

    def served(self, word: str) -> list[dict[str, Any]]:
        return [{"match": {"name_served": {"query": word, "boost": SERVED_PURPOSE_BOOST}}}]

    def absent(self, word: str) -> dict[str, Any]:
        return any_of(term_clauses(word))

    def joined(self, joined: str) -> dict[str, Any] | None:
        spelt = [c for s in name_spellings(joined) if (c := _fuzzy(s, ENGLISH_FIELDS)) is not None]
        return any_of(spelt) if spelt else None

    def name_starting(self, start: str) -> dict[str, Any]:
        return name_starting_clause(start)

    def name_word_matching(self, pattern: str) -> dict[str, Any]:
        return {"regexp": {"name": {"value": pattern, "boost": BOOSTS["name"] * GLUED_IDF}}}

    def all_of(self, clauses: list[dict[str, Any]]) -> dict[str, Any]:
        return {"bool": {"must": clauses}}

    def any_of(self, clauses: list[dict[str, Any]]) -> dict[str, Any]:
        return any_of(clauses)

    def with_should(self, must: dict[str, Any], should: list[dict[str, Any]]) -> dict[str, Any]:
        return {"bool": {"must": [must], "should": should}}

    def query(
        self,
        mode: str,
        needed: list[dict[str, Any]],
        extra: list[dict[str, Any]],
        absent: list[dict[str, Any]],
    ) -> dict[str, Any]:
        if mode != "and":  # fuzzy terms (of the fuzzy stage, of unmatched words) within budget
            _fuzzy_within_budget(needed + extra)
        out: dict[str, Any]
        if mode in ALL_NEEDED_MODES:
            out = (
                {"bool": {"must": needed, "should": extra}} if extra else {"bool": {"must": needed}}
            )
        elif not extra:
            out = any_of(needed)
        else:
            out = {"bool": {"must": [any_of(needed)], "should": extra}}
        if absent:
            return {"bool": {"must": [out], "must_not": absent}}
        return out


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
    typed = query_words(query)
    words = list(reading.words) if reading else list(rewritten_words(typed))
    if not words and clean_query(query):
        return None
    text = text_clause(words, mode, reading, said_in_words(typed)) if words else {"match_all": {}}
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
