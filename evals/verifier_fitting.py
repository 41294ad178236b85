"""``cited eval verifier``: choose the verifier's support threshold, and report how it withholds.

The verifier (``service/answering/verification.py``) shows a generated sentence only when it passes
the gates (markers, numbers, names, negation) and its support score reaches ``CITED_VERIFY_THRESHOLD``.
Its operating point is not the judge's (best accuracy): a shown unsupported sentence breaks the
product's promise, a withheld supported one only costs a quoted answer. So the weight and threshold
are chosen on ``evals/data/support_pairs.jsonl`` as those that withhold at least
``TARGET_WITHHELD_UNSUPPORTED`` of its unsupported sentences while withholding the fewest
supported ones (ties to the higher threshold). They are then reported, unchanged, on
``evals/data/verifier_sentences.jsonl``: 60 generated-looking sentences over ``corpus/`` that share
no claim with the pairs and are never fitted on, by kind (paraphrase, wrong number, swapped roles,
negation, added claim, outside knowledge, a true sentence cited to the wrong passage).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cited.models.embedding import Embedder
from cited.text.support import SupportParams
from evals.judge_fitting import SUPPORT_PAIRS, LabelledPair, load_pairs
from evals.report_files import write_report
from service.answering.model_prompt import GeneratedSentence
from service.answering.verification import Verifier

VERIFIER_SENTENCES = SUPPORT_PAIRS.parent / "verifier_sentences.jsonl"
TARGET_WITHHELD_UNSUPPORTED = 0.9  # issue 15: at least 0.9 of unsupported sentences withheld
WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
THRESHOLDS = tuple(round(x, 3) for x in np.arange(0.30, 0.951, 0.01))


@dataclass(frozen=True)
class Assessed:
    pair: LabelledPair
    gate: str | None  # the first gate it fails, or None
    score: float

    def shown(self, threshold: float) -> bool:
        return self.gate is None and self.score >= threshold


def assess(pairs: Sequence[LabelledPair], embedder: Embedder, weight: float) -> list[Assessed]:
    verifier = Verifier(embedder.embed_cached, SupportParams(weight, 0.0))
    assessed = []
    for pair in pairs:
        # As a model would write it: the claim citing every passage of the pair.
        markers = tuple(range(1, len(pair.passages) + 1))
        sentence = GeneratedSentence(pair.claim + "".join(f" [{n}]" for n in markers), pair.claim, markers)
        gate, score = verifier.assess(sentence, pair.passages)
        assessed.append(Assessed(pair, gate, score))
    return assessed


def rates(assessed: Sequence[Assessed], threshold: float) -> dict[str, float]:
    supported = [a for a in assessed if a.pair.supported]
    unsupported = [a for a in assessed if not a.pair.supported]
    return {
        "withheld_unsupported": _share(unsupported, lambda a: not a.shown(threshold)),
        "withheld_supported": _share(supported, lambda a: not a.shown(threshold)),
    }


def _share(items: Sequence[Assessed], test: Callable[[Assessed], bool]) -> float:
    return round(sum(test(a) for a in items) / len(items), 3) if items else float("nan")


def choose(by_weight: dict[float, list[Assessed]]) -> tuple[float, float]:
    best: tuple[float, float, float] | None = None  # (withheld supported, -threshold, weight)
    chosen = (WEIGHTS[0], THRESHOLDS[0])
    for weight, assessed in by_weight.items():
        for threshold in THRESHOLDS:
            r = rates(assessed, threshold)
            if r["withheld_unsupported"] < TARGET_WITHHELD_UNSUPPORTED:
                continue
            key = (r["withheld_supported"], -threshold, weight)
            if best is None or key < best:
                best, chosen = key, (weight, threshold)
    return chosen


def per_kind(assessed: Sequence[Assessed], threshold: float) -> list[dict[str, object]]:
    kinds: dict[tuple[str, bool], list[Assessed]] = defaultdict(list)
    for a in assessed:
        kinds[(a.pair.kind, a.pair.supported)].append(a)
    rows = []
    for (kind, supported), items in sorted(kinds.items(), key=lambda k: (not k[0][1], k[0][0])):
        withheld = [a for a in items if not a.shown(threshold)]
        reasons: dict[str, int] = defaultdict(int)
        for a in withheld:
            reasons["score" if a.gate is None else _gate_name(a.gate)] += 1
        rows.append(
            {"kind": kind, "supported": supported, "sentences": len(items),
             "withheld": round(len(withheld) / len(items), 3), "by": dict(reasons)}
        )  # fmt: skip
    return rows


def _gate_name(gate: str) -> str:
    for name in ("number", "name", "negated", "cites"):
        if name in gate:
            return name
    return gate


def calibrate_verifier(embedder: Embedder, reports: Path) -> dict[str, object]:
    fit_pairs = load_pairs(SUPPORT_PAIRS)
    held_out = load_pairs(VERIFIER_SENTENCES)
    assert not {p.claim for p in fit_pairs} & {p.claim for p in held_out}, "the sets share a claim"
    by_weight = {w: assess(fit_pairs, embedder, w) for w in WEIGHTS}
    weight, threshold = choose(by_weight)
    held = assess(held_out, embedder, weight)
    result: dict[str, object] = {
        "command": "cited eval verifier",
        "target_withheld_unsupported": TARGET_WITHHELD_UNSUPPORTED,
        "chosen": {"weight": weight, "threshold": threshold},
        "fitted_on": {
            "file": str(SUPPORT_PAIRS.name),
            "pairs": len(fit_pairs),
            **rates(by_weight[weight], threshold),
        },
        "held_out": {
            "file": str(VERIFIER_SENTENCES.name),
            "sentences": len(held_out),
            **rates(held, threshold),
        },
        "held_out_by_kind": per_kind(held, threshold),
    }
    reports.mkdir(parents=True, exist_ok=True)
    write_report(reports, "verifier", result, _markdown(result))
    return result


def _row(name: str, count: object, r: dict[str, object]) -> str:
    return f"| {name} | {count} | {r['withheld_unsupported']} | {r['withheld_supported']} |"


def _markdown(result: dict[str, object]) -> str:
    chosen, fit, held = result["chosen"], result["fitted_on"], result["held_out"]
    lines = [
        "# The verifier of generated sentences",
        "",
        "Command: `cited eval verifier`. Weight and threshold chosen on the labelled support pairs: the "
        f"fewest supported sentences withheld while at least {result['target_withheld_unsupported']} of "
        "unsupported ones are; then reported unchanged on sentences never fitted on.",
        "",
        f"Chosen: `CITED_VERIFY_WEIGHT={chosen['weight']}`, `CITED_VERIFY_THRESHOLD={chosen['threshold']}`."  # type: ignore[index]
        "",
        "",
        "| set | sentences | unsupported withheld | supported withheld |",
        "|---|---:|---:|---:|",
        _row(f"{fit['file']} (fitted on)", fit["pairs"], fit),  # type: ignore[index]
        _row(f"{held['file']} (held out)", held["sentences"], held),  # type: ignore[index]
        "",
        "Held out, by kind (`by`: the check that withheld them):",
        "",
        "| kind | supported | sentences | withheld | by |",
        "|---|---|---:|---:|---|",
    ]
    for row in result["held_out_by_kind"]:  # type: ignore[attr-defined]
        lines.append(
            f"| {row['kind']} | {row['supported']} | {row['sentences']} | {row['withheld']} | {row['by']} |"
        )
    return "\n".join(lines) + "\n"
