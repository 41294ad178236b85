"""What to search for a follow-up question: the question with the context of the earlier turns.

"When did they set it up?" after "Who set up the emergency working group?" is searched as
"When did they set it up? (emergency working group)". A question leans on earlier turns when it
refers back (a pronoun or a demonstrative with nothing in the question it could stand for), opens
with "and", "what about" or "how about", or is an ellipsis: too few words of its own to be searched
alone ("And in 2023?"). Its context is the content words of the earlier question it follows and the
names in that question's answer. A self-contained question is searched as written.

With a language model configured, ``AnswerService`` may first ask it to rewrite the follow-up
(``rewrite_prompt``); when that fails, times out or drifts from the conversation, this rule is used.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from cited.text.features import content_terms, english_stopwords, names
from service.answering.ask_schema import EarlierTurn

# Words that stand for something said before. A person ("they") always does; a thing ("it") only
# with no name in the question it could stand for: "What is it that Wu urged?" names Wu.
_PEOPLE = {"he", "him", "his", "she", "her", "hers", "they", "them", "their", "theirs"}
_THINGS = {"it", "its", "this", "these", "those", "same", "former", "latter"}
_BACK_REFERENCES = _PEOPLE | _THINGS | {"that", "there", "then", "so"}
_OPENERS = re.compile(
    r"^\s*(and|also|but|so|then|what about|how about|and what about)\b[\s,]*", re.IGNORECASE
)
_QUESTION_WORDS = {
    "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "did", "do", "does",
    "is", "are", "was", "were", "can", "could", "will", "would", "should", "has", "have", "had",
}  # fmt: skip
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_MIN_OWN_WORDS = 2  # "And in 2023?" has one word of its own: an ellipsis
_MAX_CONTEXT_WORDS = 12
_MAX_NAMES = 6


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _meaningful(word: str, first: bool) -> bool:
    lower = word.lower()
    if lower in _QUESTION_WORDS or lower in _BACK_REFERENCES:
        return False
    # A capitalised word inside the question is a name even when it is a stop word ("Jack Ma").
    return lower not in english_stopwords() or (not first and word[0].isupper())


def own_words(question: str) -> list[str]:
    """The words of ``question`` that carry meaning of their own."""
    return [w for i, w in enumerate(_words(question)) if _meaningful(w, i == 0)]


_PEOPLE_NOUNS = {"people", "staff", "team", "management", "leadership", "employees", "workers", "users"}


def _referent_before(words: list[str], at: int) -> bool:
    """Whether the question itself names who a pronoun at ``at`` stands for, before it: a name for
    "he" or "she", people for "they" ("What did employees show when they came to work?")."""
    earlier = words[:at]
    if words[at].lower() in {"he", "him", "his", "she", "her", "hers"}:
        return any(w[0].isupper() for w in earlier[1:])
    return any(
        w.lower() in _PEOPLE_NOUNS
        or (len(w) > 3 and w.endswith("s") and w.islower() and "'" not in w and _meaningful(w, False))
        for w in earlier[1:]
    )


def leans_on_history(question: str) -> bool:
    """Whether ``question`` cannot be searched alone (see the module's docstring)."""
    if _OPENERS.match(question):
        return True
    words = _words(question)
    if len(own_words(question)) < _MIN_OWN_WORDS and not names(question):
        return True
    for at, word in enumerate(words):
        if word.lower() in _PEOPLE and not _referent_before(words, at):
            return True
    return any(w.lower() in _THINGS for w in words) and not names(question)


def answer_names(answer: str) -> list[str]:
    """Names in an earlier answer, in order: capitalised words of its sentences and list items (whose
    first word is capitalised anyway, so it counts only as part of a longer name)."""
    found: list[str] = []
    stop = english_stopwords()
    for piece in re.split(r"[.;:!?\n–—\[\]()«»“”\"]+", answer):
        words = [re.sub(r"['’]s$", "", w) for w in _words(piece)]
        # The first word counts when a name goes on after it ("Daniel Jiang set it up"), not when it
        # opens a list item ("Supporting SME’s").
        first = words[:1] if len(words) > 1 and words[1][0].isupper() and not words[0].endswith("ing") else []
        for name in first + words[1:]:
            if name[0].isupper() and name not in found and name.lower() not in stop:
                found.append(name)
    return found


_ORDINAL = re.compile(
    r"\b(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|last|\d+(?:st|nd|rd|th))\b",
    re.IGNORECASE,
)
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
_FRAGMENT_START = re.compile(rf"^({'|'.join(sorted(_QUESTION_WORDS))})\b", re.IGNORECASE)


def completed_ellipsis(question: str, earlier: str) -> str | None:
    """An ellipsis ("And the second?", "And in 2023?") read as the earlier question with its
    ordinal or year replaced, or with the fragment added; None when ``question`` is not one."""
    fragment = _OPENERS.sub("", question).strip().rstrip("?").strip()
    if not fragment or _FRAGMENT_START.match(fragment):
        return None
    plain = [w for w in own_words(fragment) if not _ORDINAL.fullmatch(w) and w.lower() not in ("one", "ones")]
    if len(plain) >= _MIN_OWN_WORDS:
        return None
    base = earlier.strip().rstrip("?")
    for pattern in (_ORDINAL, _YEAR):
        new = pattern.search(fragment)
        if new and pattern.search(base):
            return pattern.sub(new.group(0), base, count=1) + "?"
    return f"{base} {fragment}?"


def context_of(history: Sequence[EarlierTurn], question: str) -> list[str]:
    """The earlier turn's content words and the names in its answer, minus what ``question`` says;
    the turn before it as well when that earlier question was itself a follow-up."""
    context: list[str] = []
    have = {w.lower() for w in _words(question)}
    turns = (
        list(history[-2:])
        if len(history) >= 2 and leans_on_history(history[-1].question)
        else list(history[-1:])
    )
    for turn in reversed(turns):
        for word in own_words(_OPENERS.sub("", turn.question)):
            if word.lower() not in have:
                have.add(word.lower())
                context.append(word)
        for name in answer_names(turn.answer or "")[:_MAX_NAMES]:
            if name.lower() not in have:
                have.add(name.lower())
                context.append(name)
    return context[:_MAX_CONTEXT_WORDS]


def searched_question(question: str, history: Sequence[EarlierTurn] | None) -> str:
    """The question to search: as asked, or with the earlier turns' context for a follow-up."""
    if not history or not leans_on_history(question):
        return question
    completed = completed_ellipsis(question, history[-1].question)
    if completed is not None:
        return completed
    context = context_of(history, question)
    if not context:
        return question
    asked = _OPENERS.sub("", question).strip() or question
    return f"{asked[0].upper()}{asked[1:]} ({' '.join(context)})"


def faithful_rewrite(rewritten: str, question: str, history: Sequence[EarlierTurn]) -> bool:
    """Whether a model's rewrite of a follow-up stays within the conversation: it brings in a word of
    an earlier turn, and nearly every word of it was said before (a weak model invents)."""
    if not 3 <= len(rewritten) <= 2 * len(question) + 300:
        return False
    said_before = content_terms(" ".join(f"{t.question} {t.answer or ''}" for t in history))
    words = content_terms(rewritten)
    new = words - content_terms(question) - said_before
    return bool(words & said_before - content_terms(question)) and len(new) <= max(1, len(words) // 5)


def rewrite_prompt(question: str, history: Sequence[EarlierTurn]) -> list[dict[str, str]]:
    """Messages that ask a language model for the follow-up as one standalone question."""
    lines = []
    for turn in history[-4:]:
        lines.append(f"Q: {turn.question}")
        if turn.answer:
            lines.append(f"A: {turn.answer[:400]}")
    return [
        {
            "role": "system",
            "content": "Rewrite the last question so that it can be understood without the conversation. "
            "Reply with the rewritten question only.",
        },
        {"role": "user", "content": "\n".join(lines) + f"\nLast question: {question}"},
    ]
