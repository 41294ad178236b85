"""Token counts of the pieces of one text, read off a single tokenization of the whole text.

LlamaIndex's ``SentenceSplitter`` weighs the whole text, then each paragraph, sentence or phrase it
cuts it into, calling the tokenizer on each: every character is tokenized about twice. Tokenizing
the document once, with character offsets and word numbers, answers each of those calls by
counting the tokens inside the piece. Chunking the 5,183 SciFact documents and the seed corpus's
README took 13.5 and 15.2 s (two runs) with LlamaIndex's node path and a tokenizer call per piece,
11.6 and 12.2 s through ``split_text``, and 6.7 and 8.1 s with this; the 11,405 chunks are
identical (and the 11,426 with the corpus and seed texts added, in a second check).

A count read this way is exact when the piece starts and ends between words, as the splitter's
cuts at paragraphs, sentences, punctuation and spaces do: the tokenizer splits text into words at
spaces and punctuation before WordPiece, so a word's tokens do not depend on its neighbours. A
piece that starts or ends inside a word (the splitter's last resort, cutting characters) is
tokenized on its own instead.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sized
from typing import Any

from cited.text.token_runs import TokenRun


class PieceSizes:
    """The splitter's tokenizer for one document: ``len(sizes(piece))`` is ``piece``'s token count."""

    def __init__(self, text: str, encode: Callable[[str], Any]) -> None:
        encoding = encode(text)
        self._text = text
        self._encode = encode
        self._ids = encoding.ids
        self._offsets = encoding.offsets
        self._starts = [start for start, _ in self._offsets]
        self._ends = [end for _, end in self._offsets]
        self._words = list(encoding.word_ids)
        self._cursor = 0  # the splitter weighs pieces in document order: search on from the last

    def __call__(self, piece: str) -> Sized:
        start = self._text.find(piece, self._cursor)
        if start < 0:
            start = self._text.find(piece)
        if start < 0:
            return self._encode(piece).ids
        self._cursor = start
        tokens = self._tokens(start, start + len(piece))
        if tokens is None:
            return self._encode(piece).ids
        return range(max(0, tokens[1] - tokens[0]))

    def run(self, start: int, end: int) -> TokenRun | None:
        """The tokens of ``text[start:end]``, offsets counted from ``start``; None when a cut falls
        inside a word, where the piece's own tokens may differ from the document's."""
        tokens = self._tokens(start, end)
        if tokens is None:
            return None
        first, past = tokens
        return TokenRun(self._ids[first:past], [(a - start, b - start) for a, b in self._offsets[first:past]])

    def _tokens(self, start: int, end: int) -> tuple[int, int] | None:
        """The numbers of the first token in ``text[start:end]`` and of the one after its last;
        None when a cut falls inside a word."""
        first = bisect_left(self._starts, start)  # the first token starting in the piece
        past = bisect_right(self._ends, end)  # one past the last token ending in it
        if not (self._between_words(first, start) and self._between_words(past, end)):
            return None
        return first, past

    def _between_words(self, token: int, cut: int) -> bool:
        """Whether a cut at character ``cut``, before token number ``token``, falls between words."""
        if token > 0 and self._ends[token - 1] > cut:
            return False  # the token before runs across the cut
        if token < len(self._starts) and self._starts[token] < cut:
            return False  # the token after starts before it
        if 0 < token < len(self._words):
            return self._words[token] != self._words[token - 1]
        return True
