"""The page at /ui, served by the same app, driven in a real headless Chromium.

Chromium comes from Debian's package (``.ci/run`` installs it); when it is missing these tests fail
rather than skip, because a page that was never opened in a browser is not known to work.
"""

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from cited.access.users import UserStore
from cited.database.engine import open_database
from cited.models.embedding import Embedder
from cited.settings import Settings
from cited.store.chunk_store import open_store
from evals.benchmarks.browser import VIEWPORT, ChromiumMissingError, launch
from evals.live_server import LiveServer
from ingest.sync import Ingestor
from service.answering.ask_schema import AskResponse, Citation
from service.feedback import FeedbackStore
from tests.conftest import CEO_DOC, CORPUS, HR_DOC, ROOT
from tests.documents import BOARD_DOC, ingest_with_auth
from tests.scripted_llm import ScriptedChat, scripted_endpoint
from ui.conversation import Turn
from ui.render import message_html, panel_html, question_html

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Fails, not skips, without Chromium: a page never opened in a browser is not known to work.
    with sync_playwright() as playwright:
        try:
            launched = launch(playwright)
        except ChromiumMissingError as exc:
            pytest.fail(str(exc))
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT)
    opened = open_page(context.new_page(), server.url)
    yield opened
    context.close()


def open_page(page: Page, url: str) -> Page:
    # Not "networkidle": the page keeps a heartbeat connection open for its session state.
    page.goto(f"{url}/ui/", wait_until="load")
    page.locator("#cited-question textarea").wait_for(timeout=60_000)
    return page


def bot_messages(page: Page) -> Locator:
    return page.locator("#cited-chat [data-testid=bot]")


def ask(page: Page, question: str) -> Locator:
    """Ask on the page; the new answer's chat message once it has replaced the busy message."""
    before = bot_messages(page).count()
    page.locator("#cited-question textarea").fill(question)
    page.locator("#cited-ask").click()
    message = bot_messages(page).nth(before)
    message.locator(".cited-answer, .cited-closest, .cited-notfound, .cited-error").wait_for(timeout=60_000)
    return message


def test_ui_is_served_by_the_same_app(http: httpx.Client) -> None:
    response = http.get("/ui/")
    assert response.status_code == 200 and "gradio" in response.text.lower()
    assert http.get("/", follow_redirects=False).headers["location"] == "/ui/"


WATCH_BUSY = """() => {
  window.__citedBusy = [];
  new MutationObserver(() => {
    const busy = document.querySelector('#cited-chat .cited-busy');
    const button = document.querySelector('#cited-ask');
    if (busy) window.__citedBusy.push([busy.textContent.trim(), button.textContent.trim(), button.disabled]);
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def test_a_conversation_with_clickable_citations_and_a_stored_thumbs_down(
    page: Page, served_corpus: Path
) -> None:
    """The issue's end-to-end path: ask, see the cited passage, click a citation, check the
    highlighted sentence, give a thumbs-down with a comment, and find it stored."""
    expect(page.get_by_text("Example questions")).to_be_visible()
    expect(page.locator("#cited-panel")).to_contain_text("passages of the latest answer appear here")
    page.evaluate(WATCH_BUSY)

    first = ask(page, "Which platform hosted the online karaoke?")
    busy = page.evaluate("window.__citedBusy")
    assert busy and busy[0][0] == "Searching the documents…" and busy[0][1:] == ["Answering…", True]
    expect(first.locator(".cited-answer")).to_contain_text("DingTalk")
    marker = first.locator("a.cited-marker").first
    expect(marker).to_have_text("[1]")
    # Hovering shows where the quote comes from and the quote itself.
    hint = marker.get_attribute("title") or ""
    assert HR_DOC in hint and "DingTalk" in hint
    panel = page.locator("#cited-panel")
    expect(panel).to_contain_text("Passages of answer 1")
    expect(panel.locator("#cited-passage-1-1")).to_contain_text(
        "Alibaba’s winning HR strategy during the crisis"
    )

    # Thumbs-down on the answer, with a comment.
    page.locator("#cited-chat button[aria-label='Dislike']").first.click()
    expect(page.locator("#cited-rated")).to_contain_text("answer 1 marked not helpful")
    page.locator("#cited-comment textarea").fill("The karaoke was on DingTalk, but I asked who ran it.")
    page.locator("#cited-send-comment").click()
    expect(page.locator("#cited-rated")).to_contain_text("Comment saved with your rating of answer 1")

    second = ask(page, "What is the name of Alibaba's large language model?")
    expect(second).to_contain_text("Tongyi Qianwen")
    expect(panel).to_contain_text("Passages of answer 2")  # the panel follows the latest answer
    expect(panel.locator("#cited-passage-2-1")).to_contain_text(CEO_DOC)
    assert bot_messages(page).count() == 2  # the session keeps both answers
    expect(page.locator("#cited-chat [data-testid=user]").first).to_contain_text("online karaoke")
    # The first answer still shows its thumbs-down after the chat was redrawn.
    expect(page.locator("#cited-chat button[aria-label='Disliked']")).to_have_count(1)
    expect(page.locator("#cited-chat button[aria-label='Dislike']")).to_have_count(1)

    # A marker of the earlier answer opens its passage, with the quoted sentence highlighted.
    marker.click()
    expect(panel).to_contain_text("Passages of answer 1")
    opened = panel.locator("#cited-passage-1-1.cited-active")
    expect(opened).to_contain_text(HR_DOC)
    expect(opened.locator("mark")).to_contain_text("online Karaoke using DingTalk")
    assert "online Karaoke using DingTalk" not in opened.locator("mark").evaluate(
        "m => m.previousSibling ? m.previousSibling.textContent : ''"
    )  # only the quote is marked, not the text around it
    page.screenshot(path=str(ROOT / "reports" / "ui-conversation.png"))

    stored = [
        e for e in FeedbackStore(open_database(Settings(data_dir=served_corpus / "data"))).entries()
        if e.question == "Which platform hosted the online karaoke?"
    ]  # fmt: skip
    assert len(stored) == 1
    entry = stored[0]
    assert entry.rating == "down" and entry.turn == 1 and "who ran it" in entry.comment
    assert "DingTalk" in entry.answer and not entry.abstained
    assert entry.citations[0]["source"] == HR_DOC and "DingTalk" in entry.citations[0]["quote"]


def test_not_found_is_said_plainly(page: Page) -> None:
    message = ask(page, "How do I book a meeting room?")
    expect(message.locator(".cited-notfound")).to_contain_text("Not found in the documents")
    expect(page.locator("#cited-panel")).to_contain_text("the documents do not answer this question")
    assert page.locator("#cited-panel .cited-passage").count() == 0


def test_closest_passages_follow_ups_and_a_panel_that_stays_out_of_the_upload_bar(
    browser: Browser, server: LiveServer
) -> None:
    """Issue 27 on the page: an unsure answer shows its closest passages as cards with their best
    sentence highlighted; a follow-up is read with the question before it; and at 1280×1000 a long
    passage scrolls inside the panel instead of running under the "Add or replace a document" bar."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = open_page(context.new_page(), server.url)
    message = ask(page, "Which domestic competitors are putting pressure on Alibaba?")
    closest = message.locator(".cited-closest")
    expect(closest).to_contain_text("Not sure these answer your question")
    cards = closest.locator(".cited-closest-card")
    assert 1 <= cards.count() <= 3
    expect(cards.first.locator("mark")).to_contain_text("Pinduoduo")
    expect(message).not_to_contain_text("Not found in the documents")
    panel = page.locator("#cited-panel")
    expect(panel).to_contain_text("Closest passages of answer 1")
    expect(panel.locator("#cited-passage-1-1 mark")).to_contain_text("Pinduoduo")

    # Three whole passages are longer than the panel: they scroll inside it, and what shows of the
    # panel ends above the "Add or replace a document" bar.
    upload_bar = page.get_by_text("Add or replace a document")
    expect(upload_bar).to_be_visible()
    scroll = panel.evaluate("p => [p.scrollHeight, p.clientHeight, getComputedStyle(p).overflowY]")
    assert scroll[0] > scroll[1] and scroll[2] in ("auto", "scroll"), scroll
    panel_box, bar_box = panel.bounding_box(), upload_bar.bounding_box()
    assert panel_box is not None and bar_box is not None
    assert panel_box["y"] + panel_box["height"] <= bar_box["y"], (panel_box, bar_box)

    ask(page, "Who set up the emergency working group?")
    follow_up = ask(page, "And when did they set it up?")
    expect(follow_up.locator(".cited-answer")).to_contain_text("January 23rd")
    expect(follow_up.locator(".cited-searched-as")).to_contain_text("working group")
    context.close()


def test_the_document_filter_limits_the_search(page: Page) -> None:
    scope = page.locator("#cited-search-in")
    scope.locator("input").click()
    page.get_by_role("option", name=f"Alibaba’s winning HR strategy during the crisis ({HR_DOC})").click()
    page.keyboard.press("Escape")
    message = ask(page, "What is the name of Alibaba's large language model?")
    expect(message).not_to_contain_text("Tongyi Qianwen")  # it is in the other document
    expect(message.locator(".cited-searched-only")).to_contain_text(
        "Searched only: Alibaba’s winning HR strategy during the crisis"
    )
    expect(page.locator("#cited-panel")).not_to_contain_text(CEO_DOC)


def test_a_document_with_markup_is_shown_as_text_and_never_run(page: Page) -> None:
    message = ask(page, "What did the quarterly security review find in the visitor log?")
    expect(message.locator(".cited-answer")).to_contain_text("<script>window.__citedPwned = true</script>")
    panel = page.locator("#cited-panel")
    expect(panel).to_contain_text('<img src="x" onerror="window.__citedPwned = true">')
    assert panel.locator("img, script").count() == 0
    assert message.locator("img, script").count() == 0
    page.wait_for_timeout(500)  # an injected onerror handler would have fired by now
    assert page.evaluate("window.__citedPwned") is None


def test_a_blank_question_is_refused_in_words_and_not_asked(page: Page) -> None:
    page.locator("#cited-question textarea").fill("   ")
    page.locator("#cited-ask").click()
    error = page.locator("#cited-status .cited-error")
    expect(error).to_contain_text("Type a question first")
    expect(error).not_to_contain_text("Traceback")
    assert bot_messages(page).count() == 0


def test_rendering_escapes_every_document_field() -> None:
    hostile = '<b onmouseover="x()">bold</b>'
    citation = Citation(
        id=1, document_id="0" * 16, title=hostile, source=f"{hostile}.txt", text=f"Before. {hostile} after.",
        quote=hostile, start=0, end=10, page=2, score=0.5,
    )  # fmt: skip
    response = AskResponse(answer=f"{hostile} [1]", abstained=False, citations=[citation], timings_ms={})
    turn = Turn(3, f"{hostile}?", None, [hostile], response)
    html = message_html(turn) + panel_html(turn, active=1) + question_html(turn.question)
    assert "<b " not in html and "&lt;b onmouseover=" in html
    assert "<mark>&lt;b onmouseover=" in html  # the quote is highlighted, still escaped
    assert '<a class="cited-marker" href="#cited-3-1" title="&lt;b onmouseover=&quot;x()&quot;' in html
    assert "page 2" in html and 'id="cited-passage-3-1"' in html


# --- the login, with auth on ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def login_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = ingest_with_auth(tmp_path_factory.mktemp("login"))
    users = UserStore(open_database(settings))
    users.add("mei", "board-member-password", ["board"])
    users.add("tom", "staff-member-password", ["everyone"])
    users.add("ana", "editor-member-password", ["everyone"], can_upload=True)
    with LiveServer(settings) as running:
        yield running


def log_in(browser: Browser, url: str, name: str, password: str) -> Page:
    context = browser.new_context(viewport=VIEWPORT)
    opened = context.new_page()
    opened.goto(f"{url}/ui/", wait_until="networkidle")
    opened.locator("input[type=text]").first.fill(name)
    opened.locator("input[type=password]").first.fill(password)
    opened.get_by_role("button", name="Login").click()
    return opened


BOARD_QUESTION = "What did the board approve about Lumenfield Robotics?"


def scope_options(page: Page) -> list[str]:
    """The documents the filter offers, once the page has loaded them."""
    page.locator("#cited-search-in input").click()
    page.get_by_role("option").first.wait_for(timeout=30_000)
    options = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    return options


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
    assert BOARD_DOC not in " ".join(scope_options(staff))  # nor can they choose it to search
    message = ask(staff, BOARD_QUESTION)
    expect(message).not_to_contain_text("Lumenfield")
    expect(staff.locator("#cited-panel")).not_to_contain_text(BOARD_DOC)
    expect(staff.locator("#cited-panel .cited-text")).not_to_contain_text(["Lumenfield"])
    staff.context.close()

    board = log_in(browser, login_server.url, "mei", "board-member-password")
    board.locator("#cited-question textarea").wait_for(timeout=30_000)
    assert any(BOARD_DOC in option for option in scope_options(board))
    message = ask(board, BOARD_QUESTION)
    expect(message).to_contain_text("Lumenfield")
    expect(board.locator("#cited-panel")).to_contain_text(BOARD_DOC)
    board.context.close()


def test_only_users_who_may_upload_see_the_upload_box(browser: Browser, login_server: LiveServer) -> None:
    staff = log_in(browser, login_server.url, "tom", "staff-member-password")
    staff.locator("#cited-question textarea").wait_for(timeout=30_000)
    assert scope_options(staff)  # the page's load event, which also decides the upload box, has run
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
        context = browser.new_context(viewport=VIEWPORT)
        page = open_page(context.new_page(), server.url)
        page.get_by_text("Add or replace a document").click()

        def add(path: Path) -> None:
            page.locator("#cited-upload input[type=file]").set_input_files(str(path))
            # The stem: once uploaded, Gradio draws the extension in a span of its own ("board-pack .pdf").
            expect(page.locator("#cited-upload")).to_contain_text(path.stem, timeout=30_000)
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
        expect(page.locator("#cited-chat")).to_be_visible()
        assert any("uploads/logistics-note.txt" in o for o in scope_options(page))  # choosable at once
        page.keyboard.press("Escape")
        message = ask(page, "When did the Cainiao warehouse in Wuhan reopen?")
        expect(message).to_contain_text("14 March")
        expect(page.locator("#cited-panel")).to_contain_text("uploads/logistics-note.txt")
        context.close()


# --- generated answers, streamed onto the page ---------------------------------------------------

WATCH_WRITING = """() => {
  window.__citedWriting = [];
  new MutationObserver(() => {
    const busy = document.querySelector('#cited-chat .cited-busy');
    const writing = document.querySelector('#cited-chat .cited-writing');
    const shown = writing ? writing.textContent.trim() : '';
    if (busy) window.__citedWriting.push([busy.textContent.trim(), shown]);
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""
WORKING_GROUP = "On what date did Alibaba form its emergency working group?"


def generating_server(root: Path, served_corpus: Path, embedder: Embedder, **llm: object) -> LiveServer:
    shutil.copytree(served_corpus / "data", root / "data")
    settings = Settings(
        data_dir=root / "data", corpus_dir=served_corpus / "corpus", rate_limit="100000/minute", **llm
    )  # type: ignore[arg-type]
    return LiveServer(settings, embedder=embedder)


def test_the_page_shows_each_generated_sentence_once_verified_while_the_model_writes(
    browser: Browser, tmp_path: Path, served_corpus: Path, embedder: Embedder
) -> None:
    """The model here is the scripted endpoint (``tests/scripted_llm.py``): only it holds its reply
    back for exact, known times, which is what "shown before the model finished" needs. The local
    model's path through the page is the next test."""
    scripted = {"llm": "openai", "llm_model": "scripted", "llm_retries": 0}
    with (
        scripted_endpoint() as base_url,
        generating_server(tmp_path, served_corpus, embedder, llm_base_url=base_url, **scripted) as server,
    ):
        retrieved = httpx.post(
            f"{server.url}/ask", json={"question": WORKING_GROUP, "mode": "quoted", "include_retrieved": True}
        ).json()["retrieved"]
        n = next(p["rank"] for p in retrieved if "January 23rd" in p["text"])
        first = "On January 23rd, Alibaba CEO Daniel Jiang and Judy Tong set up an emergency working group"
        ScriptedChat.reply = [
            f"{first} [{n}]. ",
            f"It was set up on January 25th [{n}]. ",
            "It met",
            " every",
            " day",
            " after that",
            " in Hangzhou [1].",
        ]
        # 0.8 s a piece leaves the page 4 s to draw the first sentence before the last piece is sent,
        # enough with a second test worker busy on the other core (0.35 s was not, once in three runs).
        ScriptedChat.delay_s, ScriptedChat.sent_last_at = 0.8, 0.0
        context = browser.new_context(viewport=VIEWPORT)
        page = open_page(context.new_page(), server.url)
        page.evaluate(WATCH_WRITING)
        page.locator("#cited-question textarea").fill(WORKING_GROUP)
        page.locator("#cited-ask").click()
        writing = bot_messages(page).first.locator(".cited-writing")
        expect(writing).to_contain_text("emergency working group", timeout=30_000)
        assert ScriptedChat.sent_last_at == 0.0  # shown while the model was still writing
        expect(writing).not_to_contain_text("January 25th")  # withheld: never on the page
        message = bot_messages(page).first
        message.locator(".cited-answer").wait_for(timeout=30_000)
        assert ScriptedChat.sent_last_at > 0.0
        states = page.evaluate("window.__citedWriting")
        assert any(s[0].startswith("Writing an answer from") for s in states)
        assert any("1 generated sentence was withheld" in s[0] for s in states)  # said as it happens
        assert not any("January 25th" in s[1] or "Hangzhou" in s[1] for s in states)
        expect(message.locator(".cited-answer")).to_have_text(f"{first}. [1]")
        expect(message.locator("a.cited-marker")).to_have_count(1)  # linked once the answer is complete
        expect(message.locator(".cited-mode")).to_contain_text("Written by openai (scripted")
        expect(message.locator(".cited-mode")).to_contain_text("2 generated sentences were withheld")
        expect(page.locator("#cited-panel .cited-passage mark")).to_contain_text("January 23rd")
        context.close()


@pytest.mark.local_llm
def test_the_page_answers_with_the_local_model_and_says_which_mode_answered(
    browser: Browser, local_llm_server: LiveServer
) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    page = open_page(context.new_page(), local_llm_server.url)
    page.evaluate(WATCH_WRITING)
    message = ask(page, WORKING_GROUP)
    states = page.evaluate("window.__citedWriting")
    assert any(s[0].startswith("Writing an answer from 5 passages") for s in states), states
    mode = message.locator(".cited-mode")
    # SmolLM2-135M is usually wrong: whichever way it went, the page says it.
    expect(mode).to_contain_text(
        re.compile(r"Written by local \(SmolLM2|generated answer was withheld|language model found no")
    )
    if "Written by" in mode.inner_text():  # every shown marker links to a passage of the panel
        for marker in message.locator("a.cited-marker").all():
            number = (marker.inner_text()).strip("[]")
            expect(page.locator(f"#cited-passage-1-{number}")).to_have_count(1)
    context.close()
