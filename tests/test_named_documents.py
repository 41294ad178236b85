"""A question that names a company, a product or a document favours that document's passages, never
excludes the others, and gives way to the reader's own `documents` choice."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cited.models.embedding import Embedder
from cited.settings import Settings
from cited.store.chunk_store import open_store
from ingest.sync import Ingestor
from service.answering.answer_service import AnswerService
from service.answering.ask_schema import AskRequest
from service.answering.named_documents import NamedDocuments

LISTING = [
    ("a", "0000764478-23-000006", "NORTHWIND_2023_10K.pdf", ()),
    ("b", "NORTHWIND 2024Q2 10Q", "NORTHWIND_2024Q2_10Q.pdf", ()),
    ("c", "Form 10-K for Johnson  Johnson filed 02/16/2023", "JOHNSON_JOHNSON_2022_10K.pdf", ()),
    ("d", "Contoso Labs strategy", "contoso/strategy-2025.md", ()),
    ("e", "Annual report", "annual-report.pdf", ()),
    ("f", "People strategy", "hr/people.md", ()),
]


def test_names_come_from_titles_and_file_names_spaces_and_case_aside() -> None:
    named = NamedDocuments(LISTING)
    assert named.in_question("Did Northwind's revenue grow?") == {"a", "b"}
    assert named.in_question("What did North Wind spend on stores?") == {"a", "b"}
    assert named.in_question("Are JnJ's FY2022 financials those of a high growth company?") == {"c"}
    assert named.in_question("What did J&J report?") == {"c"}
    assert named.in_question("What is Contoso's plan?") == {"d"}


def test_years_narrow_the_named_documents_to_those_of_that_year() -> None:
    named = NamedDocuments(LISTING)
    assert named.in_question("How much cash did Northwind hold in Q2 of FY2024?") == {"b"}
    assert named.in_question("Did Northwind grow between FY22 and FY23?") == {"a"}
    # A year no named document has leaves all of them favoured.
    assert named.in_question("What did Northwind say about 2019?") == {"a", "b"}


def test_kinds_of_document_and_lowercase_words_name_nothing() -> None:
    named = NamedDocuments(LISTING)
    for question in ("What does the annual report say?", "What is the strategy?", "people strategy goals"):
        assert named.in_question(question) == frozenset(), question


def _filings(corpus: Path) -> None:
    corpus.mkdir()
    for company, capex, plan in (
        ("Northwind", "1,749", "new warehouses"),
        ("Fabrikam", "2,310", "data centres"),
    ):
        (corpus / f"{company.upper()}_2023_annual_report.txt").write_text(
            f"{company} annual report 2023\n\n"
            f"Capital expenditures were {capex} million dollars in 2023, spent mostly on {plan}.\n\n"
            "Our employees volunteered 12,000 hours in local communities.\n",
            encoding="utf-8",
        )
    (corpus / "FABRIKAM_2023_safety.txt").write_text(
        "Fabrikam safety review 2023\n\nThe board approved a new forklift training programme in May.\n",
        encoding="utf-8",
    )


def test_the_named_company_comes_first_others_still_compete_and_documents_overrides(
    tmp_path: Path, make_settings: Callable[..., Settings], embedder: Embedder
) -> None:
    corpus = tmp_path / "corpus"
    _filings(corpus)
    settings = make_settings(corpus_dir=corpus)
    assert Ingestor(settings, embedder, open_store(settings)).run(corpus).ok
    service = AnswerService.from_settings(settings, embedder)

    def first_source(question: str, **request: object) -> str:
        reply = service.ask(AskRequest(question=question, include_retrieved=True, **request))
        assert reply.retrieved
        return reply.retrieved[0].source

    for company in ("Northwind", "Fabrikam"):
        assert first_source(f"How much were {company}'s capital expenditures?").startswith(company.upper())
    # Naming Northwind does not hide the only passage about forklifts, which is Fabrikam's.
    reply = service.ask(
        AskRequest(question="When did Northwind approve forklift training?", include_retrieved=True)
    )
    assert any(p.source == "FABRIKAM_2023_safety.txt" for p in reply.retrieved or [])
    # The reader's own choice wins over the name in the question.
    fabrikam = next(d.document_id for d in service.documents() if d.source.startswith("FABRIKAM_2023_annual"))
    only = service.ask(
        AskRequest(
            question="How much were Northwind's capital expenditures?",
            documents=[fabrikam],
            include_retrieved=True,
        )
    )
    assert {p.source for p in only.retrieved or []} == {"FABRIKAM_2023_annual_report.txt"}
    # Off, the same question ranks by the words alone.
    plain = AnswerService.from_settings(
        settings.model_copy(update={"favour_named_documents": False}), embedder
    )
    assert plain.named_in("How much were Northwind's capital expenditures?", None) is None


def test_keywords_subject_and_the_opening_line_are_aliases_the_store_lists(
    tmp_path: Path, make_settings: Callable[..., Settings], embedder: Embedder
) -> None:
    import docx

    from ingest.loading import load

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    document = docx.Document()
    document.core_properties.title = "Acquisition plan"
    document.core_properties.keywords = "Heron; Lumenfield Robotics"
    document.add_paragraph("The board approved the acquisition for 2.4 billion dollars.")
    document.save(str(corpus / "board-paper.docx"))
    (corpus / "notes.txt").write_text(
        "Project Kestrel review\n\nThe review found the budget on track for the year.\n", encoding="utf-8"
    )
    assert load(corpus / "board-paper.docx", corpus).aliases == ("Heron", "Lumenfield Robotics")
    settings = make_settings(corpus_dir=corpus)
    assert Ingestor(settings, embedder, open_store(settings)).run(corpus).ok
    listed = {d.source: d.aliases for d in open_store(settings).documents()}
    assert listed["board-paper.docx"] == ("Heron", "Lumenfield Robotics")
    service = AnswerService.from_settings(settings, embedder)
    board = next(d.document_id for d in service.documents() if d.source == "board-paper.docx")
    assert service.named_in("What did the board decide about Lumenfield?", None) == {board}
