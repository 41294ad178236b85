"""Upload and delete over real HTTP: the same sync rules as `cited ingest`, hostile names, size and
type limits, scopes and groups."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cited.access.keys import KeyStore
from cited.database.engine import open_database
from cited.models.embedding import Embedder
from cited.settings import Settings
from cited.store.chunk_store import open_store
from evals.live_server import LiveServer
from ingest.sync import Ingestor
from tests.conftest import CEO_DOC, CORPUS, HR_DOC
from tests.documents import write_pdf

NOTE = (
    "Quarterly logistics note\n\n"
    "The Cainiao warehouse in Wuhan reopened on 14 March with 420 staff on site.\n\n"
    "Deliveries to Hubei hospitals were given priority over retail orders.\n"
)
QUESTION = "When did the Cainiao warehouse in Wuhan reopen?"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[tuple[LiveServer, Path]]:
    root = tmp_path_factory.mktemp("uploads")
    corpus = root / "corpus"
    shutil.copytree(CORPUS, corpus)
    settings = Settings(
        data_dir=root / "data", corpus_dir=corpus, rate_limit="100000/minute", max_upload_bytes=200_000
    )
    Ingestor(settings, embedder, open_store(settings)).run(corpus)
    with LiveServer(settings) as server:
        yield server, corpus


@pytest.fixture
def api(site: tuple[LiveServer, Path]) -> Iterator[httpx.Client]:
    with site[0].client() as client:
        yield client


def upload(
    api: httpx.Client, name: str, data: bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    return api.post("/documents", files={"file": (name, data)}, headers=headers or {})


def sources(api: httpx.Client) -> dict[str, str]:
    return {d["source"]: d["document_id"] for d in api.get("/documents").json()["documents"]}


def test_upload_is_answerable_at_once_and_its_file_is_in_the_corpus(
    api: httpx.Client, site: tuple[LiveServer, Path]
) -> None:
    response = upload(api, "logistics-note.txt", NOTE.encode())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "added" and body["source"] == "uploads/logistics-note.txt"
    assert body["chunks"] >= 1 and body["groups"] == ["everyone"]
    assert (site[1] / "uploads" / "logistics-note.txt").read_text(encoding="utf-8") == NOTE

    answer = api.post("/ask", json={"question": QUESTION}).json()
    assert "14 March" in answer["answer"]
    assert answer["citations"][0]["source"] == "uploads/logistics-note.txt"

    # The same bytes again change nothing; new bytes under the name replace the old version.
    again = upload(api, "logistics-note.txt", NOTE.encode()).json()
    assert again["status"] == "unchanged" and again["document_id"] == body["document_id"]
    revised = NOTE.replace("14 March", "21 March")
    replaced = upload(api, "logistics-note.txt", revised.encode()).json()
    assert replaced["status"] == "replaced" and replaced["document_id"] != body["document_id"]
    listed = sources(api)
    assert listed["uploads/logistics-note.txt"] == replaced["document_id"]
    assert body["document_id"] not in listed.values()
    answer = api.post("/ask", json={"question": QUESTION}).json()
    assert "21 March" in answer["answer"] and "14 March" not in answer["answer"]


def test_a_deck_upload_is_cited_by_slide_and_a_bad_deck_gets_422_naming_why(
    api: httpx.Client, tmp_path: Path
) -> None:
    from tests.documents import write_pptx

    deck = write_pptx(
        tmp_path / "warehouse-deck.pptx",
        [
            ("Wuhan logistics update", ["Cainiao kept its routes open during the lockdown."]),
            ("Warehouse reopening", ["The Qiaokou warehouse reopened on 9 April after disinfection."]),
        ],
    )
    response = upload(api, "warehouse-deck.pptx", deck.read_bytes())
    assert response.status_code == 201, response.text
    answer = api.post("/ask", json={"question": "When did the Qiaokou warehouse reopen?"}).json()
    cited = [c for c in answer["citations"] if c["source"] == "uploads/warehouse-deck.pptx"]
    assert cited and cited[0]["slide"] == 2 and cited[0]["page"] is None and cited[0]["ocr"] is False
    broken = upload(api, "broken-deck.pptx", b"PK\x03\x04 cut short")
    assert broken.status_code == 422 and "not a readable PPTX" in broken.json()["message"]


def test_an_upload_of_bytes_already_indexed_is_a_duplicate(api: httpx.Client) -> None:
    data = (CORPUS / CEO_DOC).read_bytes()
    response = upload(api, "copy-of-ceo.txt", data)
    assert response.status_code == 201
    assert response.json()["status"] == "duplicate" and response.json()["source"] == CEO_DOC
    assert list(sources(api)).count(CEO_DOC) == 1


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("../../../etc/cron.d/evil.txt", "evil.txt"),
        ("..\\..\\windows\\evil2.md", "evil2.md"),
        ("/absolute/path/evil3.txt", "evil3.txt"),
        ("con<>:|?*.txt", "con_.txt"),  # CON is a Windows device name
        ("战略 2026.md", "战略 2026.md"),
    ],
)
def test_hostile_file_names_land_inside_the_upload_folder(
    api: httpx.Client, site: tuple[LiveServer, Path], name: str, stored: str
) -> None:
    corpus = site[1]
    response = upload(api, name, f"Upload named {stored}\n\nThe note about {stored} is short.\n".encode())
    assert response.status_code == 201, response.text
    assert response.json()["source"] == f"uploads/{stored}"
    assert (corpus / "uploads" / stored).is_file()
    outside = [p for p in corpus.parent.rglob("evil*") if corpus / "uploads" not in p.parents]
    assert outside == []


@pytest.mark.parametrize(
    ("name", "status", "code", "hint"),
    [
        ("", 422, "invalid_request", "file"),  # no name: multipart sees no file at all
        ("../..", 422, "bad_file_name", "send a name like"),
        (".hidden.txt", 422, "bad_file_name", "send a name like"),
        ("access.yaml", 422, "bad_file_name", "rename"),
        ("payload.exe", 415, "unsupported_type", "send one of"),
        ("script.sh", 415, "unsupported_type", "send one of"),
    ],
)
def test_bad_names_and_types_are_refused_with_a_reason(
    api: httpx.Client, name: str, status: int, code: str, hint: str
) -> None:
    before = sources(api)
    response = upload(api, name, b"some text that would be indexed\n")
    assert response.status_code == status, response.text
    assert response.json()["error"] == code and hint in response.json()["message"]
    assert sources(api) == before


def test_unreadable_files_are_refused_and_keep_the_previous_version(
    api: httpx.Client, site: tuple[LiveServer, Path], tmp_path: Path
) -> None:
    first = upload(
        api, "board-pack.pdf", write_pdf(tmp_path / "ok.pdf", ["Board pack. Revenue grew 9%."]).read_bytes()
    )
    assert first.status_code == 201, first.text
    for data, reason in [
        (b"%PDF-1.7\n1 0 obj <<garbage\n%%EOF", "not a readable PDF"),
        (b"\x00\x01\x02binary" * 50, "not a readable PDF"),
    ]:
        response = upload(api, "board-pack.pdf", data)
        assert response.status_code == 422 and reason in response.json()["message"], response.text
    binary_text = upload(api, "notes.txt", b"\x00\x01\x02\x03" * 100)
    assert binary_text.status_code == 422 and "binary" in binary_text.json()["message"]
    assert sources(api)["uploads/board-pack.pdf"] == first.json()["document_id"]
    assert (site[1] / "uploads" / "board-pack.pdf").read_bytes()[:5] == b"%PDF-"
    assert not (site[1] / "uploads" / "notes.txt").exists()
    assert not list((site[1] / "uploads").glob(".upload-*")), "no staged file is left behind"


def test_oversize_uploads_get_413_and_nothing_is_written(
    api: httpx.Client, site: tuple[LiveServer, Path]
) -> None:
    response = upload(api, "huge.txt", b"word " * 60_000)  # 300 kB, over the 200 kB limit
    assert response.status_code == 413 and response.json()["error"] == "request_too_large"
    assert not (site[1] / "uploads" / "huge.txt").exists()


def test_delete_removes_the_file_and_its_passages(api: httpx.Client, site: tuple[LiveServer, Path]) -> None:
    created = upload(
        api, "to-delete.md", b"# Temporary memo\n\nThe pilot canteen closes on Fridays.\n"
    ).json()
    response = api.delete(f"/documents/{created['document_id']}")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "removed"
    assert response.json()["removed_sources"] == ["uploads/to-delete.md"]
    assert "uploads/to-delete.md" not in sources(api)
    assert not (site[1] / "uploads" / "to-delete.md").exists()
    # Kept aside, not erased.
    assert list((site[1].parent / "data" / "deleted").rglob("to-delete.md"))
    answer = api.post("/ask", json={"question": "When does the pilot canteen close?"}).json()
    assert all(c["source"] != "uploads/to-delete.md" for c in answer["citations"])

    again = api.delete(f"/documents/{created['document_id']}")
    assert again.status_code == 404 and again.json()["error"] == "document_not_found"
    malformed = api.delete("/documents/..%2F..%2Fetc")
    assert malformed.status_code in (404, 422)
    assert HR_DOC in sources(api)


def test_upload_and_delete_need_the_ingest_scope_and_the_groups(tmp_path: Path, embedder: Embedder) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "access.yaml").write_text('paths:\n  "uploads/*": [editors]\n', encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus, auth=True, rate_limit="100000/minute")
    Ingestor(settings, embedder, open_store(settings)).run(corpus)
    keys = KeyStore(open_database(settings))
    _, reader = keys.add("reader", ["everyone", "editors"], ["ask"])
    _, outsider = keys.add("outsider", ["everyone"], ["ask", "ingest"])
    _, editor = keys.add("editor", ["everyone", "editors"], ["ask", "ingest"])
    with LiveServer(settings) as server, server.client() as api:
        as_reader = {"Authorization": f"Bearer {reader}"}
        as_outsider = {"Authorization": f"Bearer {outsider}"}
        as_editor = {"Authorization": f"Bearer {editor}"}
        assert upload(api, "n.txt", NOTE.encode()).status_code == 401
        assert upload(api, "n.txt", NOTE.encode(), as_reader).json()["error"] == "forbidden"
        refused = upload(api, "n.txt", NOTE.encode(), as_outsider)
        assert refused.status_code == 403 and "editors" in refused.json()["message"]
        created = upload(api, "n.txt", NOTE.encode(), as_editor)
        assert created.status_code == 201 and created.json()["groups"] == ["editors"]

        doc = created.json()["document_id"]
        # The outsider cannot read it, so for them it does not exist.
        assert api.delete(f"/documents/{doc}", headers=as_outsider).status_code == 404
        assert api.delete(f"/documents/{doc}", headers=as_reader).status_code == 403
        assert api.delete(f"/documents/{doc}", headers=as_editor).status_code == 200
