"""Support judges: does a passage (or several, read together) support a claim?

No NLI model ships on PyPI with its weights, so the default judge, :class:`OverlapJudge`, is
deterministic. A claim is supported when all of these hold:

1. **numbers**: every number in the claim (digits, number words, ordinals such as "23rd") is in the
   evidence. This catches "January 25th" against "January 23rd".
2. **names**: every capitalised word of the claim after its first word (names, months, products)
   is in the evidence. This catches "WeChat" against "DingTalk" and "Wu Yongming" against "Daniel
   Jiang".
3. **negation**: the claim and the evidence sentence closest to it in meaning agree on being
   negated ("not", "never", "n't", ...), which catches "is enough" against "isn't enough".
4. **score** = ``w * coverage + (1 - w) * similarity`` reaches the threshold. ``coverage`` is the
   share of the claim's content words (stemmed, no stop words, number words as digits) found in the
   evidence; ``similarity`` is the best MiniLM cosine between the claim and any one or two adjacent
   sentences of the evidence.

``w`` and the threshold are fitted by ``evals/judge_fitting.py`` on ``evals/data/support_pairs.jsonl``
and kept in
``evals/config.toml``; ``cited eval judge`` reports the accuracy, in-sample and cross-validated.
What it cannot see: roles swapped between names that both occur ("Judy Tong was CEO"), word order
("preservation before creation") and contradictions without a negation word. The labelled set holds
such pairs so its accuracy counts them.

:class:`ChatJudge` asks any OpenAI-compatible chat endpoint instead (``CITED_JUDGE_URL``,
``CITED_JUDGE_MODEL``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Protocol

import httpx
import numpy as np

from cited.sentences import split_sentences
from cited.text_features import content_terms, names, negated, numbers, words_for_names


class SupportJudge(Protocol):
    name: str
    description: str  # for reports: the judge and its parameters

    def supports(self, claim: str, passages: Sequence[str]) -> bool:
        """True when ``passages``, read together, support ``claim``."""
        ...


@dataclass(frozen=True)
class JudgeParams:
    weight: float  # of word coverage; 1 - weight goes to embedding similarity
    threshold: float
    negation: bool = True


@dataclass(frozen=True)
class Features:
    coverage: float
    similarity: float
    numbers_ok: bool
    names_ok: bool
    negation_ok: bool

    def score(self, weight: float) -> float:
        return weight * self.coverage + (1 - weight) * self.similarity

    def gates(self, negation: bool) -> bool:
        return self.numbers_ok and self.names_ok and (self.negation_ok or not negation)


class OverlapJudge:
    """The deterministic judge described in the module docstring."""

    name = "overlap"

    def __init__(self, embed: Callable[[Sequence[str]], np.ndarray], params: JudgeParams) -> None:
        self._embed = embed  # texts -> unit vectors; pass Embedder.embed_cached
        self.params = params
        self.description = (
            f"overlap (weight {params.weight}, threshold {params.threshold}, negation {params.negation})"
        )

    def features(self, claim: str, passages: Sequence[str]) -> Features:
        evidence = "\n".join(passages)
        claim_terms = content_terms(claim)
        coverage = len(claim_terms & content_terms(evidence)) / len(claim_terms) if claim_terms else 0.0
        sentences, windows = _windows(passages)
        vectors = self._embed([claim, *windows])
        similarities = vectors[1:] @ vectors[0]
        best = int(np.argmax(similarities)) if windows else -1
        # Negation is compared with the closest single sentence: a neighbour's "not" says nothing.
        closest = int(np.argmax(similarities[: len(sentences)])) if sentences else -1
        evidence_words = words_for_names(evidence)
        return Features(
            coverage=coverage,
            similarity=float(similarities[best]) if best >= 0 else 0.0,
            numbers_ok=numbers(claim) <= numbers(evidence),
            names_ok=all(n.lower() in evidence_words for n in names(claim)),
            negation_ok=closest >= 0 and negated(claim) == negated(sentences[closest]),
        )

    def decide(self, features: Features) -> bool:
        p = self.params
        return features.gates(p.negation) and features.score(p.weight) >= p.threshold

    def supports(self, claim: str, passages: Sequence[str]) -> bool:
        return self.decide(self.features(claim, passages))


def _windows(passages: Sequence[str]) -> tuple[list[str], list[str]]:
    """The evidence's sentences, and the windows compared with a claim: those sentences followed
    by each pair of neighbouring sentences (a claim may join two)."""
    sentences: list[str] = []
    pairs: list[str] = []
    for passage in passages:
        own = [s.text for s in split_sentences(passage)]
        sentences += own
        pairs += [f"{a} {b}" for a, b in pairwise(own)]
    return sentences, sentences + pairs


class JudgeUnavailableError(Exception):
    """The chat endpoint could not be reached or answered with an error."""


_PROMPT = (
    "Passage:\n{evidence}\n\nClaim: {claim}\n\n"
    "Does the passage support every part of the claim? Answer with one word: yes or no."
)


class ChatJudge:
    """Asks an OpenAI-compatible ``/chat/completions`` endpoint, at temperature 0.

    A reply that starts with neither "yes" nor "no" counts as not supported, and is counted in
    ``unparsed`` so a report can say how often the model failed to answer the question asked.
    """

    name = "chat"

    def __init__(
        self, base_url: str, model: str, api_key: str | None = None, timeout_s: float = 60.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.description = f"chat ({model} at {self.base_url})"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=timeout_s, headers=headers)
        self.unparsed = 0
        self.calls = 0

    def supports(self, claim: str, passages: Sequence[str]) -> bool:
        url = f"{self.base_url}/chat/completions"
        body = {
            "model": self.model,
            "temperature": 0,
            "max_tokens": 4,
            "messages": [
                {"role": "system", "content": "You check whether a passage supports a claim."},
                {"role": "user", "content": _PROMPT.format(evidence="\n\n".join(passages), claim=claim)},
            ],
        }
        try:
            response = self._client.post(url, json=body)
            response.raise_for_status()
            reply = str(response.json()["choices"][0]["message"]["content"])
        except httpx.HTTPStatusError as error:
            raise JudgeUnavailableError(
                f"the judge at {url} answered HTTP {error.response.status_code}: "
                f"{error.response.text[:200]}; check CITED_JUDGE_URL and CITED_JUDGE_MODEL"
            ) from None
        except httpx.HTTPError as error:
            raise JudgeUnavailableError(
                f"cannot reach the judge at {url} ({error.__class__.__name__}); "
                "check that the server runs and CITED_JUDGE_URL points at its /v1 base"
            ) from None
        except (KeyError, IndexError, TypeError, ValueError):
            raise JudgeUnavailableError(
                f"the judge at {url} did not answer in the OpenAI chat format"
            ) from None
        self.calls += 1
        word = reply.strip().lstrip("*\"' ").lower()
        if word.startswith("yes"):
            return True
        if not word.startswith("no"):
            self.unparsed += 1
        return False


class MemoJudge:
    """Remembers verdicts: citation precision asks about the same claim and passages repeatedly."""

    def __init__(self, judge: SupportJudge) -> None:
        self.judge = judge
        self.name = judge.name
        self.description = judge.description
        self._seen: dict[tuple[str, tuple[str, ...]], bool] = {}

    def supports(self, claim: str, passages: Sequence[str]) -> bool:
        key = (claim, tuple(passages))
        if key not in self._seen:
            self._seen[key] = self.judge.supports(claim, passages)
        return self._seen[key]
