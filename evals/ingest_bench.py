"""`cited bench ingest`: Cited's whole ingest against the raw encoder, on the same chunks.

The corpus (SciFact, read in place) is cut into slices. For each embedder build, each slice is
ingested into that build's store (read, clean, chunk, embed, write Chroma, publish; BM25 at the end
of each slice) and the same slice's chunk texts are encoded alone with ``embed``: batched
sentence-transformers ``encode`` for ``minilm``, onnxruntime for ``minilm-int8``. The two
measurements alternate which goes first from slice to slice, so drift in the machine's load
touches both; each slice gives one ratio and the report quotes their median.

Once every slice is in, each store holds the whole corpus, and the test queries measure what the
build costs in retrieval quality (nDCG@10, hybrid and dense).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from cited.chunks import Chunk
from cited.embedding import Embedder, make_embedder
from cited.settings import Settings
from cited.store import open_store
from evals.beir import BeirDocument, load_beir
from evals.document_ranking import best_documents
from evals.metrics import evaluate
from evals.retrieval_bench import DOCUMENTS
from ingest.sync import Ingestor
from service.answering.retrieval import Retriever

BUILDS = ("minilm", "minilm-int8")


def _chunk_texts(ingestor: Ingestor, items: list[BeirDocument]) -> list[str]:
    """The slice's chunks exactly as the ingest will make them (untimed)."""
    chunks: list[Chunk] = []
    for item in items:
        chunks.extend(ingestor.chunker.chunk(item.load(), ("everyone",)))
    return [c.indexed_text() for c in chunks]


def _time_raw(embedder: Embedder, texts: list[str]) -> float:
    started = time.perf_counter()
    embedder.embed(texts)
    return time.perf_counter() - started


def _time_ingest(ingestor: Ingestor, part: list[BeirDocument]) -> tuple[float, int]:
    started = time.perf_counter()
    # Scoped to the slice, so the slices before it stay in the store.
    report = ingestor.sync(part, only_sources={d.source for d in part})
    return time.perf_counter() - started, report.chunks_written


def run(
    dataset_path: Path,
    reports: Path,
    slices: int = 4,
    max_docs: int | None = None,
    builds: tuple[str, ...] = BUILDS,
    settings: Settings | None = None,
) -> dict[str, object]:
    load_before = os.getloadavg()
    dataset = load_beir(dataset_path, "test", None, max_docs)
    size = -(-len(dataset.corpus) // slices)
    parts = [dataset.corpus[i : i + size] for i in range(0, len(dataset.corpus), size)]
    results: dict[str, dict[str, object]] = {}
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cited-ingest-bench-")))
        for build in builds:
            base = (settings or Settings()).model_copy(update={"data_dir": root / build, "embedder": build})
            embedder = make_embedder(build, base.embed_batch_size)
            embedder.warm_up()
            ingestor = Ingestor(base, embedder, open_store(base))
            rows = []
            for number, part in enumerate(parts):
                texts = _chunk_texts(ingestor, part)

                if number % 2 == 0:
                    raw_s = _time_raw(embedder, texts)
                    ingest_s, written = _time_ingest(ingestor, part)
                else:
                    ingest_s, written = _time_ingest(ingestor, part)
                    raw_s = _time_raw(embedder, texts)
                if written != len(texts):
                    raise RuntimeError(
                        f"slice {number}: ingest wrote {written} chunks, expected {len(texts)}"
                    )
                rows.append(
                    {
                        "slice": number,
                        "documents": len(part),
                        "chunks": written,
                        "raw_seconds": round(raw_s, 2),
                        "ingest_seconds": round(ingest_s, 2),
                        "raw_chunks_per_s": round(written / raw_s, 2),
                        "ingest_chunks_per_s": round(written / ingest_s, 2),
                        "ratio": round(raw_s / ingest_s, 3),
                    }
                )
            retrievers = {
                mode: Retriever(
                    base.model_copy(update={"retrieval": mode}), embedder, ingestor.store, ingestor.lexical
                )
                for mode in ("hybrid", "dense")
            }
            quality = {
                mode: round(
                    evaluate(
                        dataset.qrels,
                        {
                            q: [p.chunk.source for p in best_documents(r, text, DOCUMENTS).passages]
                            for q, text in dataset.queries.items()
                        },
                    )["ndcg@10"],
                    4,
                )
                for mode, r in retrievers.items()
            }
            chunks = sum(int(r["chunks"]) for r in rows)  # type: ignore[call-overload]
            results[build] = {
                "slices": rows,
                "chunks": chunks,
                "median_ratio": round(statistics.median(float(r["ratio"]) for r in rows), 3),  # type: ignore[arg-type]
                "raw_chunks_per_s": round(chunks / sum(float(r["raw_seconds"]) for r in rows), 2),  # type: ignore[arg-type]
                "ingest_chunks_per_s": round(chunks / sum(float(r["ingest_seconds"]) for r in rows), 2),  # type: ignore[arg-type]
                "ndcg_10": quality,
            }
    table: dict[str, object] = {
        "dataset": dataset.name,
        "documents": len(dataset.corpus),
        "queries": len(dataset.queries),
        "builds": results,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    if "minilm" in results and "minilm-int8" in results:
        fp32, int8 = results["minilm"], results["minilm-int8"]
        table["int8_speedup"] = {
            "raw": round(float(int8["raw_chunks_per_s"]) / float(fp32["raw_chunks_per_s"]), 2),  # type: ignore[arg-type]
            "ingest": round(float(int8["ingest_chunks_per_s"]) / float(fp32["ingest_chunks_per_s"]), 2),  # type: ignore[arg-type]
        }
    write_reports(table, reports)
    return table


def write_reports(table: dict[str, object], reports: Path) -> None:
    reports.mkdir(parents=True, exist_ok=True)
    name = f"ingest-{table['dataset']}"
    (reports / f"{name}.json").write_text(json.dumps(table, indent=2) + "\n", encoding="utf-8")
    lines = [
        f"# Ingest throughput on {table['dataset']} ({table['documents']} documents)",
        "",
        "`cited bench ingest`: per slice, Cited's whole ingest (read, clean, chunk, embed, write, "
        "publish) and the raw encoder on the same chunks, alternating which runs first. Ratio = "
        "ingest chunks/s ÷ raw chunks/s; target ≥ 0.85.",
        "",
        "| build | chunks | raw chunks/s | ingest chunks/s | median ratio | nDCG@10 hybrid | nDCG@10 dense |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    builds: dict[str, dict[str, object]] = table["builds"]  # type: ignore[assignment]
    for build, row in builds.items():
        quality: dict[str, float] = row["ndcg_10"]  # type: ignore[assignment]
        lines.append(
            f"| {build} | {row['chunks']} | {row['raw_chunks_per_s']} | {row['ingest_chunks_per_s']} | "
            f"{row['median_ratio']} | {quality['hybrid']} | {quality['dense']} |"
        )
    lines += [
        "",
        "Per slice:",
        "",
        "| build | slice | chunks | raw s | ingest s | ratio |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for build, row in builds.items():
        for s in row["slices"]:  # type: ignore[attr-defined]
            cells = [build, s["slice"], s["chunks"], s["raw_seconds"], s["ingest_seconds"], s["ratio"]]
            lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    if "int8_speedup" in table:
        speed: dict[str, float] = table["int8_speedup"]  # type: ignore[assignment]
        lines += [
            "",
            f"int8 speed-up over fp32: raw encoder {speed['raw']}×, whole ingest {speed['ingest']}×.",
        ]
    lines += [
        "",
        f"Load average (1/5/15 min) before {table['load_average_before']}, after "
        f"{table['load_average_after']}; {table['cpus']} CPUs; Python {table['python']}.",
    ]
    (reports / f"{name}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
