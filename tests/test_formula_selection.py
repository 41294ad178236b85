from cited.models.embedding import Embedder
from cited.store.chunks import Chunk, ScoredChunk
from cited.text.sentences import split_sentences
from service.answering.citations import as_running_text, cite
from service.answering.formula_selection import FormulaSelector, content_terms, coverage
from service.answering.selection import extend_list


def passage(text: str, doc: str = "d1", start: int = 0, score: float = 0.5, title: str = "T") -> ScoredChunk:
    chunk = Chunk(f"{doc}-{start}", doc, title, f"{doc}.txt", text, start, start + len(text), 0, "p")
    return ScoredChunk(chunk, score)


def test_terms_are_stemmed_without_stop_words_and_numbers_unified() -> None:
    assert content_terms("What were the four focus areas?") == {"4", "focus", "area"}
    assert content_terms("Alibaba’s 4 focused area") == {"alibaba", "4", "focus", "area"}


def test_coverage_counts_title_words_as_context() -> None:
    question = content_terms("What is Alibaba's language model called?")
    sentence = "The company built the Tongyi Qianwen large language model."
    assert coverage(question, sentence) < coverage(question, sentence, content_terms("Alibaba strategy"))


def test_sentence_spans_are_exact_and_skip_bullets() -> None:
    text = "Heading\nFirst sentence here. Second one follows.\n\n– A list item\n"
    spans = split_sentences(text)
    assert [s.text for s in spans] == [
        "Heading",
        "First sentence here.",
        "Second one follows.",
        "A list item",
    ]
    assert all(text[s.start : s.end] == s.text for s in spans)


def test_a_list_is_quoted_with_its_items_and_stops_at_the_list_end() -> None:
    text = (
        "Intro line.\nThe group had 3 focus areas:\n\n– Medical care\n\n– Daily life\n\n"
        "After the list, prose."
    )
    lead = next(s for s in split_sentences(text) if s.text.endswith(":"))
    extended = extend_list(text, lead)
    assert extended.text == "The group had 3 focus areas:\n\n– Medical care\n\n– Daily life"
    assert as_running_text(extended.text) == "The group had 3 focus areas: Medical care; Daily life"


def test_selection_prefers_the_answering_sentence_and_drops_repeats(embedder: Embedder) -> None:
    text = (
        "The karaoke was held on DingTalk, a collaboration platform. "
        "The karaoke was held on DingTalk, a collaboration platform. "
        "Lunch was served at noon in the canteen."
    )
    question = "Which platform hosted the karaoke?"
    selector = FormulaSelector(embedder.embed_cached, max_sentences=3, threshold=0.563)
    selection = selector.select(question, embedder.embed_query(question), [passage(text)])
    assert "DingTalk" in selection.chosen[0].sentence.text
    assert sum("DingTalk" in c.sentence.text for c in selection.chosen) == 1  # the copy is dropped
    assert all("Lunch" not in c.sentence.text for c in selection.chosen)
    assert selection.best_score == max(c.score for c in selector.candidates(
        question, embedder.embed_query(question), [passage(text)]))  # fmt: skip


def test_citations_number_passages_in_answer_order_and_quote_what_is_used(embedder: Embedder) -> None:
    first = passage(
        "Alpha leads the cloud unit of the group. Beta runs the logistics arm of the group.",
        doc="d1",
        start=100,
    )
    second = passage("Gamma leads the retail unit of the group.", doc="d2")
    question = "Who leads the cloud unit and who leads the retail unit?"
    selector = FormulaSelector(embedder.embed_cached, max_sentences=3, threshold=0.563)
    chosen = selector.select(question, embedder.embed_query(question), [first, second]).chosen
    answer = cite(chosen)
    assert [c.id for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    for citation in answer.citations:
        assert citation.quote in citation.passage.chunk.text
        assert f"[{citation.id}]" in answer.answer
    # Both passages answer part of the question: each is cited once, in the answer's order, and
    # only the sentence used is quoted (not the one about Beta).
    assert [c.passage.chunk.document_id for c in answer.citations] == ["d1", "d2"]
    assert [c.quote for c in answer.citations] == [
        "Alpha leads the cloud unit of the group.",
        "Gamma leads the retail unit of the group.",
    ]
    assert answer.answer.index("[1]") < answer.answer.index("Gamma") < answer.answer.index("[2]")
    assert "Beta" not in answer.answer
