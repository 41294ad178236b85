"""The support judges: the deterministic one on its labelled set (real MiniLM), and the chat judge's
protocol against an OpenAI-compatible endpoint."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from cited.models.embedding import Embedder
from cited.text.features import names, negated, numbers
from evals.gates import load_config
from evals.judge import ChatJudge, Features, JudgeUnavailableError, OverlapJudge
from evals.judge_fitting import cross_validated, fit, load_pairs, score_verdicts
from evals.live_server import free_port

PASSAGE = (
    "On January 23rd, Alibaba CEO Daniel Jiang and Chief People Officer Judy Tong set up an "
    "emergency working group within 4 focus areas. The HR team couldn't go alone on this project."
)


@pytest.fixture(scope="module")
def judge(embedder: Embedder) -> OverlapJudge:
    return OverlapJudge(embedder.embed_cached, load_config().judge)


def test_numbers_names_and_negation_are_read_as_a_reader_would() -> None:
    assert numbers("On January 23rd, 4 areas and 100,000 viewers") == {"23", "4", "100000"}
    assert numbers("four focus areas, one of them") == {"4"}  # "one" is usually a pronoun
    assert names("Tencent CEO Wu Yongming spoke.") == {"Tencent", "CEO", "Wu", "Yongming"}
    assert names("The group's leader met Alibaba's board.") == {"Alibaba"}
    assert names("DingTalk hosted it.") == {"DingTalk"}
    assert negated("It isn’t enough") and negated("never again") and not negated("It is enough")


def test_hard_negatives_are_rejected_and_a_paraphrase_is_accepted(judge: OverlapJudge) -> None:
    assert judge.supports("An emergency working group was formed on January 23rd.", [PASSAGE])
    assert not judge.supports("An emergency working group was formed on January 25th.", [PASSAGE])
    assert not judge.supports("Alibaba CEO Wu Yongming set up an emergency working group.", [PASSAGE])
    assert not judge.supports("The working group had 6 focus areas.", [PASSAGE])
    assert not judge.supports("The HR team could go alone on this project.", [PASSAGE])


def test_a_claim_needing_two_passages_is_supported_only_by_both(judge: OverlapJudge) -> None:
    first = "Wu Yongming took the reins as CEO of Alibaba Group in 2023."
    second = "Wu said that creation must come before preservation."
    claim = "Wu Yongming, CEO since 2023, said that creation must come before preservation."
    assert judge.supports(claim, [first, second])
    assert not judge.supports(claim, [second])


def test_the_labelled_set_is_large_balanced_and_holds_hard_negatives() -> None:
    pairs = load_pairs()
    assert len(pairs) >= 100
    assert 0.4 <= sum(p.supported for p in pairs) / len(pairs) <= 0.6
    hard = {p.kind for p in pairs if not p.supported}
    assert {"wrong_number", "wrong_name", "role_swap", "contradiction"} <= hard
    assert len({p.id for p in pairs}) == len(pairs)


@pytest.mark.slow  # seconds on 2 cores: `make test` runs it, the quick loop does not
def test_the_overlap_judge_reaches_its_recorded_accuracy_on_the_labelled_set(judge: OverlapJudge) -> None:
    pairs = load_pairs()
    score = score_verdicts(pairs, [judge.supports(p.claim, p.passages) for p in pairs])
    assert score.accuracy >= load_config().judge_min_accuracy, score.wrong
    # Every number and name swap in the set is caught: those are the errors the gates exist for.
    assert score.by_kind["wrong_number"] == 1.0


def test_fit_finds_the_separating_threshold_and_cross_validation_holds_out_each_fold() -> None:
    def f(coverage: float, numbers_ok: bool = True) -> Features:
        return Features(coverage, coverage, numbers_ok, True, True)

    features = [f(0.9), f(0.8), f(0.7), f(0.3), f(0.2), f(0.1), f(0.95, numbers_ok=False)]
    labels = [True, True, True, False, False, False, False]
    params = fit(features, labels)
    assert 0.3 < params.threshold < 0.7
    assert all(
        (x.gates(True) and x.score(params.weight) >= params.threshold) == y
        for x, y in zip(features, labels, strict=True)
    )
    assert cross_validated(features, labels, folds=3) == 1.0  # a separable set stays separable


# --- the chat judge -------------------------------------------------------------------------------
#
# No OpenAI-compatible model server can run inside `make test`: the one packaged model here
# (SmolLM2 through llama-cpp-python) needs llama-cpp-python built from source, about 8.5 minutes on
# this machine, which alone would break the suite's time budget. So these tests run a small HTTP
# server on 127.0.0.1 that speaks the chat-completions protocol and answers from a script. They
# check what ChatJudge sends and how it reads replies; the judge's accuracy with a real model is
# measured separately (docs/evaluation.md, "Support judge").


class _Endpoint(BaseHTTPRequestHandler):
    replies: ClassVar[list[tuple[int, str]]] = []
    seen: ClassVar[list[tuple[str, dict[str, str], dict[str, object]]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append((self.path, dict(self.headers), body))
        status, content = type(self).replies.pop(0)
        payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]})
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload.encode())

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[str]:
    _Endpoint.replies, _Endpoint.seen = [], []
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Endpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_the_chat_judge_sends_claim_and_passages_and_reads_yes_and_no(endpoint: str) -> None:
    _Endpoint.replies = [(200, "Yes."), (200, " no, it does not"), (200, "Maybe")]
    judge = ChatJudge(endpoint, "judge-model", api_key="k-123")
    assert judge.supports("Sales rose.", ["Sales rose in May.", "Costs fell."]) is True
    assert judge.supports("Sales fell.", ["Sales rose in May."]) is False
    assert judge.supports("Sales fell.", ["Sales rose in May."]) is False
    assert judge.unparsed == 1 and judge.calls == 3

    path, headers, body = _Endpoint.seen[0]
    assert path == "/v1/chat/completions"
    assert {k.lower(): v for k, v in headers.items()}["authorization"] == "Bearer k-123"
    assert body["model"] == "judge-model" and body["temperature"] == 0
    prompt = body["messages"][-1]["content"]  # type: ignore[index]
    assert "Sales rose in May." in prompt and "Costs fell." in prompt and "Claim: Sales rose." in prompt


def test_the_chat_judge_names_the_endpoint_when_it_fails(endpoint: str) -> None:
    _Endpoint.replies = [(500, "boom")]
    with pytest.raises(JudgeUnavailableError, match=r"answered HTTP 500.*CITED_JUDGE_MODEL"):
        ChatJudge(endpoint, "m", retries=0).supports("a", ["b"])
    closed = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(JudgeUnavailableError, match=r"the judge \(openai .*\) cannot be reached.*_BASE_URL"):
        ChatJudge(closed, "m", timeout_s=5, retries=0).supports("a", ["b"])
