"""What the answer path takes and gives: the question, the answer, its citations, the documents.

They are also the models of ``POST /ask`` and ``GET /documents``, with the examples shown at /docs.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from cited.store.chunks import ScoredChunk

MAX_QUESTION_CHARS = 2000
# Whitespace as JSON Schema (ECMA-262 \s) counts it, spelled out so that Python and every client
# that validates against the published schema agree on what "not only whitespace" means.
_BLANK = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
NOT_ONLY_WHITESPACE = f"[^{_BLANK}]"
MAX_TOP_K = 20
DOCUMENT_ID_PATTERN = r"^[0-9a-f]{16}$"
MAX_CHOSEN_DOCUMENTS = 200
MAX_HISTORY_TURNS = 10
Outcome = Literal["answered", "closest", "not_found"]
DocumentId = Annotated[str, StringConstraints(strict=True, pattern=DOCUMENT_ID_PATTERN)]

_EXAMPLE_PASSAGE = (
    "On January 23rd, Alibaba CEO Daniel Jiang, Executive Chairman of Ant Financial Eric Jing, "
    "Secretary General Guo Jing and Alibaba Group Chief People Officer (Head of HR) Judy Tong set "
    "up an emergency working group to leverage Alibaba’s ecosystem to overcome the crisis and align "
    "people’s strategy within 4 focus areas:"
)


class EarlierTurn(BaseModel):
    """One earlier turn of the conversation: what the reader asked, and what Cited answered."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(
        ...,
        strict=True,
        min_length=1,
        max_length=MAX_QUESTION_CHARS,
        description=f"The earlier question, 1 to {MAX_QUESTION_CHARS} characters.",
    )
    answer: str | None = Field(
        None,
        strict=True,
        max_length=MAX_QUESTION_CHARS,
        description=f"The answer it got, at most {MAX_QUESTION_CHARS} characters; may be left out.",
    )


class AskRequest(BaseModel):
    # Unknown fields are refused so a typo (``topk``) is reported instead of silently ignored.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"question": "When was the emergency working group set up?", "top_k": 5},
                {"question": "What is Alibaba HR's 3C strategy?"},
                {"question": "What did Wu Yongming urge employees to do?", "documents": ["4c1d9e0b7a2f6e13"]},
                {
                    "question": "And when did they set it up?",
                    "history": [{"question": "Who set up the emergency working group?"}],
                },
            ]
        },
    )

    question: str = Field(
        ...,
        strict=True,
        min_length=1,
        max_length=MAX_QUESTION_CHARS,
        pattern=NOT_ONLY_WHITESPACE,
        description=f"The question, 1 to {MAX_QUESTION_CHARS} characters, not only whitespace.",
    )
    history: list[EarlierTurn] | None = Field(
        None,
        max_length=MAX_HISTORY_TURNS,
        description=(
            f"Up to {MAX_HISTORY_TURNS} earlier turns of the conversation, oldest first. A follow-up "
            'that leans on them ("When did they set it up?", "And in 2023?") is searched with '
            "their context; `searched_question` in the reply says what was searched."
        ),
    )
    top_k: int | None = Field(
        None,
        ge=1,
        le=MAX_TOP_K,
        description=f"How many passages to retrieve, 1 to {MAX_TOP_K}; default 5 (CITED_TOP_K).",
    )
    documents: list[DocumentId] | None = Field(
        None,
        min_length=1,
        max_length=MAX_CHOSEN_DOCUMENTS,
        description=(
            "Search only these documents (ids from GET /documents); leave it out to search every "
            "document the caller may read. An id that is unknown, or not readable by the caller, "
            "is refused with 422."
        ),
    )
    include_retrieved: bool = Field(
        False,
        strict=True,
        description=(
            "Also return every retrieved passage, best first, in `retrieved`: the evidence the "
            "answer was chosen from, cited or not (used by `cited eval --url`)."
        ),
    )

    mode: Literal["quoted", "generated"] | None = Field(
        None,
        description=(
            "quoted: sentences quoted from the passages. generated: a language model answers from the "
            "passages and every sentence it writes is checked against the passages it cites before "
            "it is shown (needs CITED_LLM). Default: generated when a language model is configured."
        ),
    )
    stream: bool = Field(
        False,
        strict=True,
        description=(
            "Answer as server-sent events (text/event-stream): `passages`, then each `sentence` once "
            "it has passed verification (and each `withheld` one), then `citations` and `done`, or "
            '`error`. See docs/generation.md, "Streaming".'
        ),
    )

    @field_validator("top_k", mode="before")
    @classmethod
    def _whole_number(cls, value: object) -> object:
        # JSON Schema counts 15.0 as an integer, so the API accepts it (the fuzz run sent one);
        # strings and booleans are still refused rather than coerced ("5", true).
        if isinstance(value, bool | str):
            raise ValueError("must be an integer")
        return value

    @field_validator("question")
    @classmethod
    def _trimmed(cls, value: str) -> str:
        # The pattern has refused all-whitespace questions; control characters that Python also
        # strips (\x1c-\x1f) but the schema does not are kept rather than refused.
        return value.strip() or value


class Passage(BaseModel):
    """A passage of a document, where it sits, and how the retriever scored it."""

    document_id: str = Field(..., description="Content hash of the source file.")
    title: str
    source: str = Field(..., description="Path of the file relative to the corpus root.")
    text: str = Field(..., description="The passage.")
    start: int = Field(..., description="Offset of `text` in the document's cleaned text.")
    end: int = Field(..., description="End offset (exclusive) of `text` in the document's cleaned text.")
    page: int | None = Field(None, description="PDF page (1-based) where the passage starts.")
    slide: int | None = Field(None, description="Slide (1-based) of a deck; a passage never crosses slides.")
    ocr: bool = Field(False, description="True when the passage was read from a scanned page by OCR.")
    document_date: str | None = Field(
        None,
        description=(
            "When the document is from (ISO 8601: a day, or a month): a date in its opening lines, "
            "else its PDF or DOCX properties, else the file's own date; see `date_source`."
        ),
    )
    date_source: Literal["text", "properties", "file"] | None = Field(
        None, description="Where `document_date` was read."
    )
    score: float = Field(
        ...,
        description=(
            "The retriever's score for the passage, higher is better: in the default hybrid mode the "
            "fused score (0 to the sum of the fusion weights), in dense mode the cosine similarity, "
            "in bm25 mode the BM25 score. Compare it within one response, not across modes."
        ),
    )

    @classmethod
    def fields_of(cls, scored: ScoredChunk) -> dict[str, object]:
        chunk = scored.chunk
        return {
            "document_id": chunk.document_id,
            "title": chunk.title,
            "source": chunk.source,
            "text": chunk.text,
            "start": chunk.start,
            "end": chunk.end,
            "page": chunk.page,
            "slide": chunk.slide,
            "ocr": chunk.ocr,
            "document_date": chunk.document_date or None,
            "date_source": chunk.date_source or None,
            "score": round(scored.score, 4),
        }


class Citation(Passage):
    id: int = Field(..., description="The number used by the answer's [n] markers.")
    quote: str = Field(..., description="The sentence(s) of `text` the answer uses; a substring of `text`.")


class RetrievedPassage(Passage):
    rank: int = Field(..., description="1 for the best passage.")


class AnswerSentence(BaseModel):
    """One generated sentence that passed verification, and where its support is."""

    text: str = Field(..., description="The sentence as shown in `answer`, with its [n] markers.")
    citations: list[int] = Field(..., description="The `id`s of the citations it cites.")
    citation: int = Field(..., description="The `id` of the citation holding `quote`.")
    quote: str = Field(..., description="The span of that citation's `text` that supports it best.")
    score: float = Field(..., description="Its support score (word coverage and similarity), 0 to 1.")


class WithheldSentence(BaseModel):
    """A generated sentence that failed verification: never part of `answer`."""

    text: str = Field(..., description="The sentence as the model wrote it, markers as in the prompt.")
    reason: str = Field(..., description="The first check it failed.")


class AskResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "answer": f"{_EXAMPLE_PASSAGE} Supporting medical services; ... [1]",
                    "abstained": False,
                    "outcome": "answered",
                    "citations": [
                        {
                            "id": 1,
                            "document_id": "8df2bd05af565e9b",
                            "title": "Alibaba’s winning HR strategy during the crisis",
                            "source": "Alibaba-HR-3C-strategy-during-the-crisis.txt",
                            "text": _EXAMPLE_PASSAGE + " ...",
                            "quote": _EXAMPLE_PASSAGE,
                            "start": 0,
                            "end": 915,
                            "page": None,
                            "score": 2.31,
                        }
                    ],
                    "timings_ms": {"retrieve": 31.0, "select": 3.1, "total": 34.6},
                },
                {
                    "answer": "The documents do not answer this question.",
                    "abstained": True,
                    "outcome": "not_found",
                    "citations": [],
                    "timings_ms": {"retrieve": 29.4, "select": 2.6, "total": 32.3},
                },
            ]
        }
    )

    answer: str = Field(..., description="Sentences from the documents, each followed by its [n] marker.")
    abstained: bool = Field(..., description="True unless `outcome` is `answered`.")
    outcome: Outcome = Field(
        "answered",
        description=(
            "answered: the answer quotes (or is verified against) the passages it cites. closest: no "
            "passage was found to answer, but the 1 to 3 closest ones are in `citations`, best first, "
            "each with its best sentence as `quote`; `answer` only names them. not_found: nothing "
            "retrieved is about the question, and `citations` is empty."
        ),
    )
    searched_question: str | None = Field(
        None,
        description=(
            "What was searched: the question as asked, or, for a follow-up that leans on `history`, "
            "the question with the context it was searched with."
        ),
    )
    citations: list[Citation] = Field(
        ..., description="The passages the answer cites, or the closest passages; empty when not_found."
    )
    timings_ms: dict[str, float] = Field(..., description="Time spent per step, in milliseconds.")
    retrieved: list[RetrievedPassage] | None = Field(
        None, description="Every retrieved passage, best first; only when `include_retrieved` is true."
    )
    mode: Literal["quoted", "generated"] = Field(
        "quoted", description="quoted: sentences of the passages. generated: verified model sentences."
    )
    sentences: list[AnswerSentence] | None = Field(
        None, description="In generated mode, the shown sentences with the quote that supports each."
    )
    unsupported: list[WithheldSentence] = Field(
        [], description="Generated sentences withheld because their cited passages do not back them."
    )
    notice: str | None = Field(
        None, description="Why the generated answer was withheld (the answer is then quoted, or none)."
    )
    model: str | None = Field(None, description="The language model that generated, when one did.")


class DocumentInfo(BaseModel):
    document_id: str
    title: str
    source: str
    chunks: int
