"""The state record: which versions of documents readers may see.

A small record, in a Chroma collection of its own, lists the versions that are hidden: one being
written, or one replaced and not yet deleted. The ingest hides a version before writing its first
chunk and reveals it, while hiding the version it replaces, in one write of that record; readers
drop hidden versions, and read the record before and after each search (``seq`` changes with every
write), searching again when it moved.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from cited.store.chunks import version_of


@dataclass(frozen=True)
class StoreState:
    """What readers may see, shared by every process that opens the store.

    ``generation`` counts published changes (a worker rebuilds its BM25 index when it moves);
    ``seq`` counts every write of this record, so a reader can tell that a search overlapped one;
    ``hidden`` names the versions no reader may return.
    """

    seq: int = 0
    generation: int = 0
    hidden: frozenset[str] = field(default_factory=frozenset)

    def visible(self, chunk_id: str) -> bool:
        return not self.hidden or version_of(chunk_id) not in self.hidden

    def to_json(self) -> str:
        return json.dumps({"seq": self.seq, "generation": self.generation, "hidden": sorted(self.hidden)})

    @classmethod
    def from_json(cls, text: str) -> StoreState:
        raw = json.loads(text)
        return cls(int(raw["seq"]), int(raw["generation"]), frozenset(raw["hidden"]))
