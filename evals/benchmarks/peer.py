"""The peer: a plain LlamaIndex ``VectorStoreIndex`` over Chroma, as a user writes it from the
LlamaIndex starter, with the same MiniLM model and LlamaIndex's default chunking (1024 tokens)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cited.models.embedding import model_path
from evals.benchmarks.beir import BeirDocument


class LlamaIndexPeer:
    def __init__(self, folder: Path, depth: int) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding

        self.embed_model = HuggingFaceEmbedding(model_name=model_path(), device="cpu")
        client = chromadb.PersistentClient(
            path=str(folder), settings=ChromaSettings(anonymized_telemetry=False)
        )
        self.collection = client.get_or_create_collection("peer", embedding_function=None)
        self.depth = depth
        self._retriever: Any = None

    def ingest(self, documents: Sequence[BeirDocument]) -> bool:
        """Index the documents; False when an index kept from an earlier run was reused instead."""
        if not self.collection.count():
            self.add(documents)
            return True
        from llama_index.core import VectorStoreIndex
        from llama_index.vector_stores.chroma import ChromaVectorStore

        index = VectorStoreIndex.from_vector_store(
            ChromaVectorStore(chroma_collection=self.collection), embed_model=self.embed_model
        )
        self._retriever = index.as_retriever(similarity_top_k=self.depth)
        return False

    def add(self, documents: Sequence[BeirDocument]) -> None:
        """Index more documents into the same collection, as a user adds a batch with LlamaIndex's
        starter code (``cited bench ingest`` times the peer slice by slice beside Cited)."""
        from llama_index.core import Document, StorageContext, VectorStoreIndex
        from llama_index.vector_stores.chroma import ChromaVectorStore

        index = VectorStoreIndex.from_documents(
            [Document(text=f"{d.title}\n{d.text}", doc_id=d.doc_id) for d in documents],
            storage_context=StorageContext.from_defaults(
                vector_store=ChromaVectorStore(chroma_collection=self.collection)
            ),
            embed_model=self.embed_model,
            show_progress=False,
        )
        self._retriever = index.as_retriever(similarity_top_k=self.depth)

    def documents(self, question: str) -> list[str]:
        """Document ids, best first."""
        ranked: list[str] = []
        for hit in self._retriever.retrieve(question):
            doc_id = hit.node.ref_doc_id
            if doc_id is not None and doc_id not in ranked:
                ranked.append(doc_id)
        return ranked
