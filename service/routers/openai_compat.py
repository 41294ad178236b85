"""An OpenAI-compatible face: ``POST /v1/chat/completions`` and ``GET /v1/models``.

Existing OpenAI clients and chat front ends can ask Cited. The last user message is the question
(held to the same 2000-character limit as ``/ask``); the earlier user and assistant messages are
the conversation's ``history`` (the last 10 turns, each text cut to 2000 characters, since front
ends send whole histories), so a follow-up is searched with their context. The body may be up to
``CITED_MAX_CHAT_REQUEST_BYTES`` (256 KiB by default). The reply's ``content`` is the verified
answer with ``[n]`` markers; ``citations`` (an extra field, as some hosted APIs add) lists the
passages the markers name, and ``cited`` says how the answer was made (mode, abstained, withheld
sentences, outcome, what was searched). Same API keys, groups, rate limit and input limits as ``/ask``.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from cited.errors import CitedError, InvalidInputError
from service.answering.answer_service import AnswerEvent
from service.answering.ask_schema import (
    MAX_HISTORY_TURNS,
    MAX_QUESTION_CHARS,
    AnswerSentence,
    AskRequest,
    AskResponse,
    Citation,
    EarlierTurn,
    Outcome,
    WithheldSentence,
)
from service.asking import Asking
from service.auth import CALLER_RESPONSES, require
from service.callers import Caller
from service.dependencies import get_asking
from service.errors import status_of
from service.streaming import streamed

router = APIRouter(prefix="/v1", tags=["openai-compatible"])
MODEL_ID = "cited"


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")  # name, tool_calls, ...: accepted, not used

    role: str = Field(..., examples=["user"])
    # A string, or OpenAI's list of content parts ({"type": "text", "text": ...}).
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return " ".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    # Front ends send temperature, max_tokens, user, ...: accepted and ignored (the answer is the
    # documents' answer, at temperature 0).
    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {"model": "cited", "messages": [{"role": "user", "content": "What is the 3C strategy?"}]}
            ]
        },
    )

    model: str = Field(MODEL_ID, description="Any value; Cited serves one model, `cited`.")
    messages: list[ChatMessage] = Field(..., min_length=1, max_length=1000)
    stream: bool = False


class ChatChoiceMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    index: int = 0
    message: ChatChoiceMessage
    finish_reason: Literal["stop"] = "stop"


class CitedDetails(BaseModel):
    mode: Literal["quoted", "generated"]
    abstained: bool
    outcome: Outcome = Field("answered", description="answered, closest or not_found, as in /ask.")
    searched_question: str | None = Field(None, description="What was searched, as in /ask.")
    notice: str | None = None
    unsupported: list[WithheldSentence] = []
    sentences: list[AnswerSentence] | None = None


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str = MODEL_ID
    choices: list[ChatChoice]
    usage: dict[str, int] = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    citations: list[Citation] = Field(..., description="The passages the answer's [n] markers name.")
    cited: CitedDetails = Field(..., description="How the answer was made.")


class ModelCard(BaseModel):
    id: str = MODEL_ID
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "cited"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class OpenAIErrorDetail(BaseModel):
    message: str = Field(..., description="What is wrong and how to fix it.")
    type: str = Field(..., description="Cited's error code (as `error` in /ask's errors).")
    code: str | None = None
    param: str | None = Field(None, description="The request field at fault, if one is.")


class OpenAIError(BaseModel):
    """Errors of the /v1 routes, in OpenAI's shape (its clients read ``error.message``)."""

    error: OpenAIErrorDetail


def _openai_errors(responses: dict[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": OpenAIError, "description": r["description"]} for code, r in responses.items()}


_CHAT_ERRORS = _openai_errors(
    {
        **CALLER_RESPONSES,
        413: {"description": "Over CITED_MAX_CHAT_REQUEST_BYTES (256 KiB)."},
        422: {"description": "No user message, the question is too long, or the body is malformed."},
        502: {"description": "The language model failed or answered garbage."},
        503: {"description": "No document is indexed yet: run `cited ingest`."},
        504: {"description": "The language model did not answer in time."},
    }
)


class NoQuestionError(InvalidInputError):
    def __init__(self, problem: str) -> None:
        super().__init__(
            "invalid_request", f"messages: {problem}", fields=[{"field": "messages", "problem": problem}]
        )


def ask_request(chat: ChatRequest) -> AskRequest:
    """The question: the last user message, under /ask's limits."""
    users = [m for m in chat.messages if m.role == "user"]
    if not users:
        raise NoQuestionError('needs a message with role "user": its content is the question')
    question = users[-1].text().strip()
    if not question:
        raise NoQuestionError("the last user message is empty; put the question in it")
    if len(question) > MAX_QUESTION_CHARS:
        raise NoQuestionError(f"the last user message must be at most {MAX_QUESTION_CHARS} characters")
    return AskRequest(question=question, history=history_of(chat.messages[: chat.messages.index(users[-1])]))


def history_of(messages: list[ChatMessage]) -> list[EarlierTurn] | None:
    """The earlier turns: each user message with the assistant message after it, if any."""
    turns: list[EarlierTurn] = []
    for message in messages:
        text = message.text().strip()[:MAX_QUESTION_CHARS]
        if message.role == "user" and text:
            turns.append(EarlierTurn(question=text))
        elif message.role == "assistant" and text and turns and turns[-1].answer is None:
            turns[-1] = EarlierTurn(question=turns[-1].question, answer=text)
    return turns[-MAX_HISTORY_TURNS:] or None


def completion(response: AskResponse, id: str, created: int) -> ChatCompletion:
    return ChatCompletion(
        id=id,
        created=created,
        choices=[ChatChoice(message=ChatChoiceMessage(content=response.answer))],
        citations=response.citations,
        cited=CitedDetails(
            mode=response.mode,
            abstained=response.abstained,
            outcome=response.outcome,
            searched_question=response.searched_question,
            notice=response.notice,
            unsupported=response.unsupported,
            sentences=response.sentences,
        ),
    )


@router.get(
    "/models",
    response_model=ModelList,
    summary="The one model Cited serves (OpenAI format)",
    responses=_openai_errors(dict(CALLER_RESPONSES)),
)
def models(_: Annotated[Caller, Depends(require("ask", counted=False))]) -> ModelList:
    return ModelList(data=[ModelCard()])


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    summary="Ask Cited as an OpenAI chat model; the answer carries its citations",
    responses={
        200: {
            "description": 'A chat.completion, or with `"stream": true` chat.completion.chunk events.',
            "content": {
                "text/event-stream": {
                    "itemSchema": {
                        "type": "object",
                        "properties": {"data": {"type": "string"}},
                        "required": ["data"],
                    }
                }
            },
        },
        **_CHAT_ERRORS,
    },
)
async def chat_completions(
    chat: ChatRequest,
    http: Request,
    asking: Annotated[Asking, Depends(get_asking)],
    caller: Annotated[Caller, Depends(require("ask", counted=False))],
) -> ChatCompletion | StreamingResponse:
    """With `"stream": true`, chunks in OpenAI's format: each verified sentence as a `delta`, then a
    last chunk with `finish_reason: "stop"` and the `citations`, then `data: [DONE]`."""
    request = ask_request(chat)
    id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if not chat.stream:
        response = await asking.ask_in_time(request, caller, "v1")
        return completion(response, id, created)
    answer = await run_in_threadpool(asking.answer_events, request, caller, "v1")
    written: list[str] = []  # sentences already sent: a quoted fallback must not repeat them

    def chunk(delta: dict[str, str], finish: str | None = None, **extra: object) -> bytes:
        body = {
            "id": id, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra,
        }  # fmt: skip
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n".encode()

    def encode(event: AnswerEvent) -> bytes:
        if isinstance(event, list):
            return chunk({"role": "assistant", "content": ""})
        if isinstance(event, AnswerSentence):
            text = event.text if not written else f" {event.text}"
            written.append(event.text)
            return chunk({"content": text})
        if isinstance(event, WithheldSentence):
            return b""
        content = "" if written else event.answer  # generated sentences went out one by one
        final = completion(event, id, created)
        extra = {"citations": [c.model_dump() for c in event.citations], "cited": final.cited.model_dump()}
        return chunk({"content": content}, "stop", **extra) + b"data: [DONE]\n\n"

    def on_error(error: CitedError) -> bytes:
        body = {"error": {"message": error.message, "type": error.code, "code": status_of(error)}}
        return f"data: {json.dumps(body)}\n\n".encode()

    return await streamed(http, answer, encode, on_error)
