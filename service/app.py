"""The app factory: ``create_app(settings, components)`` builds the API and mounts the page at /ui.

This module is the composition root: the only one that sees both the HTTP routers and the page.
Tests call it with their own settings (their own data directory) and, to share one loaded
embedder, their own components; ``uvicorn --factory service.app:create_app`` calls it with
neither, and it reads the settings from the environment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

import cited
from cited.errors import CitedError
from cited.settings import Settings, get_settings
from cited.store.serving_lock import claim_for_serving
from service import errors, hardening
from service.components import Components, build_components
from service.routers import ask, audit, documents, health, metrics, openai_compat
from service.sso import SingleSignOn, unavailable_page
from service.sso import install as install_sso


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
    for router in (
        ask.router,
        audit.router,
        documents.router,
        health.router,
        metrics.router,
        openai_compat.router,
    ):
        app.include_router(router)

    if not settings.ui:  # an API-only server (behind another front end) need not load Gradio
        return app

    # Imported here: Gradio takes about 3 s to import, which an API-only worker need not pay.
    from ui.page import mount

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/ui/")

    if not settings.sso:
        mount(app, components.asking, components.feedback, components.users, components.changes, settings)
        return app

    sso = SingleSignOn(settings, components.database)

    def signed_in(request: Request) -> str | None:
        """Gradio's user of a request: the id of its live single sign-on session (none while the
        database cannot say: nobody is let in then)."""
        try:
            found = sso.signed_in(request)
        except CitedError:
            return None
        return found.id if found else None

    @app.middleware("http")
    async def sign_in_first(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        # Visiting the page without a session starts the sign-in instead of showing Gradio's 401.
        if request.url.path in ("/ui", "/ui/") and request.method == "GET":
            try:
                found = await run_in_threadpool(sso.signed_in, request)
            except CitedError as exc:  # the database is down: say so rather than send people round
                return unavailable_page(exc.message)
            if found is None:
                return RedirectResponse("/auth/login", status_code=303)
        return await call_next(request)

    changes = components.changes  # people in CITED_OIDC_UPLOAD_GROUPS may add documents
    mount(app, components.asking, components.feedback, None, changes, settings, sso.sessions, signed_in)
    install_sso(app, sso)  # added last: the session cookie's middleware must wrap the check above
    return app
