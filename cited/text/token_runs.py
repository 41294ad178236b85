"""Encoder tokens of a piece of text, kept from the pass that chunked it.

Chunking tokenizes each document once to weigh its pieces (``ingest/piece_sizes.py``). A chunk that
starts and ends between words has, as its tokens, exactly the document's tokens inside it: the
tokenizer normalises character by character and splits at spaces and punctuation before WordPiece,
so a word's tokens never depend on its neighbours. Kept as a ``TokenRun``, they let the encoder skip
tokenizing the chunk again, which was 2% of a SciFact ingest (``reports/ingest-profile.md``).
``tests/test_chunking.py`` checks the ids and offsets against the tokenizer's own on whole corpora.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class TokenRun:
    """Token ids without special tokens, and each token's ``(start, end)`` characters in the text
    the run tokenizes."""

    ids: Sequence[int]
    offsets: Sequence[tuple[int, int]]

    def followed_by(self, other: TokenRun, at: int) -> TokenRun:
        """This run, then ``other``'s tokens for a text that starts at character ``at`` after this
        run's text begins (the two joined by whitespace, so neither's tokens change)."""
        return TokenRun(
            [*self.ids, *other.ids],
            [*self.offsets, *((start + at, end + at) for start, end in other.offsets)],
        )
