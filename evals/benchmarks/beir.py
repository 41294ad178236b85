"""A BEIR-format dataset read in place (corpus.jsonl, queries.jsonl, qrels/<split>.tsv).

Benchmark data is often licensed for evaluation only (SciFact is CC BY-NC), so it is read where it
lies and never copied: its documents reach the ingest as :class:`BeirDocument` sources.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from ingest.loading import LoadedDocument, document_id, sha256_of
from ingest.pdf_pages import ReadOptions


@dataclass(frozen=True)
class BeirDocument:
    """One corpus record as an ingest source; its BEIR ``_id`` becomes the document's source."""

    doc_id: str
    title: str
    text: str

    @property
    def source(self) -> str:
        return self.doc_id

    def read(self) -> bytes:
        return json.dumps([self.title, self.text], ensure_ascii=False).encode()

    def stat(self) -> None:
        return None  # a record has no file times: always hashed

    def load(self, options: ReadOptions | None = None) -> LoadedDocument:
        return LoadedDocument(
            source=self.doc_id,
            document_id=document_id(self.read()),
            title=self.title or self.doc_id,
            pages=[self.text or self.title],
            paged=False,
            sha256=sha256_of(self.read()),
        )


@dataclass(frozen=True)
class BeirDataset:
    name: str
    corpus: list[BeirDocument]
    queries: dict[str, str]  # id -> text, only the queries judged in the split
    qrels: dict[str, dict[str, int]]  # query id -> document id -> grade


def load_beir(path: Path, split: str = "test", max_queries: int | None = None,
              max_docs: int | None = None) -> BeirDataset:  # fmt: skip
    """Read a dataset; with limits, a deterministic slice for quick runs.

    A slice keeps the first ``max_queries`` judged queries (by id), every document relevant to
    them, and then further documents in file order up to ``max_docs``, so each kept query can
    still be answered and there are distractors around it.
    """
    if not (path / "corpus.jsonl").is_file():
        raise FileNotFoundError(f"{path} is not a BEIR dataset: corpus.jsonl is missing")
    qrels: dict[str, dict[str, int]] = {}
    with (path / "qrels" / f"{split}.tsv").open(encoding="utf-8") as rows:
        for row in csv.DictReader(rows, delimiter="\t"):
            qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    if max_queries is not None:
        qrels = {q: qrels[q] for q in sorted(qrels)[:max_queries]}
    with (path / "queries.jsonl").open(encoding="utf-8") as lines:
        queries = {r["_id"]: r["text"] for r in map(json.loads, lines) if r["_id"] in qrels}
    needed = {doc for rels in qrels.values() for doc in rels}
    corpus: list[BeirDocument] = []
    with (path / "corpus.jsonl").open(encoding="utf-8") as lines:
        for record in map(json.loads, lines):
            doc = BeirDocument(str(record["_id"]), record.get("title", ""), record.get("text", ""))
            if max_docs is None or doc.doc_id in needed or len(corpus) < max_docs:
                corpus.append(doc)
    return BeirDataset(path.name, corpus, queries, qrels)
