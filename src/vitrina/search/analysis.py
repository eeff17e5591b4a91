"""Russian text analysis for the embedded index: Snowball stems plus pymorphy3 lemmas.

The stemmer alone joins гантели↔гантель and клавиатура↔клавиатуры but not кроссовок↔кроссовки
(stems "кроссовок" / "кроссовк"); dictionary lemmas join those. Every ambiguous word is indexed
and queried under *all* its lemmas (часов → час, часы) so recall never depends on guessing the
right reading. The judged set (tests/fixtures/judged-queries.json) measured stem+lemma as best.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from vitrina.domain.search_document import normalize_text, text_words

STEM_TOKENIZER = "ru_stem"
LEMMA_TOKENIZER = "ru_lemma"
KEY_TOKENIZER = "ru_key"


@lru_cache(maxsize=1)
def _morph() -> Any:
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


def _is_cyrillic(word: str) -> bool:
    return any("а" <= ch <= "я" for ch in word)


# 200k words: the generated catalogue's vocabulary is a few thousand words; real catalogues
# stay well under this, and each entry is ~200 bytes.
@lru_cache(maxsize=200_000)
def lemmas(word: str) -> tuple[str, ...]:
    """All dictionary lemmas of one normalised word (itself if unknown or not Cyrillic)."""
    if not _is_cyrillic(word) or len(word) > 40:
        return (word,)
    forms: list[str] = []
    for parse in _morph().parse(word):
        form = parse.normal_form.replace("ё", "е")
        if form not in forms:
            forms.append(form)
    return tuple(forms) or (word,)


def lemma_text(text: str) -> str:
    """A field's text as space-separated lemmas (indexed with the whitespace tokenizer)."""
    return " ".join(form for word in text_words(text) for form in lemmas(word))


@lru_cache(maxsize=1)
def stem_analyzer() -> Any:
    import tantivy

    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.stemmer("russian"))
        .build()
    )


def register_analyzers(index: Any) -> None:
    """Tokenizers are not stored in the index: every process registers them on open."""
    import tantivy

    index.register_tokenizer(STEM_TOKENIZER, stem_analyzer())
    index.register_tokenizer(
        LEMMA_TOKENIZER,
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace())
        .filter(tantivy.Filter.lowercase())
        .build(),
    )
    key = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.raw())
        .filter(tantivy.Filter.lowercase())
        .build()
    )
    index.register_tokenizer(KEY_TOKENIZER, key)
    index.register_fast_field_tokenizer(KEY_TOKENIZER, key)


def stems(word: str) -> list[str]:
    """Stems of one query word, exactly as the index's ru_stem tokenizer produced them."""
    return [t for t in stem_analyzer().analyze(normalize_text(word)) if t]
