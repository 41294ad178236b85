"""The one settings tree: environment variables prefixed ``CITED_`` and an optional ``.env`` file."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Off by default: on SciFact e5 adds 0.001 nDCG@10 (test queries) but multiplies the ingest time by
# about 4.8 and adds about 20 ms per query (reports/retrieval-scifact-multilingual.md, docs/answering.md).
# Turn it on for corpora in other languages (Chinese, ...).
MULTILINGUAL_DEFAULT = False


class Settings(BaseSettings):
    """Every knob of Cited. Each field reads ``CITED_<NAME>`` (e.g. ``CITED_DATA_DIR``)."""

    model_config = SettingsConfigDict(
        env_prefix="CITED_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # Where things live
    data_dir: Path = Field(Path("data"), description="Directory of the persistent Chroma store.")
    corpus_dir: Path = Field(Path("corpus"), description="Folder that `cited ingest` reads by default.")
    # The store: embedded under data_dir (one serving process), or a Chroma server shared by any
    # number of workers (docs/operations.md, "Scaling out").
    chroma_host: str | None = Field(
        None, description="Chroma server host; unset: the embedded store under the data directory."
    )
    chroma_port: int = Field(8001, ge=1, le=65535, description="Chroma server port.")
    chroma_ssl: bool = Field(False, description="Reach the Chroma server over HTTPS.")
    chroma_token: SecretStr | None = Field(
        None, description="Sent as `Authorization: Bearer <token>` to a Chroma server behind auth."
    )
    collection: str = Field(
        "cited-chunks",
        pattern=r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,510}[a-zA-Z0-9]$",
        description="Chroma collection name (3-512 characters of [a-zA-Z0-9._-]).",
    )

    # Chunking: sizes count tokens of the embedder's own tokenizer, because all-MiniLM-L6-v2 silently
    # truncates past 256 tokens; 200 leaves room for the special tokens.
    chunk_size: int = Field(200, ge=32, le=254, description="Chunk size in embedder tokens.")
    chunk_overlap: int = Field(30, ge=0, le=128, description="Overlap between chunks in tokens.")
    # Reading. Scanned PDF pages (no text layer) are read by Tesseract when it is installed
    # (ingest/ocr.py); off, or without it, the ingest lists each such page and what to install.
    ocr: Literal["auto", "off"] = Field(
        "auto", description="auto: read scanned PDF pages with Tesseract where it is installed; off: never."
    )
    ocr_languages: str = Field(
        "eng",
        pattern=r"^[a-z_]{3,}(\+[a-z_]{3,})*$",
        description="Tesseract languages, joined with + (eng, eng+deu); each needs tesseract-ocr-<lang>.",
    )
    table_rows: bool = Field(
        True,
        description="Write tables (PDF, DOCX, PPTX) as rows keeping their labels ('Revenue — 2022: 5').",
    )
    # int8 ONNX build of the same weights: faster on CPU, measured by `cited bench ingest`.
    embedder: Literal["minilm", "minilm-int8"] = Field(
        "minilm", description="minilm (fp32, sentence-transformers) or minilm-int8 (int8 ONNX)."
    )
    # Pooled from the chunk's own encoder pass (cited/models/span_vectors.py): the answer path then embeds
    # nothing but the question. Off: smaller metadata, and each question embeds its passages' spans.
    span_vectors: bool = Field(True, description="Store a vector for each sentence of a chunk at ingest.")
    # 16 on a 2-core AVX2 CPU: 384 SciFact documents in 15.2 s against 16.7 s at 32 and 15.8 s at 8
    # (median of 3, interleaved), and the 10 filings' encoder 202.7 s against 216.3 s
    # (`cited bench filings`, docs/measurements.md); smaller batches stay in cache.
    embed_batch_size: int = Field(16, ge=1, le=512, description="Chunks embedded per batch.")
    # bf16 halves the encoder's time on CPUs with native bf16 (measured: 384 SciFact documents in
    # 9.3 s against 17.9 s, every vector within cosine 0.99997 of fp32); emulated bf16 is slower
    # than fp32, so auto uses it only where the CPU has it.
    embed_precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto", description="MiniLM's precision: auto (bf16 where the CPU has it natively), fp32 or bf16."
    )
    # Each group is published at once (readers see all of it or none of it); a kill loses at most
    # the group being embedded (1024 chunks: about 25 s of encoder time here). Batches are sorted
    # by length within a group, so a bigger group pads less: on a SciFact slice, 256 padded 6.2%
    # above the best order, 1024 1.2%.
    write_batch_chunks: int = Field(
        1024, ge=1, le=100_000, description="Chunks embedded and published together by the ingest."
    )
    ingest_lock_seconds: float = Field(
        30.0, ge=0, le=3600, description="How long an ingest (or upload) waits for another to finish."
    )

    # Retrieval. Fusion weights and window were tuned on SciFact's training queries
    # (`cited bench retrieval --tune`, reports/retrieval-scifact.md); the test queries only report.
    retrieval: Literal["hybrid", "dense", "bm25"] = Field(
        "hybrid", description="hybrid (BM25 + vectors, fused), dense (MiniLM only) or bm25 (BM25 only)."
    )
    multilingual: bool = Field(
        MULTILINGUAL_DEFAULT,
        description="Also index and search with multilingual-e5-small (finds Chinese and other languages).",
    )
    # A question that names a company, a product or a document favours that document's passages
    # (service/answering/named_documents.py); it never excludes the others.
    favour_named_documents: bool = Field(
        True, description="Favour the passages of a document the question names (title, file name, aliases)."
    )
    fusion_bm25: float = Field(1.0, ge=0, le=10, description="Fusion weight of BM25.")
    fusion_dense: float = Field(0.75, ge=0, le=10, description="Fusion weight of MiniLM vectors.")
    fusion_multilingual: float = Field(1.0, ge=0, le=10, description="Fusion weight of e5 vectors.")
    fusion_window: int = Field(200, ge=1, le=1000, description="Candidates each score is normalised over.")
    candidates: int = Field(200, ge=1, le=2000, description="Candidates each retriever contributes.")
    # A Chroma `where` on group flags made a dense search 10x slower at SciFact scale, so with auth on
    # the search over-fetches unfiltered and keeps what the caller may read (docs/access-control.md).
    group_overfetch: int = Field(
        3,
        ge=0,
        le=50,
        description=(
            "With auth on, dense searches fetch this many times the candidates unfiltered and keep the "
            "readable ones, falling back to a filtered search when too few are; 0 always filters."
        ),
    )
    bm25_k1: float = Field(1.2, gt=0, le=5, description="BM25 term-frequency saturation.")
    bm25_b: float = Field(0.75, ge=0, le=1, description="BM25 length normalisation.")

    # Access. Off: every request is one local user who reads everything (fine on 127.0.0.1 only).
    auth: bool = Field(False, description="Require API keys (`cited keys add`) on the HTTP API.")
    # Before the shared-state database, keys and users had files of their own: they are imported
    # into it once (cited/database/legacy_import.py).
    keys_file: Path | None = Field(
        None, description="An older Cited's API key file, imported once (default: <data dir>/keys.sqlite)."
    )
    users_file: Path | None = Field(
        None, description="An older Cited's page-user file, imported once (default: <data dir>/users.sqlite)."
    )
    # Shared state (docs/deploying.md): keys, page users, sign-in sessions, feedback and the audit trail.
    database_url: SecretStr | None = Field(
        None,
        description=(
            "SQLAlchemy URL of the shared state, e.g. postgresql+psycopg://cited:...@db/cited; "
            "unset: SQLite at <data dir>/cited.sqlite."
        ),
    )
    audit: Literal["off", "metadata", "full"] = Field(
        "metadata",
        description="Audit trail: off; metadata (who, when, outcome, passages shown); full (+ the question).",
    )
    audit_days: int = Field(365, ge=1, le=36_500, description="Days an audit record is kept.")
    machine_name: str | None = Field(
        None, description="This machine's name in the audit trail (default: the host name)."
    )
    # Single sign-on for the page (OpenID Connect). Set the issuer to turn it on: page users
    # (`cited users add`) are then refused, so the two modes never mix by accident.
    oidc_issuer: str | None = Field(
        None,
        pattern=r"^https?://[^\s]+$",
        description="OpenID provider's issuer URL (its /.well-known/openid-configuration must answer).",
    )
    oidc_client_id: str | None = Field(None, description="Cited's client id at the provider.")
    oidc_client_secret: SecretStr | None = Field(None, description="Cited's client secret at the provider.")
    oidc_groups_claim: str = Field("groups", description="The ID-token claim that lists a person's groups.")
    oidc_allowed_groups: list[str] = Field(
        [], description="Provider groups whose members may sign in; empty: anyone the provider signs in."
    )
    oidc_upload_groups: list[str] = Field(
        [], description="Provider groups whose members may add and replace documents from the page."
    )
    oidc_group_map_file: Path | None = Field(
        None,
        description="YAML mapping provider groups to Cited groups; unset: provider groups are used by name.",
    )
    oidc_audience: str | None = Field(
        None,
        description="Audience of provider access tokens the API accepts (default: the client id).",
    )
    oidc_scopes: str = Field("openid email profile", description="Scopes asked of the provider.")
    oidc_login_window_s: int = Field(
        600, ge=1, le=3600, description="Seconds between starting a sign-in and the provider's callback."
    )
    session_hours: float = Field(8.0, gt=0, le=720, description="How long a page sign-in lasts.")
    public_url: str | None = Field(
        None,
        pattern=r"^https?://[^\s/]+(/[^\s]*)?$",
        description=(
            "The address people reach Cited at (https://cited.example.org): the sign-in callback is "
            "built on it, and cookies are Secure unless it is a loopback address."
        ),
    )
    session_secret: SecretStr | None = Field(
        None,
        description=(
            "Key that signs the page's session cookies; the same on every machine. "
            "Unset: one is made and kept in the shared database."
        ),
    )
    # Hardening of the HTTP API.
    rate_limit: str = Field(
        "120/minute", description="Requests per caller (API key, or client address with auth off)."
    )
    max_request_bytes: int = Field(65536, ge=1024, le=10_000_000, description="Largest request body.")
    max_chat_request_bytes: int = Field(
        262_144,
        ge=1024,
        le=10_000_000,
        description=(
            "Largest body of POST /v1/chat/completions: chat front ends send the whole conversation; "
            "only its last user message is the question."
        ),
    )
    max_upload_bytes: int = Field(
        20_000_000, ge=1024, le=1_000_000_000, description="Largest document accepted by POST /documents."
    )
    rate_limit_storage: str = Field(
        "memory://",
        description=(
            "Where rate-limit counters live (a `limits` storage URI). memory:// counts per worker; "
            "redis://host:6379 shares one count between workers."
        ),
    )
    cors_origins: list[str] = Field(
        [], description="Origins allowed to call the API from a browser; none by default (closed)."
    )

    # Groups a document gets when `access.yaml` in the corpus root does not name it.
    default_groups: list[str] = Field(
        ["everyone"], min_length=1, description="Groups of documents that access.yaml does not name."
    )

    # Answering
    top_k: int = Field(5, ge=1, le=20, description="Passages retrieved when a request gives no top_k.")
    max_answer_sentences: int = Field(3, ge=1, le=10, description="Most sentences in an answer.")
    # The learned step (service/answering/learned_selection.py) scores spans with a model fitted by
    # `cited train answers`; formula is the scorer before it, kept for comparison (`cited bench answers`).
    answer_step: Literal["learned", "formula"] = Field(
        "learned", description="learned (fitted model, the default) or formula (the earlier scorer)."
    )
    # The formula step's cut. Measured, not guessed: `cited calibrate` on evals/data/dev_questions.jsonl
    # (40 answerable, 24 unanswerable) chose 0.563; reports/abstention-calibration.md has every score.
    abstain_threshold: float = Field(
        0.563,
        ge=-1.0,
        le=1.0,
        description=(
            "Best sentence score below which the formula step abstains. Measured with "
            "`cited calibrate` (see reports/abstention-calibration.md)."
        ),
    )

    # Generated answers. none: answers are quoted from the passages (the default). local: the
    # packaged SmolLM2-135M-Instruct, in-process (weak; it makes the whole path run anywhere).
    # openai: any OpenAI-compatible chat endpoint (vLLM, Ollama, llama.cpp server, LM Studio, ...).
    # Every generated sentence is verified against the passages it cites before anyone sees it.
    llm: Literal["none", "local", "openai"] = Field(
        "none", description="none (quoted answers), local (packaged SmolLM2) or openai (an endpoint)."
    )
    llm_base_url: str | None = Field(
        None, description="Base URL of the OpenAI-compatible API, ending in /v1 (CITED_LLM=openai)."
    )
    llm_model: str | None = Field(None, description="Model name sent to that endpoint.")
    llm_api_key: SecretStr | None = Field(None, description="Bearer key for that endpoint, if any.")
    llm_timeout_s: float = Field(60.0, gt=0, le=600, description="Seconds to wait for the endpoint.")
    llm_retries: int = Field(
        2, ge=0, le=10, description="Retries, with exponential backoff, on connection errors, 429 and 5xx."
    )
    llm_max_tokens: int = Field(256, ge=16, le=4096, description="Most tokens a generated answer may take.")
    llm_grammar_field: str | None = Field(
        None,
        description=(
            "With CITED_LLM=openai, the request field the server reads a GBNF grammar from, to hold "
            "the reply to marked sentences as the local model is: `grammar` for llama.cpp's server "
            "and llama-cpp-python's. Unset: the prompt alone asks for markers."
        ),
    )
    # Who decides that the passages do not answer. The verifier checks that each sentence is backed
    # by its passage, not that it answers the question: SmolLM2 answers unanswerable questions with
    # backed but beside-the-point sentences and never says NOT FOUND. `step` (the default) asks the
    # model only when the answer step (the one quoted answers use) finds an answer, so both modes
    # abstain alike; `model` leaves it to the model's own NOT FOUND, for a model that can be trusted.
    llm_abstain: Literal["step", "model"] = Field(
        "step",
        description=(
            "step: generate when the answer step finds an answer or the closest passages look "
            "relevant, never when nothing retrieved is about the question; model: always ask the "
            "model, which may reply NOT FOUND."
        ),
    )
    llm_threads: int | None = Field(
        None, ge=1, le=256, description="CPU threads of the local model (default: llama.cpp's choice)."
    )
    # The verifier's support check (cited/text/support.py): word coverage and MiniLM similarity of a
    # generated sentence to its cited passages. Chosen by `cited eval verifier` on
    # evals/data/support_pairs.jsonl: the fewest supported sentences withheld while 0.9 of the
    # unsupported ones are (similarity alone won); reports/verifier.md reports it on 60 sentences it
    # was never fitted on (0.90 of unsupported withheld, 0.33 of supported).
    verify_weight: float = Field(0.0, ge=0, le=1, description="Weight of word coverage in the support score.")
    verify_threshold: float = Field(
        0.65, ge=0, le=1, description="Support score below which a generated sentence is withheld."
    )

    # Evaluation: an optional second support judge, any OpenAI-compatible chat endpoint. Named as
    # the language model's settings are (CITED_JUDGE_BASE_URL like CITED_LLM_BASE_URL).
    judge_base_url: str | None = Field(
        None,
        validation_alias=AliasChoices("CITED_JUDGE_BASE_URL", "CITED_JUDGE_URL", "judge_base_url"),
        description=(
            "Base URL of an OpenAI-compatible API (ending in /v1), for `cited eval --judge chat`. "
            "CITED_JUDGE_URL, its earlier name, is still read."
        ),
    )
    judge_model: str | None = Field(None, description="Model name to send to that endpoint.")
    judge_api_key: SecretStr | None = Field(None, description="Bearer key for that endpoint, if any.")
    judge_timeout_s: float = Field(60.0, gt=0, le=600, description="Seconds to wait for the judge.")

    # Serving
    host: str = Field("127.0.0.1", description="Address `cited serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port `cited serve` listens on.")
    log_format: Literal["text", "json"] = Field(
        "text",
        description="`cited serve`'s log: text lines, or one JSON object per line; both carry request ids.",
    )
    # 8: on 2 cores one worker answers about 25 quoted questions a second, so an admitted answer
    # waits at most ~8 x 40 ms behind the others (`cited bench load`, reports/load-bench.md).
    max_in_flight: int = Field(
        8,
        ge=1,
        le=10_000,
        description=(
            "Answers (POST /ask, /v1/chat/completions) in progress at once per worker; past it, "
            "503 with Retry-After."
        ),
    )
    retry_after_s: int = Field(1, ge=1, le=3600, description="Retry-After of a 503 for too many answers.")
    # Above the language model's own timeout and retries for a generated answer; a quoted one
    # takes tens of milliseconds, so only a hung step ever reaches it.
    answer_timeout_s: float = Field(
        120.0, gt=0, le=3600, description="Seconds an answer (not streamed) may take before a 504."
    )
    ui: bool = Field(
        True, description="Serve the page at /ui; false serves the API alone (e.g. behind another front end)."
    )

    @field_validator("data_dir", "corpus_dir", "keys_file", "users_file", "oidc_group_map_file")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        """Fixed to the directory the process started in. Chroma's embedded client reopens its
        SQLite file by the path it was given whenever it recycles a connection (measured: between
        12 and 33 minutes after opening), so a relative path stops resolving once anything changes the working
        directory: every call then fails with "(code: 14) unable to open database file", and the
        keys and manifest, opened per transaction, would be read from the wrong place."""
        return None if value is None else value.expanduser().absolute()

    @field_validator("rate_limit")
    @classmethod
    def _rate_limit_parses(cls, value: str) -> str:
        from limits import parse

        try:
            parse(value)
        except ValueError:
            raise ValueError(
                f"{value!r} is not a rate limit; write it like '120/minute' or '10/second'"
            ) from None
        return value

    @model_validator(mode="after")
    def _llm_endpoint_named(self) -> "Settings":
        if self.llm == "openai" and not (self.llm_base_url and self.llm_model):
            raise ValueError(
                "CITED_LLM=openai needs CITED_LLM_BASE_URL (the /v1 base, e.g. http://127.0.0.1:11434/v1 "
                "for Ollama) and CITED_LLM_MODEL"
            )
        return self

    @model_validator(mode="after")
    def _oidc_complete(self) -> "Settings":
        named = [self.oidc_issuer, self.oidc_client_id, self.oidc_client_secret]
        if any(named) and not all(named):
            raise ValueError(
                "single sign-on needs all three of CITED_OIDC_ISSUER, CITED_OIDC_CLIENT_ID and "
                "CITED_OIDC_CLIENT_SECRET (docs/deploying.md)"
            )
        if self.sso and not self.auth:
            raise ValueError(
                "single sign-on (CITED_OIDC_ISSUER) needs CITED_AUTH=true: an open API would let anyone "
                "round the sign-in"
            )
        return self

    @property
    def sso(self) -> bool:
        """Single sign-on for the page (and provider tokens on the API)."""
        return self.oidc_issuer is not None

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def keys_path(self) -> Path:
        return self.keys_file or self.data_dir / "keys.sqlite"

    @property
    def users_path(self) -> Path:
        return self.users_file or self.data_dir / "users.sqlite"

    @property
    def manifest_path(self) -> Path:
        return self.data_dir / "manifest.sqlite"

    @property
    def feedback_path(self) -> Path:
        """Readers' ratings of answers on the page (``cited feedback export``)."""
        return self.data_dir / "feedback.sqlite"

    @property
    def lexical_dir(self) -> Path:
        return self.data_dir / "bm25"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings read from the environment once per process (the CLI's default)."""
    return Settings()
