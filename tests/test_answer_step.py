"""The learned answer step on hand-made passages: structure tagging, headings that never answer
alone, a "how many" with no number, lists under headings; span vectors pooled at ingest and read
back instead of embedding sentences per question; the committed model and the command that fits it."""

import itertools
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest

from cited.models import span_vectors
from cited.models.embedding import Embedder
from cited.settings import Settings
from cited.store.chunk_store import open_store
from cited.store.chunks import Chunk, ScoredChunk
from cited.text.structure import passage_spans, tag_spans
from evals.relevance_training import recall_cut
from ingest.cleaning import clean
from ingest.loading import load
from ingest.sync import Ingestor
from service.answering.answer_service import AnswerService
from service.answering.ask_schema import AskRequest
from service.answering.citations import cite
from service.answering.learned_selection import LearnedSelector
from service.answering.relevance import (
    QUESTION_FEATURES,
    RelevanceModel,
    RelevanceModelError,
    shipped_relevance,
)
from service.answering.span_model import AnswerModel, AnswerModelError, shipped_model
from tests.conftest import invoke_cited, stored_chunks
from tests.documents import write_pdf

HR_DOCUMENT = """Alibaba's HR strategy during the crisis

The HR team came out with a 3C strategy to support the businesses during the outbreak.

1. Communication

The HR team worked with the communication team to start a daily video programme for all staff.

2. Connecting

Employees all over the world sent kind and positive messages to colleagues in Hubei.

3. Commitment

Jack Ma recorded a video message to inspire the HR teams to keep performing in hard times.
"""


def passage(text: str, doc: str = "d1", index: int = 0, start: int = 0, score: float = 1.0) -> ScoredChunk:
    chunk = Chunk(
        f"{doc}-p-{index:05d}",
        doc,
        "Staff handbook",
        f"{doc}.txt",
        text,
        start,
        start + len(text),
        index,
        "p",
    )
    return ScoredChunk(chunk, score)


def flat_idf(terms: Iterable[str]) -> dict[str, float]:
    return dict.fromkeys(terms, 3.0)


def selector(embedder: Embedder, chunks: list[Chunk] | None = None) -> LearnedSelector:
    by_version: dict[str, list[Chunk]] = {}
    for chunk in chunks or []:
        by_version.setdefault(chunk.version, []).append(chunk)
    return LearnedSelector(
        shipped_model, embedder.embed_cached, flat_idf, lambda: 100, 3, embedder.dimension,
        lambda version: by_version.get(version, []),
    )  # fmt: skip


def test_spans_are_tagged_as_headings_list_items_and_sentences() -> None:
    spans = tag_spans(HR_DOCUMENT)
    kinds = {s.text: s.kind for s in spans}
    assert kinds["1. Communication"] == "heading" and kinds["3. Commitment"] == "heading"
    assert kinds[
        "The HR team came out with a 3C strategy to support the businesses during the outbreak."
    ] == ("sentence")
    under = next(s for s in spans if s.text.startswith("Employees all over"))
    assert under.heading == "2. Connecting"
    assert all(HR_DOCUMENT[s.start : s.end] == s.text for s in spans)
    listed = tag_spans(
        "The group had four focus areas:\n\n– Medical care\n\n– Daily life of people\n\nAfter."
    )
    assert [s.kind for s in listed] == ["sentence", "list_item", "list_item", "sentence"]
    assert [s.text for s in listed][1:3] == ["Medical care", "Daily life of people"]
    markdown = tag_spans("# Remote work policy\n\nStaff may work from home two days a week.", markdown=True)
    assert markdown[0].kind == "heading" and markdown[0].text == "Remote work policy"
    assert markdown[1].heading == "Remote work policy"


def test_a_pdf_keeps_its_headings_and_lists_for_the_answer_step(tmp_path: Path) -> None:
    """The same structure read from a PDF's text layer (PDFium) as from the plain text."""
    listing = "The group had four focus areas:\n\n- Medical care\n\n- Daily life of people\n\nAfter."
    path = write_pdf(tmp_path / "hr.pdf", [HR_DOCUMENT + "\n\n" + listing])
    text = clean(load(path, tmp_path).pages[0]).text
    spans = tag_spans(text)
    kinds = {s.text: s.kind for s in spans}
    for heading in ("1. Communication", "2. Connecting", "3. Commitment"):
        assert kinds[heading] == "heading"
    assert kinds["Medical care"] == kinds["Daily life of people"] == "list_item"
    under = next(s for s in spans if s.text.startswith("Employees all over"))
    assert under.kind == "sentence" and under.heading == "2. Connecting"
    assert all(text[s.start : s.end] == s.text for s in spans)


def test_a_heading_never_answers_alone(embedder: Embedder) -> None:
    text = (
        "Employee wellbeing programme\n\n"
        "Each team has a budget for its own events, paid from the central fund once a quarter."
    )
    question = "What is the employee wellbeing programme?"
    selection = selector(embedder).select(question, embedder.embed_query(question), [passage(text)])
    assert selection.chosen, "the sentence under the heading is a candidate"
    assert all(c.sentence.text != "Employee wellbeing programme" for c in selection.chosen)
    assert all(c.sentence.text.startswith("Each team") for c in selection.chosen)


def test_how_many_with_no_number_in_the_passages_abstains(embedder: Embedder) -> None:
    text = (
        "Employees in Hubei received video messages from colleagues all over the world. "
        "The HR team dispatched medical supplies to every employee in Hubei during the outbreak."
    )
    question = "How many employees work in Hubei?"
    chosen = selector(embedder).select(question, embedder.embed_query(question), [passage(text)])
    assert not chosen.answered
    counted = text + " Alibaba had 1,200 employees working in Hubei at the time."
    answered = selector(embedder).select(question, embedder.embed_query(question), [passage(counted)])
    assert "1,200" in answered.chosen[0].sentence.text  # the span that gives a number is the best one


def test_a_list_under_numbered_headings_is_answered_with_the_headings(embedder: Embedder) -> None:
    # The document is cut into three passages, as a chunker would; retrieval found only the second.
    cuts = [0, HR_DOCUMENT.index("2. Connecting"), HR_DOCUMENT.index("3. Commitment"), len(HR_DOCUMENT)]
    chunks = [
        passage(HR_DOCUMENT[a:b], index=i, start=a).chunk for i, (a, b) in enumerate(itertools.pairwise(cuts))
    ]
    question = "What are the three Cs of the HR strategy?"
    selection = selector(embedder, chunks).select(
        question, embedder.embed_query(question), [ScoredChunk(chunks[1], 1.0)]
    )
    assert selection.answered
    answer = cite(selection.chosen)
    assert answer.answer == "1. Communication [1] 2. Connecting [2] 3. Commitment [3]"
    for citation in answer.citations:  # the citation contract: each quote lies in its passage
        assert citation.quote in citation.passage.chunk.text
    # A list that does not run 1 to N is not offered as the list.
    two = selector(embedder, chunks).numbered_list("What are the four Cs?", [ScoredChunk(chunks[1], 1.0)])
    assert two == []


def test_span_vectors_are_pooled_at_ingest_and_answering_reads_them(
    make_settings, corpus: Path, embedder: Embedder
) -> None:  # type: ignore[no-untyped-def]
    settings: Settings = make_settings()
    store = open_store(settings)
    assert Ingestor(settings, embedder, store).run(corpus).ok
    chunk = next(iter(store.fetch(store.version_chunks({c.version for c in _some(store)})).values()))
    stored = span_vectors.decode(chunk.span_vectors, embedder.dimension)
    assert len(stored) == len(passage_spans(chunk))
    alone = embedder.embed([s.text for s in passage_spans(chunk)])
    agree = np.nansum(stored * alone, axis=1)[~np.isnan(stored).any(axis=1)]
    assert agree.min() > 0.3  # the same sentences, read in context: close, not identical
    service = AnswerService.from_settings(settings, embedder)
    embedder.forget()
    response = service.ask(AskRequest(question="Which platform hosted the online karaoke?"))
    assert not response.abstained and "DingTalk" in response.answer
    assert len(embedder._cache) == 0  # no sentence was embedded at question time


def _some(store) -> list[Chunk]:  # type: ignore[no-untyped-def]
    return stored_chunks(store)[:1]


def test_the_committed_model_loads_and_a_stale_one_is_refused(tmp_path: Path) -> None:
    model = shipped_model()
    assert 0 < model.threshold < 1 and len(model.coefficients) == len(model.features)
    assert model.about["fitted_by"] == "cited train answers"
    stale = AnswerModel(("dense",), (0.0,), (1.0,), (1.0,), 0.0, 0.5, 0.5)
    stale.save(tmp_path / "model.json")
    with pytest.raises(AnswerModelError, match="cited train answers"):
        AnswerModel.load(tmp_path / "model.json")


def test_training_refuses_the_golden_set() -> None:
    run = invoke_cited("train", "answers", "--questions", "evals/data/golden.jsonl")
    assert run.returncode == 2 and "the golden set only reports" in run.stderr


def test_the_committed_relevance_model_loads_and_a_stale_one_is_refused(tmp_path: Path) -> None:
    model = shipped_relevance()
    assert model.features == QUESTION_FEATURES and 0 < model.threshold < 1
    assert model.about["fitted_by"] == "cited train answers"
    # Fitted for recall: out of fold, (nearly) every answerable question was shown its closest passages.
    assert model.about["out_of_fold_dev"]["answerable_kept"] >= model.about["min_recall"]
    stale = RelevanceModel(("dense",), (0.0,), (1.0,), (1.0,), 0.0, 0.5)
    stale.save(tmp_path / "relevance.json")
    with pytest.raises(RelevanceModelError, match="cited train answers"):
        RelevanceModel.load(tmp_path / "relevance.json")


def test_the_relevance_cut_keeps_the_asked_share_of_answerable_questions_of_each_source() -> None:
    probabilities = np.array([0.9, 0.8, 0.7, 0.6, 0.1, 0.5, 0.4, 0.3, 0.2, 0.05])
    labels = np.array([1, 1, 1, 1, 0, 1, 1, 1, 1, 0])
    sources = np.array(["dev"] * 5 + ["squad"] * 5)
    # Every answerable question of each source at or above the cut: the lower source's lowest.
    assert recall_cut(probabilities, labels, sources) == 0.2
    assert recall_cut(probabilities[:5], labels[:5], sources[:5]) == 0.6


def test_an_unsure_step_offers_its_closest_passages_one_per_passage_best_first(embedder: Embedder) -> None:
    passages = [
        passage("Alibaba's rivals at home include Pinduoduo. The weather was mild that week.", "d1", 0),
        passage("Tea is grown in the hills around the city. The harvest starts in April.", "d2", 1),
    ]
    question = "Who competes with Alibaba in China?"
    selection = selector(embedder).select(question, embedder.embed_query(question), passages)
    assert not selection.answered  # a paraphrase the step is unsure of
    ids = [c.passage.chunk.id for c in selection.closest]
    assert len(ids) == len(set(ids)) == 2 and ids[0] == passages[0].chunk.id
    assert "Pinduoduo" in selection.closest[0].sentence.text
    scores = [c.score for c in selection.closest]
    assert scores == sorted(scores, reverse=True)


def test_an_unsure_step_looks_further_down_the_retrieval_for_its_third_closest_passage(
    embedder: Embedder,
) -> None:
    first = [
        passage("Tea is grown in the hills around the city. The harvest starts in April.", "d1", 0),
        passage("The weather was mild that week. Nobody went out in the rain.", "d2", 1),
    ]
    further = passage("Alibaba's rivals at home include Pinduoduo and ByteDance, the article says.", "d3", 2)
    question = "Who competes with Alibaba in China?"
    vector = embedder.embed_query(question)
    alone = selector(embedder).select(question, vector, first)
    wider = selector(embedder).select(question, vector, first, [*first, further])
    assert not alone.answered and not wider.answered
    assert {c.passage.chunk.id for c in alone.closest} == {p.chunk.id for p in first}
    # The two best of the passages the answer was judged on, then the best one beyond them.
    assert [c.passage.chunk.id for c in wider.closest[:2]] == [c.passage.chunk.id for c in alone.closest]
    assert (
        wider.closest[2].passage.chunk.id == further.chunk.id
        and "Pinduoduo" in wider.closest[2].sentence.text
    )
