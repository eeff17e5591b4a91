"""Tantivy queries from a customer's words: stems and lemmas per field, the words'
alternatives (synonyms, brands, compounds), typo-tolerant stems, words typed with the other
keyboard layout (the filters and suggest: `tantivy_requests`). The query is assembled from the words' plan
(`query_plan`, shared with OpenSearch); this module translates its pieces.

Queries are built from words, never parsed as query syntax. A clause is kept only when the
index has documents for its term (a clause that can not match adds nothing to a BM25 sum),
so a built query belongs to one index generation: `EmbeddedSearch` caches it until a commit.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import tantivy

from vitrina.domain.search_document import is_decimal
from vitrina.search.analysis import form_lemmas, lemmas, stems, whole_part
from vitrina.search.fields import BOOSTS, SERVED_BOOST, SERVED_PURPOSE_BOOST
from vitrina.search.keyboard_layout import keyboard_twin
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
from vitrina.search.model_codes import codes_without_a_digit, name_spellings
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
from vitrina.search.tantivy_reading import compound_ending, compound_parts, read_words
from vitrina.search.transliteration import (
    BRAND_KEY_TAIL,
    SOUND_BRAND_BOOST,
    english_spellings,
    fuzzy_cyrillic_spellings,
    is_cyrillic,
    transliterate,
    word_sound,
)
from vitrina.search.typed_shapes import cyrillic_names, latin_lemmas

Analysis = Literal["stem", "lemma", "stem+lemma"]

# Fields the fuzzy stage looks in: a typo in a specification value finds too much.
FUZZY_FIELDS = tuple(name for name in BOOSTS if name != "specifications")
# In "any word", a word found only fuzzily counts like a word found exactly: an exact term
# scores its boost × BM25 (~5-7 on the judged catalogues), a fuzzy one its boost alone.
ANY_WORD_FUZZY_BOOST = 5.0
# Joined pairs whose fuzzy clause is kept (a few hundred bytes each; emptied when full).
NAME_FUZZY_CACHE_WORDS = 16_384
# The rest of a name's word after a start: the characters an index word has. ".*", any
# Unicode character, took ~300 µs a query to compile; this class ~50 µs.
_WORD_REST = "[0-9a-zа-яё.]*"


class TantivyQueries:
    """Builds the queries `EmbeddedSearch` runs against `index`."""

    def __init__(
        self, index: Any, schema: Any, analysis: Analysis, understanding: bool, served: bool = False
    ) -> None:
        self.index = index
        self.schema = schema
        self.analysis = analysis
        self.understanding = understanding  # synonyms, brands, compounds, 2-edit typos
        self.served = served  # the index has name_served (schema v4)
        # what suggestions complete: a name's words, those it says its product serves too
        self.name_fields = ("name", "name_served") if served else ("name",)
        # each word's stems are looked for in these (name_served where the index has it)
        self._stem_fields = [*BOOSTS.items(), *([("name_served", SERVED_BOOST)] if served else [])]
        # joined pair → its fuzzy clauses: built from the schema alone, so valid across commits
        self._name_fuzzy: dict[str, list[tuple[Any, Any]]] = {}
        # pattern → its name clause: a regex compiled once (~35 µs), valid across commits as
        # the fuzzy clauses above
        self._name_patterns: dict[str, Any] = {}

    def term_clauses(
        self, word: str, weight: float = 1.0, searcher: Any = None, guess: bool = True
    ) -> list[tuple[Any, Any]]:
        """Should-clauses for one word; with a `searcher`, only terms it has documents for.
        `guess` off: a made-up form's lemmas are not guessed (`analysis.form_lemmas`). A
        decimal (6.7) must match as itself, and its whole part adds to the score
        (the index holds it before the decimal: `analysis.whole_part`)."""
        if not is_decimal(word):
            return self._field_clauses(word, weight, searcher, guess)
        exact = self._field_clauses(word, weight, searcher, guess)
        if not exact:
            return []
        whole = self._field_clauses(whole_part(word)[0], weight, searcher, guess)
        must = (tantivy.Occur.Must, tantivy.Query.boolean_query(exact))
        return [(tantivy.Occur.Should, tantivy.Query.boolean_query([must, *whole]))]

    def _field_clauses(
        self, word: str, weight: float, searcher: Any, guess: bool
    ) -> list[tuple[Any, Any]]:
        clauses: list[tuple[Any, Any]] = []
        should = tantivy.Occur.Should

        def absent(field: str, term: str) -> bool:
            return searcher is not None and not searcher.doc_freq(field, term)

        if self.analysis in ("stem", "stem+lemma"):
            for stem in stems(word):
                for name, boost in self._stem_fields:
                    if absent(name, stem):
                        continue
                    clauses.append(
                        (
                            should,
                            tantivy.Query.boost_query(
                                tantivy.Query.term_query(self.schema, name, stem), boost * weight
                            ),
                        )
                    )
        if self.analysis in ("lemma", "stem+lemma"):
            for form in form_lemmas(word, guess):
                if not absent("name_lemma", form):
                    clauses.append(
                        (
                            should,
                            tantivy.Query.boost_query(
                                tantivy.Query.term_query(self.schema, "name_lemma", form),
                                BOOSTS["name"] * weight,
                            ),
                        )
                    )
                if not absent("body_lemma", form):
                    clauses.append(
                        (
                            should,
                            tantivy.Query.boost_query(
                                tantivy.Query.term_query(self.schema, "body_lemma", form), weight
                            ),
                        )
                    )
        return clauses

    def served_clauses(self, word: str, searcher: Any) -> list[Any]:
        """The word's stems in `name_served`, weighed as a name's word (`query_plan.assemble`
        adds them to a word the query says the product is for); none without the field."""
        if not self.served:
            return []
        return [
            tantivy.Query.boost_query(
                tantivy.Query.term_query(self.schema, "name_served", stem), SERVED_PURPOSE_BOOST
            )
            for stem in stems(word)
            if searcher.doc_freq("name_served", stem)
        ]

    def forms_clauses(self, forms: list[Form], searcher: Any) -> list[Any]:
        """Clauses of the forms (`word_forms`) the index has."""
        return [
            c for w, weight, guess in forms for c in self.term_clauses(w, weight, searcher, guess)
        ]

    def word_clause(self, word: str) -> tuple[Any, bool]:
        """The word as typed, or any of its alternatives (synonyms, brands, compounds); and
        whether it matches nothing in the index (an empty query)."""
        clauses, forms = self.matching_clauses(word)
        if clauses:
            return tantivy.Query.boolean_query(clauses), False
        # None of its terms is in the index: a word that matches nothing (so "all words"
        # finds nothing), unless it has no terms at all (then it is no word: left out).
        if any(self.term_clauses(w, weight, guess=guess) for w, weight, guess in forms):
            return tantivy.Query.empty_query(), True
        return None, False

    def word_or_fuzzy_clause(self, word: str) -> tuple[Any, bool]:
        """For "any word": the word's clause, or its fuzzy clause when nothing in the index
        matches the word or its alternatives. Otherwise a misspelt or Cyrillic-spelt brand
        next to a word that matches (нордвей велосипед, ейсер ноутбук) is dropped there,
        the fuzzy stage never runs, and the brand's products rank anywhere among the other
        word's. And whether it is the word's fuzzy clause (or, when that is None, an empty
        query): what the fuzzy stage asks of the word, as it asks it."""
        clauses, forms = self.matching_clauses(word, either=True)
        if clauses:
            return tantivy.Query.boolean_query(clauses), False
        if not any(self.term_clauses(w, weight, guess=guess) for w, weight, guess in forms):
            return None, False
        fuzzy = self.fuzzy_clause(word)
        if fuzzy is None:
            return tantivy.Query.empty_query(), True
        # A fuzzy match scores its field's boost alone, no BM25: next to a word that matches
        # exactly (наушники эйрбит) it would add a fifth of that word's score and rank
        # nowhere among the other word's products.
        return tantivy.Query.boost_query(fuzzy, ANY_WORD_FUZZY_BOOST), True

    def matching_clauses(self, word: str, either: bool = False) -> tuple[list[Any], list[Form]]:
        """The clauses of the word and its alternatives the index has, and the forms tried;
        `either` ("any word"): a compound split in two counts each part it finds."""
        searcher = self.index.searcher()
        forms = word_forms(word, lemmas(word)) if self.understanding else [(word, 1.0, True)]
        clauses = self.forms_clauses(forms, searcher)
        meanings = compound_meanings(word) if self.understanding else []
        boths = [both for m in meanings if (both := self.all_of(m, searcher)) is not None]
        if self.understanding and not clauses:
            parts = compound_parts(searcher, word)
            split = self.all_of(parts, searcher, either) if parts else None
            if split is not None:  # фитнесбраслет → фитнес + браслет, as the name has them
                clauses.append(split)
            base = None if split is not None else compound_ending(searcher, self.schema, word)
            if base is not None:  # аудиоколонка → колонка, робопылесос → пылесос
                clauses = self.term_clauses(base, COMPOUND_WEIGHT, searcher)
            twin = keyboard_twin(word)
            if not clauses and twin is not None:  # yjen → ноут → ноутбук
                clauses = self.forms_clauses(word_forms(twin, lemmas(twin)), searcher)
            if not clauses:  # на снапдрагоне → snapdragon; а311 → a31 (a digit too many)
                latins = [(latin, TRANSLIT_WEIGHT, True) for latin in latin_lemmas(word)]
                latins += [(code, TRANSLIT_WEIGHT, True) for code in codes_without_a_digit(word)]
                latins += [(name, TRANSLIT_WEIGHT, True) for name in cyrillic_names(word)]
                clauses = self.forms_clauses(latins, searcher)
        # электрощетка: Электрическая зубная щётка, Чайник электрический; электрокнига:
        # Электронная книга
        clauses += boths
        return clauses, forms

    def all_of(
        self, words: tuple[str, str], searcher: Any, either: bool = False
    ) -> tuple[Any, Any] | None:
        """A should-clause matching products that have both words (a compound's parts) —
        or, `either`, each word adding to the score; None when no product has one of them."""
        parts = [self.term_clauses(w, COMPOUND_SPLIT_WEIGHT, searcher) for w in words]
        if not all(parts):
            return None
        occur = tantivy.Occur.Should if either else tantivy.Occur.Must
        both = [(occur, tantivy.Query.boolean_query(part)) for part in parts]
        return (tantivy.Occur.Should, tantivy.Query.boolean_query(both))

    def fuzzy_clause(self, word: str) -> Any:
        """Stems a few edits away (сковородку → сковород, typos), and a Cyrillic word's
        Latin spelling (хуавэй → huawei): the last resort only. None when the word has no
        such clause; an empty query when none of them matches a product.

        Only the clauses that match something are kept (each asked alone, for one hit), as
        `term_clauses` keeps only the terms the index has: a clause that matches nothing
        adds nothing to a union, to what it finds or to a score, but tantivy 0.27 ran a
        union of N fuzzy clauses at ~3× the cost of running each alone (27 clauses of
        «канструто» at 100k products: 5.9 ms against 2.0 ms; a union of two 0.5 ms, each
        alone 0.05 ms). The typo stage of a word nothing is near ran them all for nothing on
        every search, the slowest suggestions' common case (`benchmarks/search.py`).
        The kept clauses are the searcher's of the moment: the built query is tagged with
        its generation like every pruned query (`EmbeddedSearch._built_query`)."""
        clauses = self.typo_clauses(word)
        return self.matching_any(clauses) if clauses else None

    def matching_any(self, clauses: list[tuple[Any, Any]]) -> Any:
        """A union of the should-clauses that match a product now (`fuzzy_clause`), or an
        empty query when none does."""
        searcher = self.index.searcher()
        found = [c for c in clauses if searcher.search(c[1], limit=1, count=False).hits]
        return tantivy.Query.boolean_query(found) if found else tantivy.Query.empty_query()

    def typo_clauses(self, word: str) -> list[tuple[Any, Any]]:
        """Every should-clause of the word's fuzzy stage (`fuzzy_clause`), not pruned."""
        words = [(word, FUZZY_FIELDS)]
        if self.understanding and is_cyrillic(word):
            words.append((transliterate(word), FUZZY_FIELDS))
            # клинмастер → clinmaster ~ cleanmaster; альфа → alfa, alpha
            for english in english_spellings(word):
                if all(english != w for w, _ in words):  # a Latin name: in name or brand
                    words.append((english, ("name", "brand")))
        elif self.understanding:  # kastrulya → каструля ~ кастрюля
            words += [(cyrillic, FUZZY_FIELDS) for cyrillic in fuzzy_cyrillic_spellings(word)]
        clauses = [
            (
                tantivy.Occur.Should,
                tantivy.Query.boost_query(
                    tantivy.Query.fuzzy_term_query(
                        self.schema,
                        name,
                        stem,
                        distance=fuzzy_distance(stem, w) if self.understanding else 1,
                    ),
                    boost,
                ),
            )
            for w, fields in words
            for stem in stems(w)
            if len(stem) >= FUZZY_MIN_CHARS
            for name, boost in BOOSTS.items()
            if name in fields
        ]
        if self.understanding:  # bosh → bosch, тефль → tefl → tefal: in the brand field
            clauses += [
                (
                    tantivy.Occur.Should,
                    tantivy.Query.boost_query(
                        tantivy.Query.fuzzy_term_query(self.schema, "brand", stem, distance=1),
                        BOOSTS["brand"],
                    ),
                )
                for stem in brand_fuzzy_stems(word, (w for w, _ in words))
            ]
        if self.understanding:  # delongi ~ de'longhi, gloriajens ~ gloria jeans: the whole key
            clauses += [
                (
                    tantivy.Occur.Should,
                    tantivy.Query.boost_query(
                        tantivy.Query.fuzzy_term_query(self.schema, "brand_key", w, distance=2),
                        BOOSTS["brand"],
                    ),
                )
                for w in [*whole_brand_spellings(w for w, _ in words), *brand_cuts(word)]
            ]
        sound = word_sound(word) if self.understanding else None
        if sound is not None:
            # мишлен ~ michelin, рибок ~ reebok: a brand the word sounds like; гелакси ~
            # galaxy: a name's Latin word (a model line)
            clauses += [
                (
                    tantivy.Occur.Should,
                    tantivy.Query.boost_query(
                        tantivy.Query.regex_query(self.schema, "brand_key", sound + BRAND_KEY_TAIL),
                        SOUND_BRAND_BOOST,
                    ),
                ),
                (
                    tantivy.Occur.Should,
                    tantivy.Query.boost_query(
                        tantivy.Query.regex_query(self.schema, "name", sound),
                        BOOSTS["name"],
                    ),
                ),
            ]
        if self.understanding:  # зубнаяпста: зубная and a typo of паста, both needed
            clauses += [
                clause
                for known, rest in glued_typo_cuts(word)
                if (clause := self.glued_typo_clause(known, rest)) is not None
            ]
        if self.understanding and is_cyrillic(word) and (distance := lemma_fuzzy_distance(word)):
            # смтана: a typo can move where the stemmer cuts (смтан; the index has смета, two
            # edits off), while the name's lemma is one edit away (сметана)
            clauses.append(
                (
                    tantivy.Occur.Should,
                    tantivy.Query.boost_query(
                        tantivy.Query.fuzzy_term_query(
                            self.schema, LEMMA_FUZZY_FIELD, word, distance=distance
                        ),
                        BOOSTS["name"],
                    ),
                )
            )
        if self.understanding and is_cyrillic(word):
            clauses += self.nearer_brand_clauses([w for w, _ in words[1:]])
        if self.understanding:  # микраволнофка → микроволновка, mause → mouse: their meanings
            searcher = self.index.searcher()
            clauses += [
                clause
                for alt in misspelt_meanings(word)
                for clause in self.term_clauses(alt.word, alt.weight, searcher)
            ]
        if self.understanding and may_be_cut_short(word):  # наушн → наушники
            clauses.append((tantivy.Occur.Should, self.name_starting_clause(word)))
        if self.understanding:  # роамн → роман, фне → фен: the word as some name has it
            searcher = self.index.searcher()
            clauses += [
                (
                    tantivy.Occur.Should,
                    tantivy.Query.boost_query(
                        tantivy.Query.term_query(self.schema, "name", stem),
                        BOOSTS["name"] * MISSPELT_WEIGHT,
                    ),
                )
                for swapped in swapped_neighbours(word)
                for stem in stems(swapped)
                if searcher.doc_freq("name", stem)
            ]
        return clauses

    def name_starting_clause(self, start: str) -> Any:
        """A name's word (its stem) that starts with `start`, weighted as a name's word."""
        return self.name_pattern_clause(re.escape(start) + _WORD_REST, BOOSTS["name"])

    def name_pattern_clause(self, pattern: str, boost: float = BOOSTS["name"] * GLUED_IDF) -> Any:
        """A name's word matching `pattern` (`query_plan.glued_patterns`: 512gb, buds2)."""
        clause = self._name_patterns.get(pattern)
        if clause is None:
            if len(self._name_patterns) >= NAME_FUZZY_CACHE_WORDS:
                self._name_patterns.clear()
            matching = tantivy.Query.regex_query(self.schema, "name", pattern)
            clause = tantivy.Query.boost_query(matching, boost)
            self._name_patterns[pattern] = clause
        return clause

    def glued_typo_clause(self, known: str, rest: str) -> tuple[Any, Any] | None:
        """`known` as a word and `rest` a typo or two off a name's word, both needed (a
        cut of `query_understanding.glued_typo_cuts`); None when the index lacks `known`."""
        found = self.term_clauses(known, 1.0, self.index.searcher())
        if not found:
            return None
        near = [
            tantivy.Query.fuzzy_term_query(
                self.schema, "name", stem, distance=max(1, fuzzy_distance(stem))
            )
            for stem in stems(rest)
        ]
        near.append(
            tantivy.Query.fuzzy_term_query(self.schema, LEMMA_FUZZY_FIELD, rest, distance=1)
        )
        both = [
            (tantivy.Occur.Must, tantivy.Query.boolean_query(found)),
            (
                tantivy.Occur.Must,
                tantivy.Query.boost_query(
                    tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in near]),
                    BOOSTS["name"],
                ),
            ),
        ]
        return (tantivy.Occur.Should, tantivy.Query.boolean_query(both))

    def name_fuzzy_clause(self, joined: str) -> Any:
        """Two adjacent words joined, a few edits from a name or brand (эйрбит ~ airbeat):
        the clauses that match a product now (`matching_any`: a pair's union cost 0.5–4 ms
        at 100k products, each "any word" search of a query of 2+ words, and most pairs
        match nothing); None when the pair has none."""
        clauses = self.name_fuzzy_clauses(joined)
        return self.matching_any(clauses) if clauses else None

    def name_fuzzy_clauses(self, joined: str) -> list[tuple[Any, Any]]:
        """Every clause of `name_fuzzy_clause`, cached per joined word (built from the schema
        alone: ~2 % of all query building was building them, for every pair)."""
        if joined in self._name_fuzzy:
            return self._name_fuzzy[joined]
        if len(self._name_fuzzy) >= NAME_FUZZY_CACHE_WORDS:
            self._name_fuzzy.clear()
        clauses = [
            (
                tantivy.Occur.Should,
                tantivy.Query.boost_query(
                    tantivy.Query.fuzzy_term_query(
                        self.schema, name, stem, distance=fuzzy_distance(stem)
                    ),
                    BOOSTS[name],
                ),
            )
            for spelling in name_spellings(joined)
            for stem in stems(spelling)
            if len(stem) >= FUZZY_MIN_CHARS
            for name in ("name", "brand")
        ]
        self._name_fuzzy[joined] = clauses
        return clauses

    def nearer_brand_clauses(self, spellings: list[str]) -> list[tuple[Any, Any]]:
        """The Latin spellings of a Cyrillic word once more, one edit away, in name and
        brand: tantivy scores every term a fuzzy query finds alike, so without them a brand
        two edits off (лориаль → lorial ~ gloria) tied with the one a letter off. Lucene
        (OpenSearch) already scores nearer terms higher."""
        return [
            (
                tantivy.Occur.Should,
                tantivy.Query.boost_query(
                    tantivy.Query.fuzzy_term_query(self.schema, name, stem, distance=1),
                    BOOSTS[name],
                ),
            )
            for w in dict.fromkeys(spellings)
            for stem in stems(w)
            if fuzzy_distance(stem) == 2
            for name in ("name", "brand")
        ]

    def text_query(self, words: tuple[str, ...], mode: str) -> Any:
        """The query of one stage: the words read as the index suggests (`tantivy_reading`),
        planned (`query_plan`), then translated into tantivy clauses."""
        return self.stage_query(words, mode)[0]

    def stage_query(self, words: tuple[str, ...], mode: str) -> tuple[Any, bool]:
        """`text_query`, and whether it matches every product the fuzzy stage's query
        would (so when it finds nothing, neither would that stage).

        Two shortcuts that change no result, only what a query of words the index lacks
        costs (a hostile client's gibberish, 8 words: ~45 → ~25 ms): "all words" stops at
        the first needed word that matches nothing — outside a phrase, whose meaning could
        stand in for it, "all words" then finds nothing, so the words after it are not
        built; and "any word" tells when each word it would ask fuzzily took its fuzzy
        clause, as the fuzzy stage then asks the same clauses of the same words (its
        optional and budget-exceeding words left out: a subset of the same should-clauses).
        """
        said = said_in_words(words) if self.understanding else ()
        if self.understanding:
            words = rewritten_words(words)
        if self.understanding and len(words) > 1:
            words = read_words(self.index.searcher(), words)
        plan = plan_query(words, mode, self.understanding, said)
        clauses = _TantivyClauses(self, mode)
        if mode in ALL_NEEDED_MODES and clauses.a_needed_word_matches_nothing(plan):
            return tantivy.Query.empty_query(), False
        query = assemble(plan, clauses)
        return query, mode == "or" and self.understanding and clauses.all_fuzzy

    @staticmethod
    def any_clause(clauses: list[Any]) -> Any:
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, c) for c in clauses])

    def meanings_clause(self, phrase: PhraseMatch) -> Any:
        """Any meaning of a phrase (each with all its words) the index has; None if none."""
        searcher = self.index.searcher()
        found = []
        for meaning in phrase.meanings:
            parts = [self.term_clauses(w, phrase.weight, searcher) for w in meaning]
            if all(parts):
                must = [(tantivy.Occur.Must, tantivy.Query.boolean_query(p)) for p in parts]
                found.append(tantivy.Query.boolean_query(must))
        return self.any_clause(found) if found else None

    def name_clauses(self, word: str) -> list[tuple[Any, Any]]:
        """A word of a name (suggestions): its stems in the name and in what the name says
        the product serves, its lemmas in the name's."""
        should = tantivy.Occur.Should
        return [
            (should, tantivy.Query.term_query(self.schema, field, stem))
            for stem in stems(word)
            for field in self.name_fields
        ] + [
            (should, tantivy.Query.term_query(self.schema, "name_lemma", form))
            for form in lemmas(word)
        ]


class _TantivyClauses:
    """A query plan's pieces as tantivy clauses (`query_plan.Clauses`). Its own, unlike
    OpenSearch's: terms are kept only where the index has documents for them (doc-freq
    probes: a clause that cannot match adds nothing to a BM25 sum, and a word none of whose
    terms is in the index matches nothing), a word of "any word" found only fuzzily is
    boosted to count like an exact one (a fuzzy term here scores its boost alone, no BM25),
    and there is no term budget (no cluster limit on term queries)."""

    def __init__(self, queries: TantivyQueries, mode: str = "and") -> None:
        self.queries = queries
        self.mode = mode
        self._searcher: Any = None
        self._built: dict[int, Any] = {}  # a word's clause, built ahead by the check below
        # "any word": every word asked "word_or_fuzzy" took its fuzzy clause
        self.all_fuzzy = True

    def a_needed_word_matches_nothing(self, plan: QueryPlan) -> bool:
        """Whether a needed word ("all words": not optional, not absent, in no phrase) has
        terms but none the index has: the stage then finds nothing. Builds the words in
        order up to that one; `word` reuses what it built."""
        in_phrases = {i for phrase in plan.phrases for i in range(phrase.start, phrase.end)}
        in_phrases |= {i for i, _ in plan.glued}  # or a name's word that continues it (df333)
        for i, planned in enumerate(plan.words):
            if planned.request != "word" or planned.optional or planned.absent:
                continue
            if i in in_phrases:
                continue
            clause, nothing = self.queries.word_clause(planned.word)
            if nothing:
                return True
            self._built[i] = clause
        return False

    def searcher(self) -> Any:
        if self._searcher is None:
            self._searcher = self.queries.index.searcher()
        return self._searcher

    def word(self, index: int, planned: PlannedWord) -> Any:
        if index in self._built:
            return self._built[index]
        if planned.request == "fuzzy":
            return self.queries.fuzzy_clause(planned.word)
        if planned.request == "word_or_fuzzy":
            clause, fuzzy = self.queries.word_or_fuzzy_clause(planned.word)
            self.all_fuzzy = self.all_fuzzy and fuzzy
            return clause
        return self.queries.word_clause(planned.word)[0]

    def weighted(self, clause: Any, weight: float) -> Any:
        return tantivy.Query.boost_query(clause, weight)

    def meaning(self, phrase: PhraseMatch) -> Any:
        return self.queries.meanings_clause(phrase)

    def typed(self, word: str) -> list[Any]:
        return [q for _, q in self.queries.term_clauses(word, 1.0, self.searcher())]

    def served(self, word: str) -> list[Any]:
        return self.queries.served_clauses(word, self.searcher())

    def absent(self, word: str) -> Any:
        terms = self.queries.term_clauses(word)  # every term: no probe, nothing to save
        return tantivy.Query.boolean_query(terms) if terms else None

    def joined(self, joined: str) -> Any:
        clause = self.queries.name_fuzzy_clause(joined)
        if clause is None or self.mode != "or":
            return clause
        # "any word": the pair counts like a word found exactly, as a fuzzy word does there
        return tantivy.Query.boost_query(clause, ANY_WORD_FUZZY_BOOST)

    def name_starting(self, start: str) -> Any:
        return self.queries.name_starting_clause(start)

    def name_word_matching(self, pattern: str) -> Any:
        return self.queries.name_pattern_clause(pattern)

    def all_of(self, clauses: list[Any]) -> Any:
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, c) for c in clauses])

    def any_of(self, clauses: list[Any]) -> Any:
        return TantivyQueries.any_clause(clauses)

    def with_should(self, must: Any, should: list[Any]) -> Any:
        return tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, must), *((tantivy.Occur.Should, c) for c in should)]
        )

    def query(self, mode: str, needed: list[Any], extra: list[Any], absent: list[Any]) -> Any:
        occur = tantivy.Occur.Must if mode in ALL_NEEDED_MODES else tantivy.Occur.Should
        query = tantivy.Query.boolean_query([(occur, c) for c in needed])
        if not extra and not absent:
            return query
        should = [(tantivy.Occur.Should, c) for c in extra]
        must_not = [(tantivy.Occur.MustNot, c) for c in absent]
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, query), *should, *must_not])
