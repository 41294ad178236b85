"""`cited bench …`: measurements, each written under --report-dir (default: <data dir>/reports)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cited.settings import get_settings
from cli.errors import CommandError
from cli.options import SQUAD2_DEV, ReportDirOption, SquadOption
from evals.inputs import kept_store, known_names, new_folder, require_beir

bench = typer.Typer(
    help="Benchmarks; reports go under --report-dir (default: <data dir>/reports).", no_args_is_help=True
)

SCIFACT = Path("../shared/benchmarks/scifact")
DatasetOption = Annotated[
    Path, typer.Option(help="A BEIR-format folder (corpus.jsonl, queries.jsonl, qrels/).")
]


@bench.command("ask")
def bench_ask(
    corpus: Annotated[Path | None, typer.Option(help="Corpus to ingest (default: CITED_CORPUS_DIR).")] = None,
    questions: Annotated[Path | None, typer.Option(help="Question set (JSONL).")] = None,
    rounds: Annotated[int, typer.Option(min=1, help="Times each question is asked.")] = 1,
    reports: ReportDirOption = None,
) -> None:
    """Latency of POST /ask over real HTTP, on a temporary store built from the corpus."""
    from evals import questions as question_sets
    from evals.benchmarks.ask_latency import measure
    from evals.workspace import ingested

    with ingested(corpus or get_settings().corpus_dir) as temporary:
        result = measure(
            temporary, question_sets.load(questions or question_sets.DEV_QUESTIONS), rounds, reports
        )
    typer.echo(json.dumps(result, indent=2))


@bench.command("history")
def bench_history(
    dataset: SquadOption = SQUAD2_DEV,
    max_questions: Annotated[
        int | None, typer.Option(min=2, help="Only the first N questions (default: every one).")
    ] = None,
    reports: ReportDirOption = None,
) -> None:
    """POST /ask with and without `history` over the SQuAD articles, the cache emptied before each."""
    from evals.answers_bench import chosen_questions
    from evals.benchmarks.history_latency import measure

    chosen = chosen_questions(dataset, [], max_questions)
    result = measure(dataset, chosen, get_settings(), reports)
    typer.echo(json.dumps(result, indent=2))


@bench.command("page")
def bench_page(
    corpus: Annotated[Path | None, typer.Option(help="Corpus to ingest (default: CITED_CORPUS_DIR).")] = None,
    questions: Annotated[Path | None, typer.Option(help="Question set (JSONL).")] = None,
    reports: ReportDirOption = None,
) -> None:
    """What a reader waits for on the page (headless Chromium) next to POST /ask, question by question."""
    from evals import questions as question_sets
    from evals.benchmarks.browser import ChromiumMissingError, require_chromium
    from evals.benchmarks.page_latency import measure
    from evals.workspace import ingested

    try:
        require_chromium()  # before the ingest, not a minute into it
        with ingested(corpus or get_settings().corpus_dir) as temporary:
            result = measure(temporary, question_sets.load(questions or question_sets.DEV_QUESTIONS), reports)
    except ChromiumMissingError as exc:
        raise CommandError(str(exc)) from exc
    typer.echo(json.dumps(result, indent=2))


@bench.command("load")
def bench_load(
    clients: Annotated[
        list[int], typer.Option(min=1, help="Concurrent clients; repeat for several runs.")
    ] = [32, 64],  # noqa: B006
    seconds: Annotated[float, typer.Option(min=1, help="How long each run lasts.")] = 60,
    corpus: Annotated[Path | None, typer.Option(help="Corpus to ingest (default: CITED_CORPUS_DIR).")] = None,
    questions: Annotated[Path | None, typer.Option(help="Question set (default: the dev questions).")] = None,
    store: Annotated[
        Path | None,
        typer.Option(
            help="Serve this kept data folder (`bench ingest --keep`) instead of ingesting a corpus."
        ),
    ] = None,
    dataset: Annotated[
        Path | None, typer.Option(help="Ask this BEIR dataset's test queries instead of a question set.")
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="`cited serve` workers; more than one needs CITED_CHROMA_HOST.")
    ] = 1,
    reports: ReportDirOption = None,
) -> None:
    """Clients asking at once for SECONDS against `cited serve` (rate limit raised for the run):
    answered per second, p50/p95/p99 of accepted answers, and every status."""
    from contextlib import nullcontext

    from evals import questions as question_sets
    from evals.benchmarks.beir import load_beir
    from evals.benchmarks.load_bench import measure, report
    from evals.workspace import ingested

    settings = get_settings()
    if workers > 1 and settings.chroma_host is None:
        raise CommandError(
            "several workers need a Chroma server: set CITED_CHROMA_HOST (docs/operations.md, 'Scaling out')"
        )
    if dataset is not None:
        require_beir(dataset)
        asked = list(load_beir(dataset, "test").queries.values())
    else:
        asked = [q.question for q in question_sets.load(questions or question_sets.DEV_QUESTIONS)]
    if store is not None and settings.chroma_host is None:
        kept_store(settings, store)
    served = store if store is not None else (corpus or settings.corpus_dir)
    with (
        nullcontext(settings.model_copy(update={"data_dir": store}))
        if store is not None
        else ingested(served)
    ) as serving:
        runs = [measure(serving, asked, n, seconds, workers) for n in clients]
    label = None if dataset is None else f"{dataset.name}-{workers}w"
    typer.echo(json.dumps(report(runs, served, reports, workers, label), indent=2))


@bench.command("generate")
def bench_generate(
    corpus: Annotated[Path | None, typer.Option(help="Corpus to ingest (default: CITED_CORPUS_DIR).")] = None,
    questions: Annotated[Path | None, typer.Option(help="Question set (default: the golden set).")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Answerable questions asked.")] = 12,
    reports: ReportDirOption = None,
) -> None:
    """Generated answers on the language model of CITED_LLM (local when none): time to the first
    verified sentence, pieces per second, withheld share, with quoted /ask in the same run."""
    from evals import questions as question_sets
    from evals.benchmarks.generation_bench import measure
    from evals.workspace import ingested

    loaded = [q for q in question_sets.load(questions or question_sets.GOLDEN_QUESTIONS) if q.answerable]
    with ingested(corpus or get_settings().corpus_dir) as temporary:
        settings = temporary.model_copy(update={"llm": get_settings().llm})
        result = measure(settings, loaded[:limit], reports)
    typer.echo(json.dumps(result, indent=2))


@bench.command("retrieval")
def bench_retrieval(
    dataset: DatasetOption = SCIFACT,
    max_queries: Annotated[int | None, typer.Option(min=1, help="Only the first N test queries.")] = None,
    max_docs: Annotated[
        int | None, typer.Option(min=1, help="Only their relevant documents plus others up to N.")
    ] = None,
    tune: Annotated[bool, typer.Option(help="First search fusion weights on the train queries.")] = False,
    workdir: Annotated[
        Path | None, typer.Option(help="Keep the stores here instead of a temporary folder.")
    ] = None,
    reports: ReportDirOption = None,
) -> None:
    """Cited (hybrid, dense, BM25) vs a plain LlamaIndex index: nDCG@10, Recall@100, MRR@10, latency."""
    from evals.benchmarks.retrieval_bench import run

    require_beir(dataset)
    table = run(dataset, reports, max_queries, max_docs, workdir, tune, get_settings())
    for row in table["systems"]:  # type: ignore[attr-defined]
        typer.echo(
            f"{row['system']:<36} nDCG@10 {row['ndcg_10']:.4f}  R@100 {row['recall_100']:.4f}  "
            f"MRR@10 {row['mrr_10']:.4f}  median {row['median_ms']} ms  p95 {row['p95_ms']} ms"
        )
    ratio = table["latency_ratio_default_vs_peer"]
    typer.echo(f"ingest seconds: {table['ingest_seconds']}; default/peer median latency: {ratio}")
    typer.echo(f"report: {reports}/retrieval-{table['dataset']}.md")


@bench.command("ingest")
def bench_ingest(
    dataset: DatasetOption = SCIFACT,
    slices: Annotated[int, typer.Option(min=1, max=50, help="Slices measured side by side.")] = 4,
    max_docs: Annotated[
        int | None, typer.Option(min=1, help="Only the first N documents (quick runs).")
    ] = None,
    build: Annotated[
        list[str] | None,
        typer.Option(help="Embedder builds to measure (default: minilm, the default build)."),
    ] = None,
    peer: Annotated[bool, typer.Option(help="Time the LlamaIndex peer on the same slices.")] = True,
    keep: Annotated[
        Path | None,
        typer.Option(help="Keep the stores in this new folder (for `bench load` and `bench auth`)."),
    ] = None,
    reports: ReportDirOption = None,
) -> None:
    """Whole-ingest time against the raw encoder and the LlamaIndex peer, on the whole corpus in one
    run, and each store's nDCG@10."""
    from evals.benchmarks.ingest_bench import BUILDS, run

    require_beir(dataset)
    known_names(build or [], BUILDS, "build")
    new_folder(keep)
    table = run(dataset, reports, slices, max_docs, tuple(build or ("minilm",)), get_settings(), peer, keep)
    typer.echo(json.dumps({k: v for k, v in table.items() if k not in ("builds", "peer")}, indent=2))
    for name, row in table["builds"].items():  # type: ignore[attr-defined]
        typer.echo(
            f"{name:<12} {row['precision']}: ingest {row['ingest_seconds']} s "
            f"({row['ingest_chunks_per_s']} chunks/s), "
            f"raw {row['raw_seconds']} s; ratio {row['ratio']} (had the encoders taken the same time: "
            f"{row['ratio_if_encoders_equal']}); nDCG@10 {row['ndcg_10']}"
        )
    if table["peer"] is not None:
        typer.echo(f"peer: {table['peer']['seconds']} s; Cited/peer wall: {table['wall_vs_peer']}")  # type: ignore[index]
    typer.echo(
        f"report: {reports}/ingest-{table['dataset']}{'' if max_docs is None else f'-{max_docs}docs'}.md"
    )


@bench.command("answers")
def bench_answers(
    dataset: SquadOption = SQUAD2_DEV,
    article: Annotated[
        list[str] | None, typer.Option(help="Only this article (repeatable; default: every one).")
    ] = None,
    max_questions: Annotated[
        int | None, typer.Option(min=1, help="Only the first N questions of those articles.")
    ] = None,
    corpus: Annotated[
        Path, typer.Option(help="The documents the dev questions are about (the learned step's other data).")
    ] = Path("corpus"),
    dev_questions: Annotated[
        Path, typer.Option(help="Dev questions the out-of-sample models also fit on.")
    ] = Path("evals/data/dev_questions.jsonl"),
    ingest_runs: Annotated[
        int, typer.Option(min=0, help="Ingests with and without span vectors, each (0: skip).")
    ] = 3,
    reports: ReportDirOption = None,
) -> None:
    """The learned answer step (out of sample) against the earlier formula, always answering and
    always abstaining, on SQuAD 2.0 questions with and without answers: per answer type, gold
    answers quoted, abstentions, overall, latency."""
    from evals.answer_training import fitting_questions
    from evals.answers_bench import SYSTEMS, chosen_questions, run

    chosen = chosen_questions(dataset, article or [], max_questions)
    fitted_on = fitting_questions(dev_questions, corpus)
    result = run(dataset, chosen, reports, get_settings(), corpus, fitted_on, ingest_runs)
    systems = result["systems"]
    assert isinstance(systems, dict)
    for system in SYSTEMS:
        row = systems[system]["all"]
        typer.echo(
            f"{system:<15} answerable with gold quoted {row['answered_with_gold_in_quote']}  "
            f"useful {row['answerable_useful']}  closest {row['closest']}  "
            f"unanswerable abstained {row['unanswerable_abstained']}  overall {row['overall']}"
        )
    typer.echo(
        f"latency ms: {result['latency_ms']}; report: {reports}/answers-{dataset.name.split('-')[0]}.md"
    )


@bench.command("auth")
def bench_auth(
    store: Annotated[
        Path, typer.Option(help="A kept data folder (`cited bench ingest --keep DIR`, then DIR/minilm).")
    ],
    dataset: DatasetOption = SCIFACT,
    max_queries: Annotated[int | None, typer.Option(min=1, help="Only the first N test queries.")] = None,
    reports: ReportDirOption = None,
) -> None:
    """POST /ask with auth off, on (as shipped) and on with the Chroma `where` filter, side by side."""
    from evals.benchmarks.auth_bench import measure
    from evals.benchmarks.beir import load_beir

    require_beir(dataset)
    settings = kept_store(get_settings(), store)
    asked = list(load_beir(dataset, "test", max_queries).queries.values())
    result = measure(settings, asked, reports)
    typer.echo(json.dumps(result, indent=2))


@bench.command("audit")
def bench_audit(
    corpus: Annotated[Path | None, typer.Option(help="Corpus to ingest (default: CITED_CORPUS_DIR).")] = None,
    questions: Annotated[Path | None, typer.Option(help="Question set (default: the dev questions).")] = None,
    rounds: Annotated[int, typer.Option(min=1, help="Times each question is asked of each server.")] = 10,
    reports: ReportDirOption = None,
) -> None:
    """POST /ask with CITED_AUDIT off, metadata and full, side by side: what the audit trail costs."""
    from evals import questions as question_sets
    from evals.benchmarks.audit_bench import measure
    from evals.workspace import ingested

    asked = [q.question for q in question_sets.load(questions or question_sets.DEV_QUESTIONS)]
    with ingested(corpus or get_settings().corpus_dir) as store:
        result = measure(store, asked, rounds, reports)
    typer.echo(json.dumps(result, indent=2))


@bench.command("machines")
def bench_machines(
    clients: Annotated[int, typer.Option(min=1, help="Concurrent clients, each with its own key.")] = 64,
    seconds: Annotated[float, typer.Option(min=1, help="How long the run lasts.")] = 60,
    corpus: Annotated[Path | None, typer.Option(help="Corpus to ingest (default: CITED_CORPUS_DIR).")] = None,
    questions: Annotated[Path | None, typer.Option(help="Question set (default: the dev questions).")] = None,
    reports: ReportDirOption = None,
) -> None:
    """Two `cited serve` machines sharing a Chroma server, PostgreSQL and Redis, under many clients
    (needs Debian's postgresql and redis-server)."""
    from evals import questions as question_sets
    from evals.benchmarks.two_machines_bench import measure
    from evals.local_services import ServiceMissingError

    asked = [q.question for q in question_sets.load(questions or question_sets.DEV_QUESTIONS)]
    try:
        result = measure((corpus or get_settings().corpus_dir).absolute(), asked, clients, seconds, reports)
    except ServiceMissingError as exc:
        raise CommandError(str(exc)) from exc
    typer.echo(json.dumps(result, indent=2))


@bench.command("documents")
def bench_documents(
    store: Annotated[
        Path, typer.Option(help="A kept data folder (`cited bench ingest --keep DIR`, then DIR/minilm).")
    ],
    reports: ReportDirOption = None,
) -> None:
    """Listing the documents: the document index against a scan of every chunk, side by side."""
    from evals.benchmarks.document_list_bench import measure

    settings = kept_store(get_settings(), store)
    try:
        result = measure(settings, reports)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    typer.echo(json.dumps(result, indent=2))


@bench.command("writes")
def bench_writes(
    store: Annotated[
        Path, typer.Option(help="A kept data folder (`cited bench ingest --keep DIR`, then DIR/minilm).")
    ],
    chunks: Annotated[int, typer.Option(min=1, help="How many of its chunks to write.")] = 4096,
    rounds: Annotated[int, typer.Option(min=1, help="Rounds; the layouts' order rotates.")] = 3,
    reports: ReportDirOption = None,
) -> None:
    """Writing chunks to Chroma: the packed record layout against the text as a Chroma document."""
    from evals.benchmarks.chunk_write_bench import measure

    settings = kept_store(get_settings(), store)
    try:
        result = measure(settings, reports, chunks, rounds)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    typer.echo(json.dumps(result, indent=2))


@bench.command("pdf")
def bench_pdf(
    reports: ReportDirOption = None,
) -> None:
    """PDF text extraction: the shipped reader (PDFium) against pypdf, on generated PDFs."""
    import tempfile

    from evals.benchmarks.pdf_bench import measure

    with tempfile.TemporaryDirectory() as folder:
        result = measure(Path(folder), reports)
    typer.echo(json.dumps(result, indent=2))


FINANCEBENCH_DEV = Path("../shared/benchmarks/financebench-dev")


@bench.command("filings")
def bench_filings(
    dataset: Annotated[
        Path,
        typer.Option(help="A FinanceBench slice: questions.jsonl and pdfs/ (financebench-dev/README.md)."),
    ] = FINANCEBENCH_DEV,
    parts: Annotated[
        str,
        typer.Option(
            help="Variants, comma-separated: 'everything on', 'no table rows', 'no OCR', "
            "'no document favouring'."
        ),
    ] = "everything on,no table rows,no OCR,no document favouring",
    label: Annotated[str, typer.Option(help="Added to the report's name (e.g. before).")] = "",
    reports: ReportDirOption = None,
) -> None:
    """Evidence retrieved @5/@10 and shown, outcomes and ingest time per page, over long filings in one
    store, with each part (tables, OCR, favouring the named document) switched off in turn."""
    from cli.options import split_list
    from evals.benchmarks.filings_bench import PARTS, measure
    from evals.financebench import DatasetError, load_questions

    try:
        questions = load_questions(dataset)
    except DatasetError as exc:
        raise CommandError(str(exc)) from exc
    variants = split_list(parts)
    known_names(variants, PARTS, "variant")
    result = measure(dataset, questions, get_settings(), reports, variants, label)
    summary = [{k: v for k, v in row.items() if k != "per_question"} for row in result["variants"]]  # type: ignore[union-attr]
    typer.echo(json.dumps(summary, indent=2))


@bench.command("ocr")
def bench_ocr(
    corpus: Annotated[
        Path | None, typer.Option(help="Text corpus to scan (default: CITED_CORPUS_DIR).")
    ] = None,
    reports: ReportDirOption = None,
) -> None:
    """Tesseract's seconds per scanned page and character error rate at several resolutions."""
    from evals.benchmarks.ocr_bench import measure
    from ingest.ocr import missing_reason

    if (reason := missing_reason("eng")) is not None:
        raise CommandError(reason)
    typer.echo(json.dumps(measure(corpus or get_settings().corpus_dir, reports), indent=2))


@bench.command("tokens")
def bench_tokens(
    scifact: Annotated[Path, typer.Option(help="A BEIR-format folder.")] = SCIFACT,
    filings: Annotated[Path, typer.Option(help="A FinanceBench slice (pdfs/).")] = FINANCEBENCH_DEV,
    reports: ReportDirOption = None,
) -> None:
    """What the encoder is given to read, by kind of token (own text, overlap, title, padding)."""
    from evals.benchmarks.beir import load_beir
    from evals.benchmarks.token_budget import budget, report
    from evals.financebench import filings as filing_paths
    from ingest.loading import FileSource

    require_beir(scifact)
    settings = get_settings()
    results = {
        scifact.name: budget(load_beir(scifact).corpus, settings),
        filings.name: budget([FileSource(p, p.parent) for p in filing_paths(filings)], settings),
    }
    report(results, reports)
    typer.echo(json.dumps(results, indent=2))
