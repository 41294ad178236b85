"""Checking every generated sentence against the passages it cites, before a reader sees it.

A sentence is shown only when all of these hold, in this order (the first that fails is the reason
it is withheld):

0. it is complete: it does not stop mid-phrase (on a comma, or on a word such as "and" or "the"),
   as a reply cut by the token limit or the local model's length bound does;
1. it cites at least one passage, and every passage it cites was given to the model;
2. every number (digits, number words, ordinals) in it occurs in its cited passages;
3. every name (capitalised word after the first, month names included) occurs in them;
4. it is negated exactly when the closest cited sentences are (each sentence nearly as close as the
   closest counts, stricter than the eval's judge: withholding comes first here);
5. its support score (``cited/text/support.py``: word coverage and MiniLM similarity) reaches the
   threshold chosen by ``cited eval verifier`` on labelled pairs.

The evidence is the passages as the model saw them (``generation.shown_text``): an instruction-like
line of a document supports nothing. A shown sentence carries its ``quote``: the sentence (or two
adjacent sentences) of a cited passage closest to it in meaning, a substring of that passage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from cited.store.chunks import ScoredChunk
from cited.text.features import names, numbers, words_for_names
from cited.text.sentences import split_sentences
from cited.text.support import Embed, SupportParams, support_features
from service.answering.model_prompt import GeneratedSentence, cut_off, reads_as_instruction, shown_text


@dataclass(frozen=True)
class Supported:
    sentence: GeneratedSentence
    passage: int  # the cited passage (1-based, as in the prompt) closest to the sentence
    quotes: dict[int, tuple[int, int]]  # each cited passage's closest span (offsets in its text)
    score: float


@dataclass(frozen=True)
class Withheld:
    sentence: GeneratedSentence
    reason: str


class Verifier:
    def __init__(self, embed: Embed, params: SupportParams) -> None:
        self._embed = embed
        self.params = params

    def check(self, sentence: GeneratedSentence, passages: Sequence[ScoredChunk]) -> Supported | Withheld:
        reason, score = self.assess(sentence, [p.chunk.text for p in passages])
        if reason is None and score < self.params.threshold:
            reason = f"the cited passages do not support it (score {score:.2f} < {self.params.threshold})"
        if reason is not None:
            return Withheld(sentence, reason)
        passage, quotes = self.quotes(sentence.claim, passages, sentence.markers)
        return Supported(sentence, passage, quotes, round(score, 4))

    def assess(self, sentence: GeneratedSentence, passages: Sequence[str]) -> tuple[str | None, float]:
        """The first of checks 1-4 that fails (None when all pass), and the support score (0 when
        one failed before it was computed). ``cited eval verifier`` chooses the threshold from these."""
        if cut_off(sentence.claim):
            return "it is cut off mid-phrase", 0.0
        if not sentence.markers:
            return "cites no passage", 0.0
        given = len(passages)
        if missing := [n for n in sentence.markers if not 1 <= n <= given]:
            listed = ", ".join(f"[{n}]" for n in missing)
            return f"cites {listed}, but only passages [1] to [{given}] were given", 0.0
        evidence = [shown_text(passages[n - 1]) for n in sentence.markers]
        joined = "\n".join(evidence)
        if absent := sorted(numbers(sentence.claim) - numbers(joined)):
            return f"the number {', '.join(absent)} is not in the cited passages", 0.0
        words = words_for_names(joined)
        if absent := sorted(n for n in names(sentence.claim) if n.lower() not in words):
            return f"the name {', '.join(absent)} is not in the cited passages", 0.0
        features = support_features(sentence.claim, evidence, self._embed)
        score = features.score(self.params.weight)
        if self.params.negation and (features.negation_conflict or not features.negation_ok):
            return "it is negated where the cited passage is not, or the reverse", score
        return None, score

    def quotes(
        self, claim: str, passages: Sequence[ScoredChunk], cited: Sequence[int]
    ) -> tuple[int, dict[int, tuple[int, int]]]:
        """For each cited passage, its span closest to ``claim`` (one sentence or two adjacent), and
        which passage's span is closest of all."""
        windows: list[tuple[int, int, int]] = []
        for n in cited:
            text = passages[n - 1].chunk.text
            lines = text.split("\n")
            spans = [
                s
                for s in split_sentences(text)
                if not reads_as_instruction(lines[text.count("\n", 0, s.start)])
            ]
            own = [(n, s.start, s.end) for s in spans] + [(n, a.start, b.end) for a, b in pairwise(spans)]
            windows += own or [(n, 0, len(text))]
        texts = [passages[n - 1].chunk.text[a:b] for n, a, b in windows]
        vectors = self._embed([claim, *texts])
        similarity = vectors[1:] @ vectors[0]
        best: dict[int, tuple[float, int, int]] = {}
        for (n, a, b), score in zip(windows, similarity, strict=True):
            if n not in best or score > best[n][0]:
                best[n] = (float(score), a, b)
        closest = max(best, key=lambda n: best[n][0])
        return closest, {n: (a, b) for n, (_, a, b) in best.items()}
