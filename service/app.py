"""The app factory: ``create_app(settings)`` builds the API and mounts the page at /ui.

Tests call it with their own settings (their own data directory), so no global state is shared.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

import cited
from cited.keys import KeyStore
from cited.settings import Settings, get_settings
from cited.store import claim_for_serving
from cited.users import UserStore
from service import errors, hardening
from service.answers import AnswerService
from service.corpus_changes import CorpusChanges
from service.feedback import FeedbackStore
from service.routers import ask, documents, health


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    service = AnswerService.from_settings(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        serving = claim_for_serving(service.store)
        # Loading MiniLM takes seconds; do it before accepting requests, not inside the first one.
        service.warm_up()
        try:
            yield
        finally:
            if serving is not None:
                serving.release()

    app = FastAPI(
        title="Cited",
        version=cited.__version__,
        summary="Answers over your documents, every claim backed by the passage it came from.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.service = service
    app.state.keys = KeyStore(settings.keys_path)
    app.state.changes = CorpusChanges(settings, service)
    errors.install(app)
    hardening.install(app, settings)
    for router in (ask.router, documents.router, health.router):
        app.include_router(router)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/ui/")

    from ui.page import mount

    users = UserStore(settings.users_path) if settings.auth else None
    feedback = FeedbackStore(settings.feedback_path)
    mount(app, service, feedback, users, app.state.changes, settings.max_upload_bytes)
    return app
