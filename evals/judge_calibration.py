"""``cited eval judge``: how often a support judge agrees with the labelled pairs.

The pairs (``evals/data/support_pairs.jsonl``) are claims about passages quoted verbatim from
``corpus/``, labelled by hand: verbatim and paraphrased claims that the passage supports, and hard
negatives that share its words (a wrong number, a wrong name, roles swapped, a contradiction, an
added detail) besides unrelated ones.

For the overlap judge the report gives the accuracy with the parameters in ``evals/config.toml``,
the parameters a fit on all pairs would choose, and the 5-fold cross-validated accuracy of that fit,
which is the honest estimate for claims it was not fitted on; with and without the negation gate.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

from cited.models.embedding import configured_embedder
from cited.settings import Settings
from evals.evaluation import JudgeKind, make_judge
from evals.gates import EvalConfig
from evals.judge import OverlapJudge
from evals.judge_fitting import SUPPORT_PAIRS, cross_validated, fit, load_pairs, score_verdicts
from evals.report_files import write_report


def calibrate_judge(
    kind: JudgeKind, settings: Settings, config: EvalConfig, reports: Path, pairs_path: Path = SUPPORT_PAIRS
) -> dict[str, object]:
    pairs = load_pairs(pairs_path)
    embedder = configured_embedder(settings)
    started = time.perf_counter()
    result: dict[str, object] = {"pairs_file": str(pairs_path), "pairs": len(pairs), "judge": kind}
    if kind == "overlap":
        judge = OverlapJudge(embedder.embed_cached, config.judge)
        features = [judge.features(p.claim, p.passages) for p in pairs]
        labels = [p.supported for p in pairs]
        configured = score_verdicts(pairs, [judge.decide(f) for f in features])
        result["configured"] = {"params": asdict(config.judge), **asdict(configured)}
        for negation in (True, False):
            fitted = fit(features, labels, negation)
            verdicts = [f.gates(negation) and f.score(fitted.weight) >= fitted.threshold for f in features]
            result[f"fit_negation_{'on' if negation else 'off'}"] = {
                "params": asdict(fitted),
                "in_sample_accuracy": round(score_verdicts(pairs, verdicts).accuracy, 4),
                "cross_validated_accuracy": round(cross_validated(features, labels, 5, negation), 4),
            }
    else:
        judge_ = make_judge(kind, settings, config, embedder)
        verdicts = [judge_.supports(p.claim, p.passages) for p in pairs]
        inner = getattr(judge_, "judge", judge_)
        result["configured"] = {
            "params": {"url": settings.judge_base_url, "model": settings.judge_model},
            **asdict(score_verdicts(pairs, verdicts)),
            "unparsed_replies": getattr(inner, "unparsed", 0),
        }
    result["seconds"] = round(time.perf_counter() - started, 1)
    reports.mkdir(parents=True, exist_ok=True)
    stem = f"judge-calibration-{kind}"
    write_report(reports, stem, result, _markdown(result, pairs_path))
    return result


def _markdown(result: dict[str, object], pairs_path: Path) -> str:
    configured: dict[str, object] = result["configured"]  # type: ignore[assignment]
    lines = [
        f"# Support judge `{result['judge']}` on the labelled pairs",
        "",
        f"Command: `cited eval judge --judge {result['judge']}` "
        f"({result['pairs']} pairs from `{pairs_path.name}`, {result['seconds']} s)",
        "",
        f"- parameters: {configured['params']}",
        f"- accuracy: **{configured['accuracy']:.3f}**",  # type: ignore[str-format]
        f'- precision of "supported": {configured["precision"]:.3f}; recall: {configured["recall"]:.3f}',  # type: ignore[str-format]
        f"- wrong: {configured['wrong']}",
    ]
    if "unparsed_replies" in configured:
        lines.append(f"- replies that were neither yes nor no: {configured['unparsed_replies']}")
    lines += ["", "| kind of pair | accuracy |", "|---|---:|"]
    lines += [f"| {k} | {v:.3f} |" for k, v in configured["by_kind"].items()]  # type: ignore[attr-defined]
    for negation in ("on", "off"):
        fitted = result.get(f"fit_negation_{negation}")
        if isinstance(fitted, dict):
            lines += [
                "",
                f"Fit on all pairs, negation gate {negation}: {fitted['params']}; in-sample accuracy "
                f"{fitted['in_sample_accuracy']:.3f}, 5-fold cross-validated "
                f"{fitted['cross_validated_accuracy']:.3f}.",
            ]
    return "\n".join(lines) + "\n"
