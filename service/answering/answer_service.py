"""The answer service: question in, extractive answer with citations out.

Both the HTTP router and the Gradio page reach :meth:`AnswerService.ask` through
``service/asking.py``, so the page shows exactly what the API returns, under the same limits.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator
from dataclasses import replace

import numpy as np

from cited.errors import InvalidInputError, NotReadyError
from cited.models.embedding import Embedder, MultilingualEmbedder, configured_embedder
from cited.models.language_model import ChatModel, make_chat_model
from cited.settings import Settings
from cited.store.chunk_store import ChunkStore, open_store
from cited.store.chunks import Chunk
from cited.store.lexical_freshness import LexicalFreshness
from cited.text.support import SupportParams
from service.answering.ask_schema import (
    AnswerSentence,
    AskRequest,
    AskResponse,
    Citation,
    DocumentInfo,
    EarlierTurn,
    Outcome,
    Passage,
    RetrievedPassage,
    WithheldSentence,
)
from service.answering.citations import CitedAnswer, CitedPassage, cite, cite_parts
from service.answering.follow_up import (
    faithful_rewrite,
    leans_on_history,
    rewrite_prompt,
    searched_question,
)
from service.answering.formula_selection import FormulaSelector
from service.answering.learned_selection import CLOSEST_POOL, LearnedSelector
from service.answering.named_documents import NamedDocuments
from service.answering.question_parts import question_parts
from service.answering.relevance import shipped_relevance
from service.answering.retrieval import Retrieval, Retriever
from service.answering.selection import Selection
from service.answering.span_model import shipped_model
from service.answering.verification import Verifier
from service.answering.verified_generation import VerifiedAnswer, generate

log = logging.getLogger("cited")

NOT_ANSWERED = "The documents do not answer this question."
REWRITE_MAX_TOKENS = 60
NO_LANGUAGE_MODEL = (
    "A generated answer was asked for, but this server has no language model (CITED_LLM=none); "
    "the answer is quoted from the passages. Start Cited with CITED_LLM=local or CITED_LLM=openai."
)

NOT_ASKED = (
    "No retrieved passage is about this question, so the language model was not asked "
    "(CITED_LLM_ABSTAIN=step: generated answers abstain as quoted ones do)."
)


def closest_answer(count: int) -> str:
    """The one sentence a ``closest`` reply says: it names the passages and quotes nothing."""
    markers = [f"[{n}]" for n in range(1, count + 1)]
    if count == 1:
        return f"The documents may not answer this directly; the closest passage is {markers[0]}."
    listed = ", ".join(markers[:-1]) + f" and {markers[-1]}"
    return f"The documents may not answer this directly; the closest passages are {listed}."


class UnknownDocumentsError(InvalidInputError):
    """The reader asked to search documents that are not indexed, or not theirs to read."""

    def __init__(self, unknown: list[str]) -> None:
        problem = (
            f"unknown document id{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}: use ids that "
            "GET /documents lists (a document deleted or replaced since has a new id, or none)"
        )
        super().__init__(
            "unknown_documents",
            f"documents: {problem}",
            fields=[{"field": "documents", "problem": problem}],
        )
        self.unknown = unknown


# What ``AnswerService.answer_events`` yields: the retrieved passages first, then each verified
# generated sentence (shown or withheld), then the response.
AnswerEvent = list[RetrievedPassage] | AnswerSentence | WithheldSentence | AskResponse


class EmptyIndexError(NotReadyError):
    """No document is indexed yet."""

    def __init__(self) -> None:
        super().__init__(
            "index_empty", "The index is empty: run `cited ingest` (or `make run`) to index the corpus first."
        )


class AnswerService:
    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        store: ChunkStore,
        retriever: Retriever,
        chat_model: ChatModel | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.retriever = retriever
        self.chat_model = chat_model  # None: quoted answers only (CITED_LLM=none)
        self.verifier = Verifier(
            embedder.embed_cached, SupportParams(settings.verify_weight, settings.verify_threshold)
        )
        self.formula = FormulaSelector(
            embedder.embed_cached, settings.max_answer_sentences, settings.abstain_threshold
        )
        self._learned: LearnedSelector | None = None
        self._named: tuple[tuple[int, frozenset[str] | None], NamedDocuments] | None = None
        if settings.answer_step == "learned":
            shipped_model()  # a missing or stale model file stops the start, not a question
            shipped_relevance()

    @property
    def learned(self) -> LearnedSelector:
        if self._learned is None:
            lexical = self.retriever.lexical
            self._learned = LearnedSelector(
                shipped_model,
                self.embedder.embed_cached,
                lambda terms: lexical.index.idf(terms),
                lambda: len(lexical.index),
                self.settings.max_answer_sentences,
                self.embedder.dimension,
                self.version_chunks,
                shipped_relevance,
            )
        return self._learned

    @classmethod
    def from_settings(
        cls, settings: Settings, embedder: Embedder | None = None, chat_model: ChatModel | None = None
    ) -> AnswerService:
        """The service over the store the settings name; ``embedder`` may be one already loaded
        (it must be the build ``settings.embedder`` names); ``chat_model`` defaults to the backend
        ``CITED_LLM`` names."""
        embedder = embedder or configured_embedder(settings)
        store = open_store(settings)
        lexical = LexicalFreshness(settings, store)
        if lexical.catch_up():
            log.info("rebuilt the BM25 index from the store (%d chunks)", len(lexical.index))
        multilingual = None
        if settings.multilingual:
            if store.multilingual_count() >= store.count():
                multilingual = MultilingualEmbedder()
            else:
                log.warning(
                    "multilingual retrieval is on but %d of %d chunks have no e5 vector: run "
                    "`cited ingest` to add them; searching without e5 until then",
                    store.count() - store.multilingual_count(),
                    store.count(),
                )
        retriever = Retriever(settings, embedder, store, lexical, multilingual)
        return cls(settings, embedder, store, retriever, chat_model or make_chat_model(settings))

    def warm_up(self) -> None:
        """Load the models and run them once, before the first request instead of in it."""
        self.embedder.embed_query("warm up")
        self.embedder.warm_up()
        if self.retriever.multilingual is not None:
            self.retriever.multilingual.embed_query("warm up")
        warm_up = getattr(self.chat_model, "warm_up", None)
        if warm_up is not None:
            warm_up()  # the local model loads here, not in the first question

    def version_chunks(self, version: str) -> list[Chunk]:
        """Every chunk of one document version (the reader could already read one of them)."""
        return list(self.store.fetch(self.store.version_chunks([version])).values())

    def documents(self, groups: frozenset[str] | None = None) -> list[DocumentInfo]:
        """The documents readable by ``groups`` (every one when None: auth off)."""
        return [
            DocumentInfo(document_id=d.document_id, title=d.title, source=d.source, chunks=d.chunks)
            for d in self.store.documents(groups)
        ]

    def query_vector(self, question: str, retrieval: Retrieval) -> np.ndarray:
        if retrieval.query_vector is not None:
            return retrieval.query_vector
        return self.embedder.embed_query(question)  # BM25 alone made no question vector

    def select(
        self, question: str, retrieval: Retrieval, step: str | None = None, wider: Retrieval | None = None
    ) -> Selection:
        """The spans of the retrieved passages that best answer ``question``, and whether they do,
        by ``step`` (the settings' answer step when None); ``wider``: the same retrieval further
        down, where an unsure step looks for the closest passages."""
        vector = self.query_vector(question, retrieval)
        if (step or self.settings.answer_step) == "formula":
            return self.formula.select(question, vector, retrieval.passages)
        return self.learned.select(question, vector, retrieval.passages, wider.passages if wider else None)

    def retrieve(
        self,
        question: str,
        top_k: int | None,
        groups: frozenset[str] | None,
        documents: frozenset[str] | None,
    ) -> tuple[Retrieval, Retrieval]:
        """The ``top_k`` passages the answer is made from, and the same retrieval down to
        ``CLOSEST_POOL`` passages, where the closest ones are looked for when the step is unsure."""
        k = top_k or self.settings.top_k
        favoured = self.named_in(question, groups) if documents is None else None
        wider = self.retriever.retrieve(question, max(k, CLOSEST_POOL), groups, documents, favoured)
        return replace(wider, passages=wider.passages[:k]), wider

    def named_in(self, question: str, groups: frozenset[str] | None) -> frozenset[str] | None:
        """The readable documents ``question`` names, to favour (``named_documents.py``); None when
        favouring is off or it names none."""
        if not self.settings.favour_named_documents:
            return None
        key = (self.store.state().seq, groups)
        if self._named is None or self._named[0] != key:
            listing = self.store.documents(groups)
            self._named = (
                key,
                NamedDocuments([(d.document_id, d.title, d.source, d.aliases) for d in listing]),
            )
        return self._named[1].in_question(question) or None

    def ask(self, request: AskRequest, groups: frozenset[str] | None = None) -> AskResponse:
        """Answer from the documents readable by ``groups`` (every one when None: auth off)."""
        for event in self.answer_events(request, groups):
            if isinstance(event, AskResponse):
                return event
        raise AssertionError("answer_events ends with the response")

    def searched(self, request: AskRequest) -> str:
        """What to search for ``request``: a follow-up that leans on its history is rewritten by the
        language model when one is configured, else (or when that fails) given the earlier turns'
        context by rule (``follow_up.py``)."""
        if not request.history or not leans_on_history(request.question):
            return request.question
        if self.chat_model is not None:
            try:
                rewritten = (
                    self.chat_model.complete(
                        rewrite_prompt(request.question, request.history), REWRITE_MAX_TOKENS
                    )
                    .strip()
                    .strip('"')
                    .splitlines()
                )
            except Exception as error:  # any failure of the model falls back to the rule
                log.warning("the follow-up rewrite failed (%s); searching with the rule's context", error)
            else:
                if rewritten and faithful_rewrite(rewritten[0], request.question, request.history):
                    return rewritten[0]
                log.info(
                    "the follow-up rewrite %r strays from the conversation; using the rule", rewritten[:1]
                )
        return searched_question(request.question, request.history)

    def answer_parts(
        self,
        parts: list[str],
        top_k: int | None,
        groups: frozenset[str] | None,
        documents: frozenset[str] | None,
    ) -> list[tuple[str, Selection]]:
        """Each part of a question retrieved and answered on its own; a part that leans on the one
        before it ("who has led it since 2023?") is searched with its context, as a follow-up is."""
        answered = []
        for i, part in enumerate(parts):
            searched = searched_question(part, [EarlierTurn(question=parts[i - 1])] if i else None)
            retrieval, wider = self.retrieve(searched, top_k, groups, documents)
            answered.append((part, self.select(searched, retrieval, wider=wider)))
        return answered

    def notice(
        self, request: AskRequest, mode: str, generated: VerifiedAnswer | None, outcome: Outcome
    ) -> str | None:
        """Why a quoted answer (or an abstention) stands where a generated one was asked for."""
        if generated is not None:
            return withheld_notice(generated, outcome)
        if mode == "generated":  # the answer step abstained, so the model was not asked
            return NOT_ASKED
        return NO_LANGUAGE_MODEL if request.mode == "generated" else None

    def mode(self, request: AskRequest) -> str:
        """Generated when asked for (or by default) and a language model is configured; quoted
        otherwise: a client asking for generated from a server without a model still gets an answer,
        and ``notice`` says why it is quoted."""
        if self.chat_model is None:
            return "quoted"
        return request.mode or "generated"

    def answer_events(
        self, request: AskRequest, groups: frozenset[str] | None = None
    ) -> Generator[AnswerEvent, None, None]:
        """The answer as it is made: the retrieved passages (numbered as the model sees them), each
        generated sentence once verified (shown or withheld), then the response. Closing the
        iterator stops a generation in progress."""
        started = time.perf_counter()
        mode = self.mode(request)
        if self.store.count() == 0:
            raise EmptyIndexError()
        timings: dict[str, float] = {}
        documents = None
        if request.documents is not None:
            documents = frozenset(request.documents)
            readable = self.store.readable_documents(documents, groups)
            if unknown := sorted(documents - readable):
                raise UnknownDocumentsError(unknown)

        def lap(name: str, since: float) -> float:
            now = time.perf_counter()
            timings[name] = round((now - since) * 1000, 2)
            return now

        question = self.searched(request)
        if question != request.question:
            lap("contextualise", started)
        retrieval, wider = self.retrieve(question, request.top_k, groups, documents)
        timings.update(retrieval.timings_ms)
        retrieved = [
            RetrievedPassage(rank=rank, **Passage.fields_of(p))
            for rank, p in enumerate(retrieval.passages, 1)
        ]
        yield retrieved
        generated: VerifiedAnswer | None = None
        selection: Selection | None = None
        if mode == "generated" and retrieval.passages and self.settings.llm_abstain == "step":
            t = time.perf_counter()
            selection = self.select(question, retrieval, wider=wider)
            lap("select", t)
        # The model is asked whenever the passages look relevant: when the step answers, and when it
        # is unsure but shows the closest passages.
        if mode == "generated" and retrieval.passages and (selection is None or _relevant(selection)):
            assert self.chat_model is not None
            t = time.perf_counter()
            generated = VerifiedAnswer(retrieval.passages)
            for event in generate(
                self.chat_model, self.verifier, question, retrieval.passages,
                self.settings.llm_max_tokens, generated,
            ):  # fmt: skip
                if isinstance(event, AnswerSentence) and "first_sentence" not in timings:
                    timings["first_sentence"] = round((time.perf_counter() - started) * 1000, 2)
                yield event
            lap("generate", t)
            # Since the request began, as first_sentence is: a first sentence before this one
            # reached the reader while the model was still writing.
            timings["generation_done"] = round((time.perf_counter() - started) * 1000, 2)
            if generated.sentences:
                lap("total", started)
                yield AskResponse(
                    answer=generated.answer,
                    abstained=False,
                    outcome="answered",
                    searched_question=question,
                    citations=generated.citations(),
                    timings_ms=timings,
                    retrieved=retrieved if request.include_retrieved else None,
                    mode="generated",
                    sentences=generated.sentences,
                    unsupported=generated.withheld,
                    model=self.chat_model.name,
                )
                return
        if selection is None:
            t = time.perf_counter()
            selection = self.select(question, retrieval, wider=wider)
            lap("select", t)
        outcome, cited = outcome_of(selection)
        parts = question_parts(question)
        if len(parts) > 1:
            t = time.perf_counter()
            answered_parts = self.answer_parts(parts, request.top_k, groups, documents)
            lap("parts", t)
            if any(s.answered for _, s in answered_parts):
                outcome, cited = "answered", cite_parts(answered_parts)
        abstained = outcome != "answered"
        lap("total", started)
        yield AskResponse(
            answer=said(outcome, cited),
            abstained=abstained,
            outcome=outcome,
            searched_question=question,
            citations=[
                Citation(id=c.id, quote=c.quote, **Passage.fields_of(c.passage)) for c in cited.citations
            ],
            timings_ms=timings,
            retrieved=retrieved if request.include_retrieved else None,
            unsupported=generated.withheld if generated else [],
            notice=self.notice(request, mode, generated, outcome),
            model=self.chat_model.name if generated and self.chat_model else None,
        )


def said(outcome: Outcome, cited: CitedAnswer) -> str:
    """The answer's text: the quoted sentences, the closest passages named, or that none is about it."""
    if outcome == "answered":
        return cited.answer
    return closest_answer(len(cited.citations)) if outcome == "closest" else NOT_ANSWERED


def _relevant(selection: Selection) -> bool:
    return selection.answered or (bool(selection.closest) and selection.relevant)


def outcome_of(selection: Selection) -> tuple[Outcome, CitedAnswer]:
    """The outcome of a quoted answer and what it cites: the chosen sentences when the step answers,
    the closest passages (each with its best sentence as the quote) when it is unsure but they look
    relevant, nothing otherwise."""
    if selection.answered:
        return "answered", cite(selection.chosen)
    if _relevant(selection):
        return "closest", CitedAnswer(
            "",
            [CitedPassage(n, c.passage, c.sentence.text) for n, c in enumerate(selection.closest, 1)],
        )
    return "not_found", CitedAnswer("", [])


_THEN: dict[str, str] = {
    "answered": "The answer below is quoted from the passages.",
    "closest": "No quoted answer was found either; the closest passages are shown.",
    "not_found": "No quoted answer was found either.",
}


def withheld_notice(generated: VerifiedAnswer, outcome: Outcome) -> str:
    """Why a generated answer asked for is not the one shown."""
    then = _THEN[outcome]
    if generated.withheld:
        count = len(generated.withheld)
        return (
            f"The generated answer was withheld: none of its {count} sentence{'s' if count > 1 else ''} "
            f"is backed by the passage{'s' if count > 1 else ''} it cites (see `unsupported`). {then}"
        )
    if generated.refused:
        return f"The language model found no answer in the passages. {then}"
    return f"The language model wrote no answer. {then}"
