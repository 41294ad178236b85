"""When a document is from: read from its opening lines, its properties or its file, stored with its
chunks, shown with its citations, and said in an answer that quotes documents of different dates."""

import datetime as dt
import os
from pathlib import Path

import pytest

from cited.models.embedding import Embedder
from cited.settings import Settings
from cited.store.chunk_store import open_store
from ingest.dating import date_in_text, document_date, pdf_date
from ingest.loading import load
from ingest.sync import Ingestor
from service.answering.answer_service import AnswerService
from service.answering.ask_schema import AskRequest
from tests.documents import write_docx, write_pdf


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("Board paper\nPublished 12 March 2020\n\nThe board met.", "2020-03-12"),
        ("Memo, January 23rd, 2020: the group was set up.", "2020-01-23"),
        ("Annual letter (2023-05-04)\nDear shareholders", "2023-05-04"),
        ("Strategy update, Sept 2024\nWe grew.", "2024-09"),
        ("No date here, only 2023 as a number.", None),
        ("Dated February 30th, 2023 by mistake.", None),
    ],
)
def test_a_date_is_read_from_the_opening_lines(text: str, date: str | None) -> None:
    assert date_in_text(text) == date


def test_only_the_opening_lines_are_read_and_the_text_beats_properties_and_file() -> None:
    assert date_in_text("x" * 700 + " 12 March 2020") is None  # a date deep in the body is not its date
    assert document_date("Published 12 March 2020", "2019-01-01", 0.0) == ("2020-03-12", "text")
    assert document_date("No date", "2019-01-01", 0.0) == ("2019-01-01", "properties")
    assert document_date("No date", None, 86400.0 * 365) == ("1971-01-01", "file")
    assert pdf_date("D:20200123104500+08'00'") == "2020-01-23" and pdf_date("garbage") is None


def test_pdf_and_docx_properties_and_the_file_date_are_read_at_load(tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "paper.pdf", ["The board approved the plan."], created=dt.datetime(2021, 6, 9))
    docx = write_docx(tmp_path / "note.docx", "Note", ["The plan was approved."])
    text = tmp_path / "plain.txt"
    text.write_text("The plan was approved by the board.\n", encoding="utf-8")
    os.utime(text, (1_600_000_000, 1_600_000_000))  # 2020-09-13
    assert (load(pdf, tmp_path).document_date, load(pdf, tmp_path).date_source) == (
        "2021-06-09",
        "properties",
    )
    assert load(docx, tmp_path).date_source == "properties"  # python-docx records when it made it
    assert (load(text, tmp_path).document_date, load(text, tmp_path).date_source) == ("2020-09-13", "file")


def test_an_answer_across_documents_of_different_dates_says_each_date(
    tmp_path: Path, embedder: Embedder
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "review-2020.txt").write_text(
        "Harbour Freight crisis review\nPublished 12 March 2020\n\n"
        "During the crisis, Harbour Freight was led by chief executive Mara Olsen, who set up an "
        "emergency board to keep the ports open.\n",
        encoding="utf-8",
    )
    (corpus / "letter-2023.txt").write_text(
        "Harbour Freight annual letter\nPublished 4 May 2023\n\n"
        "Since 2023, Harbour Freight has been led by chief executive Tomas Berg, who took over the "
        "company from Mara Olsen.\n",
        encoding="utf-8",
    )
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus)
    Ingestor(settings, embedder, open_store(settings)).run(corpus)
    service = AnswerService.from_settings(settings, embedder)
    response = service.ask(
        AskRequest(question="Who led Harbour Freight during the crisis, and who has led it since 2023?")
    )
    dates = {c.source: (c.document_date, c.date_source) for c in response.citations}
    assert dates["review-2020.txt"] == ("2020-03-12", "text")
    assert dates["letter-2023.txt"] == ("2023-05-04", "text")
    assert response.outcome == "answered"
    assert "Mara Olsen" in response.answer and "Tomas Berg" in response.answer
    assert "(dated 2020-03-12)" in response.answer and "(dated 2023-05-04)" in response.answer
