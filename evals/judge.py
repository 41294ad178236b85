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

``w`` and the threshold are fitted by :func:`fit` on ``evals/data/support_pairs.jsonl`` and kept in
``evals/config.toml``; ``cited eval judge`` reports the accuracy, in-sample and cross-validated.
What it cannot see: roles swapped between names that both occur ("Judy Tong was CEO"), word order
("preservation before creation") and contradictions without a negation word. The labelled set holds
such pairs so its accuracy counts them.

:class:`ChatJudge` asks any OpenAI-compatible chat endpoint instead (``CITED_JUDGE_URL``,
``CITED_JUDGE_MODEL``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Protocol

import httpx
import numpy as np

from evals.thresholds import candidate_cuts
from service.extractive import content_terms
from service.sentences import split_sentences

SUPPORT_PAIRS = Path(__file__).parent / "data" / "support_pairs.jsonl"

_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
# "one" is left out: far more often a pronoun ("one of the areas") than a count.
_NUMBER_WORDS = {
    word: str(n)
    for n, word in enumerate(
        ["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"], 2
    )
}
_WORD = re.compile(r"[^\W_]+(?:[’'.-][^\W_]+)*")
_NEGATIONS = {"not", "no", "never", "none", "nor", "neither", "cannot", "without", "nothing"}


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


def numbers(text: str) -> set[str]:
    found = {m.group().replace(",", "") for m in _DIGITS.finditer(text)}
    found |= {_NUMBER_WORDS[w] for w in _WORD.findall(text.lower()) if w in _NUMBER_WORDS}
    return found


def names(claim: str) -> set[str]:
    """Capitalised words, without possessives: the names a claim asserts.

    The first word is capitalised anyway, so it counts only when it looks like a name on its own:
    a capital inside it ("DingTalk") or a capitalised word after it ("Tencent CEO").
    """
    words = [re.sub(r"[’']s$", "", w) for w in _WORD.findall(claim)]
    found = {w for w in words[1:] if w[0].isupper()}
    if words and (any(c.isupper() for c in words[0][1:]) or (len(words) > 1 and words[1][0].isupper())):
        found.add(words[0])
    return found


def negated(text: str) -> bool:
    words = _WORD.findall(text.lower().replace("’", "'"))
    return any(w in _NEGATIONS or w.endswith("n't") for w in words)


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
        evidence_words = {w.lower() for w in _WORD.findall(evidence)}
        evidence_words |= {re.sub(r"[’']s$", "", w) for w in evidence_words}
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


# --- the labelled set and fitting ------------------------------------------------------------------


@dataclass(frozen=True)
class LabelledPair:
    id: str
    claim: str
    passages: list[str]
    sources: list[str]
    supported: bool
    kind: str


def load_pairs(path: Path = SUPPORT_PAIRS) -> list[LabelledPair]:
    with path.open(encoding="utf-8") as lines:
        return [LabelledPair(**json.loads(line)) for line in lines if line.strip()]


@dataclass(frozen=True)
class JudgeScore:
    pairs: int
    accuracy: float
    precision: float  # of "supported" verdicts, how many were right
    recall: float  # of supported pairs, how many were found
    by_kind: dict[str, float]
    wrong: list[str]  # ids


def score_verdicts(pairs: Sequence[LabelledPair], verdicts: Sequence[bool]) -> JudgeScore:
    right = [v == p.supported for p, v in zip(pairs, verdicts, strict=True)]
    said_yes = [p.supported for p, v in zip(pairs, verdicts, strict=True) if v]
    truly = [v for p, v in zip(pairs, verdicts, strict=True) if p.supported]
    kinds: dict[str, list[bool]] = {}
    for pair, ok in zip(pairs, right, strict=True):
        kinds.setdefault(pair.kind, []).append(ok)
    return JudgeScore(
        pairs=len(pairs),
        accuracy=sum(right) / len(pairs) if pairs else 0.0,
        precision=sum(said_yes) / len(said_yes) if said_yes else 0.0,
        recall=sum(truly) / len(truly) if truly else 0.0,
        by_kind={k: round(sum(v) / len(v), 3) for k, v in sorted(kinds.items())},
        wrong=[p.id for p, ok in zip(pairs, right, strict=True) if not ok],
    )


WEIGHTS = tuple(round(0.05 * i, 2) for i in range(21))


def fit(features: Sequence[Features], labels: Sequence[bool], negation: bool = True) -> JudgeParams:
    """The weight and threshold of best accuracy; the threshold sits halfway between scores.

    Ties go to the higher threshold: a judge that says "supported" too easily flatters the product.
    """
    best: tuple[float, float, JudgeParams] | None = None
    for weight in WEIGHTS:
        for cut in candidate_cuts(f.score(weight) for f in features):
            params = JudgeParams(weight, round(cut, 4), negation)
            hits = sum(
                (f.gates(negation) and f.score(weight) >= cut) == label
                for f, label in zip(features, labels, strict=True)
            )
            key = (hits / len(labels), cut)
            if best is None or key > best[:2]:
                best = (*key, params)
    assert best is not None
    return best[2]


def cross_validated(
    features: Sequence[Features], labels: Sequence[bool], folds: int = 5, negation: bool = True
) -> float:
    """Accuracy when each pair is judged with parameters fitted without its fold (fold = index mod k)."""
    right = 0
    for k in range(folds):
        train = [i for i in range(len(labels)) if i % folds != k]
        params = fit([features[i] for i in train], [labels[i] for i in train], negation)
        for i in range(k, len(labels), folds):
            f = features[i]
            right += (f.gates(negation) and f.score(params.weight) >= params.threshold) == labels[i]
    return right / len(labels) if labels else 0.0
