import re

from cited.embedding import Embedder
from ingest.chunking import Chunker, join_pages
from ingest.cleaning import clean
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
