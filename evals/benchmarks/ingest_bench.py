"""`cited bench ingest`: Cited's whole ingest against the raw encoder and against the peer, on the
whole corpus, in one run.

The corpus (SciFact, read in place) is cut into slices. For each slice, in an order that changes
from slice to slice (so drift in the machine's load touches all three), with the raw encoder and
the ingest always next to each other (their ratio is a target; the peer's 70 s between them added
its drift to it):

- Cited's whole ingest of the slice into its store (read, clean, chunk, embed, write Chroma,
  publish; BM25 at the end of each slice), scoped to the slice so earlier slices stay;
- the raw encoder on exactly the chunk texts that ingest writes (``Embedder.embed``, the same
  batches and precision);
- the peer, a plain LlamaIndex ``VectorStoreIndex`` over Chroma with the same MiniLM through
  ``HuggingFaceEmbedding`` (LlamaIndex's defaults: fp32, 1024-token chunks, truncated at MiniLM's
  256-token window), adding the slice to its collection.

Once every slice is in, each store holds the whole corpus, and the test queries measure what each
costs in retrieval quality (nDCG@10). Targets (issue 16): ingest ≥ 0.9 × the raw encoder's chunks/s,
and Cited's wall time ≤ 1.3 × the peer's. The stores can be kept (``--keep``) for ``cited bench load``
and ``cited bench auth`` at this scale. With ``CITED_CHROMA_HOST`` set, Cited writes to that server.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from pathlib import Path

from cited.models.embedding import Embedder, make_embedder
from cited.settings import Settings
from cited.store.chunk_store import open_store
from cited.store.chunks import Chunk
from evals.benchmarks.beir import BeirDataset, BeirDocument, load_beir
from evals.benchmarks.document_ranking import best_documents
from evals.benchmarks.peer import LlamaIndexPeer
from evals.benchmarks.retrieval_bench import DOCUMENTS
from evals.metrics import evaluate
from evals.report_files import machine, machine_line, write_report
from ingest.sync import Ingestor
from ingest.sync_plan import STEPS, IngestReport
from service.answering.retrieval import Retriever

BUILDS = ("minilm", "minilm-int8")
_WINDOW = 256  # MiniLM's window: what either system can embed of one text


def _chunk_texts(ingestor: Ingestor, items: list[BeirDocument]) -> list[str]:
    """The slice's chunks exactly as the ingest will make them (untimed)."""
    chunks: list[Chunk] = []
    for item in items:
        chunks.extend(ingestor.chunker.chunk(item.load(), ("everyone",)))
    return [c.indexed_text() for c in chunks]


def _tokens(embedder: Embedder, texts: list[str]) -> int:
    """Tokens the encoder runs over (special tokens included, cut at the window)."""
    return sum(min(len(embedder.tokenize(t)) + 2, _WINDOW) for t in texts)


def _ingest_slice(ingestor: Ingestor, part: list[BeirDocument], reports: list[IngestReport]) -> None:
    # Scoped to the slice, so the slices before it stay in the store.
    reports.append(ingestor.sync(part, only_sources={d.source for d in part}))


def _order(number: int, peer: bool) -> list[str]:
    """Slice ``number``'s steps: the raw encoder and the ingest always side by side, since their
    ratio is the target, each first in every other slice; the peer before them in slices 0, 1, 4,
    5..., after them in the others."""
    pair = ["raw", "ingest"] if number % 2 == 0 else ["ingest", "raw"]
    if not peer:
        return pair
    return ["peer", *pair] if number // 2 % 2 == 0 else [*pair, "peer"]


def _timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _ndcg(dataset: BeirDataset, ranked: Callable[[str], list[str]]) -> float:
    return round(
        evaluate(dataset.qrels, {q: ranked(text) for q, text in dataset.queries.items()})["ndcg@10"], 4
    )


def run(
    dataset_path: Path,
    reports: Path,
    slices: int = 4,
    max_docs: int | None = None,
    builds: tuple[str, ...] = ("minilm",),
    settings: Settings | None = None,
    peer: bool = True,
    keep: Path | None = None,
    max_queries: int | None = None,
) -> dict[str, object]:
    load_before = os.getloadavg()
    dataset = load_beir(dataset_path, "test", max_queries, max_docs)
    size = -(-len(dataset.corpus) // slices)
    parts = [dataset.corpus[i : i + size] for i in range(0, len(dataset.corpus), size)]
    base_settings = settings or Settings()
    results: dict[str, dict[str, object]] = {}
    peer_result: dict[str, object] | None = None
    with ExitStack() as stack:
        if keep is None:
            root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cited-ingest-bench-")))
        else:
            root = keep
            root.mkdir(parents=True, exist_ok=True)
        the_peer = LlamaIndexPeer(root / "peer", DOCUMENTS) if peer else None
        peer_rows: list[dict[str, object]] = []
        for n_build, build in enumerate(builds):
            base = base_settings.model_copy(update={"data_dir": root / build, "embedder": build})
            embedder = make_embedder(build, base.embed_batch_size, base.embed_precision)
            embedder.warm_up()
            ingestor = Ingestor(base, embedder, open_store(base))
            if ingestor.store.count():
                raise RuntimeError(
                    f"the {build} store under {root} is not empty; keep each run in a new folder"
                )
            rows = []
            for number, part in enumerate(parts):
                texts = _chunk_texts(ingestor, part)
                done: list[IngestReport] = []
                steps: dict[str, Callable[[], object]] = {
                    "raw": partial(embedder.embed, texts),
                    "ingest": partial(_ingest_slice, ingestor, part, done),
                }
                if the_peer is not None and n_build == 0:
                    steps["peer"] = partial(the_peer.add, part)
                order = _order(number, "peer" in steps)
                seconds = {name: _timed(steps[name]) for name in order}
                written = [report.chunks_written for report in done]
                if written != [len(texts)]:
                    raise RuntimeError(
                        f"slice {number}: ingest wrote {written} chunks, expected {len(texts)}"
                    )
                ingest_steps = {step: round(done[0].step_seconds[step], 2) for step in STEPS}
                rows.append(
                    {
                        "slice": number,
                        "documents": len(part),
                        "chunks": len(texts),
                        "tokens": _tokens(embedder, texts),
                        "order": order,
                        "raw_seconds": round(seconds["raw"], 2),
                        "ingest_seconds": round(seconds["ingest"], 2),
                        "ratio": round(seconds["raw"] / seconds["ingest"], 3),
                        # Where the ingest's time went (IngestReport.step_seconds): its encoder
                        # does the raw encoder's work, everything else is the ingest's own.
                        "ingest_steps": ingest_steps,
                    }
                )
                if "peer" in seconds:
                    peer_rows.append(
                        {
                            "slice": number,
                            "documents": len(part),
                            "seconds": round(seconds["peer"], 2),
                            "tokens": sum(
                                min(len(embedder.tokenize(f"{d.title}\n{d.text}")) + 2, _WINDOW) for d in part
                            ),
                        }
                    )
            retrievers = {
                mode: Retriever(
                    base.model_copy(update={"retrieval": mode}), embedder, ingestor.store, ingestor.lexical
                )
                for mode in ("hybrid", "dense")
            }
            quality = {
                mode: _ndcg(
                    dataset,
                    lambda text, r=r: [p.chunk.source for p in best_documents(r, text, DOCUMENTS).passages],
                )
                for mode, r in retrievers.items()
            }
            chunks = sum(int(r["chunks"]) for r in rows)  # type: ignore[call-overload]
            raw_s = sum(float(r["raw_seconds"]) for r in rows)  # type: ignore[arg-type]
            ingest_s = sum(float(r["ingest_seconds"]) for r in rows)  # type: ignore[arg-type]
            encoder_s = sum(float(r["ingest_steps"]["encoder"]) for r in rows)  # type: ignore[index]
            results[build] = {
                "precision": embedder.precision,
                "store": "chroma server" if base.chroma_host else "embedded",
                "slices": rows,
                "chunks": chunks,
                "tokens": sum(int(r["tokens"]) for r in rows),  # type: ignore[call-overload]
                "raw_seconds": round(raw_s, 1),
                "ingest_seconds": round(ingest_s, 1),
                "raw_chunks_per_s": round(chunks / raw_s, 2),
                "ingest_chunks_per_s": round(chunks / ingest_s, 2),
                "ratio": round(raw_s / ingest_s, 3),
                "median_ratio": round(statistics.median(float(r["ratio"]) for r in rows), 3),  # type: ignore[arg-type]
                "ingest_steps": {
                    step: round(sum(float(r["ingest_steps"][step]) for r in rows), 1)  # type: ignore[index]
                    for step in STEPS
                },
                "ingest_encoder_seconds": round(encoder_s, 1),
                "outside_encoder_seconds": round(ingest_s - encoder_s, 1),
                # The ratio had the ingest's encoder taken exactly the raw encoder's time: what the
                # ingest's own work allows, whatever the machine's drift.
                "ratio_if_encoders_equal": round(raw_s / (raw_s + ingest_s - encoder_s), 3),
                "ndcg_10": quality,
            }
        if the_peer is not None and peer_rows:
            peer_s = sum(float(r["seconds"]) for r in peer_rows)  # type: ignore[arg-type]
            peer_result = {
                "system": "LlamaIndex VectorStoreIndex, HuggingFaceEmbedding (fp32), embedded Chroma",
                "documents": len(dataset.corpus),
                "nodes": the_peer.collection.count(),
                "tokens": sum(int(r["tokens"]) for r in peer_rows),  # type: ignore[call-overload]
                "seconds": round(peer_s, 1),
                "slices": peer_rows,
                "ndcg_10": _ndcg(dataset, the_peer.documents),
            }
    table: dict[str, object] = {
        "dataset": dataset.name,
        "documents": len(dataset.corpus),
        "queries": len(dataset.queries),
        "slices": len(parts),
        "builds": results,
        "peer": peer_result,
        **machine(load_before),
    }
    if peer_result is not None:
        table["wall_vs_peer"] = {
            build: round(float(row["ingest_seconds"]) / float(peer_result["seconds"]), 3)  # type: ignore[arg-type]
            for build, row in results.items()
        }
    write_reports(table, reports, "" if max_docs is None else f"-{max_docs}docs")
    return table


def write_reports(table: dict[str, object], reports: Path, suffix: str = "") -> None:
    reports.mkdir(parents=True, exist_ok=True)
    name = f"ingest-{table['dataset']}{suffix}"
    builds: dict[str, dict[str, object]] = table["builds"]  # type: ignore[assignment]
    peer: dict[str, object] | None = table["peer"]  # type: ignore[assignment]
    lines = [
        f"# Ingest on {table['dataset']}: {table['documents']} documents, whole corpus",
        "",
        f"`cited bench ingest` ({table['slices']} slices; in each, Cited's whole ingest, the raw encoder on "
        "the same chunk texts side by side, each first in every other slice, and the peer before or "
        "after them). Targets: ingest ≥ 0.9 × "
        "the raw encoder's chunks/s; Cited's wall time ≤ 1.3 × the peer's.",
        "",
        "| system | precision | store | chunks | tokens embedded | seconds | chunks/s | nDCG@10 |",
        "|---|---|---|---:|---:|---:|---:|---|",
    ]
    for build, row in builds.items():
        quality: dict[str, float] = row["ndcg_10"]  # type: ignore[assignment]
        lines.append(
            f"| Cited `{build}`, whole ingest | {row['precision']} | {row['store']} | {row['chunks']} "
            f"| {row['tokens']} | {row['ingest_seconds']} | {row['ingest_chunks_per_s']} "
            f"| hybrid {quality['hybrid']}, dense {quality['dense']} |"
        )
        lines.append(
            f"| Cited `{build}`, raw encoder alone | {row['precision']} | none | {row['chunks']} "
            f"| {row['tokens']} | {row['raw_seconds']} | {row['raw_chunks_per_s']} | |"
        )
    if peer is not None:
        lines.append(
            f"| {peer['system']} (peer) | fp32 | embedded | {peer['nodes']} | {peer['tokens']} "
            f"| {peer['seconds']} | {round(int(peer['nodes']) / float(peer['seconds']), 2)} "  # type: ignore[call-overload, arg-type]
            f"| dense {peer['ndcg_10']} |"
        )
    lines.append("")
    for build, row in builds.items():
        lines.append(
            f"- `{build}`: whole ingest ÷ raw encoder = **{row['ratio']}** over the corpus "
            f"(median over slices {row['median_ratio']})."
        )
        steps: dict[str, float] = row["ingest_steps"]  # type: ignore[assignment]
        lines.append(
            f"- `{build}`: of the ingest's {row['ingest_seconds']} s, its encoder took "
            f"{row['ingest_encoder_seconds']} s (the raw encoder alone {row['raw_seconds']} s) and its own "
            f"work {row['outside_encoder_seconds']} s: chunking {steps['chunking']} s, writing "
            f"{steps['writing']} s, BM25 {steps['bm25']} s, the rest planning and publishing. Had its "
            f"encoder taken the raw encoder's time, the ratio would be **{row['ratio_if_encoders_equal']}**."
        )
    if "wall_vs_peer" in table:
        ratios: dict[str, float] = table["wall_vs_peer"]  # type: ignore[assignment]
        for build, ratio in ratios.items():
            lines.append(f"- `{build}`: Cited's wall time ÷ the peer's = **{ratio}**.")
    lines += [
        "",
        "Per slice (seconds):",
        "",
        "| build | slice | documents | chunks | order | raw | ingest | of it, encoder | ratio | peer |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    peer_slices = {int(r["slice"]): r["seconds"] for r in (peer or {}).get("slices", [])}  # type: ignore[attr-defined]
    for build, row in builds.items():
        for s in row["slices"]:  # type: ignore[attr-defined]
            cells = [
                build, s["slice"], s["documents"], s["chunks"], " → ".join(s["order"]),
                s["raw_seconds"], s["ingest_seconds"], s["ingest_steps"]["encoder"], s["ratio"],
                peer_slices.get(int(s["slice"]), ""),
            ]  # fmt: skip
            lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    lines += [
        "",
        machine_line(table),
    ]
    write_report(reports, name, table, lines)
