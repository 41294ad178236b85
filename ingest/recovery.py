"""Finishing what an interrupted ingest left, before the next one starts."""

from __future__ import annotations

from cited.store.chunk_store import ChunkStore
from ingest.manifest import Manifest


def recover(store: ChunkStore, manifest: Manifest) -> tuple[int, int]:
    """Delete the chunks the state record still hides (a group written but never published, or
    chunks replaced but not yet deleted) and e5 orphans, fill the document index of a store written
    before it existed, and rebuild the manifest when it does not describe the store's generation.

    Returns (chunks deleted, the store's generation).
    """
    state = store.state()
    orphans = store.multilingual_orphans()
    leftovers = store.version_chunks(state.hidden) + orphans
    store.delete_versions(state.hidden)
    if orphans:
        store.delete_chunks(orphans)
    if state.hidden:
        state = store.write_state(state.generation, ())
    store.fill_document_index()
    if manifest.generation() != state.generation:
        manifest.rebuild(store, state.generation)
    return len(leftovers), state.generation
