"""``cited bench filings``: long public filings (FinanceBench), every filing in one store.

Each variant ingests all the filings into a fresh temporary store with the real ingest, then asks
every question in-process twice: with ``top_k`` 10 and the retrieved passages returned (evidence
retrieved @5 and @10), and as a reader would, with the default ``top_k`` (evidence shown: in the
answer's citations, or in the closest passages; and the outcome). The variants switch one part off
each (tables read as rows, OCR, favouring the document a question names) next to everything on, so
each part's share is read side by side from one run. A variant whose ingest settings equal an
earlier one's reuses that store instead of ingesting again.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cited.settings import Settings
from evals.financebench import EvidenceJudge, FilingQuestion, filings
from evals.report_files import machine, machine_line, write_report

# The parts a variant may switch off, as the settings that hold them; a setting this Cited lacks is
# left out (so the same bench measures a build from before the part existed).
PARTS: dict[str, dict[str, object]] = {
    "everything on": {},
    "no table rows": {"table_rows": False},
    "no OCR": {"ocr": "off"},
    "no document favouring": {"favour_named_documents": False},
}
# Settings that change what the ingest stores (a variant differing only in others reuses a store).
_INGEST_SETTINGS = ("table_rows", "ocr")


@dataclass
class VariantResult:
    name: str
    overrides: dict[str, object]
    pages: int
    chunks: int
    ingest_seconds: float
    step_seconds: dict[str, float]
    retrieved_at_5: float
    retrieved_at_10: float
    shown: float
    outcomes: dict[str, int]
    ask_ms_median: float
    per_question: list[dict[str, object]]
    reused_store_of: str | None = None

    def row(self) -> dict[str, object]:
        return dict(vars(self))


def _supported(settings: Settings, overrides: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in overrides.items() if k in type(settings).model_fields}


def _page_count(paths: Sequence[Path]) -> int:
    import pypdfium2 as pdfium

    total = 0
    for path in paths:
        document = pdfium.PdfDocument(path)
        total += len(document)
        document.close()
    return total


@dataclass
class _Store:
    variant: str
    settings: Settings
    embedder: object
    seconds: float
    steps: dict[str, float]
    chunks: int
    ocr_pages: int


def _ingest(variant: str, folder: Path, corpus: Path, settings: Settings) -> _Store:
    from cited.models.embedding import configured_embedder
    from cited.store.chunk_store import open_store
    from ingest.loading import FileSource
    from ingest.sync import Ingestor

    store_settings = settings.model_copy(update={"data_dir": folder, "corpus_dir": corpus})
    embedder = configured_embedder(store_settings)
    started = time.perf_counter()
    report = Ingestor(store_settings, embedder, open_store(store_settings)).sync(
        [FileSource(path, corpus) for path in filings(corpus.parent)]
    )
    seconds = time.perf_counter() - started
    if not report.ok:
        raise RuntimeError(f"ingest of {corpus} failed: {report.failed}")
    steps = {k: round(v, 2) for k, v in report.step_seconds.items()}
    return _Store(variant, store_settings, embedder, seconds, steps, report.chunks_written, report.ocr_pages)


def _ask(service: object, questions: Sequence[FilingQuestion]) -> tuple[list[dict[str, object]], list[float]]:
    from service.answering.ask_schema import AskRequest

    rows: list[dict[str, object]] = []
    latencies: list[float] = []
    for q in questions:
        judge = EvidenceJudge(q)
        wide = service.ask(AskRequest(question=q.question, top_k=10, include_retrieved=True))  # type: ignore[attr-defined]
        retrieved = [(p.source, p.page, p.text) for p in wide.retrieved or []]
        started = time.perf_counter()
        reply = service.ask(AskRequest(question=q.question))  # type: ignore[attr-defined]
        latencies.append((time.perf_counter() - started) * 1000)
        shown = [(c.source, c.page, c.text) for c in reply.citations]
        hit_rank = next((i + 1 for i, p in enumerate(retrieved) if judge.holds(*p)), None)
        rows.append(
            {
                "id": q.id,
                "doc": q.doc,
                "evidence_rank": hit_rank,
                "shown": judge.any_of(shown),
                "outcome": reply.outcome,
                "top_sources": [Path(s).stem for s, _, _ in retrieved[:3]],
            }
        )
    return rows, latencies


def measure(
    dataset: Path,
    questions: Sequence[FilingQuestion],
    settings: Settings,
    reports: Path,
    variants: Sequence[str] = tuple(PARTS),
    label: str = "",
) -> dict[str, object]:
    load_before = os.getloadavg()
    paths = filings(dataset)
    pages = _page_count(paths)
    results: list[VariantResult] = []
    with tempfile.TemporaryDirectory(prefix="cited-filings-") as tmp:
        from service.answering.answer_service import AnswerService

        stores: dict[tuple[tuple[str, object], ...], _Store] = {}
        for index, name in enumerate(variants):
            overrides = _supported(settings, PARTS[name])
            variant_settings = settings.model_copy(update=overrides)
            key = tuple((k, getattr(variant_settings, k, None)) for k in _INGEST_SETTINGS)
            # OCR off changes nothing where no page needed it: that store is reused.
            same = next(
                (
                    other
                    for other, store in stores.items()
                    if store.ocr_pages == 0 and dict(other, ocr=None) == dict(key, ocr=None)
                ),
                key,
            )
            key = same
            reused = key in stores
            if not reused:
                stores[key] = _ingest(name, Path(tmp) / f"store-{index}", dataset / "pdfs", variant_settings)
            store = stores[key]
            service = AnswerService.from_settings(store.settings.model_copy(update=overrides), store.embedder)  # type: ignore[arg-type]
            service.warm_up()
            rows, latencies = _ask(service, questions)
            ranks = [r["evidence_rank"] for r in rows]
            outcomes = {o: sum(r["outcome"] == o for r in rows) for o in ("answered", "closest", "not_found")}
            results.append(
                VariantResult(
                    name=name,
                    overrides=overrides,
                    pages=pages,
                    chunks=store.chunks,
                    ingest_seconds=round(store.seconds, 1),
                    step_seconds=store.steps,
                    retrieved_at_5=round(sum(r is not None and r <= 5 for r in ranks) / len(rows), 3),
                    retrieved_at_10=round(sum(r is not None for r in ranks) / len(rows), 3),
                    shown=round(sum(bool(r["shown"]) for r in rows) / len(rows), 3),
                    outcomes=outcomes,
                    ask_ms_median=round(statistics.median(latencies), 1),
                    per_question=rows,
                    reused_store_of=store.variant if reused else None,
                )
            )
    result: dict[str, object] = {
        "dataset": dataset.name,
        "label": label,
        "filings": len(paths),
        "pages": pages,
        "questions": len(questions),
        "variants": [r.row() for r in results],
        **machine(load_before),
    }
    write_report(
        reports, f"filings-{dataset.name}{'-' + label if label else ''}", result, _markdown(result, results)
    )
    return result


_STEPS = ("text", "tables", "ocr", "chunking", "encoder")


def _per_page(seconds: float, pages: int) -> str:
    return f"{seconds / pages * 1000:.0f}"


def _markdown(result: dict[str, object], results: Sequence[VariantResult]) -> list[str]:
    lines = [
        f"# Long filings: {result['dataset']}, every filing in one store",
        "",
        f"Command: `cited bench filings --dataset …/{result['dataset']}` ({result['filings']} filings, "
        f"{result['pages']} pages, {result['questions']} questions; in-process, default settings but for "
        "the part switched off). Evidence: a passage on an evidence page of the question's filing, or "
        "sharing ≥ 40% of its word 5-grams with an evidence text (the dataset's README).",
        "",
        "| variant | evidence @5 | evidence @10 | evidence shown | answered | closest | not found "
        "| chunks | ingest s | ms/page: text | tables | OCR | chunking | encoder | /ask median ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        steps = r.step_seconds
        ingest = "same store as " + r.reused_store_of if r.reused_store_of else f"{r.ingest_seconds}"
        per_page = {step: _per_page(steps.get(step, 0.0), r.pages) for step in _STEPS}
        lines.append(
            f"| {r.name} | {r.retrieved_at_5} | {r.retrieved_at_10} | {r.shown} | {r.outcomes['answered']} "
            f"| {r.outcomes['closest']} | {r.outcomes['not_found']} | {r.chunks} | {ingest} "
            f"| {per_page['text'] if 'text' in steps else '(in chunking)'} | {per_page['tables']} "
            f"| {per_page['ocr']} | {per_page['chunking']} | {per_page['encoder']} | {r.ask_ms_median} |"
        )
    lines += [
        "",
        "Per question (everything on): rank of the first evidence passage in the top 10, shown, outcome.",
        "",
    ]
    lines += [
        "| question | filing | evidence rank | shown | outcome | top 3 retrieved from |",
        "|---|---|---:|---|---|---|",
    ]
    for row in results[0].per_question:
        lines.append(
            f"| {row['id']} | {row['doc']} | {row['evidence_rank'] or '—'} "
            f"| {'yes' if row['shown'] else 'no'} | {row['outcome']} "
            f"| {', '.join(str(s) for s in row['top_sources'])} |"
        )
    lines += ["", machine_line(result)]
    return lines
