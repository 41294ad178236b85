"""The page at /ui, served by the same app, driven in a real headless Chromium.

Chromium comes from Debian's package (``.ci/run`` installs it); when it is missing these tests fail
rather than skip, because a page that was never opened in a browser is not known to work.
"""

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from cited.embedding import Embedder
from cited.settings import Settings
from cited.store import open_store
from cited.users import UserStore
from evals.live_server import LiveServer
from ingest.sync import Ingestor
from service.schemas import AskResponse, Citation
from tests.conftest import CORPUS, ROOT
from tests.documents import BOARD_DOC, ingest_with_auth
from ui.render import answer_html, passages_html

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (see .ci/run)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    opened = context.new_page()
    opened.goto(f"{server.url}/ui/", wait_until="networkidle")
    yield opened
    context.close()


def ask(page: Page, question: str) -> None:
    page.locator("#cited-question textarea").fill(question)
    page.locator("#cited-ask").click()
    page.locator("#cited-answer-box .cited-answer, #cited-answer-box .cited-notfound").first.wait_for(
        timeout=60_000
    )


def test_ui_is_served_by_the_same_app(http: httpx.Client) -> None:
    response = http.get("/ui/")
    assert response.status_code == 200 and "gradio" in response.text.lower()
    assert http.get("/", follow_redirects=False).headers["location"] == "/ui/"


def test_answer_and_cited_passage_with_the_quote_highlighted(page: Page) -> None:
    expect(page.get_by_text("Example questions")).to_be_visible()
    ask(page, "Which platform hosted the online karaoke?")
    answer = page.locator("#cited-answer-box .cited-answer")
    expect(answer).to_contain_text("DingTalk")
    expect(answer.locator("a.cited-marker").first).to_have_text("[1]")
    passage = page.locator("#cited-passage-1")
    expect(passage).to_contain_text("Alibaba’s winning HR strategy during the crisis")
    expect(passage).to_contain_text("Alibaba-HR-3C-strategy-during-the-crisis.txt")
    expect(passage.locator("mark")).to_contain_text("DingTalk")
    answer.locator("a.cited-marker").first.click()
    assert page.evaluate("location.hash") == "#cited-passage-1"
    page.screenshot(path=str(ROOT / "reports" / "ui-answer.png"), full_page=True)


def test_not_found_is_said_plainly(page: Page) -> None:
    ask(page, "What is the capital of France?")
    expect(page.locator("#cited-answer-box .cited-notfound")).to_contain_text("Not found in the documents")
    assert page.locator("#cited-passages-box .cited-passage").count() == 0


def test_a_document_with_markup_is_shown_as_text_and_never_run(page: Page) -> None:
    ask(page, "What did the quarterly security review find in the visitor log?")
    answer = page.locator("#cited-answer-box .cited-answer")
    expect(answer).to_contain_text("<script>window.__citedPwned = true</script>")
    passages = page.locator("#cited-passages-box")
    expect(passages).to_contain_text('<img src="x" onerror="window.__citedPwned = true">')
    assert passages.locator("img, script").count() == 0
    assert answer.locator("img, script").count() == 0
    page.wait_for_timeout(500)  # an injected onerror handler would have fired by now
    assert page.evaluate("window.__citedPwned") is None


def test_empty_question_in_the_page_gets_a_readable_message(page: Page) -> None:
    page.locator("#cited-question textarea").fill("   ")
    page.locator("#cited-ask").click()
    error = page.locator("#cited-answer-box .cited-error")
    expect(error).to_contain_text("Please check the question")
    expect(error).not_to_contain_text("Traceback")


def test_rendering_escapes_every_document_field() -> None:
    hostile = '<b onmouseover="x()">bold</b>'
    citation = Citation(
        id=1, document_id="0" * 16, title=hostile, source=f"{hostile}.txt", text=f"Before. {hostile} after.",
        quote=hostile, start=0, end=10, page=2, score=0.5,
    )  # fmt: skip
    response = AskResponse(answer=f"{hostile} [1]", abstained=False, citations=[citation], timings_ms={})
    html = answer_html(response) + passages_html(response)
    assert "<b " not in html and "&lt;b onmouseover=" in html
    assert "<mark>&lt;b onmouseover=" in html  # the quote is highlighted, still escaped
    assert '<a class="cited-marker" href="#cited-passage-1"' in html
    assert "page 2" in html


# --- the login, with auth on ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def login_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = ingest_with_auth(tmp_path_factory.mktemp("login"))
    users = UserStore(settings.users_path)
    users.add("mei", "board-member-password", ["board"])
    users.add("tom", "staff-member-password", ["everyone"])
    users.add("ana", "editor-member-password", ["everyone"], can_upload=True)
    with LiveServer(settings) as running:
        yield running


def log_in(browser: Browser, url: str, name: str, password: str) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    opened = context.new_page()
    opened.goto(f"{url}/ui/", wait_until="networkidle")
    opened.locator("input[type=text]").first.fill(name)
    opened.locator("input[type=password]").first.fill(password)
    opened.get_by_role("button", name="Login").click()
    return opened


BOARD_QUESTION = "What did the board approve about Lumenfield Robotics?"


def test_the_page_asks_for_a_login_and_shows_each_user_only_their_groups_documents(
    browser: Browser, login_server: LiveServer
) -> None:
    assert "Lumenfield" not in httpx.get(f"{login_server.url}/ui/").text

    wrong = log_in(browser, login_server.url, "mei", "not-the-password")
    expect(wrong.locator("input[type=password]")).to_be_visible()  # still on the login form
    expect(wrong.locator("#cited-question")).to_have_count(0)
    wrong.context.close()

    staff = log_in(browser, login_server.url, "tom", "staff-member-password")
    staff.locator("#cited-question textarea").wait_for(timeout=30_000)
    ask(staff, BOARD_QUESTION)
    expect(staff.locator("#cited-answer-box")).not_to_contain_text("Lumenfield")
    expect(staff.locator("#cited-passages-box")).not_to_contain_text("Lumenfield")
    staff.context.close()

    board = log_in(browser, login_server.url, "mei", "board-member-password")
    board.locator("#cited-question textarea").wait_for(timeout=30_000)
    ask(board, BOARD_QUESTION)
    expect(board.locator("#cited-answer-box")).to_contain_text("Lumenfield")
    expect(board.locator("#cited-passages-box")).to_contain_text(BOARD_DOC)
    board.context.close()


def test_only_users_who_may_upload_see_the_upload_box(browser: Browser, login_server: LiveServer) -> None:
    staff = log_in(browser, login_server.url, "tom", "staff-member-password")
    staff.locator("#cited-question textarea").wait_for(timeout=30_000)
    staff.wait_for_load_state("networkidle")
    expect(staff.get_by_text("Add or replace a document")).to_have_count(0)
    staff.context.close()

    editor = log_in(browser, login_server.url, "ana", "editor-member-password")
    expect(editor.get_by_text("Add or replace a document")).to_be_visible(timeout=30_000)
    editor.context.close()


# --- adding a document from the page ----------------------------------------------------------


def test_a_document_added_on_the_page_is_answerable_at_once(
    browser: Browser, tmp_path: Path, embedder: Embedder
) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus, rate_limit="100000/minute")
    Ingestor(settings, embedder, open_store(settings)).run(corpus)
    note = tmp_path / "logistics-note.txt"
    note.write_text(
        "Logistics note\n\nThe Cainiao warehouse in Wuhan reopened on 14 March with 420 staff.\n",
        encoding="utf-8",
    )
    broken = tmp_path / "board-pack.pdf"
    broken.write_bytes(b"%PDF-1.7\n1 0 obj <<garbage\n%%EOF")
    with LiveServer(settings) as server:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto(f"{server.url}/ui/", wait_until="networkidle")
        page.get_by_text("Add or replace a document").click()

        def add(path: Path) -> None:
            page.locator("#cited-upload input[type=file]").set_input_files(str(path))
            expect(page.locator("#cited-upload")).to_contain_text(path.name, timeout=30_000)
            page.locator("#cited-add").click()

        add(broken)
        expect(page.locator("#cited-added .cited-error")).to_contain_text(
            "not a readable PDF", timeout=60_000
        )
        page.locator("#cited-upload button[aria-label='Clear']").first.click()
        add(note)
        expect(page.locator("#cited-added .cited-notice")).to_contain_text(
            "Added uploads/logistics-note.txt", timeout=60_000
        )
        assert (corpus / "uploads" / "logistics-note.txt").is_file()
        assert not (corpus / "uploads" / "board-pack.pdf").exists()
        ask(page, "When did the Cainiao warehouse in Wuhan reopen?")
        expect(page.locator("#cited-answer-box")).to_contain_text("14 March")
        expect(page.locator("#cited-passages-box")).to_contain_text("uploads/logistics-note.txt")
        context.close()
