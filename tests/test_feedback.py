"""Readers' ratings: stored in SQLite under the data directory, exported as eval cases.

The page's clicks are driven in a real browser in test_ui.py; these tests cover what the store
keeps and what `cited feedback export` writes, with real files and the real command.
"""

import json
from pathlib import Path

import pytest

from cited.database.engine import Database, database_url, open_database
from cited.settings import Settings
from evals.questions import load
from service.feedback import MAX_COMMENT_CHARS, Answered, FeedbackError, FeedbackStore
from tests.conftest import ROOT, invoke_cited

WRONG = Answered(
    question="Who ran the online karaoke?",
    answer="The HR team also initiated ... an online Karaoke using DingTalk ... [1]",
    abstained=False,
    citations=[{"id": 1, "document_id": "8df2bd05af565e9b", "source": "hr.txt", "title": "HR", "page": None,
                "start": 0, "end": 900, "quote": "an online Karaoke using DingTalk"}],
    documents=None,
)  # fmt: skip
NOT_FOUND = Answered("When does the Hangzhou office reopen?", "Not answered.", True, [], ["8df2bd05af565e9b"])


def test_one_rating_per_answer_that_can_change_be_taken_back_and_carry_a_comment(tmp_path: Path) -> None:
    store = FeedbackStore(open_database(Settings(data_dir=tmp_path / "data")))
    store.rate("session-a", 1, "up", WRONG, user="mei")
    store.rate("session-a", 1, "down", WRONG, user="mei")  # changed their mind: still one row
    store.comment("session-a", 1, "  It names the tool, not who ran it.  ")
    store.rate("session-b", 1, "down", NOT_FOUND)  # another session's first answer is another row
    store.rate("session-b", 2, "up", WRONG)
    assert store.retract("session-b", 2) and not store.retract("session-b", 2)

    # What a restarted server sees: a database opened afresh.
    reopened = FeedbackStore(Database(database_url(Settings(data_dir=tmp_path / "data"))))
    entries = reopened.entries()
    assert [(e.session, e.turn, e.rating) for e in entries] == [
        ("session-a", 1, "down"),
        ("session-b", 1, "down"),
    ]
    first = entries[0]
    assert first.comment == "It names the tool, not who ran it." and first.user == "mei"
    assert first.citations == WRONG.citations and first.documents is None and not first.abstained
    assert entries[1].abstained and entries[1].documents == ["8df2bd05af565e9b"] and entries[1].user is None
    assert reopened.entries("up") == []


def test_a_refused_comment_keeps_the_rating_and_says_why(tmp_path: Path) -> None:
    store = FeedbackStore(open_database(Settings(data_dir=tmp_path)))
    with pytest.raises(FeedbackError, match="Rate the answer with a thumb first"):
        store.comment("session-a", 1, "no rating yet")
    store.rate("session-a", 1, "down", WRONG)
    with pytest.raises(FeedbackError, match=f"keep it under {MAX_COMMENT_CHARS:,}"):
        store.comment("session-a", 1, "x" * (MAX_COMMENT_CHARS + 1))
    (entry,) = store.entries()
    assert entry.rating == "down" and entry.comment == ""


def test_export_writes_thumbs_down_as_eval_cases_that_cited_eval_can_load(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = FeedbackStore(open_database(Settings(data_dir=data)))
    store.rate("s", 1, "down", WRONG)
    store.comment("s", 1, "Wrong person.")
    store.rate("s", 2, "up", WRONG)
    store.rate("s", 3, "down", NOT_FOUND)
    out = tmp_path / "cases" / "feedback.jsonl"

    done = invoke_cited("feedback", "export", "--out", str(out), "--data-dir", str(data), cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "exported 2 thumbs-down case(s)" in done.stderr and "1 thumbs-up not exported" in done.stderr

    cases = load(out)  # the loader `cited eval --questions` uses
    assert [c.question for c in cases] == [WRONG.question, NOT_FOUND.question]
    assert all(c.kind == "feedback" and c.answerable and c.facts == [] for c in cases)
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert first["feedback"]["comment"] == "Wrong person."
    assert first["feedback"]["citations"][0]["quote"] == "an online Karaoke using DingTalk"
    assert cases[1].feedback and cases[1].feedback["abstained"] is True
    assert cases[1].feedback["searched_documents"] == ["8df2bd05af565e9b"]

    to_stdout = invoke_cited("feedback", "export", "--data-dir", str(data), cwd=ROOT)
    assert to_stdout.stdout == out.read_text(encoding="utf-8")


def test_export_with_no_feedback_yet_and_to_an_unwritable_place(tmp_path: Path) -> None:
    empty = invoke_cited("feedback", "export", "--data-dir", str(tmp_path / "data"), cwd=ROOT)
    assert empty.returncode == 0 and empty.stdout == "" and "exported 0" in empty.stderr
    assert not list((tmp_path / "data").glob("*feedback*"))  # no file of feedback is made by reading

    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    refused = invoke_cited(
        "feedback",
        "export",
        "--out",
        str(tmp_path / "a-file" / "x.jsonl"),
        "--data-dir",
        str(tmp_path),
        cwd=ROOT,
    )
    assert refused.returncode == 2 and "cannot write" in refused.stderr and "Traceback" not in refused.stderr
