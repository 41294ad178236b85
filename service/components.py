"""Everything one app serves from, built once: the answer path, the ingest side, the key, user and
feedback stores, and the rate limit.

``create_app(settings, components)`` takes them ready-made, so tests can hand several apps one
loaded embedder instead of loading MiniLM per app.
"""

from __future__ import annotations

from dataclasses import dataclass

from cited.access.keys import KeyStore
from cited.access.users import UserStore
from cited.models.embedding import Embedder
from cited.operations.metrics import Metrics
from cited.settings import Settings
from ingest.changes import CorpusChanges
from ingest.sync import Ingestor
from service.answering.answer_service import AnswerService
from service.asking import Asking
from service.feedback import FeedbackStore
from service.rate_limit import RateLimit


@dataclass(frozen=True)
class Components:
    settings: Settings
    answers: AnswerService
    asking: Asking
    changes: CorpusChanges
    keys: KeyStore
    users: UserStore | None  # page users; None with auth off
    feedback: FeedbackStore
    metrics: Metrics


def build_components(settings: Settings, embedder: Embedder | None = None) -> Components:
    """The components the settings describe; ``embedder``, when given, is shared instead of loaded."""
    answers = AnswerService.from_settings(settings, embedder)
    retriever = answers.retriever
    # The ingest side shares the answer path's store, models and BM25 owner, so an upload is
    # answered from as soon as it returns.
    ingestor = Ingestor(settings, answers.embedder, answers.store, retriever.multilingual, retriever.lexical)
    metrics = Metrics()
    return Components(
        settings=settings,
        answers=answers,
        asking=Asking(answers, RateLimit(settings.rate_limit, settings.rate_limit_storage), metrics),
        changes=CorpusChanges(settings, ingestor, metrics),
        keys=KeyStore(settings.keys_path),
        users=UserStore(settings.users_path) if settings.auth else None,
        feedback=FeedbackStore(settings.feedback_path),
        metrics=metrics,
    )
