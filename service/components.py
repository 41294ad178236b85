"""Everything one app serves from, built once: the answer path, the ingest side, the shared-state
database with its key, user, feedback and audit stores, and the rate limit.

``create_app(settings, components)`` takes them ready-made, so tests can hand several apps one
loaded embedder instead of loading MiniLM per app.
"""

from __future__ import annotations

from dataclasses import dataclass

from cited.access.keys import KeyStore
from cited.access.users import UserStore
from cited.database.engine import Database, open_database
from cited.models.embedding import Embedder
from cited.operations.metrics import Metrics
from cited.settings import Settings
from ingest.changes import CorpusChanges
from ingest.sync import Ingestor
from service.answering.answer_service import AnswerService
from service.asking import Asking
from service.audit import AuditTrail
from service.feedback import FeedbackStore
from service.provider_tokens import ProviderTokens
from service.rate_limit import RateLimit


@dataclass(frozen=True)
class Components:
    settings: Settings
    answers: AnswerService
    asking: Asking
    changes: CorpusChanges
    database: Database
    keys: KeyStore
    users: UserStore | None  # page users; None with auth off, or with single sign-on
    feedback: FeedbackStore
    audit: AuditTrail
    metrics: Metrics
    provider_tokens: ProviderTokens | None = None  # the provider's JWTs on the API (single sign-on)


def build_components(settings: Settings, embedder: Embedder | None = None) -> Components:
    """The components the settings describe; ``embedder``, when given, is shared instead of loaded."""
    answers = AnswerService.from_settings(settings, embedder)
    retriever = answers.retriever
    # The ingest side shares the answer path's store, models and BM25 owner, so an upload is
    # answered from as soon as it returns.
    ingestor = Ingestor(settings, answers.embedder, answers.store, retriever.multilingual, retriever.lexical)
    metrics = Metrics()
    database = open_database(settings)
    audit = AuditTrail(database, settings.audit, settings.audit_days, metrics, settings.machine_name)
    rate_limit = RateLimit(settings.rate_limit, settings.rate_limit_storage)
    return Components(
        settings=settings,
        answers=answers,
        asking=Asking(answers, rate_limit, metrics, audit),
        changes=CorpusChanges(settings, ingestor, metrics),
        database=database,
        keys=KeyStore(database),
        users=UserStore(database) if settings.auth and not settings.sso else None,
        feedback=FeedbackStore(database),
        audit=audit,
        metrics=metrics,
        provider_tokens=ProviderTokens(settings) if settings.sso else None,
    )
