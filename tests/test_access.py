"""Only the right people see each document: groups declared beside the documents, filtered inside
retrieval, API keys with scopes. Real Chroma, real BM25, real uvicorn over HTTP."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest

from cited.access.keys import KeyStore
from cited.access.users import UserStore
from cited.database.engine import open_database
from cited.models.embedding import Embedder
from cited.settings import Settings
from cited.store.chunk_store import open_store
from cited.store.search_filter import EVERYTHING, SearchFilter
from cited.store.state import StoreState
from cited.text.sentences import split_sentences
from evals.live_server import LiveServer
from ingest.access import AccessPolicyError, load_policy
from ingest.cleaning import clean
from ingest.sync import IngestError, Ingestor
from service.answering.retrieval import Retriever
from tests.conftest import ROOT, invoke_cited
from tests.documents import BOARD_DOC, BOARD_TEXT, ingest_with_auth, write_corpus


def board_sentences() -> list[str]:
    """Every sentence of the restricted document, as the ingest cleans it."""
    text = clean(BOARD_TEXT).text
    return [s.text for s in split_sentences(text) if len(s.text.split()) >= 2]


# --- the declaration -------------------------------------------------------------------------------


def test_the_first_matching_pattern_decides_and_the_rest_get_the_default(tmp_path: Path) -> None:
    (tmp_path / "access.yaml").write_text(
        'default: [staff]\npaths:\n  "board/*": [board]\n  "hr/*.md": [hr, board]\n  "*.md": [staff, hr]\n',
        encoding="utf-8",
    )
    policy = load_policy(tmp_path, ["everyone"])
    assert policy.groups_for("board/plan.txt") == ("board",)
    assert policy.groups_for("hr/pay.md") == ("board", "hr")
    assert policy.groups_for("notes.md") == ("hr", "staff")
    assert policy.groups_for("notes.txt") == ("staff",)
    assert load_policy(tmp_path / "nowhere", ["everyone"]).groups_for("x.txt") == ("everyone",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("paths: [oops", "not valid YAML"),
        ("who: everyone\n", "expected only the keys 'default' and 'paths'"),
        ('paths:\n  "board/*": board\n', "give a non-empty list of group names"),
        ('paths:\n  "board/*": [Board Members]\n', "'Board Members' is not a group name"),
        ("default: []\n", "give a non-empty list"),
    ],
)
def test_a_bad_declaration_is_refused_naming_the_problem(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "access.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(AccessPolicyError, match=message):
        load_policy(tmp_path, ["everyone"])


def test_a_bad_declaration_stops_the_ingest_and_keeps_the_store(tmp_path: Path, embedder: Embedder) -> None:
    corpus = write_corpus(tmp_path)
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus)
    store = open_store(settings)
    Ingestor(settings, embedder, store).run(corpus)
    before = store.count()
    (corpus / "access.yaml").write_text("paths: [oops", encoding="utf-8")
    (corpus / BOARD_DOC).unlink()  # a removal that must not happen under a broken declaration
    with pytest.raises(IngestError, match="not valid YAML"):
        Ingestor(settings, embedder, store).run(corpus)
    assert store.count() == before


# --- groups in the store ---------------------------------------------------------------------------


def test_groups_are_stored_and_a_changed_declaration_relabels_without_reembedding(
    tmp_path: Path, embedder: Embedder
) -> None:
    corpus = write_corpus(tmp_path)
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus)
    ingestor = Ingestor(settings, embedder, open_store(settings))
    ingestor.run(corpus)
    docs = {d.source: d for d in ingestor.store.documents()}
    assert set(docs) == {BOARD_DOC, "Alibaba-CEO-Wu-Yongming-on-creation-over-preservation.txt",
                         "Alibaba-HR-3C-strategy-during-the-crisis.txt"}  # fmt: skip
    assert {d.source for d in ingestor.store.documents(frozenset({"everyone"}))} == set(docs) - {BOARD_DOC}
    assert {d.source for d in ingestor.store.documents(frozenset({"board"}))} == {BOARD_DOC}

    (corpus / "access.yaml").write_text('paths:\n  "board/*": [board, finance]\n', encoding="utf-8")
    report = ingestor.run(corpus)
    assert report.chunks_written == 0 and report.regrouped == [(BOARD_DOC, ("board", "finance"))]
    assert {d.source for d in ingestor.store.documents(frozenset({"finance"}))} == {BOARD_DOC}
    # BM25 follows the new labels as well.
    hits = ingestor.lexical.index.search("Lumenfield acquisition", 5, SearchFilter(frozenset({"finance"})))
    assert hits and all(ingestor.store.fetch([h.chunk_id])[h.chunk_id].source == BOARD_DOC for h in hits)
    assert (
        ingestor.lexical.index.search("Lumenfield acquisition", 5, SearchFilter(frozenset({"everyone"})))
        == []
    )


def test_a_copy_in_an_open_folder_makes_the_same_bytes_readable_to_both(
    tmp_path: Path, embedder: Embedder
) -> None:
    corpus = write_corpus(tmp_path)
    (corpus / "public-copy.txt").write_text(BOARD_TEXT, encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus)
    store = open_store(settings)
    Ingestor(settings, embedder, store).run(corpus)
    (board,) = [d for d in store.documents() if "Heron" in d.title]
    assert board.document_id in {d.document_id for d in store.documents(frozenset({"everyone"}))}


# --- over HTTP with auth on ------------------------------------------------------------------------


@dataclass
class Secured:
    server: LiveServer
    keys: KeyStore
    outsider: str
    insider: str
    ingest_only: str
    revoked: str


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    settings = ingest_with_auth(tmp_path_factory.mktemp("secured"))
    keys = KeyStore(open_database(settings))
    outsider = keys.add("staff-tool", ["everyone"], ["ask"])[1]
    insider = keys.add("board-tool", ["board"], ["ask"])[1]
    ingest_only = keys.add("uploader", ["everyone"], ["ingest"])[1]
    revoked_record, revoked = keys.add("old-tool", ["everyone", "board"], ["ask"])
    keys.revoke(revoked_record.id)
    with LiveServer(settings) as server:
        yield Secured(server, keys, outsider, insider, ingest_only, revoked)


def ask(secured: Secured, key: str, question: str) -> httpx.Response:
    with secured.server.client() as client:
        return client.post(
            "/ask",
            json={"question": question, "include_retrieved": True, "top_k": 10},
            headers={"Authorization": f"Bearer {key}"},
        )


def test_no_sentence_of_a_restricted_document_reaches_a_caller_outside_its_group(secured: Secured) -> None:
    sentences = board_sentences()
    assert len(sentences) >= 6
    miss = ask(secured, secured.outsider, "What is the capital of France?").json()
    leaked = []
    for sentence in sentences:
        response = ask(secured, secured.outsider, sentence)
        assert response.status_code == 200
        body = response.json()
        assert body.keys() == miss.keys()  # the same shape as any other answer
        sources = {c["source"] for c in body["citations"]} | {p["source"] for p in body["retrieved"]}
        text = body["answer"] + " ".join(p["text"] for p in body["retrieved"])
        if BOARD_DOC in sources or "Lumenfield" in text or "Heron" in text:
            leaked.append(sentence)
    assert leaked == []


def test_the_same_sentences_reach_a_caller_inside_the_group(secured: Secured) -> None:
    # Without this the test above could pass because the document was never indexed at all.
    found = 0
    for sentence in board_sentences():
        body = ask(secured, secured.insider, sentence).json()
        found += any(p["source"] == BOARD_DOC for p in body["retrieved"])
    assert found == len(board_sentences())


def test_documents_lists_only_what_the_key_may_read(secured: Secured) -> None:
    with secured.server.client() as client:
        outside = client.get("/documents", headers={"Authorization": f"Bearer {secured.outsider}"}).json()
        inside = client.get("/documents", headers={"Authorization": f"Bearer {secured.insider}"}).json()
    assert BOARD_DOC not in {d["source"] for d in outside["documents"]} and len(outside["documents"]) == 2
    assert [d["source"] for d in inside["documents"]] == [BOARD_DOC]


def test_choosing_a_document_outside_the_groups_is_refused_as_unknown(secured: Secured) -> None:
    with secured.server.client() as client:
        board = client.get("/documents", headers={"Authorization": f"Bearer {secured.insider}"}).json()
        board_id = board["documents"][0]["document_id"]
        asked = {"question": "What did the board approve?", "documents": [board_id]}
        outsider = client.post("/ask", json=asked, headers={"Authorization": f"Bearer {secured.outsider}"})
        insider = client.post("/ask", json=asked, headers={"Authorization": f"Bearer {secured.insider}"})
    # The same refusal as for an id that never existed: the outsider learns nothing about the board.
    assert outsider.status_code == 422 and outsider.json()["error"] == "unknown_documents"
    assert "Lumenfield" not in outsider.text and BOARD_DOC not in outsider.text
    assert insider.status_code == 200 and {c["source"] for c in insider.json()["citations"]} == {BOARD_DOC}


def test_group_search_over_fetches_unfiltered_and_falls_back_to_the_filter_for_a_narrow_scope(
    secured: Secured,
) -> None:
    """With auth on, dense search skips Chroma's slow ``where`` when over-fetching finds enough
    readable chunks, and a narrow scope (the board's one document) still gets every readable chunk:
    the same ranking as the filtered search, whichever way it was found."""
    answers = secured.server.components.answers
    store, lexical = answers.store, answers.retriever.lexical
    board_chunks = {i for i, m in store.inventory() if m["source"] == BOARD_DOC}
    assert 0 < len(board_chunks) < store.count() // 4
    # 2 x 4 candidates of a store holding many more: over-fetching sees a fraction of it.
    fast = Retriever(
        answers.settings.model_copy(update={"group_overfetch": 2}), answers.embedder, store, lexical
    )
    filtered = Retriever(
        answers.settings.model_copy(update={"group_overfetch": 0}), answers.embedder, store, lexical
    )
    queries: list[SearchFilter] = []
    real_nearest = store.nearest

    def recorded(
        vector: np.ndarray, k: int, multilingual: bool = False, search_filter: SearchFilter = EVERYTHING
    ):  # type: ignore[no-untyped-def]
        queries.append(search_filter)
        return real_nearest(vector, k, multilingual, search_filter)

    store.nearest = recorded  # type: ignore[method-assign]
    try:
        vector = answers.embedder.embed_query("What did the board approve for the Heron project?")
        state = store.state()
        assert lexical.generation == state.generation
        k = 4
        for groups in (frozenset({"everyone"}), frozenset({"everyone", "board"})):
            queries.clear()
            got = fast._nearest(vector, k, SearchFilter(groups), state)
            assert queries == [EVERYTHING]  # one unfiltered query, no `where`
            assert got == filtered._nearest(vector, k, SearchFilter(groups), state)
            assert len(got) == k

        # A question about another document: the board's chunks rank below the over-fetched ones.
        vector = answers.embedder.embed_query("How many vacation days do employees get?")
        queries.clear()
        narrow = SearchFilter(frozenset({"board"}))
        got = fast._nearest(vector, len(board_chunks), narrow, state)
        assert queries == [EVERYTHING, narrow]  # over-fetching fell short, so the filter ran
        assert {i for i, _ in got} == board_chunks
        assert got == filtered._nearest(vector, len(board_chunks), narrow, state)

        # An index behind the store's generation may hold old groups: the filter decides then.
        queries.clear()
        behind = StoreState(state.seq, state.generation + 1, state.hidden)
        fast._nearest(vector, k, SearchFilter(frozenset({"everyone"})), behind)
        assert queries == [SearchFilter(frozenset({"everyone"}))]
    finally:
        del store.nearest


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_key"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "missing_key"),
        ({"Authorization": "Bearer"}, "missing_key"),
        ({"Authorization": "Bearer not-a-key"}, "invalid_key"),
        ({"Authorization": "Bearer cited_deadbeef_forged-secret"}, "invalid_key"),
    ],
)
def test_missing_and_malformed_keys_get_401(secured: Secured, headers: dict[str, str], code: str) -> None:
    with secured.server.client() as client:
        for response in (
            client.post("/ask", json={"question": "Who is the CEO?"}, headers=headers),
            client.get("/documents", headers=headers),
        ):
            assert response.status_code == 401, response.text
            assert response.json()["error"] == code
            assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_revoked_key_gets_401_and_a_key_without_the_scope_gets_403(secured: Secured) -> None:
    revoked = ask(secured, secured.revoked, "Who is the CEO?")
    assert revoked.status_code == 401 and revoked.json()["error"] == "revoked_key"
    forbidden = ask(secured, secured.ingest_only, "Who is the CEO?")
    assert forbidden.status_code == 403 and forbidden.json()["error"] == "forbidden"
    assert "`ask` scope" in forbidden.json()["message"]


def test_a_key_revoked_while_the_server_runs_is_refused_at_once(secured: Secured) -> None:
    record, key = secured.keys.add("temporary", ["everyone"], ["ask"])
    assert ask(secured, key, "Who is the CEO?").status_code == 200
    secured.keys.revoke(record.id)
    assert ask(secured, key, "Who is the CEO?").status_code == 401


def test_metrics_need_a_key_with_the_admin_scope(secured: Secured) -> None:
    record, admin = secured.keys.add("prometheus", ["everyone"], ["admin"])
    with secured.server.client() as client:
        assert client.get("/metrics").status_code == 401
        refused = client.get("/metrics", headers={"Authorization": f"Bearer {secured.outsider}"})
        assert refused.status_code == 403 and "`admin` scope" in refused.json()["message"]
        scraped = client.get("/metrics", headers={"Authorization": f"Bearer {admin}"})
        assert scraped.status_code == 200 and "cited_requests_total" in scraped.text
    secured.keys.revoke(record.id)


def test_health_does_not_count_the_corpus_for_strangers(secured: Secured) -> None:
    with secured.server.client() as client:
        body = client.get("/health").json()
    assert body == {"status": "ready", "chunks": None}


# --- the command line ------------------------------------------------------------------------------


def test_keys_are_created_listed_and_revoked_and_only_digests_are_stored(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    made = invoke_cited(
        "keys",
        "add",
        "dashboard",
        "--groups",
        "finance,board",
        "--scopes",
        "ask",
        "--data-dir",
        data,
        cwd=ROOT,
    )
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert key.startswith("cited_") and "cannot be shown again" in made.stderr
    data_dir = tmp_path / "data"
    # The database and its write-ahead log.
    files = [f for f in (data_dir / "cited.sqlite", data_dir / "cited.sqlite-wal") if f.exists()]
    stored = b"".join(f.read_bytes() for f in files)
    assert (
        key.encode() not in stored and key.split("_", 2)[2].encode() not in stored
    )  # the secret may hold "_"
    assert hashlib.sha256(key.encode()).hexdigest().encode() in stored  # its digest is what is kept
    assert files and all(f.stat().st_mode & 0o077 == 0 for f in files)
    listed = invoke_cited("keys", "list", "--data-dir", data, cwd=ROOT).stdout
    key_id = key.split("_")[1]
    assert f"{key_id}  dashboard  groups=board,finance  scopes=ask  active" in listed
    assert invoke_cited("keys", "revoke", key_id, "--data-dir", data, cwd=ROOT).returncode == 0
    assert "revoked" in invoke_cited("keys", "list", "--data-dir", data, cwd=ROOT).stdout
    bad = invoke_cited(
        "keys", "add", "x", "--groups", "board", "--scopes", "root", "--data-dir", data, cwd=ROOT
    )
    assert bad.returncode == 2 and "choose from ['ask', 'ingest', 'admin']" in bad.stderr


def test_keys_and_users_kept_as_json_by_an_older_release_are_imported_once(tmp_path: Path) -> None:
    """An upgrade keeps every key and user: the JSON files become SQLite, nothing is lost."""
    data = tmp_path / "data"
    data.mkdir()
    key = "cited_0a1b2c3d_" + "s" * 43
    old_key = {
        "id": "0a1b2c3d", "name": "dashboard", "digest": hashlib.sha256(key.encode()).hexdigest(),
        "groups": ["board"], "scopes": ["ask"], "created": "2026-11-01T00:00:00+00:00", "revoked": None,
    }  # fmt: skip
    (data / "keys.json").write_text(json.dumps({"keys": [old_key]}), encoding="utf-8")
    (data / "users.json").write_text(json.dumps({"users": []}), encoding="utf-8")
    settings = Settings(data_dir=data)
    keys = KeyStore(open_database(settings))
    found = keys.verify(key)
    assert found is not None and found.groups == ("board",) and found.scopes == ("ask",)
    assert (data / "keys.json.imported").is_file() and not (data / "keys.json").exists()
    assert KeyStore(open_database(settings)).revoke("0a1b2c3d").revoked  # written to SQLite from now on
    assert [k.id for k in KeyStore(open_database(settings)).all()] == ["0a1b2c3d"]  # imported once only
    assert UserStore(open_database(settings)).users() == [] and (data / "users.json.imported").is_file()


def test_page_users_are_stored_hashed_and_short_passwords_refused(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    made = invoke_cited("users", "add", "mei", "--groups", "board", "--password-stdin", "--data-dir", data,
                 cwd=ROOT, stdin="correct horse battery\n")  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert b"correct horse" not in (tmp_path / "data" / "cited.sqlite").read_bytes()
    assert (tmp_path / "data" / "cited.sqlite").stat().st_mode & 0o077 == 0
    short = invoke_cited("users", "add", "li", "--groups", "board", "--password-stdin", "--data-dir", data,
                  cwd=ROOT, stdin="short\n")  # fmt: skip
    assert short.returncode == 2 and "at least 12 characters" in short.stderr
    assert "mei  groups=board" in invoke_cited("users", "list", "--data-dir", data, cwd=ROOT).stdout


def test_serving_beyond_loopback_without_auth_is_refused(tmp_path: Path) -> None:
    run = invoke_cited("serve", "--host", "0.0.0.0", "--port", "8999", "--data-dir", str(tmp_path), cwd=ROOT)
    assert run.returncode == 2
    assert "refusing to serve on 0.0.0.0 without authentication" in run.stderr
    assert "CITED_AUTH=true" in run.stderr


def test_single_sign_on_and_page_users_cannot_be_mixed_by_accident(tmp_path: Path) -> None:
    sso = {"oidc_issuer": "https://id.example.org", "oidc_client_id": "cited", "oidc_client_secret": "s"}
    with pytest.raises(ValueError, match="needs CITED_AUTH=true"):
        Settings(data_dir=tmp_path, **sso)
    with pytest.raises(ValueError, match="needs all three"):
        Settings(data_dir=tmp_path, auth=True, oidc_issuer="https://id.example.org")
    env = {
        "CITED_AUTH": "true", "CITED_OIDC_ISSUER": "https://id.example.org",
        "CITED_OIDC_CLIENT_ID": "cited", "CITED_OIDC_CLIENT_SECRET": "s",
    }  # fmt: skip
    added = invoke_cited(
        "users", "add", "bob", "--groups", "staff", "--password-stdin", "--data-dir", str(tmp_path),
        cwd=ROOT, env=env, stdin="a-long-enough-password\n",
    )  # fmt: skip
    assert added.returncode == 2 and "page users are not used with single sign-on" in added.stderr
    half = invoke_cited("keys", "list", "--data-dir", str(tmp_path), cwd=ROOT, env={"CITED_AUDIT": "maybe"})
    assert half.returncode == 2 and "CITED_AUDIT: Input should be 'off', 'metadata' or 'full'" in half.stderr
