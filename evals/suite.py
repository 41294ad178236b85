"""Run a question set against Cited, in-process or over HTTP, and score every answer.

Both targets go through the same request and response models as the API (``include_retrieved``
asks for the ranked passages the answer was chosen from), so ``cited eval --url`` scores a running
server exactly as the in-process run scores the code.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass
from typing import Protocol

import httpx
from pydantic import ValidationError

from evals.grounding import AnswerVerdict, judge_answer
from evals.judge import SupportJudge
from evals.metrics import (
    abstention_scores,
    evidence_hit_at,
    hit_at,
    percentile,
    reciprocal_rank,
)
from evals.questions import Question
from service.answering.answer_types import AskRequest, AskResponse
from service.answering.answers import AnswerService

HIT_KS = (1, 3, 5)


class TargetError(Exception):
    """The service under test could not answer; the message says why and what to check."""


class Target(Protocol):
    description: str

    def ask(self, question: str, top_k: int) -> AskResponse: ...


class InProcessTarget:
    def __init__(self, service: AnswerService) -> None:
        self.service = service
        self.description = f"in-process, store {service.settings.data_dir}"
        service.warm_up()

    def ask(self, question: str, top_k: int) -> AskResponse:
        return self.service.ask(AskRequest(question=question, top_k=top_k, include_retrieved=True))


class HttpTarget:
    def __init__(self, url: str, api_key: str | None = None, timeout_s: float = 60.0) -> None:
        self.url = url.rstrip("/")
        self.description = f"HTTP, {self.url}"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(base_url=self.url, timeout=timeout_s, headers=headers)

    def ask(self, question: str, top_k: int) -> AskResponse:
        body = {"question": question, "top_k": top_k, "include_retrieved": True}
        try:
            response = self._client.post("/ask", json=body)
        except httpx.HTTPError as error:
            raise TargetError(
                f"cannot reach {self.url}/ask ({error.__class__.__name__}); is `cited serve` running there?"
            ) from None
        if response.status_code != 200:
            raise TargetError(f"{self.url}/ask answered HTTP {response.status_code}: {response.text[:300]}")
        try:
            return AskResponse.model_validate(response.json())
        except (ValidationError, ValueError):
            raise TargetError(f"{self.url}/ask did not answer with Cited's AskResponse") from None


@dataclass(frozen=True)
class QuestionResult:
    id: str
    kind: str
    question: str
    answerable: bool
    abstained: bool
    answer: str
    latency_ms: float
    retrieved_sources: list[str]
    hits: dict[str, float]  # "hit@1", ... and "evidence_hit@5"; empty for unanswerable questions
    reciprocal_rank: float | None
    fact_recall: float | None
    missing_facts: list[str]
    verdict: AnswerVerdict

    @property
    def severity(self) -> float:
        """How bad the failure is, for ordering a report's worst cases (0 when nothing failed).

        A false answer to an unanswerable question or an abstention on an answerable one weighs 1;
        otherwise each missing share of facts, unsupported statements and ungrounded statements.
        """
        if not self.answerable:
            return 0.0 if self.abstained else 1.0 + self._unsupported_share()
        if self.abstained:
            return 1.0 + 0.5 * (1 - (self.reciprocal_rank or 0.0))
        return (
            (1 - (self.fact_recall or 0.0))
            + self._unsupported_share()
            + 0.25 * (1 - (self.reciprocal_rank or 0.0))
        )

    def _unsupported_share(self) -> float:
        total = len(self.verdict.statements)
        return sum(not s.supported for s in self.verdict.statements) / total if total else 0.0

    def as_dict(self) -> dict[str, object]:
        row = asdict(self)
        row["citation_recall"] = self.verdict.citation_recall
        row["citation_precision"] = self.verdict.citation_precision
        row["severity"] = round(self.severity, 3)
        return row


def ask_all(
    target: Target, questions: list[Question], judge: SupportJudge, top_k: int
) -> list[QuestionResult]:
    results = []
    for q in questions:
        started = time.perf_counter()
        response = target.ask(q.question, top_k)
        latency_ms = (time.perf_counter() - started) * 1000
        results.append(score_one(q, response, latency_ms, judge))
    return results


def score_one(q: Question, response: AskResponse, latency_ms: float, judge: SupportJudge) -> QuestionResult:
    retrieved = response.retrieved or []
    sources = [p.source for p in retrieved]
    texts = [p.text for p in retrieved]
    hits: dict[str, float] = {}
    rr = None
    if q.answerable:
        hits = {f"hit@{k}": hit_at(sources, q.documents, k) for k in HIT_KS}
        hits["evidence_hit@5"] = evidence_hit_at(texts, q.evidence, 5)
        rr = reciprocal_rank(sources, q.documents)
    verdict = (
        AnswerVerdict()
        if response.abstained
        else judge_answer(
            response.answer,
            {c.id: c.text for c in response.citations},
            {c.id: c.quote for c in response.citations},
            judge,
        )
    )
    answer = "" if response.abstained else response.answer
    return QuestionResult(
        id=q.id,
        kind=q.kind,
        question=q.question,
        answerable=q.answerable,
        abstained=response.abstained,
        answer=response.answer,
        latency_ms=round(latency_ms, 1),
        retrieved_sources=sources,
        hits=hits,
        reciprocal_rank=rr,
        fact_recall=q.facts_found(answer) if q.answerable else None,
        missing_facts=q.missing_facts(answer) if q.answerable else [],
        verdict=verdict,
    )


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 4) if values else None


def summarise(results: list[QuestionResult]) -> dict[str, float | None]:
    """The suite's metrics (names as in ``evals/gates.py``); see ``evals/metrics.py`` and
    ``evals/grounding.py`` for their definitions."""
    answerable = [r for r in results if r.answerable]
    answered = [r for r in results if not r.abstained]
    statements = [s for r in answered for s in r.verdict.statements]
    precision, recall = abstention_scores([r.abstained for r in results], [not r.answerable for r in results])
    latencies = [r.latency_ms for r in results]
    metrics: dict[str, float | None] = {
        f"retrieval.{name}": _mean([r.hits[name] for r in answerable])
        for name in [f"hit@{k}" for k in HIT_KS] + ["evidence_hit@5"]
    }
    metrics["retrieval.mrr"] = _mean([r.reciprocal_rank or 0.0 for r in answerable])
    metrics["answer.fact_recall"] = _mean([r.fact_recall or 0.0 for r in answerable])
    metrics["answer.answered"] = _mean([0.0 if r.abstained else 1.0 for r in answerable])
    metrics["citations.recall"] = _mean(
        [r.verdict.citation_recall for r in answered if r.verdict.citation_recall is not None]
    )
    metrics["citations.precision"] = _mean(
        [r.verdict.citation_precision for r in answered if r.verdict.citation_precision is not None]
    )
    metrics["groundedness"] = _mean([float(s.grounded) for s in statements])
    metrics["abstention.precision"] = round(precision, 4)
    metrics["abstention.recall"] = round(recall, 4)
    metrics["latency.median_ms"] = round(statistics.median(latencies), 1) if latencies else None
    metrics["latency.p95_ms"] = round(percentile(latencies, 95), 1) if latencies else None
    return metrics


def by_kind(results: list[QuestionResult]) -> dict[str, dict[str, float | None]]:
    """Per kind of question: how many, answered share, fact recall and hit@1."""
    table: dict[str, dict[str, float | None]] = {}
    for kind in dict.fromkeys(r.kind for r in results):
        group = [r for r in results if r.kind == kind]
        table[kind] = {
            "questions": len(group),
            "answered": _mean([0.0 if r.abstained else 1.0 for r in group]),
            "fact_recall": _mean([r.fact_recall for r in group if r.fact_recall is not None]),
            "hit@1": _mean([r.hits["hit@1"] for r in group if r.hits]),
        }
    return table
