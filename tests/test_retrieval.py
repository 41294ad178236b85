"""Hybrid retrieval over the real store: BM25 and Chroma agree, modes switch, e5 reads Chinese."""

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from cited.models import span_vectors
from cited.models.embedding import Embedder, MultilingualEmbedder, make_embedder
from cited.settings import Settings
from cited.store.chunk_store import ChunkStore, open_store
from cited.store.chunks import document_of
from cited.store.lexical import LexicalIndex, open_lexical, sync_lexical
from cited.store.lexical_freshness import LexicalFreshness
from evals.benchmarks.document_ranking import best_documents
from ingest.sync import Ingestor
from service.answering.answer_service import AnswerService
from service.answering.retrieval import Retriever
from tests.conftest import CORPUS, HR_DOC


def bm25_ids(index: LexicalIndex) -> set[str]:
    return set(index._ids)


def store_ids(store: ChunkStore) -> set[str]:
    return {chunk_id for chunk_id, _ in store.inventory()}


def retriever(settings: Settings, embedder: Embedder, **overrides: object) -> Retriever:
    settings = settings.model_copy(update=overrides)
    store = open_store(settings)
    lexical = LexicalFreshness(settings, store)
    lexical.catch_up()
    multilingual = MultilingualEmbedder() if settings.multilingual else None
    return Retriever(settings, embedder, store, lexical, multilingual)


def test_bm25_and_chroma_hold_the_same_chunks_through_change_and_removal(
    ingestor: Ingestor, corpus: Path
) -> None:
    ingestor.run(corpus)
    assert bm25_ids(ingestor.lexical.index) == store_ids(ingestor.store) != set()

    (corpus / HR_DOC).write_text("HR memo\n\nThe zebrafish committee meets on Fridays.\n", encoding="utf-8")
    (corpus / "extra.md").write_text("# Extra\n\nThe okapi programme starts in May.\n", encoding="utf-8")
    ingestor.run(corpus)
    assert bm25_ids(ingestor.lexical.index) == store_ids(ingestor.store)
    assert [
        h.chunk_id for h in ingestor.lexical.index.search("DingTalk karaoke", 5)
    ] == []  # old version gone
    hit = ingestor.lexical.index.search("zebrafish committee", 5)[0].chunk_id
    assert ingestor.store.fetch([hit])[hit].source == HR_DOC

    (corpus / "extra.md").unlink()
    ingestor.run(corpus)
    assert bm25_ids(ingestor.lexical.index) == store_ids(ingestor.store)
    assert ingestor.lexical.index.search("okapi programme", 5) == []


def test_a_missing_bm25_index_is_rebuilt_from_the_store(
    make_settings: Callable[..., Settings], embedder: Embedder, corpus: Path
) -> None:
    settings = make_settings()
    Ingestor(settings, embedder, open_store(settings)).run(corpus)
    shutil.rmtree(settings.lexical_dir)
    service = AnswerService.from_settings(settings)
    assert bm25_ids(service.retriever.lexical.index) == store_ids(service.store) != set()
    # A second start finds it current and does not rebuild.
    assert sync_lexical(service.store, open_lexical(settings)) is False


def test_modes_switch_the_retriever(make_settings: Callable[..., Settings], embedder: Embedder,
                                    corpus: Path) -> None:  # fmt: skip
    settings = make_settings()
    Ingestor(settings, embedder, open_store(settings)).run(corpus)
    question = "Who are the Aliren?"  # a rare coined word: MiniLM's vector for it is weak
    found = {}
    for mode in ("hybrid", "dense", "bm25"):
        result = retriever(settings, embedder, retrieval=mode).retrieve(question, 3)
        found[mode] = [p.chunk.text for p in result.passages]
        assert (result.query_vector is None) == (mode == "bm25")
    assert "Aliren" in found["bm25"][0]
    assert "Aliren" in found["hybrid"][0]  # BM25's exact match carries into the fused ranking
    assert not any("Aliren" in text for text in found["dense"])  # MiniLM alone misses it


def test_best_documents_returns_one_passage_per_document(
    make_settings: Callable[..., Settings], embedder: Embedder, corpus: Path
) -> None:
    settings = make_settings()
    Ingestor(settings, embedder, open_store(settings)).run(corpus)
    result = best_documents(retriever(settings, embedder), "Alibaba strategy during the crisis", 5)
    documents = [document_of(p.chunk.id) for p in result.passages]
    assert len(documents) == len(set(documents)) == 2


CHINESE = {
    "zh-karaoke.txt": "线上活动\n\n疫情期间，阿里巴巴人力资源团队通过钉钉"
    "为员工举办了线上卡拉OK，高管也上台演唱。",
    "zh-cloud.txt": "云计算\n\n阿里云为中小企业提供数据库、存储和人工智能服务，帮助它们降低成本。",
    "zh-logistics.txt": "物流\n\n菜鸟网络在双十一期间每天处理数亿个包裹，并在全球建设智能仓库。",
    "zh-health.txt": "健康码\n\n员工上班时需要出示绿色健康码，"
    "市民也可以通过支付宝申领健康码进入餐厅和办公楼。",
}
# Questions that share no word with their passage's wording, and the passage that answers each.
CHINESE_QUESTIONS = {
    "公司用什么平台组织了线上唱歌活动？": "zh-karaoke.txt",
    "哪个部门为小企业提供数据库服务？": "zh-cloud.txt",
    "双十一的包裹是谁处理的？": "zh-logistics.txt",
    "进入餐厅需要出示什么？": "zh-health.txt",
}


@pytest.fixture
def chinese_corpus(corpus: Path) -> Path:
    for name, text in CHINESE.items():
        (corpus / name).write_text(text, encoding="utf-8")
    return corpus


@pytest.mark.slow  # ingests with the e5 model as well: about 4 s each on 2 cores
def test_a_chinese_question_finds_the_chinese_passage_with_multilingual_on(
    make_settings: Callable[..., Settings], embedder: Embedder, chinese_corpus: Path
) -> None:
    settings = make_settings(multilingual=True)
    report = Ingestor(settings, embedder, open_store(settings)).run(chinese_corpus)
    assert report.ok and open_store(settings).multilingual_count() == open_store(settings).count()

    with_e5 = retriever(settings, embedder)
    assert with_e5.uses_multilingual
    for question, source in CHINESE_QUESTIONS.items():
        assert with_e5.retrieve(question, 3).passages[0].chunk.source == source, question
    # Without e5, MiniLM (whose vocabulary has CJK characters but no training on Chinese) sends the
    # karaoke question to the health-code passage; BM25 cannot split unspaced Chinese at all.
    karaoke = next(iter(CHINESE_QUESTIONS))
    without = retriever(settings.model_copy(update={"multilingual": False}), embedder)
    assert without.retrieve(karaoke, 3).passages[0].chunk.source != "zh-karaoke.txt"


@pytest.mark.slow  # ingests with the e5 model as well: about 4 s each on 2 cores
def test_turning_multilingual_on_reindexes_and_the_service_only_uses_complete_e5_vectors(
    make_settings: Callable[..., Settings], embedder: Embedder, corpus: Path
) -> None:
    plain = make_settings()
    Ingestor(plain, embedder, open_store(plain)).run(corpus)
    assert open_store(plain).multilingual_count() == 0

    multilingual = make_settings(multilingual=True)
    assert AnswerService.from_settings(multilingual).retriever.multilingual is None  # incomplete: not used
    report = Ingestor(multilingual, embedder, open_store(multilingual)).run(corpus)
    assert len(report.reindexed) == 2
    store = open_store(multilingual)
    assert store.multilingual_count() == store.count()
    assert AnswerService.from_settings(multilingual).retriever.multilingual is not None


@pytest.mark.slow  # imports sentence-transformers, which nothing else in the suite does
def test_the_embedder_gives_sentence_transformers_vectors(embedder: Embedder) -> None:
    """Cited runs MiniLM through transformers directly (faster to start); stores ingested through
    sentence-transformers must keep matching, so the fp32 vectors must be the same, and the bf16
    ones (the default where the CPU has bf16) within rounding of them."""
    from sentence_transformers import SentenceTransformer

    from cited.models.embedding import model_path

    texts = [(CORPUS / HR_DOC).read_text(encoding="utf-8")[:2000], "Who led it?", "word " * 400]
    reference = SentenceTransformer(model_path(), device="cpu")
    expected = reference.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    assert (embedder.embed(texts) * expected).sum(axis=1).min() > 0.9999  # the session's, at its precision
    embedder = make_embedder("minilm", 32, "fp32")
    assert np.abs(embedder.embed(texts) - expected).max() < 1e-5
    outputs = reference.encode(texts[:1], output_value=None, convert_to_numpy=True)
    # The same pass's token vectors, pooled over a span, as stored with each chunk.
    span = [(0, 40)]
    offsets = embedder.tokenizer(texts[:1], truncation=True, max_length=256, return_offsets_mapping=True)
    expected_span = span_vectors.pool(
        outputs[0]["token_embeddings"].float().numpy(), np.asarray(offsets["offset_mapping"][0]), span
    )
    assert np.abs(embedder.embed_with_spans(texts[:1], [span])[1][0] - expected_span).max() < 1e-5
