"""What a page reader is told in each state the service can be in, decided without a browser (the
page only draws these turns; test_ui.py drives it in Chromium)."""

import logging
import shutil
from pathlib import Path

import pytest

from cited.models.embedding import Embedder
from cited.settings import Settings
from cited.store.chunk_store import open_store
from evals.local_services import running_chroma
from ingest.sync import Ingestor
from service.asking import Asking
from service.callers import local_caller
from service.components import build_components
from tests.conftest import CORPUS
from ui import conversation
from ui.render import message_html, panel_html


def test_questions_the_page_refuses_to_send_are_explained() -> None:
    assert conversation.question_problem("When was the group set up?") is None
    assert "Type a question first" in (conversation.question_problem(" \n\t ") or "")
    assert "under 2,000 characters" in (conversation.question_problem("why? " * 401) or "")


@pytest.mark.processes
def test_a_store_that_goes_down_gives_a_readable_answer_and_a_logged_trace(
    tmp_path: Path, embedder: Embedder, caplog: pytest.LogCaptureFixture
) -> None:
    """A real failure: the Chroma server behind the service is killed between two questions."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    with running_chroma(tmp_path / "chroma") as (chroma, process):
        settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus, **chroma.settings())
        Ingestor(settings, embedder, open_store(settings)).run(corpus)
        asking = build_components(settings, embedder).asking
        working = conversation.answer(asking, 1, "Which platform hosted the online karaoke?", None, LOCAL)
        assert working.response is not None and "DingTalk" in working.response.answer

        process.kill()
        process.wait(timeout=30)
        with caplog.at_level(logging.ERROR, logger="cited.ui"):
            failed = conversation.answer(asking, 2, "Which platform hosted the online karaoke?", None, LOCAL)
    assert failed.response is None and failed.error == conversation.FAILED
    shown = message_html(failed) + panel_html(failed)
    assert "cited-error" in shown and "try again" in shown and "Traceback" not in shown
    assert "could not be answered" in panel_html(failed)
    assert any(r.exc_info for r in caplog.records)  # the trace goes to the log, not the reader


def test_documents_gone_since_the_list_was_loaded_are_named_as_such(server_asking: Asking) -> None:
    gone = conversation.answer(server_asking, 1, "Who is Judy Tong?", ["0123456789abcdef"], LOCAL)
    assert gone.response is None and gone.stale_documents
    assert "no longer indexed" in (gone.error or "")

    (hr,) = [d for d in server_asking.documents(LOCAL) if "HR" in d.title]
    scoped = conversation.answer(server_asking, 2, "Who is Judy Tong?", [hr.document_id], LOCAL)
    assert scoped.response is not None and scoped.searched == [hr.title]
    assert "Searched only: " + hr.title in message_html(scoped)


def test_a_reader_over_the_rate_limit_is_told_when_to_ask_again(
    served_corpus: Path, embedder: Embedder
) -> None:
    """The page asks through the same call as POST /ask, so the same limit applies to it."""
    settings = Settings(
        data_dir=served_corpus / "data", corpus_dir=served_corpus / "corpus", rate_limit="2/minute"
    )
    asking = build_components(settings, embedder).asking
    reader = local_caller("10.0.0.7")
    first, second, third = (
        conversation.answer(asking, n, "Who is Judy Tong?", None, reader) for n in (1, 2, 3)
    )
    assert first.response is not None and second.response is not None
    assert third.response is None and "too many questions" in (third.error or "")
    assert "2/minute" in (third.error or "") and "wait" in (third.error or "")
    # Another reader is counted apart.
    other = conversation.answer(asking, 1, "Who is Judy Tong?", None, local_caller("10.0.0.8"))
    assert other.response is not None


LOCAL = local_caller("127.0.0.1")


@pytest.fixture
def server_asking(served_corpus: Path, embedder: Embedder) -> Asking:
    """An in-process service over the store the HTTP tests serve (read only)."""
    settings = Settings(data_dir=served_corpus / "data", corpus_dir=served_corpus / "corpus")
    return build_components(settings, embedder).asking


def test_the_page_says_which_mode_answered() -> None:
    from service.answering.ask_schema import AskResponse
    from ui.render import answer_html

    citation = {
        "id": 1, "document_id": "2286e7fb75b62118", "title": "HR", "source": "hr.txt",
        "text": "On January 23rd a group was set up.", "quote": "On January 23rd a group was set up.",
        "start": 0, "end": 35, "score": 1.0,
    }  # fmt: skip
    generated = AskResponse(
        answer="A group was set up on January 23rd. [1]", abstained=False, citations=[citation],
        timings_ms={}, mode="generated", model="local (SmolLM2-135M-Instruct.Q4_1)",
    )  # fmt: skip
    html = answer_html(1, generated)
    assert "Written by local (SmolLM2-135M-Instruct.Q4_1); each sentence was checked" in html
    assert 'href="#cited-1-1"' in html  # the marker still links to its passage
    withheld = generated.model_copy(
        update={"mode": "quoted", "model": None, "notice": "The generated answer was withheld: <b>x</b>."}
    )
    assert "The generated answer was withheld: &lt;b&gt;x&lt;/b&gt;." in answer_html(2, withheld)
    plain = generated.model_copy(update={"mode": "quoted", "model": None})
    assert "cited-mode" not in answer_html(3, plain)


def test_the_page_sends_its_conversation_and_a_closest_reply_names_no_one() -> None:
    from service.answering.ask_schema import AskResponse

    answered = AskResponse(
        answer="Judy Tong set up the group. [1]", abstained=False, citations=[], timings_ms={}
    )
    closest = AskResponse(
        answer="The documents may not answer this directly; the closest passage is [1].",
        abstained=True, outcome="closest", citations=[], timings_ms={},
    )  # fmt: skip
    talk = conversation.Conversation(
        [
            conversation.Turn(n, f"question {n}?", None, response=answered if n % 2 else closest)
            for n in range(1, 13)
        ]
    )
    history = talk.history()
    assert [t.question for t in history] == [f"question {n}?" for n in range(3, 13)]  # the last 10
    assert history[0].answer == "Judy Tong set up the group. [1]"  # turn 3: answered
    assert history[1].answer is None  # turn 4: closest passages are not an answer


def test_a_closest_reply_is_drawn_as_cards_and_escaped() -> None:
    from service.answering.ask_schema import AskResponse, Citation
    from ui.render import CLOSEST_HEADING, answer_html

    hostile = '<img src=x onerror="x()">'
    citation = Citation(
        id=1, document_id="0" * 16, title=hostile, source="hr.txt", text=f"Before. {hostile} rivals. After.",
        quote=f"{hostile} rivals.", start=0, end=10, score=0.5,
    )  # fmt: skip
    response = AskResponse(
        answer="The documents may not answer this directly; the closest passage is [1].",
        abstained=True, outcome="closest", citations=[citation], timings_ms={},
    )  # fmt: skip
    html = answer_html(4, response)
    assert CLOSEST_HEADING in html and html.count('class="cited-closest-card"') == 1
    assert "<img" not in html and "<mark>&lt;img src=x" in html
    assert 'href="#cited-4-1"' in html and "Not found in the documents" not in html
