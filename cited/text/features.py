"""Features of English text shared by the answer path and the eval judge: content words, numbers,
names and negation.

One stemmer (PyStemmer's Snowball English, the one BM25 uses too), one stop-word list (NLTK's
English list, bundled with llama-index-core) and one table of number words, so that "four" and "4"
are the same term everywhere.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

# Counts written as words. "one" is also a pronoun ("one of the areas"), so only content terms,
# which are compared word for word, read it as 1; a number a claim asserts never includes it.
NUMBER_WORDS = {
    word: str(n)
    for n, word in enumerate(
        [
            "zero", "one", "two", "three", "four", "five", "six",
            "seven", "eight", "nine", "ten", "eleven", "twelve",
        ]
    )
}  # fmt: skip
_PRONOUN_NUMBERS = {"one"}
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
# A content word: letters and digits, with inner apostrophes ("Alibaba's").
_CONTENT_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
# A token for names, numbers and negation: inner dots and hyphens too ("e-commerce", "U.S").
_TOKEN = re.compile(r"[^\W_]+(?:[’'.-][^\W_]+)*")
_NEGATIONS = {"not", "no", "never", "none", "nor", "neither", "cannot", "without", "nothing"}


@cache
def stemmer() -> Any:
    """The English Snowball stemmer (PyStemmer, C): for BM25's tokenizer and for content terms."""
    import Stemmer

    return Stemmer.Stemmer("english")


@cache
def stem(word: str) -> str:
    return str(stemmer().stemWord(word))


@cache
def english_stopwords() -> frozenset[str]:
    from llama_index.core.utils import globals_helper

    return frozenset(globals_helper.stopwords)


def content_terms(text: str) -> set[str]:
    """Stemmed words of ``text`` that carry meaning (no stop words); number words become digits."""
    words = (w.replace("’", "'") for w in _CONTENT_WORD.findall(text.lower()))
    return {
        NUMBER_WORDS.get(w) or stem(w)
        for w in words
        if w not in english_stopwords() and (len(w) > 1 or w.isdigit())
    }


def numbers(text: str) -> set[str]:
    """The numbers ``text`` asserts: digits (thousands separators dropped) and number words."""
    found = {m.group().replace(",", "") for m in _DIGITS.finditer(text)}
    found |= {
        NUMBER_WORDS[w]
        for w in _TOKEN.findall(text.lower())
        if w in NUMBER_WORDS and w not in _PRONOUN_NUMBERS
    }
    return found


def names(claim: str) -> set[str]:
    """Capitalised words, without possessives: the names a claim asserts.

    The first word is capitalised anyway, so it counts only when it looks like a name on its own:
    a capital inside it ("DingTalk") or a capitalised word after it ("Tencent CEO").
    """
    words = [re.sub(r"[’']s$", "", w) for w in _TOKEN.findall(claim)]
    found = {w for w in words[1:] if w[0].isupper()}
    if words and (any(c.isupper() for c in words[0][1:]) or (len(words) > 1 and words[1][0].isupper())):
        found.add(words[0])
    return found


def words_for_names(text: str) -> set[str]:
    """Lower-cased tokens of ``text``, with and without a possessive "'s": what a name is looked
    up in."""
    words = {w.lower() for w in _TOKEN.findall(text)}
    return words | {re.sub(r"[’']s$", "", w) for w in words}


def negated(text: str) -> bool:
    words = _TOKEN.findall(text.lower().replace("’", "'"))
    return any(w in _NEGATIONS or w.endswith("n't") for w in words)


# What a question asks for: the first pattern that matches decides ("how many" wins over "when").
ANSWER_TYPES = ("number", "date", "person", "place", "list", "reason", "definition", "other")
_COUNT = r"(two|three|four|five|six|seven|eight|nine|ten|\d+)"
_ASKS_FOR: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile("|".join(patterns)))
    for kind, patterns in (
        (
            "list",
            [
                rf"\b(which|what|name|list)\s+(the\s+)?{_COUNT}\b",
                rf"\b(what|which) (are|were) (the )?{_COUNT}\b",
            ],
        ),
        (
            "number",
            [
                r"\bhow (many|much|long|old|far|large|big|high|tall|often)\b",
                r"\bwhat (percentage|percent|number|proportion|fraction)\b",
            ],
        ),
        (
            "date",
            [
                r"\bwhen\b",
                r"\b(what|which) (year|date|day|month|decade|century|time|period)\b",
                r"^\W*(\w+\W+){0,5}(date|year)\W*$",  # a search-box query: "working group date"
            ],
        ),
        (
            "person",
            [
                r"\bwho(m|se)?\b",
                r"\b(what|which) (person|people|company|organi[sz]ation|group|king|leader|president|party)\b",
            ],
        ),
        (
            "place",
            [
                r"\bwhere\b",
                r"\b(what|which) (country|countries|city|cities|region|place|state|area|continent|island)\b",
            ],
        ),
        ("reason", [r"\bwhy\b", r"\bfor what reason\b", r"\bhow come\b", r"\bwhat (caused|led to)\b"]),
        (
            "definition",
            [
                r"^\s*what (is|are|was|were) (a |an |the )?[\w\s'-]{1,40}\??\s*$",
                r"^\s*define\b",
                r"\bwhat does .+ mean\b",
            ],
        ),
    )
)


def expected_answer_type(question: str) -> str:
    """The kind of answer ``question`` asks for: one of ``ANSWER_TYPES`` ("other" when no rule
    fits)."""
    text = question.lower().replace("’", "'")
    return next((kind for kind, pattern in _ASKS_FOR if pattern.search(text)), "other")


# Dates by pattern, not by dateparser: its search took 1.7 ms a sentence here (20 runs each on two
# sentences), about 70 ms for the 40 candidate sentences of one question.
_DATE = re.compile(
    r"\b(1[0-9]{3}|20[0-9]{2})s?\b|\b(january|february|march|april|may|june|july|august|september|"
    r"october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\b|\b(monday|tuesday|"
    r"wednesday|thursday|friday|saturday|sunday|century|centuries|decade|today|yesterday)\b|"
    r"\b\d{1,2}(st|nd|rd|th)\b|\b(bc|ad|bce|ce)\b",
    flags=re.IGNORECASE,
)
_REASON = re.compile(
    r"\b(because|since|due to|owing to|as a result|in order to|so that|so as to|thanks to|led to|"
    r"caused|reason|therefore|thus|aimed? to|to avoid|to help|to support)\b",
    flags=re.IGNORECASE,
)
_DEFINITION = re.compile(r"\b(is|are|was|were|means|refers to|known as|called|defined as)\b", re.IGNORECASE)


def dates(text: str) -> set[str]:
    """Years, month and day names, ordinals and eras ``text`` mentions, lower-cased."""
    return {m.group().lower() for m in _DATE.finditer(text)}


def gives_reason(text: str) -> bool:
    return _REASON.search(text) is not None


def defines(text: str) -> bool:
    return _DEFINITION.search(text) is not None


_ASKED_COUNT = re.compile(rf"\b(?:the|are|were|which|what|name|list)\s+(?:the\s+)?{_COUNT}\b")


_ORDINALS = {
    word: n
    for n, word in enumerate(
        ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"], 1
    )
}
# "What was the second C (of the HR strategy)?": the item itself, not something about it ("What was
# key to the success of the first C?" asks about the item, and does not match).
_ASKED_ITEM = re.compile(
    rf"^\s*(?:what|which)\s+(?:is|was)\s+the\s+(?P<n>{'|'.join(_ORDINALS)}|\d+(?:st|nd|rd|th))"
    r"\s+[\w'’-]+(?:\s+(?:one|item|step|point|pillar|area|part))?(?:\s+(?:of|in)\s+[^?]*)?\??\s*$",
    re.IGNORECASE,
)


def asked_item(question: str) -> int | None:
    """Which item of a numbered list a question asks for ("What was the second C?": 2), if it does."""
    found = _ASKED_ITEM.match(question)
    if found is None:
        return None
    word = found.group("n").lower()
    return _ORDINALS.get(word) or int(re.sub(r"\D", "", word))


def asked_count(question: str) -> int | None:
    """How many items a list question asks for ("What are the three Cs?": 3), if it says."""
    found = _ASKED_COUNT.search(question.lower())
    if found is None:
        return None
    word = found.group(1)
    return int(word) if word.isdigit() else int(NUMBER_WORDS[word])
