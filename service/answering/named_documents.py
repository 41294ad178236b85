"""Which documents a question names: a company, a product or a document, by its title or file name.

A store holding several companies' filings answers "What drove 3M's operating margin?" from
whichever filing says "operating margin" best, often another company's. A question that names a
document is searched twice, over everything and over the named documents, and the named ones'
passages are favoured (``Retriever.retrieve``); nothing is excluded, and a reader's own
``documents`` choice overrides it.

A document's names are its title, its file name and the folders it sits in, split into words
(``BESTBUY_2023_10K`` is "bestbuy"; "Best Buy" in a question matches it, spaces aside), two-word
names written as initials ("Johnson Johnson": "J&J", "JnJ"), an acronym leading a longer name
("MGM" of "MGM Resorts"), and its aliases: the subject and keywords of its properties and its
opening line (``ingest/loading.py``). A name must start with a capital letter or a digit in the
question ("3M", "Pfizer"), so a document called "strategy.md" is not named by every question that
says "strategy". Years narrow it: among the named documents, those whose names hold a year the
question gives (FY2022, Q2'2023, FY21) are
favoured over the others.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")
_YEAR = re.compile(
    r"(?<![0-9])(?:(?:FY|Q[1-4]|CY)\s*['’]?\s*)?((?:19|20)[0-9]{2})(?![0-9])|\bFY\s*['’]?([0-9]{2})\b"
)
# Words of file names and titles that say what kind of document it is, never whose: a question
# that says "10-K" or "report" names no one.
_KINDS = frozenset(
    [
        "10k",
        "10q",
        "8k",
        "20f",
        "annual",
        "quarterly",
        "report",
        "reports",
        "earnings",
        "release",
        "filing",
        "form",
        "dated",
        "draft",
        "final",
        "copy",
        "version",
        "document",
        "documents",
        "the",
        "and",
        "of",
        "for",
        "inc",
        "corp",
        "corporation",
        "company",
        "co",
        "ltd",
        "plc",
        "llc",
        "group",
        "holdings",
        "strategy",
        "plan",
        "policy",
        "notes",
        "q1",
        "q2",
        "q3",
        "q4",
        "fy",
    ]
)
_MAX_NAME_WORDS = 4
# Words that lead many names ("United States", "General Electric", "First Quarter").
_GENERIC = frozenset(
    [
        "united",
        "states",
        "american",
        "national",
        "international",
        "global",
        "general",
        "first",
        "second",
        "third",
        "new",
        "north",
        "south",
        "east",
        "west",
        "central",
        "world",
        "universal",
        "standard",
    ]
)
_MIN_SHARED = 3  # a name may single out this many documents in any store, a quarter in a big one


@dataclass(frozen=True)
class NamedDocument:
    document_id: str
    names: frozenset[str]  # each a name's words run together, lowercase: "bestbuy", "3m"
    years: frozenset[int]


def _names(title: str, source: str, aliases: Iterable[str]) -> frozenset[str]:
    names: set[str] = set()
    path = PurePosixPath(source)
    # The folders it sits in name it too: "contoso/strategy-2025.md" is Contoso's.
    for text in (title, path.stem, *path.parent.parts, *aliases):
        words = [
            w
            for w in re.split(r"[^A-Za-z0-9]+", text)
            if w and not re.fullmatch(r"[0-9]+(?:Q[1-4])?", w, re.I)
        ]
        # Each run of words that are not kinds of document: "johnson johnson", "best buy".
        run: list[str] = []
        for word in [*words, ""]:
            if word and word.lower() not in _KINDS:
                run.append(word)
                continue
            if run:
                names.update(_run_names(run))
            run = []
    return frozenset(n for n in names if len(n) >= 2 and n not in _KINDS)


def _run_names(run: list[str]) -> set[str]:
    lower = [w.lower() for w in run]
    names = {"".join(lower)}
    # The word leading a longer name is a name of its own when it is an acronym, holds a digit or
    # is a longer word no company shares: "MGM Resorts" is also "MGM", "3M Company" "3M",
    # "Lumenfield Robotics" "Lumenfield" (but "Best Buy" is not "Best", nor "United States" "United").
    first = run[0]
    if len(run) > 1 and (
        (first.isupper() and 2 <= len(first) <= 5)
        or any(ch.isdigit() for ch in first)
        or (len(first) >= 5 and lower[0] not in _GENERIC)
    ):
        names.add(lower[0])
    if len(run) == 2 and min(len(w) for w in lower) >= 4:  # "Johnson Johnson": "J&J", "JnJ"
        names.update({lower[0][0] + lower[1][0], lower[0][0] + "n" + lower[1][0]})
    return names


def _years(*texts: str) -> frozenset[int]:
    found: set[int] = set()
    for text in texts:
        for match in _YEAR.finditer(text):
            found.add(int(match.group(1)) if match.group(1) else 2000 + int(match.group(2)))
    return frozenset(found)


class NamedDocuments:
    """The documents of one listing and their names; :meth:`in_question` finds the named ones."""

    def __init__(self, documents: Sequence[tuple[str, str, str, Sequence[str]]]) -> None:
        """``documents``: (document id, title, source, aliases) of each readable document."""
        self.documents = [
            NamedDocument(doc_id, _names(title, source, aliases), _years(PurePosixPath(source).stem, title))
            for doc_id, title, source, aliases in documents
        ]

    def in_question(self, question: str) -> frozenset[str]:
        """The ids of the documents ``question`` names (empty when it names none, or too many)."""
        spans = _name_spans(question)
        named = [d for d in self.documents if d.names & spans]
        # A name every document, or many, share ("Alibaba" in a store of Alibaba's papers, a common
        # title word) singles nothing out.
        if (
            not named
            or len(named) == len(self.documents)
            or len(named) > max(_MIN_SHARED, len(self.documents) // 4)
        ):
            return frozenset()
        asked_years = _years(question)
        dated = [d for d in named if d.years & asked_years]
        return frozenset(d.document_id for d in (dated or named))


def _name_spans(question: str) -> set[str]:
    """Runs of up to four words that start with a capital or a digit, run together in lowercase
    ("Best Buy's" gives "best", "bestbuy", ...)."""
    words = [m.group(0) for m in _WORD.finditer(question)]
    words = [re.sub(r"['’][A-Za-z]+$", "", w) for w in words]
    spans: set[str] = set()
    for i, first in enumerate(words):
        if not (first[0].isupper() or first[0].isdigit()):
            continue
        for j in range(i + 1, min(i + _MAX_NAME_WORDS, len(words)) + 1):
            spans.add("".join(words[i:j]).lower())
    return spans
