"""``cited eval``: the golden set end to end, gated by ``evals/config.toml``.

In-process, the corpus is ingested by the real ingest into a temporary store and asked through the
real ``AnswerService``; with ``--url`` the questions go over HTTP to a running server instead.
"""

from __future__ import annotations

import shlex
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cited.models.embedding import Embedder, configured_embedder
from cited.settings import Settings
from cited.text.support import SupportParams
from evals.eval_report import shortfall_rows, write_reports
from evals.follow_ups import Conversation, run_follow_ups
from evals.gates import EvalConfig, Shortfall, shortfalls
from evals.judge import ChatJudge, MemoJudge, OverlapJudge, SupportJudge
from evals.questions import Question
from evals.suite import HttpTarget, InProcessTarget, Target, ask_all, by_kind, summarise
from evals.workspace import ingested
from service.answering.verification import Verifier

JudgeKind = Literal["overlap", "chat"]


class JudgeConfigError(Exception):
    """The chat judge was asked for without an endpoint configured."""


def make_judge(kind: JudgeKind, settings: Settings, config: EvalConfig, embedder: Embedder) -> SupportJudge:
    if kind == "overlap":
        return MemoJudge(OverlapJudge(embedder.embed_cached, config.judge))
    if not settings.judge_base_url or not settings.judge_model:
        raise JudgeConfigError(
            "--judge chat needs an OpenAI-compatible endpoint: set CITED_JUDGE_BASE_URL (e.g. "
            "http://127.0.0.1:8080/v1) and CITED_JUDGE_MODEL, and CITED_JUDGE_API_KEY if it wants one"
        )
    key = settings.judge_api_key.get_secret_value() if settings.judge_api_key else None
    return MemoJudge(ChatJudge(settings.judge_base_url, settings.judge_model, key, settings.judge_timeout_s))


@dataclass(frozen=True)
class EvalOutcome:
    run: dict[str, object]
    shortfalls: list[Shortfall]
    paths: dict[str, Path]


def run_evaluation(
    settings: Settings,
    config: EvalConfig,
    questions: list[Question],
    question_set: Path,
    reports: Path,
    url: str | None = None,
    judge_kind: JudgeKind = "overlap",
    corpus: Path | None = None,
    api_key: str | None = None,
    llm: str | None = None,
    conversations: list[Conversation] | None = None,
    conversation_set: Path | None = None,
) -> EvalOutcome:
    """``llm``: answer in generated mode with this backend (``local`` or ``openai``, configured by
    the CITED_LLM_* settings) instead of the settings' own."""
    from service.answering.answer_service import AnswerService

    with ExitStack() as stack:
        target: Target
        if url:
            embedder = configured_embedder(settings)
            target = HttpTarget(url, api_key)
            active = settings
        else:
            overrides = {"llm": llm} if llm else {}
            active = stack.enter_context(ingested(corpus or settings.corpus_dir, **overrides))
            service = AnswerService.from_settings(active)
            embedder = service.embedder
            target = InProcessTarget(service)
        judge = make_judge(judge_kind, settings, config, embedder)
        verifier = Verifier(
            embedder.embed_cached, SupportParams(active.verify_weight, active.verify_threshold)
        )
        results = ask_all(target, questions, judge, active.top_k, verifier)
        follow_ups = run_follow_ups(target, conversations, active.top_k) if conversations else None
    metrics = summarise(results)
    if follow_ups is not None:
        metrics.update(follow_ups["metrics"])  # type: ignore[arg-type]
    # The thresholds were measured on quoted answers: a generative run reports them, and is gated on
    # its promises instead (cli/evaluating.py).
    found = shortfalls(metrics, {} if llm else config.thresholds)
    run: dict[str, object] = {
        "timestamp": time.strftime("%Y%m%d-%H%M%S"),
        "command": shlex.join(["cited", *sys.argv[1:]]) if sys.argv[0].endswith("cited") else "cited eval",
        "target": target.description,
        "question_set": _shown(question_set),
        "questions": len(results),
        "answerable": sum(r.answerable for r in results),
        "judge": judge.description,
        "settings": {
            k: getattr(active, k)
            for k in (
                "retrieval",
                "multilingual",
                "top_k",
                "answer_step",
                "abstain_threshold",
                "max_answer_sentences",
                "llm",
            )
        },
        "metrics": metrics,
        "thresholds": config.thresholds,
        "shortfalls": shortfall_rows(found),
        "by_kind": by_kind(results),
    }
    if follow_ups is not None and conversation_set is not None:
        run["follow_ups"] = {"question_set": _shown(conversation_set), **follow_ups}
    return EvalOutcome(run, found, write_reports(run, results, reports))


def _shown(path: Path) -> str:
    """The path relative to the working directory when it is inside it, so reports read the same
    on every checkout."""
    resolved = path.resolve()
    return str(resolved.relative_to(Path.cwd())) if resolved.is_relative_to(Path.cwd()) else str(path)
