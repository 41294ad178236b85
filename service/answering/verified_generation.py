"""A generated answer, verified sentence by sentence, as a sequence of events.

The model's reply is read as it streams; each sentence is verified as soon as it is complete and
only then passed on, so a streaming client sees verified sentences while the model is still
writing, and never a sentence that failed. Citations are numbered in the order the shown sentences
first use them (as for quoted answers); a citation's ``quote`` runs from the first to the last span
its sentences are supported by, so it is a substring of the passage.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from cited.models.language_model import ChatModel
from cited.store.chunks import ScoredChunk
from service.answering.ask_schema import AnswerSentence, Citation, Passage, WithheldSentence
from service.answering.model_prompt import (
    GeneratedSentence,
    is_refusal,
    prompt_messages,
    reply_grammar,
    sentences_as_written,
)
from service.answering.verification import Supported, Verifier, Withheld


@dataclass
class VerifiedAnswer:
    """What the generation left: shown sentences, withheld ones, and the citations they use."""

    passages: Sequence[ScoredChunk]
    sentences: list[AnswerSentence] = field(default_factory=list)
    withheld: list[WithheldSentence] = field(default_factory=list)
    refused: bool = False  # the model said the passages do not answer
    _ids: dict[int, int] = field(default_factory=dict)  # prompt number -> citation id
    _spans: dict[int, tuple[int, int]] = field(default_factory=dict)  # prompt number -> quote span

    def show(self, supported: Supported) -> AnswerSentence:
        ids = [self._ids.setdefault(n, len(self._ids) + 1) for n in supported.sentence.markers]
        for n, (start, end) in supported.quotes.items():
            a, b = self._spans.get(n, (start, end))
            self._spans[n] = (min(a, start), max(b, end))
        start, end = supported.quotes[supported.passage]
        sentence = AnswerSentence(
            text=f"{supported.sentence.claim} {' '.join(f'[{i}]' for i in ids)}",  # "[1] [2]": as quoted
            citations=ids,
            citation=self._ids[supported.passage],
            quote=self.passages[supported.passage - 1].chunk.text[start:end],
            score=supported.score,
        )
        self.sentences.append(sentence)
        return sentence

    def withhold(self, withheld: Withheld) -> WithheldSentence:
        shown = WithheldSentence(text=withheld.sentence.text, reason=withheld.reason)
        self.withheld.append(shown)
        return shown

    @property
    def answer(self) -> str:
        return " ".join(s.text for s in self.sentences)

    def citations(self) -> list[Citation]:
        cited = []
        for n, i in sorted(self._ids.items(), key=lambda item: item[1]):
            passage = self.passages[n - 1]
            start, end = self._spans[n]
            cited.append(Citation(id=i, quote=passage.chunk.text[start:end], **Passage.fields_of(passage)))
        return cited


def generate(
    model: ChatModel,
    verifier: Verifier,
    question: str,
    passages: Sequence[ScoredChunk],
    max_tokens: int,
    into: VerifiedAnswer,
) -> Iterator[AnswerSentence | WithheldSentence]:
    """Each sentence of the model's reply once verified: shown (``AnswerSentence``) or withheld.

    Closing this iterator closes the model's stream, which stops the generation."""
    tokens = model.stream(prompt_messages(question, passages), max_tokens, reply_grammar(len(passages)))
    written: set[str] = set()
    try:
        for sentence in sentences_as_written(tokens):
            if _empty(sentence) or sentence.claim in written:  # small models repeat themselves
                continue
            written.add(sentence.claim)
            if is_refusal(sentence):
                into.refused = True
                continue
            checked = verifier.check(sentence, passages)
            yield into.show(checked) if isinstance(checked, Supported) else into.withhold(checked)
    finally:
        close = getattr(tokens, "close", None)
        if close is not None:
            close()


def _empty(sentence: GeneratedSentence) -> bool:
    return not any(c.isalnum() for c in sentence.claim)
