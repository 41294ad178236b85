"""A question that joins two asks, split into its parts.

"Who led Alibaba during the crisis, and who has led it since 2023?" is two questions: each is
retrieved and answered on its own (the second with the first as its context, as a follow-up is),
so each part gets its own citation, and a part the documents do not answer is said to be so.
Only a join followed by a question word splits: "Which products and services use AI?" is one ask.
"""

from __future__ import annotations

import re

from service.answering.follow_up import own_words

_ASKS = r"(?:who|whom|whose|what|when|where|why|how|which|did|does|do|is|are|was|were|has|have|can)"
_JOIN = re.compile(
    rf"(?:,?\s+(?:and|but|and also)\s+|;\s*|\?\s+)(?={_ASKS}\b)",
    re.IGNORECASE,
)
MAX_PARTS = 3
_MIN_OWN_WORDS = 1


def question_parts(question: str) -> list[str]:
    """The asks of ``question``, each as a question; one part when it asks one thing."""
    pieces = [p.strip(" ,;") for p in _JOIN.split(question.strip())]
    pieces = [p for p in pieces if p]
    if len(pieces) < 2 or len(pieces) > MAX_PARTS:
        return [question]
    if any(len(own_words(p)) < _MIN_OWN_WORDS for p in pieces):
        return [question]
    return [p[0].upper() + p[1:].rstrip("?") + "?" for p in pieces]
