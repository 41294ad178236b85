"""Support judges: does a passage (or several, read together) support a claim?

:class:`OverlapJudge`, the default, is the deterministic support check of ``cited/text/support.py``
(numbers, names, negation, then word coverage and MiniLM similarity against a threshold), the same
rule the service's verifier applies to generated sentences. Its weight and threshold are fitted by
``evals/judge_fitting.py`` on ``evals/data/support_pairs.jsonl`` and kept in ``evals/config.toml``;
``cited eval judge`` reports the accuracy, in-sample and cross-validated.

:class:`ChatJudge` asks any OpenAI-compatible chat endpoint instead (``CITED_JUDGE_BASE_URL``,
``CITED_JUDGE_MODEL``), through the same client as generated answers (``cited/models/language_model.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from cited.models.language_model import ModelUnavailableError, OpenAIChat
from cited.text.support import Embed, SupportFeatures, SupportParams, support_features


class SupportJudge(Protocol):
    name: str
    description: str  # for reports: the judge and its parameters

    def supports(self, claim: str, passages: Sequence[str]) -> bool:
        """True when ``passages``, read together, support ``claim``."""
        ...


# The judge's parameters and features are the support check's.
JudgeParams = SupportParams
Features = SupportFeatures


class OverlapJudge:
    """The deterministic support check of ``cited/text/support.py``, with the eval's fitted parameters."""

    name = "overlap"

    def __init__(self, embed: Embed, params: JudgeParams) -> None:
        self._embed = embed  # texts -> unit vectors; pass Embedder.embed_cached
        self.params = params
        self.description = (
            f"overlap (weight {params.weight}, threshold {params.threshold}, negation {params.negation})"
        )

    def features(self, claim: str, passages: Sequence[str]) -> Features:
        return support_features(claim, passages, self._embed)

    def decide(self, features: Features) -> bool:
        return features.supported(self.params)

    def supports(self, claim: str, passages: Sequence[str]) -> bool:
        return self.decide(self.features(claim, passages))


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
        self, base_url: str, model: str, api_key: str | None = None, timeout_s: float = 60.0, retries: int = 2
    ) -> None:
        self._chat = OpenAIChat(base_url, model, api_key, timeout_s, retries=retries, role="judge")
        self.description = f"chat ({self._chat.name})"
        self.unparsed = 0
        self.calls = 0

    def supports(self, claim: str, passages: Sequence[str]) -> bool:
        messages = [
            {"role": "system", "content": "You check whether a passage supports a claim."},
            {"role": "user", "content": _PROMPT.format(evidence="\n\n".join(passages), claim=claim)},
        ]
        try:
            reply = self._chat.complete(messages, max_tokens=4)
        except ModelUnavailableError as error:
            raise JudgeUnavailableError(str(error).replace("the language model", "the judge")) from None
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
