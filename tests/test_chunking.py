import re

import numpy as np
import pytest

from cited.models.embedding import Embedder
from cited.settings import Settings
from ingest.chunking import Chunker, join_pages
from ingest.cleaning import clean
from ingest.document_chunks import DocumentChunker
from ingest.loading import LoadedDocument
from ingest.piece_sizes import PieceSizes
from tests.conftest import CORPUS, HR_DOC


def test_chunks_are_exact_slices_within_the_token_budget(embedder: Embedder) -> None:
    text = clean((CORPUS / HR_DOC).read_text(encoding="utf-8")).text
    spans = Chunker(embedder.encode_plain, chunk_size=120, chunk_overlap=20).split(text)
    assert len(spans) > 3
    for span in spans:
        assert text[span.start : span.end] == span.text
        # SentenceSplitter may overshoot by a few tokens when it joins splits; never near 256.
        assert len(embedder.tokenize(span.text)) <= 120 + 16
        assert span.page is None
    assert spans[0].start == 0
    covered = {i for s in spans for i in range(s.start, s.end)}
    assert len(covered) >= 0.97 * len(text.strip())  # nothing but whitespace is lost between chunks


def test_chunks_end_at_sentence_boundaries(embedder: Embedder) -> None:
    text = " ".join(f"Sentence number {i} says something about topic {i}." for i in range(60))
    spans = Chunker(embedder.encode_plain, chunk_size=64, chunk_overlap=0).split(text)
    assert len(spans) > 3
    assert all(span.text.endswith(".") for span in spans)


def test_paged_chunks_stay_within_their_page(embedder: Embedder) -> None:
    pages = [
        " ".join(f"Page one sentence {i} about budgets." for i in range(30)),
        "",  # a blank page (a scanned figure) keeps the numbering of the pages after it
        " ".join(f"Page three sentence {i} about hiring." for i in range(30)),
    ]
    text, spans = Chunker(embedder.encode_plain, chunk_size=64, chunk_overlap=0).split_pages(pages)
    assert text == join_pages(pages)[0]
    assert len(spans) > 4
    for span in spans:
        assert text[span.start : span.end] == span.text
        topics = {word.rstrip(".") for word in span.text.split()} & {"budgets", "hiring"}
        assert topics == ({"budgets"} if span.page == 1 else {"hiring"})
    assert {span.page for span in spans} == {1, 3}


def test_piece_sizes_read_off_one_pass_equal_tokenizing_each_piece(embedder: Embedder) -> None:
    text = clean((CORPUS / HR_DOC).read_text(encoding="utf-8")).text
    text += " Ünïcödé façade, naïve café; 中文句子。 don't e.g. U.S. supercalifragilisticexpialidocious."
    sizes = PieceSizes(text, embedder.encode_plain)
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    pieces = [text]
    # Cuts between words, at punctuation, and (the splitter's last resort) inside words.
    pieces += [text[a:b] for (a, _), (_, b) in zip(words[::7], words[3::7], strict=False)]
    pieces += [text[a:b] for a, b in words[::5]]
    pieces += [text[a + 1 : b + 2] for a, b in words[::11] if b - a > 3]
    pieces += ["not in the text at all", words and text[words[0][0] : words[0][1]]]  # and a repeat
    for piece in pieces:
        assert len(sizes(piece)) == len(embedder.tokenize(piece)), piece


def test_a_word_longer_than_a_chunk_is_cut_inside_and_still_weighed_exactly(embedder: Embedder) -> None:
    # 90 characters the vocabulary has no words for: 81 tokens, more than a chunk of 32 holds, so the
    # splitter cuts it between characters and each piece must be weighed on its own.
    text = "Short opening sentence. " + "qxzjvkwpyf" * 9 + " A closing sentence."
    spans = Chunker(embedder.encode_plain, chunk_size=32, chunk_overlap=0).split(text)
    assert len(spans) >= 3
    for span in spans:
        assert text[span.start : span.end] == span.text
        assert len(embedder.tokenize(span.text)) <= 32


def _documents() -> list[LoadedDocument]:
    """The corpus, and a document of the shapes where a chunk's own tokens could differ from the
    document's: accents, CJK, contractions, abbreviations, pages, and a word longer than a chunk."""
    tricky = (
        "Ünïcödé façade, naïve café; 中文句子。 don't e.g. U.S. état—déjà-vu (née) «quoted» 3.5% "
        "supercalifragilisticexpialidocious. " * 12
    )

    def document(source: str, title: str, pages: list[str]) -> LoadedDocument:
        return LoadedDocument(source, source, title, pages, paged=len(pages) > 1)

    documents = [
        document(path.name, path.stem, [path.read_text(encoding="utf-8")])
        for path in sorted(CORPUS.glob("*.txt"))
    ]
    documents.append(document("tricky.txt", "Café Ünïcödé: 中文 title", [tricky]))
    documents.append(document("paged.pdf", "Paged, naïve", [tricky, "", "Page three. " * 40]))
    # 90 characters, 81 tokens: cut inside (a word over 100 characters would be one [UNK] token).
    documents.append(document("long-word.txt", "Long", ["Opening. " + "qxzjvkwpyf" * 9 + " Closing."]))
    return documents


@pytest.mark.slow  # seconds on 2 cores: `make test` runs it, the quick loop does not
def test_chunk_tokens_kept_from_chunking_equal_tokenizing_the_chunk(embedder: Embedder) -> None:
    # The encoder reads a chunk's tokens off the document's pass instead of tokenizing the chunk
    # again (cited/text/token_runs.py): the ids and offsets must be exactly the tokenizer's own.
    chunker = DocumentChunker(Settings(chunk_size=64, chunk_overlap=8), embedder.encode_plain)
    chunks = [c for d in _documents() for c in chunker.chunk(d, ("everyone",))]
    texts = [c.indexed_text() for c in chunks]
    runs = [c.indexed_tokens for c in chunks]
    kept, tokenized = embedder.encoder_input(texts, runs), embedder.encoder_input(texts)
    assert sum(run is not None for run in runs) > 40
    for i, text in enumerate(texts):
        assert list(kept[0][i]) == list(tokenized[0][i]), text
        assert [tuple(o) for o in kept[1][i]] == [tuple(o) for o in tokenized[1][i]], text
    # A chunk cut inside the long word has no kept tokens, and is tokenized on its own instead.
    assert any(run is None for c, run in zip(chunks, runs, strict=True) if c.source == "long-word.txt")
    vectors, spans = embedder.embed_with_spans(texts, [[(0, 5)]] * len(texts), runs)
    again, spans_again = embedder.embed_with_spans(texts, [[(0, 5)]] * len(texts))
    assert np.array_equal(vectors, again)
    assert all(np.array_equal(a, b) for a, b in zip(spans, spans_again, strict=True))
