"""The app factory: ``create_app(settings, components)`` builds the API and mounts the page at /ui.

This module is the composition root: the only one that sees both the HTTP routers and the page.
Tests call it with their own settings (their own data directory) and, to share one loaded
embedder, their own components; ``uvicorn --factory service.app:create_app`` calls it with
neither, and it reads the settings from the environment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

import cited
from cited.settings import Settings, get_settings
from cited.store.serving_lock import claim_for_serving
from service import errors, hardening
from service.components import Components, build_components
from service.routers import ask, documents, health, metrics, openai_compat


def create_app(settings: Settings | None = None, components: Components | None = None) -> FastAPI:
    if components is None:
        components = build_components(settings or get_settings())
    settings = components.settings
    answers = components.answers

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        serving = claim_for_serving(answers.store)
        # Loading MiniLM takes seconds; do it before accepting requests, not inside the first one.
        answers.warm_up()
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
    app.state.components = components
    errors.install(app)
    hardening.install(app, settings, components.metrics)
    for router in (ask.router, documents.router, health.router, metrics.router, openai_compat.router):
        app.include_router(router)

    if not settings.ui:  # an API-only server (behind another front end) need not load Gradio
        return app

    # Imported here: Gradio takes about 3 s to import, which an API-only worker need not pay.
    from ui.page import mount

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/ui/")

    mount(app, components.asking, components.feedback, components.users, components.changes, settings)
    return app
