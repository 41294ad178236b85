"""`cited eval` end to end on the real corpus, and the golden set's own integrity.

The in-process run is the regression gate of issue 4: it ingests corpus/ for real, asks every golden
question through the real service, judges every answer, and must clear evals/config.toml.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cited.models.embedding import Embedder
from evals.gates import GATED, ConfigError, load_config
from evals.judge_fitting import load_pairs
from evals.live_server import LiveServer
from evals.questions import GOLDEN_QUESTIONS, load
from ingest.cleaning import clean
from tests.conftest import CORPUS, ROOT, invoke_cited


def cleaned(source: str) -> str:
    return clean((CORPUS / source).read_text(encoding="utf-8")).text


def test_the_golden_set_covers_every_kind_and_its_answers_are_in_the_corpus() -> None:
    questions = load(GOLDEN_QUESTIONS)
    answerable = [q for q in questions if q.answerable]
    assert len(questions) >= 40 and len(questions) - len(answerable) >= 12
    assert {"direct", "paraphrase", "multi_passage", "conflicting", "terse"} <= {q.kind for q in answerable}
    assert len({q.id for q in questions}) == len(questions)
    for q in answerable:
        texts = [cleaned(d) for d in q.documents]
        for fact in q.facts:
            assert any(v.casefold() in t.casefold() for v in fact for t in texts), (q.id, fact)
        assert q.evidence and all(any(e in t for t in texts) for e in q.evidence), q.id
    assert all(len(q.documents) == 2 for q in answerable if q.kind == "conflicting")
    assert all(len(q.evidence) >= 2 for q in answerable if q.kind == "multi_passage")


def test_the_labelled_pairs_quote_the_corpus_verbatim() -> None:
    for pair in load_pairs():
        texts = [cleaned(s) for s in pair.sources]
        assert all(any(p in t for t in texts) for p in pair.passages), pair.id


def test_the_config_refuses_unknown_metrics_and_out_of_range_thresholds(tmp_path: Path) -> None:
    config = load_config()
    assert set(config.thresholds) == set(GATED)  # every gated metric has a measured threshold
    bad = tmp_path / "bad.toml"
    bad.write_text('[thresholds]\n"answer.facts" = 0.5\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown metric\(s\) \['answer.facts'\]"):
        load_config(bad)
    bad.write_text('[thresholds]\n"groundedness" = 7\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="must be a number from 0 to 1"):
        load_config(bad)


@pytest.mark.slow  # seconds on 2 cores: `make test` runs it, the quick loop does not
def test_cited_eval_in_process_clears_the_thresholds_and_writes_its_reports(tmp_path: Path) -> None:
    run = invoke_cited("eval", "--reports", str(tmp_path), cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    (report,) = tmp_path.glob("eval-*.json")
    document = json.loads(report.read_text(encoding="utf-8"))
    assert document["shortfalls"] == []
    assert set(GATED) <= set(document["metrics"])
    assert len(document["questions"]) == len(load(GOLDEN_QUESTIONS))
    assert report.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    markdown = report.with_suffix(".md").read_text(encoding="utf-8")
    assert "PASS" in markdown and f"![scores]({report.with_suffix('.png').name})" in markdown
    # Answers that were given are quoted from the corpus, so their citations must support them.
    assert document["metrics"]["citations.recall"] >= load_config().thresholds["citations.recall"]


@pytest.mark.slow  # serves the app over HTTP and runs the whole golden set through it
def test_cited_eval_over_http_fails_with_exit_1_when_a_metric_is_below_its_threshold(
    tmp_path: Path, served_corpus: Path
) -> None:
    from cited.settings import Settings

    strict = tmp_path / "strict.toml"
    strict.write_text(
        (ROOT / "evals" / "config.toml")
        .read_text(encoding="utf-8")
        .replace('"answer.fact_recall" = ', '"answer.fact_recall" = 1.0 #'),
        encoding="utf-8",
    )
    # The golden set and the follow-up set are over 120 questions, the default limit a minute.
    settings = Settings(
        data_dir=served_corpus / "data", corpus_dir=served_corpus / "corpus", rate_limit="100000/minute"
    )
    with LiveServer(settings) as server:
        run = invoke_cited(
            "eval", "--url", server.url, "--config", str(strict), "--reports", str(tmp_path), cwd=ROOT
        )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "BELOW THRESHOLD: answer.fact_recall" in run.stderr
    assert "Traceback" not in run.stderr
    (report,) = tmp_path.glob("eval-*.json")
    assert json.loads(report.read_text(encoding="utf-8"))["target"] == f"HTTP, {server.url}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--url", "http://127.0.0.1:9"], "cannot reach http://127.0.0.1:9/ask"),
        (["--judge", "oracle"], "--judge 'oracle': use overlap or chat"),
        (["--config", "nowhere.toml"], "no such config file"),
        (["--questions", "nowhere.jsonl"], "cannot read questions from nowhere.jsonl"),
    ],
)
def test_cited_eval_bad_input_exits_2_with_a_message(tmp_path: Path, args: list[str], message: str) -> None:
    run = invoke_cited("eval", *args, "--reports", str(tmp_path), cwd=ROOT)
    assert run.returncode == 2, run.stdout + run.stderr
    assert message in run.stderr and "Traceback" not in run.stderr


def test_the_chat_judge_without_an_endpoint_exits_2_naming_the_settings(tmp_path: Path) -> None:
    run = invoke_cited(
        "eval", "judge", "--judge", "chat", "--reports", str(tmp_path),
        cwd=ROOT, env={k: None for k in os.environ if k.startswith("CITED_JUDGE")},
    )  # fmt: skip
    assert run.returncode == 2
    assert "CITED_JUDGE_BASE_URL" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.slow  # waits out a real rate limit
def test_the_eval_over_http_waits_out_the_servers_rate_limit(served_corpus: Path, embedder: Embedder) -> None:
    from cited.settings import Settings
    from evals.suite import HttpTarget

    settings = Settings(
        data_dir=served_corpus / "data", corpus_dir=served_corpus / "corpus", rate_limit="2/second"
    )
    with LiveServer(settings, embedder=embedder) as server:
        target = HttpTarget(server.url)
        replies = [target.ask("Which platform hosted the online karaoke?", 5) for _ in range(5)]
    assert all("DingTalk" in r.answer for r in replies)  # none lost to a 429
