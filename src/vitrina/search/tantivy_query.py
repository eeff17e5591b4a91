"""Tantivy queries from a customer's words: stems and lemmas per field, the words'
alternatives (synonyms, brands, compounds), typo-tolerant stems, words typed with the other
keyboard layout, and the filters.

Queries are built from words, never parsed as query syntax. A clause is kept only when the
index has documents for its term (a clause that can not match adds nothing to a BM25 sum),
so a built query belongs to one index generation: `EmbeddedSearch` caches it until a commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import tantivy

from vitrina.domain.search_document import filter_key
from vitrina.search.analysis import lemmas, stems
from vitrina.search.base import SearchFilters
from vitrina.search.fields import BOOSTS
from vitrina.search.keyboard_layout import SHORT_LATIN_FRAGMENT, SPLITTING_KEYS, keyboard_twin
from vitrina.search.model_codes import (
    adjacent_words_joined,
    code_cuts,
    codes_without_a_digit,
    joinable,
    joined_spellings,
    name_spellings,
    split_code,
)
from vitrina.search.number_units import split_number_units
from vitrina.search.query_roles import query_roles
from vitrina.search.query_understanding import (
    COMPOUND_SPLIT_WEIGHT,
    COMPOUND_WEIGHT,
    FUZZY_MIN_CHARS,
    MIN_COMPOUND_PART,
    MISSPELT_WEIGHT,
    SYNONYM_WEIGHT,
    TRANSLIT_WEIGHT,
    PhraseMatch,
    alternatives,
    compound_endings,
    compound_meanings,
    fuzzy_distance,
    joined_dictionary_words,
    misspelt_meanings,
    phrase_matches,
    swapped_neighbours,
)
from vitrina.search.transliteration import (
    english_spellings,
    is_cyrillic,
    transliterate,
)
from vitrina.search.typed_shapes import latin_lemmas

Analysis = Literal["stem", "lemma", "stem+lemma"]

# Fields the fuzzy stage looks in: a typo in a specification value finds too much.
FUZZY_FIELDS = tuple(name for name in BOOSTS if name != "specifications")
# In "any word", a word found only fuzzily counts like a word found exactly: an exact term
# scores its boost × BM25 (~5-7 on the judged catalogues), a fuzzy one its boost alone.
ANY_WORD_FUZZY_BOOST = 5.0
# Joined pairs whose fuzzy clause is kept (a few hundred bytes each; emptied when full).
NAME_FUZZY_CACHE_WORDS = 16_384


class TantivyQueries:
    """Builds the queries `EmbeddedSearch` runs against `index`."""

    def __init__(self, index: Any, schema: Any, analysis: Analysis, understanding: bool) -> None:
        self.index = index
        self.schema = schema
        self.analysis = analysis
        self.understanding = understanding  # synonyms, brands, compounds, 2-edit typos
        # joined pair → its fuzzy clause: built from the schema alone, so valid across commits
        self._name_fuzzy: dict[str, Any] = {}

    def term_clauses(
        self, word: str, weight: float = 1.0, searcher: Any = None
    ) -> list[tuple[Any, Any]]:
        """Should-clauses for one word; with a `searcher`, only terms it has documents for."""
        clauses: list[tuple[Any, Any]] = []
        should = tantivy.Occur.Should

        def absent(field: str, term: str) -> bool:
            return searcher is not None and not searcher.doc_freq(field, term)

        if self.analysis in ("stem", "stem+lemma"):
            for stem in stems(word):
                for name, boost in BOOSTS.items():
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
            for form in lemmas(word):
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

    def forms_clauses(self, forms: list[tuple[str, float]], searcher: Any) -> list[Any]:
        """Clauses of the (word, weight) forms the index has."""
        return [c for w, weight in forms for c in self.term_clauses(w, weight, searcher)]

    def word_clause(self, word: str) -> Any:
        """The word as typed, or any of its alternatives (synonyms, brands, compounds)."""
        clauses, forms = self.matching_clauses(word)
        if clauses:
            return tantivy.Query.boolean_query(clauses)
        # None of its terms is in the index: a word that matches nothing (so "all words"
        # finds nothing), unless it has no terms at all (then it is no word: left out).
        if any(self.term_clauses(w, weight) for w, weight in forms):
            return tantivy.Query.empty_query()
        return None

    def word_or_fuzzy_clause(self, word: str) -> Any:
        """For "any word": the word's clause, or its fuzzy clause when nothing in the index
        matches the word or its alternatives. Otherwise a misspelt or Cyrillic-spelt brand
        next to a word that matches (нордвей велосипед, ейсер ноутбук) is dropped there,
        the fuzzy stage never runs, and the brand's products rank anywhere among the other
        word's."""
        clauses, forms = self.matching_clauses(word)
        if clauses:
            return tantivy.Query.boolean_query(clauses)
        if not any(self.term_clauses(w, weight) for w, weight in forms):
            return None
        fuzzy = self.fuzzy_clause(word)
        if fuzzy is None:
            return tantivy.Query.empty_query()
        # A fuzzy match scores its field's boost alone, no BM25: next to a word that matches
        # exactly (наушники эйрбит) it would add a fifth of that word's score and rank
        # nowhere among the other word's products.
        return tantivy.Query.boost_query(fuzzy, ANY_WORD_FUZZY_BOOST)

    def matching_clauses(self, word: str) -> tuple[list[Any], list[tuple[str, float]]]:
        """The clauses of the word and its alternatives the index has, and the forms tried."""
        searcher = self.index.searcher()
        forms = [(word, 1.0)]
        if self.understanding:
            forms += [(alt.word, alt.weight) for alt in alternatives(word, lemmas(word))]
        clauses = self.forms_clauses(forms, searcher)
        meanings = compound_meanings(word) if self.understanding else []
        boths = [both for m in meanings if (both := self.all_of(m, searcher)) is not None]
        if self.understanding and not clauses:
            parts = self.compound_parts(word, searcher)
            split = self.all_of(parts, searcher) if parts else None
            if split is not None:  # фитнесбраслет → фитнес + браслет, as the name has them
                clauses.append(split)
            base = None if split is not None else self.compound_ending(word, searcher)
            if base is not None:  # аудиоколонка → колонка, робопылесос → пылесос
                clauses = self.term_clauses(base, COMPOUND_WEIGHT, searcher)
            twin = keyboard_twin(word)
            if not clauses and twin is not None:  # yjen → ноут → ноутбук
                twin_forms = [(twin, 1.0)]
                twin_forms += [(alt.word, alt.weight) for alt in alternatives(twin, lemmas(twin))]
                clauses = self.forms_clauses(twin_forms, searcher)
            if not clauses:  # на снапдрагоне → snapdragon; а311 → a31 (a digit too many)
                latins = [(latin, TRANSLIT_WEIGHT) for latin in latin_lemmas(word)]
                latins += [(code, TRANSLIT_WEIGHT) for code in codes_without_a_digit(word)]
                clauses = self.forms_clauses(latins, searcher)
        # электрощетка: Электрическая зубная щётка, Чайник электрический; электрокнига:
        # Электронная книга
        clauses += boths
        return clauses, forms

    def all_of(self, words: tuple[str, str], searcher: Any) -> tuple[Any, Any] | None:
        """A should-clause matching products that have both words (a compound's parts);
        None when no product has one of them."""
        parts = [self.term_clauses(w, COMPOUND_SPLIT_WEIGHT, searcher) for w in words]
        if not all(parts):
            return None
        both = [(tantivy.Occur.Must, tantivy.Query.boolean_query(part)) for part in parts]
        return (tantivy.Occur.Should, tantivy.Query.boolean_query(both))

    def compound_parts(self, word: str, searcher: Any) -> tuple[str, str] | None:
        """Two words the index has whose concatenation is `word`: a compound typed as one
        word where names hyphenate or space it (фитнесбраслет ← Фитнес-браслет). The longest
        first part wins; stems only, so trying every cut costs a few dictionary probes,
        not a lemmatisation each."""
        cuts: Iterable[tuple[str, str]] = code_cuts(word)  # abc5g → abc + 5g (ABC 5G)
        if is_cyrillic(word) and len(word) >= 2 * MIN_COMPOUND_PART:
            last = len(word) - MIN_COMPOUND_PART
            cuts = [*((word[:c], word[c:]) for c in range(last, MIN_COMPOUND_PART - 1, -1)), *cuts]
        for parts in cuts:
            if all(any(searcher.doc_freq("name", stem) for stem in stems(part)) for part in parts):
                return parts
        return None

    @staticmethod
    def compound_ending(word: str, searcher: Any) -> str | None:
        """The first of `compound_endings` some product's name has, or None."""
        return next(
            (
                ending
                for ending in compound_endings(word)
                if any(searcher.doc_freq("name", stem) for stem in stems(ending))
            ),
            None,
        )

    def fuzzy_clause(self, word: str) -> Any:
        """Stems a few edits away (сковородку → сковород, typos), and a Cyrillic word's
        Latin spelling (хуавэй → huawei): the last resort only."""
        words = [(word, FUZZY_FIELDS)]
        if self.understanding and is_cyrillic(word):
            words.append((transliterate(word), FUZZY_FIELDS))
            # клинмастер → clinmaster ~ cleanmaster; альфа → alfa, alpha
            for english in english_spellings(word):
                if all(english != w for w, _ in words):  # a Latin name: in name or brand
                    words.append((english, ("name", "brand")))
        clauses = [
            (
                tantivy.Occur.Should,
                tantivy.Query.boost_query(
                    tantivy.Query.fuzzy_term_query(
                        self.schema,
                        name,
                        stem,
                        distance=fuzzy_distance(stem) if self.understanding else 1,
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
        if self.understanding and is_cyrillic(word):
            clauses += self.nearer_brand_clauses([w for w, _ in words[1:]])
            searcher = self.index.searcher()
            clauses += [
                clause
                for alt in misspelt_meanings(word)
                for clause in self.term_clauses(alt.word, alt.weight, searcher)
            ]
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
        return tantivy.Query.boolean_query(clauses) if clauses else None

    def name_fuzzy_clause(self, joined: str) -> Any:
        """Two adjacent words joined, a few edits from a name or brand (эйрбит ~ airbeat);
        cached per joined word (it was ~2 % of all query building, built for every pair)."""
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
        clause = tantivy.Query.boolean_query(clauses) if clauses else None
        self._name_fuzzy[joined] = clause
        return clause

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

    def joined_compounds(self, words: tuple[str, ...]) -> tuple[str, ...]:
        """Adjacent words joined where one of them is not in the index and together they
        are (саунд бар → саундбар): a compound typed as two words, the other way round
        from `compound_parts`."""
        searcher = self.index.searcher()

        def known(word: str) -> bool:  # doc_freq probes only: no query objects built
            return any(searcher.doc_freq(name, stem) for stem in stems(word) for name in BOOSTS)

        out: list[str] = []
        for word in words:
            if (
                out
                and (is_cyrillic(word) or joinable(out[-1], word))
                and (split_code(out[-1], word) or not (known(out[-1]) and known(word)))
            ):
                # pulse one → pulseone, м 89 → m89: a name or code split by a space
                joined = next((j for j in joined_spellings(out[-1] + word) if known(j)), None)
                if joined is not None:
                    out[-1] = joined
                    continue
            out.append(word)
        return tuple(out)

    def joined_layout_splits(self, words: tuple[str, ...]) -> tuple[str, ...]:
        """Adjacent Latin words the index does not have joined back into the one Russian
        word they were typed as with the wrong layout: the keys of б ю ж э х ъ ё are
        punctuation on the Latin layout, so the query's words were split there (yjen,er →
        yjen + er → ноутбук)."""
        searcher = self.index.searcher()

        def known(word: str) -> bool:
            return any(searcher.doc_freq(name, stem) for stem in stems(word) for name in BOOSTS)

        def latin_unknown(word: str) -> bool:
            short = len(word) <= SHORT_LATIN_FRAGMENT
            return word.isascii() and word.isalpha() and (short or not known(word))

        out: list[str] = []
        for word in words:
            if out and latin_unknown(word) and latin_unknown(out[-1]):
                joined = next(
                    (
                        candidate
                        for letter in SPLITTING_KEYS
                        if known(
                            candidate := f"{keyboard_twin(out[-1])}{letter}{keyboard_twin(word)}"
                        )
                    ),
                    None,
                )
                if joined is not None:
                    out[-1] = joined
                    continue
            out.append(word)
        return tuple(out)

    def text_query(self, words: tuple[str, ...], mode: str) -> Any:
        build = self.fuzzy_clause if mode == "fuzzy" else self.word_clause
        if self.understanding:
            words = split_number_units(words)  # 512гб → 512 гб, двухместная → 2 местная
        if self.understanding:  # sound bar → soundbar (→ саундбар); вайфай → вай фай
            words = joined_dictionary_words(words)
        if self.understanding and len(words) > 1:
            words = self.joined_compounds(self.joined_layout_splits(words))
        if self.understanding and mode == "or":
            build = self.word_or_fuzzy_clause
        roles = query_roles(words) if self.understanding else None
        optional = [roles is not None and i in roles.optional for i in range(len(words))]
        phrases = phrase_matches(words) if self.understanding else ()
        # An optional word (для, купить …) is looked for as typed: it only adds to the score
        # of products something else found; the fuzzy stage leaves it out (typos of a
        # function word find nothing, and its exact clause was the stage's dearest part).
        built = [
            (None if mode == "fuzzy" else self.word_clause(w)) if opt else build(w)
            for w, opt in zip(words, optional, strict=True)
        ]
        if roles is not None:  # «X для Y»: Y's words weigh less
            built = [
                c if c is None or weight == 1.0 else tantivy.Query.boost_query(c, weight)
                for c, weight in zip(built, roles.weights, strict=True)
            ]
        meanings = [(phrase, self.meanings_clause(phrase)) for phrase in phrases]
        searcher = self.index.searcher() if phrases else None
        if mode == "and":  # the phrase's words all, or one of its meanings (звуковая панель)
            for phrase, meaning in reversed(meanings):
                if meaning is not None:
                    span = [c for c in built[phrase.start : phrase.end] if c is not None]
                    both = [tantivy.Query.boolean_query([(tantivy.Occur.Must, c) for c in span])]
                    # each word of the phrase, as typed, still counts (яндекс станция: a
                    # smart speaker, and Яндекс's first)
                    typed = [  # (should, term query) each
                        clause
                        for w in words[phrase.start : phrase.end]
                        for clause in self.term_clauses(w, 1.0, searcher)
                    ]
                    either = (tantivy.Occur.Must, self.any_clause([*both, meaning]))
                    built[phrase.start : phrase.end] = [
                        tantivy.Query.boolean_query([either, *typed])
                    ]
                    optional[phrase.start : phrase.end] = [False]
        # «без подсветки»: a product whose text has the word as typed is left out, in every
        # stage (its alternatives are not: OpenSearch leaves out the same products)
        absent = [
            tantivy.Query.boolean_query(terms)
            for i in sorted(roles.absent if roles else ())
            if (terms := self.term_clauses(words[i]))
        ]
        for i in roles.absent if roles else ():
            built[i] = None
        needed = [c for c, opt in zip(built, optional, strict=True) if c is not None and not opt]
        extra = [c for c, opt in zip(built, optional, strict=True) if c is not None and opt]
        if mode == "fuzzy" and self.understanding:  # эйр бит → эйрбит ~ AirBeat
            joined = (self.name_fuzzy_clause(j) for j in adjacent_words_joined(words, optional))
            needed += [c for c in joined if c is not None]
        if mode != "and":  # any word: a meaning counts as one more word
            needed += [meaning for _, meaning in meanings if meaning is not None]
        if not needed:  # the other words have no terms at all: the optional ones are all
            needed, extra = extra, []
        if not needed:
            return None
        occur = tantivy.Occur.Must if mode == "and" else tantivy.Occur.Should
        query = tantivy.Query.boolean_query([(occur, c) for c in needed])
        if not extra and not absent:
            return query
        should = [(tantivy.Occur.Should, c) for c in extra]
        must_not = [(tantivy.Occur.MustNot, c) for c in absent]
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, query), *should, *must_not])

    @staticmethod
    def any_clause(clauses: list[Any]) -> Any:
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, c) for c in clauses])

    def meanings_clause(self, phrase: PhraseMatch) -> Any:
        """Any meaning of a phrase (each with all its words) the index has; None if none."""
        searcher = self.index.searcher()
        found = []
        for meaning in phrase.meanings:
            parts = [self.term_clauses(w, SYNONYM_WEIGHT, searcher) for w in meaning]
            if all(parts):
                must = [(tantivy.Occur.Must, tantivy.Query.boolean_query(p)) for p in parts]
                found.append(tantivy.Query.boolean_query(must))
        return self.any_clause(found) if found else None

    def filter_clauses(self, filters: SearchFilters | None) -> list[Any]:
        if filters is None:
            return []
        out = []
        if filters.category:
            out.append(
                tantivy.Query.term_query(self.schema, "category_key", filter_key(filters.category))
            )
        if filters.brand:
            out.append(
                tantivy.Query.term_query(self.schema, "brand_key", filter_key(filters.brand))
            )
        if filters.price_min is not None or filters.price_max is not None:
            out.append(
                tantivy.Query.range_query(
                    self.schema,
                    "price",
                    tantivy.FieldType.Float,
                    lower_bound=float(filters.price_min if filters.price_min is not None else 0.0),
                    upper_bound=float(filters.price_max if filters.price_max is not None else 1e15),
                )
            )
        if filters.in_stock:
            out.append(tantivy.Query.term_query(self.schema, "in_stock", True))
        return out

    def name_clauses(self, word: str) -> list[tuple[Any, Any]]:
        should = tantivy.Occur.Should
        return [
            (should, tantivy.Query.term_query(self.schema, "name", stem)) for stem in stems(word)
        ] + [
            (should, tantivy.Query.term_query(self.schema, "name_lemma", form))
            for form in lemmas(word)
        ]
