"""Single sign-on for the page, against a real OpenID provider process (``tests/identity_provider.py``):
the browser flow in Chromium, each refusal of a bad callback, groups read at each sign-in, and the
provider's JWTs on the API. Real uvicorn, real Chroma, real cookies."""

from __future__ import annotations

import json
import time
from base64 import b64encode
from collections.abc import Iterator
from dataclasses import dataclass, replace
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from itsdangerous import TimestampSigner
from playwright.sync_api import Browser, expect, sync_playwright

from cited.access.sessions import SessionStore
from cited.database.engine import Database, open_database
from cited.settings import Settings
from evals.benchmarks.browser import VIEWPORT, ChromiumMissingError, launch
from evals.live_server import LiveServer
from tests.documents import BOARD_DOC, ingest_with_auth
from tests.identity_provider import Provider, running_provider

pytestmark = pytest.mark.processes

CLIENT_ID = "cited-intranet"
BOARD_QUESTION = "What did the board approve about Lumenfield Robotics?"
PEOPLE = [
    {"sub": "mei", "email": "mei@example.org", "groups": ["board", "everyone"]},
    {"sub": "tom", "email": "tom@example.org", "groups": ["everyone"]},
]


@dataclass
class SignOnSetup:
    provider: Provider
    server: LiveServer
    settings: Settings


def sso_settings(base: Settings, provider: Provider, **overrides: object) -> Settings:
    return Settings(
        data_dir=base.data_dir,
        corpus_dir=base.corpus_dir,
        auth=True,
        oidc_issuer=provider.url,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret="a-client-secret",
        **overrides,
    )


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SignOnSetup]:
    root = tmp_path_factory.mktemp("sso")
    with running_provider(root / "provider.log", PEOPLE) as provider:
        settings = sso_settings(ingest_with_auth(root), provider, oidc_upload_groups=["board"])
        with LiveServer(settings) as server:
            yield SignOnSetup(provider, server, settings)


def start_sign_in(client: httpx.Client) -> str:
    """Cited's redirect to the provider, its cookie kept by ``client``: the authorization URL."""
    started = client.get("/auth/login")
    assert started.status_code == 302, started.text
    return started.headers["location"]


def test_the_sign_in_asks_the_provider_with_pkce_state_and_nonce(signed: SignOnSetup) -> None:
    with signed.server.client() as client:
        authorize = start_sign_in(client)
        assert client.cookies.get("cited_session")
        set_cookie = client.get("/auth/login").headers["set-cookie"].lower()
    query = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(f"{signed.provider.url}/oauth2/authorize")
    assert query["client_id"] == [CLIENT_ID] and query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["state"][0] and query["nonce"][0] and "openid" in query["scope"][0]
    assert "httponly" in set_cookie and "samesite=lax" in set_cookie
    assert "secure" not in set_cookie  # reached on loopback; any other CITED_PUBLIC_URL makes it Secure


def test_a_browser_signs_in_asks_sees_only_its_groups_and_signs_out(signed: SignOnSetup) -> None:
    with sync_playwright() as playwright:
        try:
            browser: Browser = launch(playwright)
        except ChromiumMissingError as exc:
            pytest.fail(str(exc))
        try:
            for who, sees_board in (("tom", False), ("mei", True)):
                context = browser.new_context(viewport=VIEWPORT)
                page = context.new_page()
                page.goto(f"{signed.server.url}/ui/")  # not signed in: sent to the provider
                page.get_by_role("button", name=who, exact=True).click()  # the provider's form
                page.locator("#cited-question textarea").wait_for(timeout=60_000)
                assert page.url.startswith(f"{signed.server.url}/ui")
                page.locator("#cited-question textarea").fill(BOARD_QUESTION)
                page.locator("#cited-ask").click()
                message = page.locator("#cited-chat .message.bot").last
                expect(message).not_to_be_empty(timeout=60_000)
                expect(page.locator("#cited-status")).to_be_empty(timeout=60_000)
                panel = page.locator("#cited-panel")
                uploads = page.get_by_text("Add or replace a document")
                if sees_board:  # mei is in the board, the provider group that may upload
                    expect(uploads).to_be_visible()
                    expect(message).to_contain_text("Lumenfield")
                    expect(panel).to_contain_text(BOARD_DOC)
                else:  # 0 passages of the board's document reach tom, who may not upload
                    expect(uploads).to_have_count(0)
                    expect(message).not_to_contain_text("Lumenfield")
                    expect(panel).not_to_contain_text(BOARD_DOC)
                    expect(panel.locator(".cited-text")).not_to_contain_text(["Lumenfield"])
                page.locator("#cited-sign-out").click()
                expect(page.locator("#message")).to_have_text("You have signed out of Cited.")
                page.goto(f"{signed.server.url}/ui/")  # signed out: the page is not served again
                assert page.url.startswith(signed.provider.url)
                context.close()
        finally:
            browser.close()
    signed.server.components.audit.flush()
    asked = [r for r in signed.server.components.audit.records() if r.channel == "page"]
    assert {r.caller for r in asked[-2:]} == {"sso:tom@example.org", "sso:mei@example.org"}


def test_tampered_and_replayed_callbacks_are_refused(signed: SignOnSetup) -> None:
    with signed.server.client() as client:
        callback = signed.provider.approve(start_sign_in(client), "mei")
        parts = urlsplit(callback)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}

        forged_state = client.get(f"/auth/callback?{urlencode({**query, 'state': 'forged'})}")
        assert forged_state.status_code == 400
        assert "unknown, was already used, or has expired" in forged_state.text

        forged_code = client.get(f"/auth/callback?{urlencode({**query, 'code': 'forged-code'})}")
        assert forged_code.status_code == 400 and "identity provider refused it" in forged_code.text
        assert "invalid_grant" in forged_code.text

    with signed.server.client() as client:  # a fresh attempt, then its callback used twice
        callback = signed.provider.approve(start_sign_in(client), "mei")
        first = client.get(callback.replace(signed.server.url, ""))
        assert first.status_code == 303 and first.headers["location"] == "/ui/"
        assert client.get("/ui/").status_code == 200  # signed in
        again = client.get(callback.replace(signed.server.url, ""))
        assert again.status_code == 400 and "already used" in again.text
    with httpx.Client(base_url=signed.server.url) as stranger:  # someone else replays the link
        stolen = stranger.get(callback.replace(signed.server.url, ""))
        assert stolen.status_code == 400 and "cited_session" not in stolen.cookies
        assert stranger.get("/ui/", follow_redirects=False).headers["location"] == "/auth/login"


def test_groups_are_read_at_each_sign_in(signed: SignOnSetup) -> None:
    sessions = SessionStore(open_database(signed.settings), 1)

    def sign_in(sub: str) -> tuple[str, ...]:
        with signed.server.client() as client:
            callback = signed.provider.approve(start_sign_in(client), sub)
            assert client.get(callback.replace(signed.server.url, "")).status_code == 303
            session_id = client.cookies["cited_session"]
        found = [s for s in _live_sessions(sessions) if s.id not in before]
        before.update(s.id for s in found)
        assert session_id and len(found) == 1
        return found[0].groups

    before: set[str] = {s.id for s in _live_sessions(sessions)}
    signed.provider.set_user("ana", "ana@example.org", ["board", "everyone", "Not A Cited Group"])
    assert sign_in("ana") == ("board", "everyone")  # names that are not Cited groups are ignored
    signed.provider.set_user("ana", "ana@example.org", ["everyone"])  # removed from the board
    assert sign_in("ana") == ("everyone",)


def _live_sessions(sessions: SessionStore) -> list:
    from sqlalchemy import select

    from cited.database.schema import sessions as table

    with sessions.database.begin() as db:
        ids = [row.id for row in db.execute(select(table.c.id))]
    return [s for s in (sessions.get(i) for i in ids) if s is not None]


def test_an_expired_sign_in_and_people_outside_the_allowed_groups_are_refused(signed: SignOnSetup) -> None:
    # A second server on the first one's store and answer path, with a one-second sign-in window
    # and allowed groups.
    settings = sso_settings(
        signed.settings, signed.provider, oidc_login_window_s=1, oidc_allowed_groups=["board"]
    )
    components = replace(signed.server.components, settings=settings)
    with LiveServer(settings, components=components) as server, server.client() as client:
        callback = signed.provider.approve(start_sign_in(client), "mei")
        time.sleep(1.2)  # longer than the sign-in may take (CITED_OIDC_LOGIN_WINDOW_S=1)
        late = client.get(callback.replace(server.url, ""))
        assert late.status_code == 400 and "has expired" in late.text

        callback = signed.provider.approve(start_sign_in(client), "tom")  # not in the board
        refused = client.get(callback.replace(server.url, ""))
        assert refused.status_code == 403 and "tom@example.org is not in a group allowed" in refused.text
        assert client.get("/ui/", follow_redirects=False).status_code == 303  # still not signed in


def test_the_api_takes_the_providers_signed_tokens_with_their_groups(signed: SignOnSetup) -> None:
    """The provider's JWTs (its ID tokens, whose audience is Cited's client id) stand for a person
    on the API. This provider issues opaque access tokens, so its ID token is the JWT at hand."""
    ask = {"question": BOARD_QUESTION}
    with signed.server.client() as client:
        board = signed.provider.id_token(CLIENT_ID, "mei")
        answered = client.post("/ask", json=ask, headers={"Authorization": f"Bearer {board}"})
        assert answered.status_code == 200 and "Lumenfield" in answered.json()["answer"]

        staff = signed.provider.id_token(CLIENT_ID, "tom")
        seen = client.post("/ask", json=ask, headers={"Authorization": f"Bearer {staff}"}).json()
        assert all(c["source"] != BOARD_DOC for c in seen["citations"]) and "Lumenfield" not in seen["answer"]

        other_app = signed.provider.id_token("another-app", "mei")  # for another audience
        wrong = client.post("/ask", json=ask, headers={"Authorization": f"Bearer {other_app}"})
        assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_token"

        tampered = board[:-4] + ("AAAA" if not board.endswith("AAAA") else "BBBB")
        bad = client.post("/ask", json=ask, headers={"Authorization": f"Bearer {tampered}"})
        assert bad.status_code == 401 and bad.json()["error"] == "invalid_token"

        upload = client.post(
            "/documents", files={"file": ("a.txt", b"x")}, headers={"Authorization": f"Bearer {board}"}
        )
        assert upload.status_code == 403 and "`ingest` needs a Cited key" in upload.json()["message"]


def test_a_database_outage_shows_the_page_as_unavailable_and_lets_nobody_in(signed: SignOnSetup) -> None:
    """With the sessions' database unreachable, a visitor holding a session cookie gets a 503 page that
    says so: not a 500, not a redirect round the provider, not the page."""
    dead = Database("postgresql+psycopg://cited@127.0.0.1:9/cited?connect_timeout=2")  # nothing listens
    settings = sso_settings(signed.settings, signed.provider, session_secret="a-session-secret")
    components = replace(signed.server.components, settings=settings, database=dead)
    cookie = TimestampSigner("a-session-secret").sign(b64encode(json.dumps({"sid": "some-session"}).encode()))
    with LiveServer(settings, components=components) as server, server.client() as client:
        page = client.get("/ui/", cookies={"cited_session": cookie.decode()}, follow_redirects=False)
    assert page.status_code == 503 and "cannot be reached" in page.text
