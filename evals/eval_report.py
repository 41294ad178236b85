"""Writing an eval run: ``eval-<timestamp>.json`` (everything), a Markdown report for
people, and a PNG chart of the gated metrics against their thresholds."""

from __future__ import annotations

from pathlib import Path

from evals.gates import GATED, Shortfall
from evals.report_files import write_report
from evals.suite import QuestionResult

WORST = 3


def write_reports(run: dict[str, object], results: list[QuestionResult], reports: Path) -> dict[str, Path]:
    reports.mkdir(parents=True, exist_ok=True)
    stem = f"eval-{run['timestamp']}"
    paths = {
        "json": reports / f"{stem}.json",
        "markdown": reports / f"{stem}.md",
        "plot": reports / f"{stem}.png",
    }
    document = dict(run)
    document["questions"] = [r.as_dict() for r in results]
    _plot(run, paths["plot"])
    write_report(reports, stem, document, _markdown(run, results, paths["plot"].name))
    return paths


def _plot(run: dict[str, object], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display here; and never open a window from a CLI
    import matplotlib.pyplot as plt

    metrics: dict[str, float | None] = run["metrics"]  # type: ignore[assignment]
    thresholds: dict[str, float] = run["thresholds"]  # type: ignore[assignment]
    names = [n for n in GATED if metrics.get(n) is not None]
    values = [float(metrics[n]) for n in names]  # type: ignore[arg-type]
    failed = {s["metric"] for s in run["shortfalls"]}  # type: ignore[attr-defined]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(names) + 1.2), dpi=110)
    colours = ["#c0392b" if n in failed else "#2e7d32" for n in names]
    ax.barh(names, values, color=colours)
    for i, name in enumerate(names):
        if name in thresholds:
            ax.plot([thresholds[name]] * 2, [i - 0.4, i + 0.4], color="black", linewidth=2)
        ax.text(min(values[i] + 0.01, 0.93), i, f"{values[i]:.3f}", va="center", fontsize=8)
    ax.set_xlim(0, 1.0)
    ax.invert_yaxis()
    ax.set_xlabel("score (black tick: threshold; red: below it)")
    ax.set_title(f"cited eval, {run['timestamp']} ({run['questions']} questions)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _fmt(value: object) -> str:
    return "n/a" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def _markdown(run: dict[str, object], results: list[QuestionResult], plot: str) -> str:
    metrics: dict[str, float | None] = run["metrics"]  # type: ignore[assignment]
    thresholds: dict[str, float] = run["thresholds"]  # type: ignore[assignment]
    shortfalls: list[dict[str, object]] = run["shortfalls"]  # type: ignore[assignment]
    verdict = "PASS" if not shortfalls else f"FAIL ({len(shortfalls)} below threshold)"
    lines = [
        f"# Eval {run['timestamp']}: {verdict}",
        "",
        f"Command: `{run['command']}`",
        "",
        f"- target: {run['target']}",
        f"- questions: {run['questions']} ({run['answerable']} answerable), `{run['question_set']}`",
        f"- judge: {run['judge']}",
        f"- settings: {run['settings']}",
        "",
        f"![scores]({plot})",
        "",
        "| metric | value | threshold | |",
        "|---|---:|---:|---|",
    ]
    for name, value in metrics.items():
        minimum = thresholds.get(name)
        mark = "" if minimum is None else ("ok" if value is not None and value >= minimum else "**below**")
        shown = f"{value:.1f} ms" if name.endswith("_ms") and value is not None else _fmt(value)
        lines.append(f"| {name} | {shown} | {_fmt(minimum)} | {mark} |")
    columns = ("questions", "answered", "closest", "not_found", "precision", "useful", "fact_recall", "hit@1")
    lines += [
        "",
        "## By kind of question",
        "",
        "| kind | " + " | ".join(c.replace("_", " ") for c in columns) + " |",
    ]
    lines.append("|---|" + "---:|" * len(columns))
    for kind, row in run["by_kind"].items():  # type: ignore[attr-defined]
        cells = " | ".join(_fmt(row[c]) for c in columns)
        lines.append(f"| {kind} | {cells} |")
    follow_ups: dict[str, object] | None = run.get("follow_ups")  # type: ignore[assignment]
    if follow_ups:
        lines += ["", "## Follow-up questions", "", f"`{follow_ups['question_set']}`", ""]
        lines += ["| metric | value |", "|---|---:|"]
        lines += [f"| {k} | {_fmt(v)} |" for k, v in follow_ups["metrics"].items()]  # type: ignore[attr-defined]
        misses = follow_ups.get("misses") or []
        if misses:
            lines += ["", "Not useful or searched wrongly:", ""]
            lines += [f"- {m}" for m in misses]  # type: ignore[attr-defined]
    worst = sorted((r for r in results if r.severity > 0), key=lambda r: -r.severity)
    lines += ["", f"## Failures, worst first ({len(worst)} questions with any)", ""]
    for r in worst:
        problem = []
        if r.answerable and r.abstained:
            problem.append(
                f"{r.outcome} on an answerable question"
                + ("; the closest passages hold the facts" if r.useful else "")
            )
        if not r.answerable and not r.abstained:
            problem.append("answered an unanswerable question")
        if r.missing_facts and not r.abstained:
            problem.append(f"missing facts: {r.missing_facts}")
        if r.reciprocal_rank is not None and r.reciprocal_rank < 1:
            problem.append(f"expected document first retrieved at rank {_rank(r.reciprocal_rank)}")
        unsupported = [s.text for s in r.verdict.statements if not s.supported]
        if unsupported:
            problem.append(f"{len(unsupported)} statement(s) not supported by their citations")
        lines.append(f"- **{r.id}** ({r.kind}, severity {r.severity:.2f}) {r.question}")
        lines.append(f"  - {'; '.join(problem)}")
        if not r.abstained:
            lines.append(f"  - answer: {r.answer[:400]}")
    if shortfalls:
        lines += ["", "## Below threshold", ""]
        lines += [f"- {s['metric']}: {_fmt(s['value'])} < {s['threshold']}" for s in shortfalls]
    return "\n".join(lines) + "\n"


def _rank(rr: float) -> str:
    return "none" if rr == 0 else str(round(1 / rr))


def shortfall_rows(found: list[Shortfall]) -> list[dict[str, object]]:
    return [{"metric": s.metric, "value": s.value, "threshold": s.threshold} for s in found]
