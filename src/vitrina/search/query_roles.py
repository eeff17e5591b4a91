"""What each word of a sentence-like query does: names the product, says what it is for,
or only carries the sentence (shoppers type «наушники для айфона», «купить кроссовки
недорого», «что-нибудь для кухни»).

Three roles, pure functions over the query's words, read by both backends:

* function words (prepositions, conjunctions, particles, pronouns) and intent or filler
  words (купить, недорого, лучший, ищу …) are *optional*: they add to a product's score when
  it has them (Фен для волос for «фен для волос»), are never needed in "all words", and
  never find a product alone in "any word" or the fuzzy stage — «для» is in most names and
  descriptions (Фен для волос, «подходит для дома»), so alone it found hair dryers for
  «зарядка для телефона»;
* in «X для / к / под Y» the words of Y say what X is for: they weigh less than X's, so
  «наушники для айфона» ranks headphones above smartphones and «рюкзак для ноутбука»
  backpacks above laptops; a product whose name has both (Фен для волос) still ranks first;
  Y ends at a number (монитор для игр 165 гц: 165 гц is what X is like), and a clause
  opened by который/чтобы weighs as Y to the end (лампочка которую можно включать с
  телефона); comparatives with по- (помощнее, подешевле) are optional;
* in «X без Y» Y is what the product must not have (клавиатура без подсветки): a product
  whose text has Y is left out — its specifications name a feature only when the product
  has it (`domain.search_document.specification_text`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vitrina.domain.search_document import is_number
from vitrina.search.analysis import (
    is_adjective_never_genitive,
    is_dictionary_noun,
    is_genitive,
    is_head_noun,
    is_soft_comparative,
    is_verb,
    lemmas,
    reads_as_adjective,
    reads_as_source,
)
from vitrina.search.word_lists import BRANDS, ENGLISH_WORDS

# In "any word" (nothing has every word), a word that names who makes the product weighs
# this much of a word that names what it is: for «смартфон самсунг до 30000», with no
# Samsung phone at that price, phones of other makers rank above Samsung's watches and
# bracelets (which scored 57–60 against the phones' 48–50: a brand is in a product's name,
# brand, tags and description at once).
MAKER_WEIGHT = 0.5
# Nouns of a pack or a set (набор лего, комплект bosch, упаковка pampers): they say how many,
# not what the product is, so a maker beside them keeps its weight (blind probe round 50:
# «набор лего» listed sets of garden tools, a maker's word weighing half of «набор»).
PACK_NOUNS = frozenset({"набор", "комплект", "упаковка", "пачка", "коробка", "пара", "штука"})
# Nouns of a class, not a kind: what they ask for is named otherwise in the titles (техника
# для ухода за собой: hair dryers; планшетный компьютер: tablets), so they never stand for
# the product alone (`_heads`).
CLASS_NOUNS = frozenset(
    {
        *("техника", "электроника", "устройство", "прибор", "гаджет", "компьютер", "товар"),
        *("вещь", "вещица", "продукт", "изделие", "средство", "аксессуар", "подарок"),
    }
)
_NO_HEAD_NOUNS = PACK_NOUNS | CLASS_NOUNS
# Words of Y (after для/к/под) weigh this much of X's: X found in a name (4 × BM25) must
# outrank Y found in a name, tags and description together (Ноутбук for «мышь для
# ноутбука» scored ~1.7 × a mouse on the judged catalogue); 0.3 leaves a margin.
PURPOSE_WEIGHT = 0.3
# Prepositions whose object is what the product is for: «чехол для телефона», «наушники к
# айфону», «сумка под ноутбук». Not «на» (палатка на 4 человека, куртка на осень: what the
# product is like) nor «с» (микроволновка с грилем: a part of it).
PURPOSE_PREPOSITIONS = frozenset({"для", "к", "ко", "под", "подо"})
# «с» before a genitive says where from, which is no more the product than Y of «X для
# Y»: «розетка с управлением с телефона» (blind probe round 41: the phones ranked first);
# before an instrumental it says what the product has (с грилем): a word of X.
SOURCE_PREPOSITIONS = frozenset({"с", "со"})
# «без подсветки», «безо льда»: what follows is what the product lacks.
ABSENCE_PREPOSITIONS = frozenset({"без", "безо"})
# «смартфон кроме самсунга», «наушники не sony», «кофемашина не капсульная»: after a word of
# the product, what follows is what it must not be (blind probe round 49: every such query
# listed the brand or kind it excluded, as не and кроме were only function words).
EXCLUDING_WORDS = frozenset({"не", "кроме", "исключая"})
# Words that join a list: «кроме сони и jbl» leaves out both (blind probe round 53).
LIST_WORDS = frozenset({"и", "или", "либо"})
# Words whose next words are left out: never a part of a compound (`model_codes`).
LEAVING_OUT_WORDS = ABSENCE_PREPOSITIONS | EXCLUDING_WORDS
# без- and бес- begin adjectives of lacking (безлактозное, беспроводные); typed apart
# («без лактозное молоко», «бес проводные наушники») the prefix is no preposition.
LACKING_PREFIXES = frozenset({"без", "бес"})
VOICELESS = frozenset("кпстфхцчшщ")  # бес- before these, без- before the rest (бессахарный)


def with_lacking_prefix(rest: str) -> str:
    """без- or бес- (before a voiceless consonant) joined to the rest of a word: безлактозное,
    беспроводные, бессахарный."""
    return ("бес" if rest[:1] in VOICELESS else "без") + rest


# As typed (normalised: lower case, ё → е). Short, closed classes: a word here never names
# a product. «что-нибудь» is two query words, что + нибудь.
FUNCTION_WORDS = frozenset(
    {
        # prepositions
        # not «изо»: in a product query it is the combining form typed apart (изо лента →
        # изолента, a twenty-fourth blind review), not the preposition (изо льда)
        *("в", "во", "на", "с", "со", "из", "к", "ко", "по", "под", "подо", "для"),
        *("без", "безо", "от", "ото", "до", "за", "у", "о", "об", "обо", "при", "про"),
        *("над", "через", "около", "возле", "вместо", "кроме", "среди"),
        # conjunctions and particles
        *("и", "или", "а", "но", "да", "либо", "чтобы", "если", "не", "ни", "ли", "же"),
        *("бы", "вот", "ну", "то", "нибудь", "кое", "еще", "уже", "только", "очень"),
        # pronouns and question words
        *("я", "мне", "меня", "мы", "нам", "нас", "ты", "тебе", "вы", "вам", "он", "она"),
        *("они", "ему", "ей", "им", "их", "его", "ее", "мой", "моя", "мое", "мои", "моему"),
        *("моей", "свой", "свою", "своему", "своей", "наш", "нашу", "это", "этот", "эта"),
        *("эти", "такой", "такая", "такие", "что", "чего", "чем", "чему", "кто", "кому", "где"),
        *("как", "куда", "когда", "какой", "какая", "какое", "какие", "какую", "каком"),
        *("какого", "который", "которая", "которые", "сколько"),
        *("которое", "которую", "которой", "которым", "которых"),
        # a request said to a phone's assistant (а есть у вас подгузники, окей покажи мне
        # наушники: blind probe round 47); «есть» asks whether there are any
        *("вас", "ваш", "ваша", "ваше", "ваши", "вашем", "есть", "окей", "ок", "привет"),
        # «всё от сони», «весь ассортимент»: the whole of what follows (blind probe round 55:
        # «все» found «Ariel Pods Все-в-1» first)
        *("все", "весь", "вся", "всю", "всех", "всего"),
        # where it is done (подстричь мужа дома, кинотеатр дома): said of the task, not of
        # the product — «ТеплоKnauf Дом» insulation ranked first for each (a ninth blind
        # review). «для дома» is rarely what a product is, only where it goes
        "дома",
    }
)
# Words that open a clause about what the product does or is for («лампочка которую можно
# включать с телефона», «пылесос чтобы мыть полы»): the clause's words weigh as Y of «X
# для Y» to the end of the query — the clause has its own prepositions (с телефона), so
# a function word inside it does not close it.
CLAUSE_WORDS = frozenset(
    {"который", "которая", "которое", "которые", "которую", "которой", "которым", "чтобы"}
)
# Intent, filler and praise words, by lemma (pymorphy3's normal forms, ё as е): what the
# shopper wants to do or how good it should be, never what it is.
INTENT_LEMMAS = frozenset(
    {
        *("купить", "покупать", "заказать", "искать", "найти", "хотеть", "нужный", "нужно"),
        *("надо", "посоветовать", "подсказать", "выбрать", "подобрать", "подарить"),
        *("недорого", "недорогой", "дешевый", "дешево", "бюджетный", "хороший", "лучший"),
        *("новый", "качественный", "самый", "пожалуйста", "срочно", "онлайн", "можно"),
        *("показать", "посмотреть", "интересовать"),
        *("штука", "штуковина", "вещь", "вещица"),  # a thing: what it does says what it is
        # 3,2 процента, 5 процентный: the titles write the sign (3,2%), which is no word
        *("процент", "процентный"),
        # what a maker sells, as a whole: «продукция добрый», «товары самсунг» (round 55)
        *("товар", "продукция", "ассортимент"),
    }
)
# A size said without a number (большая мягкая игрушка, маленький рюкзак): how it should
# be, which no product's text says; the number beside it (60 см), if any, says what it is.
# By the stem of the full adjective, not by lemma: pymorphy3 reads велик (a bicycle) as
# the short form of большой.
SIZE_WORD_STEMS = ("больш", "небольш", "маленьк", "огромн")


@dataclass(frozen=True)
class QueryRoles:
    """`optional`: positions of words scored but never needed; `weights`: each word's
    weight (PURPOSE_WEIGHT for what the product is for, 1.0 otherwise); `absent`: positions
    of words a product must not have (after без; after не, кроме, исключая when a word of
    the product came before), never among the optional ones."""

    optional: frozenset[int]
    weights: tuple[float, ...]
    absent: frozenset[int] = frozenset()
    # Words that say who makes the product (самсунг, nike), beside a word that says what it
    # is (смартфон): "any word" weighs them MAKER_WEIGHT.
    makers: frozenset[int] = frozenset()
    # Nouns that say what the product is (тапки of «тапки домашние», рулетка of «рулетка
    # для собак»), beside needed words that do not: the stage after "all words" needs
    # them alone (`query_plan.HEAD_MODE`).
    heads: frozenset[int] = frozenset()


def is_optional_word(word: str) -> bool:
    """A function word, an intent / filler / praise word in any of its forms, a
    comparative with по- (помощнее, подешевле: how it should compare, not what it is), or
    a size said without a number (большая, маленький)."""
    return (
        word in FUNCTION_WORDS
        or any(form in INTENT_LEMMAS for form in lemmas(word))
        or is_soft_comparative(word)
        or word.startswith(SIZE_WORD_STEMS)
    )


def query_roles(words: Sequence[str]) -> QueryRoles:
    """The roles of a query's (normalised) words. A query of optional words only («что
    новое») keeps them all as words to match: there is nothing else to look for."""
    optional = frozenset(i for i, word in enumerate(words) if is_optional_word(word))
    if len(optional) == len(words):
        return QueryRoles(frozenset(), (1.0,) * len(words))
    weights = []
    purpose = False  # inside Y of «X для Y»
    clause = False  # after «которую», «чтобы»: to the end
    seen_product_word = False
    for i, word in enumerate(words):
        if word in CLAUSE_WORDS:
            clause = purpose = seen_product_word
        elif clause:
            pass
        elif word in PURPOSE_PREPOSITIONS:
            purpose = seen_product_word  # «для кухни» alone: кухни is all there is
        elif word in SOURCE_PREPOSITIONS and i + 1 < len(words) and reads_as_source(words[i + 1]):
            purpose = seen_product_word  # «… с телефона»: from the phone
        elif word in FUNCTION_WORDS or is_number(word):
            # another function word: «наушники для бега с микрофоном», и, или; a number
            # says what X is like (монитор для игр 165 гц), not what it is for
            purpose = False
        elif i not in optional and not purpose:
            seen_product_word = True
        weights.append(PURPOSE_WEIGHT if purpose and i not in optional else 1.0)
    absent: set[int] = set()
    lacking = False  # inside Y of «X без Y» (or «X не Y», «X кроме Y»)
    opener = ""  # the word that opened it
    product_said = False  # a needed word came before: «не дорогой ноутбук» excludes nothing
    for i, word in enumerate(words):
        after = words[i + 1] if i + 1 < len(words) else ""
        if word in ABSENCE_PREPOSITIONS or (
            # не before a verb says what the product does not do, or is a title's (книга не
            # отпускай меня): no product's word to leave out
            word in EXCLUDING_WORDS and product_said and not (word == "не" and is_verb(after))
        ):
            lacking, opener = True, word
        elif word in FUNCTION_WORDS:
            # кроме сони и jbl, без сахара и глютена: a list of what is left out goes on
            lacking = lacking and word in LIST_WORDS and i - 1 in absent
        elif lacking and i - 1 in absent and (is_number(word) or is_maker_word(word)):
            # «браслет без зарядки xiaomi», «без сахара 500»: what lacks is said; a maker or
            # a number after it is the product's again
            lacking = False
        elif lacking and i - 1 in absent and (opener == "не" or not is_genitive(word)):
            # «хлебцы без глютена доктор корнер»: без and кроме govern a genitive, and a word
            # in no genitive after it is the product's again; не leaves out one word (сок не
            # яблочный), or a list (blind probe round 53)
            lacking = False
            if i not in optional:
                product_said = True
        elif lacking and i not in optional:
            absent.add(i)
        elif i not in optional:
            product_said = True
    makers = _makers(words, optional, weights, absent)
    return QueryRoles(
        optional,
        tuple(weights),
        frozenset(absent),
        makers,
        _heads(words, optional, weights, absent, makers),
    )


def lacking_prefix_joined(words: Sequence[str]) -> tuple[str, ...]:
    """«без» (or бес) typed apart from the adjective it begins, joined back to it (без
    лактозное → безлактозное, без проводные → беспроводные): an adjective that cannot be
    «без»'s genitive. Without this the adjective was read as what the product lacks, and
    «без лактозное молоко» found no milk at all on OpenSearch (blind probe round 40).
    «без сахара», «без проводных» and a noun in any case (без сахар) stay «без Y»."""
    out: list[str] = []
    for word in words:
        if out and out[-1] in LACKING_PREFIXES and is_adjective_never_genitive(word):
            out[-1] = with_lacking_prefix(word)
            continue
        out.append(word)
    return tuple(out)


def is_maker_word(word: str) -> bool:
    """A word in Latin letters that is no English product word (samsung, nike, galaxy,
    bluetooth), or a Cyrillic spelling of one (самсунг, найк): in a Russian query it says
    which maker, line or feature, not what the product is."""
    if word in BRANDS:
        return True
    return word.isascii() and word.isalpha() and word not in ENGLISH_WORDS


def _makers(
    words: Sequence[str], optional: frozenset[int], weights: list[float], absent: set[int]
) -> frozenset[int]:
    """The maker words of a query that also says what the product is: a dictionary noun
    outside the optional, absent and purpose words (смартфон самсунг; not «nike красные»,
    where the colour is no product, nor «чехол для iphone», already weighed as purpose)."""
    needed = [i for i in range(len(words)) if i not in optional and i not in absent]
    makers = frozenset(i for i in needed if weights[i] == 1.0 and is_maker_word(words[i]))
    if makers and any(
        i not in makers
        and weights[i] == 1.0
        and is_dictionary_noun(words[i])
        and PACK_NOUNS.isdisjoint(lemmas(words[i]))
        for i in needed
    ):
        return makers
    return frozenset()


def _heads(
    words: Sequence[str],
    optional: frozenset[int],
    weights: list[float],
    absent: set[int],
    makers: frozenset[int],
) -> frozenset[int]:
    """The needed words that name what the product is (`analysis.is_head_noun`; no pack or
    class noun) when every other needed word only says what it is like or for: an
    adjective, a size (a number, and its unit) or a word of «для Y». None when there is no
    other (the stage would be "all words" again), or when another may name the product
    too: a maker, a Latin or unknown word (пульс ван is the PulseOne, рэпид файр a mouse's
    name)."""
    needed = [i for i in range(len(words)) if i not in optional and i not in absent]
    # a number, and the word after it (20 м, 42 размер, 3 на 4): a size, not the product
    sizes = {i for i in needed if is_number(words[i]) or (i and is_number(words[i - 1]))}
    heads = frozenset(
        i
        for i in needed
        if weights[i] == 1.0
        and i not in makers
        and i not in sizes
        and is_head_noun(words[i])
        and _NO_HEAD_NOUNS.isdisjoint(lemmas(words[i]))
    )
    others = [i for i in needed if i not in heads]
    if not heads or not others:
        return frozenset()
    if any(
        weights[i] == 1.0 and i not in sizes and not reads_as_adjective(words[i]) for i in others
    ):
        return frozenset()
    return heads
