"""The ``cited`` command line. Heavy libraries are imported inside commands so ``--help`` is instant."""

from __future__ import annotations

import ipaddress
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

import cited  # noqa: F401  (sets the offline environment before anything else loads)
from cited.settings import Settings, get_settings

if TYPE_CHECKING:
    from evals.gates import EvalConfig

app = typer.Typer(
    name="cited",
    help="Cited: answers over your documents, every claim backed by the passage it came from.",
    no_args_is_help=True,
    add_completion=False,
)


def _settings(data_dir: Path | None) -> Settings:
    settings = get_settings()
    return settings.model_copy(update={"data_dir": data_dir}) if data_dir else settings


DataDirOption = Annotated[
    Path | None, typer.Option("--data-dir", help="Store directory (default: CITED_DATA_DIR or ./data).")
]


@app.command()
def ingest(
    path: Annotated[
        Path | None, typer.Argument(help="Folder of documents (default: CITED_CORPUS_DIR or ./corpus).")
    ] = None,
    data_dir: DataDirOption = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar while embedding.")] = True,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only print what would change; write nothing.")
    ] = False,
) -> None:
    """Make the index equal to a folder: new files added, changed replaced, removed dropped.

    Safe to interrupt: run it again and it finishes the job (nothing duplicated, nothing lost).
    Exits 1 when any file could not be read (the rest is still ingested), 2 on a bad folder or
    store.
    """
    from cited.embedding import make_embedder
    from cited.store import StoreBusyError, StoreUnavailableError, ensure_not_served, open_store
    from ingest.sync import IngestError, Ingestor

    settings = _settings(data_dir)
    root = path or settings.corpus_dir
    try:
        store = open_store(settings)
        if not dry_run:
            ensure_not_served(store)
        ingestor = Ingestor(settings, make_embedder(settings.embedder, settings.embed_batch_size), store)
        report = ingestor.run(root, progress=progress and not dry_run, dry_run=dry_run)
    except StoreBusyError as exc:
        typer.secho(
            f"error: {exc} To change its documents while it serves, upload or delete them over HTTP "
            "(POST /documents, DELETE /documents/{id}).",
            fg="red",
            err=True,
        )
        raise typer.Exit(2) from exc
    except (IngestError, StoreUnavailableError) as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc

    would = "would be " if dry_run else ""
    if report.recovered_chunks:
        typer.echo(f"recovered: deleted {report.recovered_chunks} chunks an interrupted ingest left hidden")
    for label, items in [
        ("added", report.added),
        ("replaced", report.replaced),
        ("re-indexed (settings changed)", report.reindexed),
        ("removed", report.removed),
    ]:
        for source in items:
            typer.echo(f"{would}{label}: {source}")
    for old, new in report.relocated:
        typer.echo(f"{would}renamed: {old} -> {new}")
    for source, original in report.duplicates:
        typer.echo(f"skipped: {source} (same content as {original})")
    for source in report.unsupported:
        typer.echo(f"skipped: {source} (unsupported type; Cited reads .txt .md .html .pdf .docx)")
    for source, groups in report.regrouped:
        typer.echo(
            f"{'access would change' if dry_run else 'access changed'}: {source} -> {', '.join(groups)}"
        )
    for source, reason in report.failed:
        typer.secho(f"FAILED: {source}: {reason}", fg="red", err=True)
    if dry_run:
        typer.echo(
            f"dry run: {len(report.added)} to add, {len(report.replaced) + len(report.reindexed)} to "
            f"replace, {len(report.removed)} to remove, {len(report.unchanged)} unchanged; nothing written"
        )
        return
    typer.echo(
        f"{len(report.added)} added, {len(report.replaced)} replaced, {len(report.removed)} removed, "
        f"{len(report.unchanged)} unchanged, {len(report.failed)} failed; "
        f"{report.chunks_written} chunks embedded in {report.seconds:.1f} s"
    )
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default: CITED_HOST or 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: CITED_PORT or 8000).")] = None,
    data_dir: DataDirOption = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (more than 1 needs a Chroma server).")
    ] = 1,
) -> None:
    """Serve the API (/ask, /documents, /health, /docs) and the page (/ui)."""
    import os

    import uvicorn

    from service.app import create_app

    settings = _settings(data_dir)
    if workers > 1 and settings.chroma_host is None:
        typer.secho(
            "error: several workers cannot share the embedded store (each would keep its own copy of "
            "the vector index). Run a Chroma server (`chroma run --path DIR --port 8001`) and set "
            "CITED_CHROMA_HOST=127.0.0.1 (README, 'Scaling out').",
            fg="red",
            err=True,
        )
        raise typer.Exit(2)
    settings = settings.model_copy(update={"host": host or settings.host, "port": port or settings.port})
    if not _is_loopback(settings.host) and not settings.auth:
        typer.secho(
            f"error: refusing to serve on {settings.host} without authentication: anyone who can reach "
            "it would read every document. Set CITED_AUTH=true and create keys with `cited keys add` "
            "(and page users with `cited users add`), or bind to 127.0.0.1.",
            fg="red",
            err=True,
        )
        raise typer.Exit(2)
    typer.echo(f"Cited on http://{settings.host}:{settings.port}  (page: /ui, API docs: /docs)")
    if workers == 1:
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")
        return
    # Each worker process builds its own app from the environment, so the options go there.
    os.environ["CITED_DATA_DIR"] = str(settings.data_dir)
    uvicorn.run(
        "service.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_level="info",
    )


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in quotes.")],
    top_k: Annotated[int | None, typer.Option(min=1, max=20, help="Passages to retrieve.")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Answer one question from the command line and print the JSON the API would return."""
    from pydantic import ValidationError

    from service.answers import AnswerService, EmptyIndexError
    from service.schemas import AskRequest

    settings = _settings(data_dir)
    try:
        request = AskRequest(question=question, top_k=top_k or settings.top_k)
        response = AnswerService.from_settings(settings).ask(request)
    except ValidationError as exc:
        typer.secho(f"error: {exc.errors()[0]['msg']}", fg="red", err=True)
        raise typer.Exit(2) from exc
    except EmptyIndexError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc
    json.dump(response.model_dump(), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


bench = typer.Typer(help="Benchmarks; figures go under reports/.", no_args_is_help=True)

SCIFACT = Path("../shared/benchmarks/scifact")
DatasetOption = Annotated[
    Path, typer.Option(help="A BEIR-format folder (corpus.jsonl, queries.jsonl, qrels/).")
]


def _require_beir(dataset: Path) -> None:
    if not (dataset / "corpus.jsonl").is_file():
        typer.secho(f"error: {dataset} is not a BEIR dataset (no corpus.jsonl)", fg="red", err=True)
        raise typer.Exit(2)


app.add_typer(bench, name="bench")


@bench.command("ask")
def bench_ask(
    corpus: Annotated[Path | None, typer.Option(help="Corpus to ingest (default: CITED_CORPUS_DIR).")] = None,
    questions: Annotated[Path | None, typer.Option(help="Question set (JSONL).")] = None,
    rounds: Annotated[int, typer.Option(min=1, help="Times each question is asked.")] = 1,
    reports: Annotated[Path, typer.Option(help="Where the report goes.")] = Path("reports"),
) -> None:
    """Latency of POST /ask over real HTTP, on a temporary store built from the corpus."""
    from evals import questions as question_sets
    from evals.latency import measure
    from evals.workspace import ingested

    with ingested(corpus or get_settings().corpus_dir) as temporary:
        result = measure(
            temporary, question_sets.load(questions or question_sets.DEV_QUESTIONS), rounds, reports
        )
    typer.echo(json.dumps(result, indent=2))


@bench.command("page")
def bench_page(
    corpus: Annotated[Path | None, typer.Option(help="Corpus to ingest (default: CITED_CORPUS_DIR).")] = None,
    questions: Annotated[Path | None, typer.Option(help="Question set (JSONL).")] = None,
    reports: Annotated[Path, typer.Option(help="Where the report goes.")] = Path("reports"),
) -> None:
    """What a reader waits for on the page (headless Chromium) next to POST /ask, question by question."""
    from evals import questions as question_sets
    from evals.browser import ChromiumMissingError, require_chromium
    from evals.page_latency import measure
    from evals.workspace import ingested

    try:
        require_chromium()  # before the ingest, not a minute into it
        with ingested(corpus or get_settings().corpus_dir) as temporary:
            result = measure(temporary, question_sets.load(questions or question_sets.DEV_QUESTIONS), reports)
    except ChromiumMissingError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc
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
    reports: Annotated[Path, typer.Option(help="Where the report goes.")] = Path("reports"),
) -> None:
    """Cited (hybrid, dense, BM25) vs a plain LlamaIndex index: nDCG@10, Recall@100, MRR@10, latency."""
    from evals.retrieval_bench import run

    _require_beir(dataset)
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
        list[str] | None, typer.Option(help="Embedder builds to measure (default: minilm and minilm-int8).")
    ] = None,
    reports: Annotated[Path, typer.Option(help="Where the report goes.")] = Path("reports"),
) -> None:
    """Whole-ingest throughput vs the raw encoder on the same chunks, per embedder build, and nDCG@10."""
    from evals.ingest_bench import BUILDS, run

    _require_beir(dataset)
    unknown = sorted(set(build or []) - set(BUILDS))
    if unknown:
        typer.secho(f"error: unknown build {unknown}; choose from {list(BUILDS)}", fg="red", err=True)
        raise typer.Exit(2)
    table = run(dataset, reports, slices, max_docs, tuple(build or BUILDS), get_settings())
    typer.echo(json.dumps({k: v for k, v in table.items() if k != "builds"}, indent=2))
    for name, row in table["builds"].items():  # type: ignore[attr-defined]
        typer.echo(
            f"{name:<12} raw {row['raw_chunks_per_s']} chunks/s  "
            f"ingest {row['ingest_chunks_per_s']} chunks/s  "
            f"median ratio {row['median_ratio']}  nDCG@10 {row['ndcg_10']}"
        )
    typer.echo(f"report: {reports}/ingest-{table['dataset']}.md")


@app.command()
def calibrate(
    corpus: Annotated[Path | None, typer.Option(help="Corpus to ingest (default: CITED_CORPUS_DIR).")] = None,
    questions: Annotated[Path | None, typer.Option(help="Question set (JSONL).")] = None,
    reports: Annotated[Path, typer.Option(help="Where the report goes.")] = Path("reports"),
) -> None:
    """Measure the abstention threshold on a question set, in a temporary store built from the corpus."""
    from evals import questions as question_sets
    from evals.abstention import calibrate as run_calibration
    from evals.workspace import ingested

    settings = get_settings()
    with ingested(corpus or settings.corpus_dir) as temporary:
        result = run_calibration(
            temporary, question_sets.load(questions or question_sets.DEV_QUESTIONS), reports
        )
    chosen = result["chosen"]
    assert isinstance(chosen, dict)
    typer.echo(
        f"threshold {chosen['threshold']:.3f}: balanced accuracy {chosen['balanced_accuracy']:.3f} "
        f"(leave-one-out {result['leave_one_out_balanced_accuracy']:.3f}); "
        f"{result['quality_at_chosen_threshold']}. Report: {reports / 'abstention-calibration.md'}"
    )


evaluate = typer.Typer(
    help="The golden-set eval: grounding, citations, abstention, retrieval; gated by evals/config.toml."
)
app.add_typer(evaluate, name="eval")

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="Gates and judge parameters (default: evals/config.toml)."),
]
JudgeOption = Annotated[
    str,
    typer.Option(
        "--judge", help="overlap (deterministic, the default) or chat (CITED_JUDGE_URL, CITED_JUDGE_MODEL)."
    ),
]


def _eval_config(path: Path | None) -> EvalConfig:
    from evals.gates import CONFIG, ConfigError, load_config

    try:
        return load_config(path or CONFIG)
    except ConfigError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc


def _judge_kind(value: str) -> Literal["overlap", "chat"]:
    if value not in ("overlap", "chat"):
        typer.secho(f"error: --judge {value!r}: use overlap or chat", fg="red", err=True)
        raise typer.Exit(2)
    return value  # type: ignore[return-value]


@evaluate.callback(invoke_without_command=True)
def eval_golden(
    ctx: typer.Context,
    url: Annotated[
        str | None,
        typer.Option(help="Ask a running server (http://127.0.0.1:8000) instead of in-process."),
    ] = None,
    questions: Annotated[Path | None, typer.Option(help="Question set (default: the golden set).")] = None,
    corpus: Annotated[
        Path | None, typer.Option(help="In-process: corpus to ingest (default: CITED_CORPUS_DIR).")
    ] = None,
    config: ConfigOption = None,
    judge: JudgeOption = "overlap",
    reports: Annotated[Path, typer.Option(help="Where the reports go.")] = Path("reports"),
    api_key: Annotated[
        str | None, typer.Option(envvar="CITED_EVAL_API_KEY", help="With --url on a server with auth on.")
    ] = None,
) -> None:
    """Run the golden set, write reports/eval-<timestamp>.{json,md,png}, exit 1 below a threshold.

    In-process (the default) it ingests the corpus into a temporary store; with --url it asks a
    running server over HTTP. Exits 2 on bad input (config, question file, unreachable server).
    """
    if ctx.invoked_subcommand is not None:
        return
    from evals import questions as question_sets
    from evals.evaluation import JudgeConfigError, run_evaluation
    from evals.judge import JudgeUnavailableError
    from evals.suite import TargetError

    eval_config = _eval_config(config)
    kind = _judge_kind(judge)
    question_set = questions or question_sets.GOLDEN_QUESTIONS
    try:
        loaded = question_sets.load(question_set)
    except (OSError, ValueError, TypeError) as exc:
        typer.secho(f"error: cannot read questions from {question_set}: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc
    try:
        outcome = run_evaluation(
            get_settings(), eval_config, loaded, question_set, reports, url, kind, corpus, api_key
        )
    except (TargetError, JudgeConfigError, JudgeUnavailableError) as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc
    metrics = outcome.run["metrics"]
    assert isinstance(metrics, dict)
    for name, value in metrics.items():
        minimum = eval_config.thresholds.get(name)
        gate = "" if minimum is None else f"  (threshold {minimum})"
        typer.echo(f"{name:<28} {'n/a' if value is None else value}{gate}")
    typer.echo(f"report: {outcome.paths['markdown']}")
    if outcome.shortfalls:
        for s in outcome.shortfalls:
            typer.secho(f"BELOW THRESHOLD: {s.metric} = {s.value} < {s.threshold}", fg="red", err=True)
        raise typer.Exit(1)


@evaluate.command("judge")
def eval_judge(
    config: ConfigOption = None,
    judge: JudgeOption = "overlap",
    reports: Annotated[Path, typer.Option(help="Where the report goes.")] = Path("reports"),
) -> None:
    """Accuracy of a support judge on the labelled pairs (evals/data/support_pairs.jsonl).

    Exits 1 when the overlap judge falls below [judge] min_accuracy in the config.
    """
    from evals.evaluation import JudgeConfigError
    from evals.judge import JudgeUnavailableError
    from evals.judge_calibration import calibrate_judge

    eval_config = _eval_config(config)
    kind = _judge_kind(judge)
    try:
        result = calibrate_judge(kind, get_settings(), eval_config, reports)
    except (JudgeConfigError, JudgeUnavailableError) as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc
    configured = result["configured"]
    assert isinstance(configured, dict)
    typer.echo(
        f"{kind} judge on {result['pairs']} pairs: accuracy {configured['accuracy']:.3f}, precision "
        f"{configured['precision']:.3f}, recall {configured['recall']:.3f}"
    )
    for name in ("fit_negation_on", "fit_negation_off"):
        fitted = result.get(name)
        if isinstance(fitted, dict):
            typer.echo(
                f"{name}: {fitted['params']} in-sample {fitted['in_sample_accuracy']:.3f}, "
                f"5-fold {fitted['cross_validated_accuracy']:.3f}"
            )
    typer.echo(f"report: {reports / f'judge-calibration-{kind}.md'}")
    if kind == "overlap" and configured["accuracy"] < eval_config.judge_min_accuracy:
        typer.secho(
            f"BELOW THRESHOLD: judge accuracy {configured['accuracy']:.3f} "
            f"< {eval_config.judge_min_accuracy}",
            fg="red",
            err=True,
        )
        raise typer.Exit(1)


keys_app = typer.Typer(help="API keys for the HTTP API (used when CITED_AUTH=true).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
users_app = typer.Typer(help="Page users for the /ui login (when CITED_AUTH=true).", no_args_is_help=True)
app.add_typer(users_app, name="users")


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


@keys_app.command("add")
def keys_add(
    name: Annotated[str, typer.Argument(help="Who or what the key is for, e.g. 'finance-dashboard'.")],
    groups: Annotated[str, typer.Option(help="Comma-separated groups whose documents it reads.")],
    scopes: Annotated[str, typer.Option(help="Comma-separated: ask, ingest, admin.")] = "ask",
    data_dir: DataDirOption = None,
) -> None:
    """Create a key. It is printed once; only its SHA-256 digest is stored."""
    from cited.keys import KeyRequestError, KeyStore

    store = KeyStore(_settings(data_dir).keys_path)
    try:
        record, secret = store.add(name, _split(groups), _split(scopes))
    except KeyRequestError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc
    typer.echo(secret)
    typer.secho(
        f"key {record.id} for {record.name}: groups {list(record.groups)}, scopes {list(record.scopes)}. "
        "Store it now: it cannot be shown again.",
        err=True,
    )


@keys_app.command("list")
def keys_list(data_dir: DataDirOption = None) -> None:
    """Every key's id, name, groups, scopes and state (never the key itself)."""
    from cited.keys import KeyStore

    for k in KeyStore(_settings(data_dir).keys_path).all():
        state = f"revoked {k.revoked}" if k.revoked else "active"
        typer.echo(f"{k.id}  {k.name}  groups={','.join(k.groups)}  scopes={','.join(k.scopes)}  {state}")


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The id from `cited keys list`.")],
    data_dir: DataDirOption = None,
) -> None:
    """Revoke a key; a running server refuses it from its next request."""
    from cited.keys import KeyRequestError, KeyStore

    try:
        record = KeyStore(_settings(data_dir).keys_path).revoke(key_id)
    except KeyRequestError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"revoked {record.id} ({record.name})")


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The login name.")],
    groups: Annotated[str, typer.Option(help="Comma-separated groups whose documents the user reads.")],
    password_stdin: Annotated[bool, typer.Option(help="Read the password from standard input.")] = False,
    can_upload: Annotated[
        bool, typer.Option("--can-upload", help="Let the user add and replace documents from the page.")
    ] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Create or replace a page user; the password is asked for (or read from stdin) and stored hashed."""
    from cited.users import UserRequestError, UserStore

    password = (
        sys.stdin.readline().rstrip("\n")
        if password_stdin
        else typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    )
    try:
        user = UserStore(_settings(data_dir).users_path).add(name, password, _split(groups), can_upload)
    except UserRequestError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"user {user.name}: groups {list(user.groups)}{' (can upload)' if user.can_upload else ''}")


@users_app.command("list")
def users_list(data_dir: DataDirOption = None) -> None:
    """Every page user and their groups."""
    from cited.users import UserStore

    for u in UserStore(_settings(data_dir).users_path).users():
        upload = "  can upload" if u.can_upload else ""
        typer.echo(f"{u.name}  groups={','.join(u.groups)}{upload}  created {u.created}")


@users_app.command("remove")
def users_remove(
    name: Annotated[str, typer.Argument(help="The login name.")], data_dir: DataDirOption = None
) -> None:
    """Remove a page user; their next question is refused."""
    from cited.users import UserRequestError, UserStore

    try:
        UserStore(_settings(data_dir).users_path).remove(name)
    except UserRequestError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"removed {name}")


feedback_app = typer.Typer(help="Readers' thumbs up/down from the page.", no_args_is_help=True)
app.add_typer(feedback_app, name="feedback")


@feedback_app.command("export")
def feedback_export(
    out: Annotated[
        Path | None, typer.Option("--out", help="JSONL file to write (default: standard output).")
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Write the thumbs-down answers as eval cases (the golden set's JSONL), to review and keep.

    Each line has the question and what the reader saw and wrote; fill in its documents, facts and
    evidence, then run it with `cited eval --questions FILE` or add it to evals/data/golden.jsonl.
    """
    from evals.feedback_cases import export, export_to
    from service.feedback import FeedbackStore

    store = FeedbackStore(_settings(data_dir).feedback_path)
    try:
        written = export_to(store, out) if out else export(store, sys.stdout)
    except OSError as exc:
        typer.secho(f"error: cannot write {out}: {exc.strerror or exc}", fg="red", err=True)
        raise typer.Exit(2) from exc
    liked = len(store.entries("up"))
    where = f" to {out}" if out else ""
    typer.secho(f"exported {written} thumbs-down case(s){where}; {liked} thumbs-up not exported", err=True)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main() -> None:
    app()


if __name__ == "__main__":
    main()
