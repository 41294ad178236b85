"""Retrieval benchmark on a BEIR dataset: Cited's retrievers and the LlamaIndex peer, side by side.

One run: ingest the corpus through Cited's own ingest into a temporary store (and the peer's own
index beside it), then ask every test query of every system, the systems in rotating order per
query so machine noise falls on all of them alike. Reports nDCG@10, Recall@100, MRR@10 and the
median and p95 query latency. With ``--tune``, fusion weights are first searched on the *train*
queries (never the test ones) and the choice is reported.

Run: ``cited bench retrieval --dataset ../shared/benchmarks/scifact`` (``make bench``).
"""

from __future__ import annotations

import itertools
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path

from cited.models.embedding import configured_embedder
from cited.settings import Settings
from cited.store.chunk_store import open_store
from evals.benchmarks.beir import BeirDataset, load_beir
from evals.benchmarks.document_ranking import best_documents
from evals.benchmarks.peer import LlamaIndexPeer
from evals.metrics import evaluate, percentile
from evals.report_files import machine, machine_line, write_report
from ingest.sync import Ingestor
from service.answering.fusion import fuse
from service.answering.retrieval import Retriever

DOCUMENTS = 100  # ranked documents per query: Recall@100 needs 100
CHUNK_DEPTH = 300  # chunks ranked when tuning, to fill 100 distinct documents (about 2.2 chunks each)

PEER = "LlamaIndex VectorStoreIndex (peer)"
REPORTED_SETTINGS = (
    "retrieval", "multilingual", "fusion_bm25", "fusion_dense", "fusion_multilingual", "fusion_window",
    "candidates", "bm25_k1", "bm25_b", "chunk_size", "chunk_overlap",
)  # fmt: skip


@dataclass
class System:
    name: str
    rank: Callable[[str], list[str]]  # question -> document ids, best first


@dataclass
class Score:
    system: str
    ndcg_10: float
    recall_100: float
    mrr_10: float
    median_ms: float
    p95_ms: float


def collapse(sources: list[str], limit: int = DOCUMENTS) -> list[str]:
    """Documents in the order of their best chunk."""
    return list(dict.fromkeys(sources))[:limit]


def tune(retriever: Retriever, dataset: BeirDataset, source_of: dict[str, str]) -> dict[str, object]:
    """Grid-search fusion weights and window on the train queries; BM25's weight is fixed at 1."""
    lists = {q: retriever.candidates(text, CHUNK_DEPTH)[1] for q, text in dataset.queries.items()}
    grid_dense = [0.25, 0.5, 0.75, 1.0, 1.25]
    grid_multi = [0.0, 0.5, 0.75, 1.0, 1.25] if retriever.uses_multilingual else [0.0]
    trials = []
    for dense, multi, window in itertools.product(grid_dense, grid_multi, [50, 100, 200]):
        weights = {"bm25": 1.0, "dense": dense, "multilingual": multi}
        rankings = {
            q: collapse([source_of[i] for i, _ in fuse(per_query, weights, window)])
            for q, per_query in lists.items()
        }
        trials.append({"weights": weights, "window": window, **evaluate(dataset.qrels, rankings)})
    trials.sort(key=lambda t: -float(t["ndcg@10"]))  # type: ignore[arg-type]
    return {"split": "train", "queries": len(lists), "best": trials[0], "top": trials[:10]}


def run(
    dataset_path: Path,
    reports: Path,
    max_queries: int | None = None,
    max_docs: int | None = None,
    workdir: Path | None = None,
    do_tune: bool = False,
    settings: Settings | None = None,
) -> dict[str, object]:
    load_before = os.getloadavg()
    dataset = load_beir(dataset_path, "test", max_queries, max_docs)
    with ExitStack() as stack:
        root = workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cited-bench-")))
        base = (settings or Settings()).model_copy(update={"data_dir": root / "cited"})
        embedder = configured_embedder(base)
        store = open_store(base)

        ingestor = Ingestor(base, embedder, store)
        started = time.perf_counter()
        ingest = ingestor.sync(dataset.corpus, progress=True)
        ingest_seconds = time.perf_counter() - started
        if ingest.failed:
            raise RuntimeError(f"ingest failed for {len(ingest.failed)} documents: {ingest.failed[:3]}")

        peer = LlamaIndexPeer(root / "peer", DOCUMENTS)
        started = time.perf_counter()
        peer_built = peer.ingest(dataset.corpus)
        peer_seconds = time.perf_counter() - started
        # With --workdir, stores from an earlier run are reused: their ingest times mean nothing.
        reused = {"cited": ingest.chunks_written == 0 and bool(ingest.unchanged), "peer": not peer_built}

        retrievers = {
            mode: Retriever(
                base.model_copy(update={"retrieval": mode}),
                embedder,
                store,
                ingestor.lexical,  # brought up to date by the ingest itself
                ingestor.multilingual,
            )
            for mode in ("hybrid", "dense", "bm25")
        }
        tuning = None
        if do_tune:
            train = load_beir(dataset_path, "train", max_queries, max_docs)
            source_of = {chunk_id: str(meta["source"]) for chunk_id, meta in store.inventory()}
            tuning = tune(retrievers["hybrid"], train, source_of)

        def cited(mode: str) -> Callable[[str], list[str]]:
            retriever = retrievers[mode]
            return lambda q: [p.chunk.source for p in best_documents(retriever, q, DOCUMENTS).passages]

        systems = [
            System(
                "Cited default (hybrid)" if base.retrieval == "hybrid" else "Cited default", cited("hybrid")
            ),
            System("Cited dense-only", cited("dense")),
            System("Cited BM25-only", cited("bm25")),
            System(PEER, peer.documents),
        ]
        results = measure(systems, dataset)

    table = {
        "dataset": dataset.name,
        "split": "test",
        "documents": len(dataset.corpus),
        "queries": len(dataset.queries),
        "ingest_seconds": {"cited": round(ingest_seconds, 1), "peer": round(peer_seconds, 1)},
        "ingest_reused": reused,
        "cited_chunks": ingest.chunks_written,
        "settings": {name: getattr(base, name) for name in REPORTED_SETTINGS},
        "systems": [asdict(r) for r in results],
        "latency_ratio_default_vs_peer": round(results[0].median_ms / results[-1].median_ms, 2),
        **machine(load_before),
        "tuning": tuning,
    }
    write_reports(table, reports)
    return table


def measure(systems: list[System], dataset: BeirDataset) -> list[Score]:
    for system in systems:  # first calls load models and warm caches; not timed
        for question in list(dataset.queries.values())[:3]:
            system.rank(question)
    rankings: dict[str, dict[str, list[str]]] = {s.name: {} for s in systems}
    latencies: dict[str, list[float]] = {s.name: [] for s in systems}
    for turn, (qid, question) in enumerate(sorted(dataset.queries.items())):
        shift = turn % len(systems)
        for system in systems[shift:] + systems[:shift]:
            started = time.perf_counter()
            ranked = system.rank(question)
            latencies[system.name].append((time.perf_counter() - started) * 1000)
            rankings[system.name][qid] = ranked
    results = []
    for system in systems:
        metrics = evaluate(dataset.qrels, rankings[system.name])
        times = latencies[system.name]
        results.append(
            Score(
                system=system.name,
                ndcg_10=round(metrics["ndcg@10"], 4),
                recall_100=round(metrics["recall@100"], 4),
                mrr_10=round(metrics["mrr@10"], 4),
                median_ms=round(statistics.median(times), 1),
                p95_ms=round(percentile(times, 95), 1),
            )
        )
    return results


def write_reports(table: dict[str, object], reports: Path) -> None:
    reports.mkdir(parents=True, exist_ok=True)
    stem = f"retrieval-{table['dataset']}"
    ingest = table["ingest_seconds"]
    reused = table["ingest_reused"]
    assert isinstance(ingest, dict) and isinstance(reused, dict)
    lines = [
        f"# Retrieval on {table['dataset']} ({table['split']} split)",
        "",
        f"Command: `cited bench retrieval --dataset <path to {table['dataset']}>`"
        + (" --tune" if table.get("tuning") else ""),
        "",
        f"{table['documents']} documents, {table['queries']} queries. Ingest: Cited {ingest['cited']} s "
        f"({table['cited_chunks']} chunks), peer {ingest['peer']} s"
        f"{' (REUSED stores: these ingest times are not measurements)' if any(reused.values()) else ''}."
        f" {machine_line(table)}",
        "",
        "| system | nDCG@10 | Recall@100 | MRR@10 | median ms | p95 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in table["systems"]:  # type: ignore[attr-defined]
        lines.append(
            f"| {row['system']} | {row['ndcg_10']:.4f} | {row['recall_100']:.4f} | {row['mrr_10']:.4f} "
            f"| {row['median_ms']} | {row['p95_ms']} |"
        )
    lines += [
        "",
        "Median latency of Cited's default retrieval / the peer's: "
        f"{table['latency_ratio_default_vs_peer']}.",
        "Systems were asked in rotating order per query. Each returns its top "
        f"{DOCUMENTS} documents with a passage of each: Cited its best chunk per document (from up "
        f"to {3 * DOCUMENTS} ranked chunks), the peer its top {DOCUMENTS} nodes.",
        f"Settings: {table['settings']}",
    ]
    tuning = table.get("tuning")
    if isinstance(tuning, dict):
        lines += ["", f"## Fusion tuning on the train split ({tuning['queries']} queries)", "",
                  "| weights | window | nDCG@10 (train) |", "|---|---:|---:|"]  # fmt: skip
        for trial in tuning["top"]:
            lines.append(f"| {trial['weights']} | {trial['window']} | {trial['ndcg@10']:.4f} |")
    write_report(reports, stem, table, lines)
