"""Single sign-on for the page: OpenID Connect's authorization code flow, with Authlib.

- ``GET /auth/login`` sends the browser to the provider with PKCE (S256), a state and a nonce,
  kept in a signed cookie for ``CITED_OIDC_LOGIN_WINDOW_S``.
- ``GET /auth/callback`` checks the state (a callback whose state is unknown, already used or
  expired is refused), redeems the code with the verifier, checks the ID token (signature against
  the provider's JWKS, issuer, audience, expiry, nonce), reads the groups claim, refuses people
  outside ``CITED_OIDC_ALLOWED_GROUPS``, and starts a session (``cited/access/sessions.py``) with
  the groups of this sign-in.
- ``GET /auth/logout`` ends the session on every machine and clears the cookie.

The cookie is signed, HttpOnly, SameSite=Lax, and Secure unless ``CITED_PUBLIC_URL`` is a loopback
address (or unset, for a setup on one's own machine). Refusals are pages that say what happened
and offer to sign in again; they never start a session.
"""

from __future__ import annotations

import contextlib
import html
import logging
import time
from typing import Any
from urllib.parse import urlsplit

from authlib.integrations.starlette_client import OAuth, OAuthError
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.middleware.sessions import SessionMiddleware

from cited.access.group_mapping import GroupMapping, claimed_groups
from cited.access.sessions import SessionStore, SignedIn, shared_secret
from cited.database.engine import Database
from cited.errors import CitedError
from cited.settings import Settings

COOKIE = "cited_session"
_SESSION_KEY = "sid"
_log = logging.getLogger("cited.sso")
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class SingleSignOn:
    """The provider, the sessions it starts, and how its groups become Cited groups."""

    def __init__(self, settings: Settings, database: Database) -> None:
        assert settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret
        self.settings = settings
        self.sessions = SessionStore(database, settings.session_hours)
        self.mapping = GroupMapping.load(settings.oidc_group_map_file)
        self.allowed = set(settings.oidc_allowed_groups)
        oauth = OAuth()
        oauth.register(
            "provider",
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret.get_secret_value(),
            server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs={"scope": settings.oidc_scopes, "code_challenge_method": "S256"},
        )
        self.client: Any = oauth.create_client("provider")
        self.client.framework.expires_in = settings.oidc_login_window_s
        self.secret = (
            settings.session_secret.get_secret_value()
            if settings.session_secret
            else shared_secret(database, "session_secret")
        )

    def signed_in(self, request: Request) -> SignedIn | None:
        session_id = request.session.get(_SESSION_KEY)
        return self.sessions.get(session_id) if isinstance(session_id, str) else None

    def groups_of(self, claims: dict[str, Any]) -> tuple[list[str], tuple[str, ...]]:
        """The provider's groups in ``claims`` and the Cited groups they map to."""
        provider = claimed_groups(claims, self.settings.oidc_groups_claim)
        return provider, self.mapping.groups(provider)


def secure_cookies(settings: Settings) -> bool:
    """Secure unless Cited is reached on this machine's loopback (http://127.0.0.1 in a browser)."""
    if settings.public_url is None:
        return False
    return urlsplit(settings.public_url).hostname not in _LOOPBACK


def install(app: FastAPI, sso: SingleSignOn) -> None:
    """Add the sign-in routes and the signed session cookie to ``app``."""
    app.add_middleware(
        SessionMiddleware,
        secret_key=sso.secret,
        session_cookie=COOKIE,
        max_age=int(sso.settings.session_hours * 3600),
        same_site="lax",
        https_only=secure_cookies(sso.settings),
    )
    app.state.sso = sso
    app.include_router(router)


router = APIRouter(prefix="/auth", include_in_schema=False)


def _sso(request: Request) -> SingleSignOn:
    return request.app.state.sso


def _callback_url(request: Request) -> str:
    base = _sso(request).settings.public_url
    return base.rstrip("/") + "/auth/callback" if base else str(request.url_for("callback"))


@router.get("/login")
async def login(request: Request) -> Response:
    sso = _sso(request)
    try:
        return await sso.client.authorize_redirect(request, _callback_url(request))
    except Exception as exc:  # the provider's discovery document could not be fetched
        _log.warning("sign-in: provider unreachable: %s", exc)
        return _page(
            503,
            "The sign-in service cannot be reached",
            f"Cited could not reach the identity provider at {sso.settings.oidc_issuer}. Try again shortly.",
        )


@router.get("/callback", name="callback")
async def callback(request: Request) -> Response:
    sso = _sso(request)
    state = request.query_params.get("state")
    # Authlib keeps each sign-in's state, nonce and PKCE verifier in the cookie under this key.
    held = request.session.get(f"_state_{sso.client.name}_{state}") if state else None
    if not isinstance(held, dict):
        return _refused("this sign-in link is unknown, was already used, or has expired", "state_mismatch")
    if held.get("exp", 0) < time.time():
        request.session.pop(f"_state_{sso.client.name}_{state}", None)
        window = sso.settings.oidc_login_window_s
        return _refused(f"this sign-in has expired: it must finish within {window} s", "expired")
    try:
        token = await sso.client.authorize_access_token(request)
    except OAuthError as exc:
        return _refused(
            f"the identity provider refused it ({exc.error}: {exc.description or ''})".strip(), exc.error
        )
    except Exception as exc:  # Authlib's and joserfc's claim and signature errors share no base
        return _refused(f"the identity token is not valid ({exc})", "invalid_id_token")
    claims = dict(token.get("userinfo") or {})
    if not claims.get("sub"):
        return _refused("the identity provider sent no identity token", "no_id_token")
    provider_groups, groups = sso.groups_of(claims)
    user = str(claims.get("email") or claims.get("preferred_username") or claims["sub"])
    if sso.allowed and not sso.allowed.intersection(provider_groups):
        _log.info("sign-in refused for %s: not in CITED_OIDC_ALLOWED_GROUPS", user)
        return _page(
            403,
            "You may not use Cited",
            f"{user} is not in a group allowed to sign in. Ask your administrator to add you.",
        )
    can_upload = bool(set(sso.settings.oidc_upload_groups).intersection(provider_groups))
    try:
        signed = sso.sessions.start(user, groups, can_upload)
    except CitedError as exc:
        return _page(503, "Sign-in is unavailable", exc.message)
    request.session.clear()  # the finished sign-in's state goes; the session id alone stays
    request.session[_SESSION_KEY] = signed.id
    _log.info("signed in: %s with groups %s", user, ",".join(groups) or "(none)")
    return RedirectResponse("/ui/", status_code=303)


@router.get("/logout")
async def logout(request: Request) -> Response:
    session_id = request.session.get(_SESSION_KEY)
    if isinstance(session_id, str):
        # The cookie is cleared below all the same, and the session expires on its own.
        with contextlib.suppress(CitedError):
            _sso(request).sessions.end(session_id)
    request.session.clear()
    return _page(200, "Signed out", "You have signed out of Cited.")


def unavailable_page(message: str) -> HTMLResponse:
    """What the page shows while the database of sessions cannot be reached."""
    return _page(503, "Cited is unavailable", message)


def _refused(why: str, code: str) -> Response:
    _log.warning("sign-in refused (%s): %s", code, why)
    return _page(400, "Sign-in failed", f"Sign-in failed: {why}. Nothing was signed in.")


def _page(status: int, title: str, message: str) -> HTMLResponse:
    body = (
        f"<!doctype html><title>{html.escape(title)} · Cited</title>"
        f"<main style='font-family:sans-serif;max-width:40em;margin:4em auto'>"
        f"<h1>{html.escape(title)}</h1><p id='message'>{html.escape(message)}</p>"
        f"<p><a id='sign-in' href='/auth/login'>Sign in</a></p></main>"
    )
    return HTMLResponse(body, status_code=status)
