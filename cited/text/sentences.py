"""Sentence spans inside a passage, so an answer can quote exactly the sentences it uses.

Lines are split first (headings, list items and paragraphs in these documents end at a line break
without a full stop), then NLTK's Punkt tokenizer splits each line. Punkt's English model ships with
llama-index-core, so nothing is downloaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nltk.tokenize import PunktTokenizer

# Characters that start a list item; shared with the answer's list handling.
BULLETS = "-–—•*·"
_BULLET = re.compile(rf"^[\s{re.escape(BULLETS)}]+")


@dataclass(frozen=True)
class SentenceSpan:
    start: int
    end: int
    text: str


@cache
def sentence_model() -> PunktTokenizer:
    """NLTK's Punkt model for English, loaded on first use."""
    from llama_index.core.utils import globals_helper
    from nltk.tokenize import PunktTokenizer

    globals_helper.wait_for_nltk_check()  # puts llama-index's bundled nltk data on nltk's path
    return PunktTokenizer("english")


def split_sentences(text: str) -> list[SentenceSpan]:
    """Sentences of ``text`` with offsets: ``text[s.start:s.end] == s.text``."""
    spans: list[SentenceSpan] = []
    offset = 0
    for line in text.split("\n"):
        bullet = _BULLET.match(line)
        skip = bullet.end() if bullet else 0
        for start, end in sentence_model().span_tokenize(line[skip:]):
            a, b = offset + skip + start, offset + skip + end
            spans.append(SentenceSpan(a, b, text[a:b]))
        offset += len(line) + 1
    return spans
