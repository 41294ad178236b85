"""Whether passages support a claim, by words, numbers, names, negation and MiniLM similarity.

Shared by the service's verifier (every generated sentence against the passages it cites) and the
eval's overlap judge, so that what the product withholds and what the eval counts as unsupported
are one rule. No NLI model ships on PyPI with its weights, so the check is deterministic:

1. **numbers**: every number in the claim (digits, number words, ordinals such as "23rd") is in the
   evidence. This catches "January 25th" against "January 23rd".
2. **names**: every capitalised word of the claim after its first word (names, months, products)
   is in the evidence. This catches "WeChat" against "DingTalk".
3. **negation**: the claim and the evidence sentence closest to it in meaning agree on being
   negated ("not", "never", "n't", ...), which catches "is enough" against "isn't enough".
4. **score** = ``w * coverage + (1 - w) * similarity`` reaches a threshold. ``coverage`` is the
   share of the claim's content words (stemmed, no stop words, number words as digits) found in the
   evidence; ``similarity`` is the best MiniLM cosine between the claim and any one or two adjacent
   sentences of the evidence.

What it cannot see: roles swapped between names that both occur ("Judy Tong was CEO"), word order
and contradictions without a negation word. The labelled sets hold such sentences, so the
accuracies reported count them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from cited.text.features import content_terms, names, negated, numbers, words_for_names
from cited.text.sentences import split_sentences

NEAR = 0.1  # cosine: sentences this close to the closest one are read as equally likely evidence
Embed = Callable[[Sequence[str]], np.ndarray]  # texts -> unit vectors (Embedder.embed_cached)


@dataclass(frozen=True)
class SupportParams:
    weight: float  # of word coverage; 1 - weight goes to embedding similarity
    threshold: float
    negation: bool = True


@dataclass(frozen=True)
class SupportFeatures:
    coverage: float
    similarity: float
    numbers_ok: bool
    names_ok: bool
    negation_ok: bool
    best_window: str = ""  # the evidence sentence (or adjacent pair) closest to the claim
    # A sentence of the evidence differs from the claim in negation while being about the same
    # thing: nearly as close as the closest (within NEAR), or all of its content words are in the
    # claim. Stricter than negation_ok, which MiniLM's similarity decides alone: "The session was
    # recorded" sits closer to "Employees joined a session" (0.71) than to "The session was not
    # recorded" (0.47).
    negation_conflict: bool = False

    def score(self, weight: float) -> float:
        return weight * self.coverage + (1 - weight) * self.similarity

    def gates(self, negation: bool) -> bool:
        return self.numbers_ok and self.names_ok and (self.negation_ok or not negation)

    def supported(self, params: SupportParams) -> bool:
        return self.gates(params.negation) and self.score(params.weight) >= params.threshold


def support_features(claim: str, passages: Sequence[str], embed: Embed) -> SupportFeatures:
    evidence = "\n".join(passages)
    claim_terms = content_terms(claim)
    coverage = len(claim_terms & content_terms(evidence)) / len(claim_terms) if claim_terms else 0.0
    sentences, windows = evidence_windows(passages)
    vectors = embed([claim, *windows])
    similarities = vectors[1:] @ vectors[0]
    best = int(np.argmax(similarities)) if windows else -1
    # Negation is compared with the closest single sentence: a neighbour's "not" says nothing.
    closest = int(np.argmax(similarities[: len(sentences)])) if sentences else -1
    evidence_words = words_for_names(evidence)
    single = similarities[: len(sentences)]
    conflict = bool(sentences) and any(
        negated(sentence) != negated(claim)
        and (similarity >= float(single.max()) - NEAR or content_terms(sentence) <= claim_terms)
        for sentence, similarity in zip(sentences, single, strict=True)
    )
    return SupportFeatures(
        coverage=coverage,
        similarity=float(similarities[best]) if best >= 0 else 0.0,
        numbers_ok=numbers(claim) <= numbers(evidence),
        names_ok=all(n.lower() in evidence_words for n in names(claim)),
        negation_ok=closest >= 0 and negated(claim) == negated(sentences[closest]),
        best_window=windows[best] if best >= 0 else "",
        negation_conflict=conflict,
    )


def evidence_windows(passages: Sequence[str]) -> tuple[list[str], list[str]]:
    """The evidence's sentences, and the windows compared with a claim: those sentences followed
    by each pair of neighbouring sentences (a claim may join two)."""
    sentences: list[str] = []
    pairs: list[str] = []
    for passage in passages:
        own = [s.text for s in split_sentences(passage)]
        sentences += own
        pairs += [f"{a} {b}" for a, b in pairwise(own)]
    return sentences, sentences + pairs
