"""What one search may read: the caller's groups and the documents they chose.

Groups are stored on every chunk twice: as a list for reading, and as one flag per group for
filtering, since a Chroma ``where`` cannot test membership in a string.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

GROUP_FLAG = "g_"  # metadata key prefix of the per-group flags


def group_fields(groups: Sequence[str]) -> dict[str, Any]:
    """Metadata that records a chunk's groups: the list for reading, and one flag per group for
    filtering, since a Chroma ``where`` cannot test membership in a string."""
    return {"groups": "|".join(groups), **{f"{GROUP_FLAG}{g}": True for g in groups}}


def groups_of(meta: dict[str, Any]) -> tuple[str, ...]:
    return tuple(g for g in str(meta.get("groups", "")).split("|") if g)


def group_filter(groups: frozenset[str] | None) -> dict[str, Any] | None:
    """The Chroma ``where`` that keeps chunks readable by any of ``groups``; None reads everything.

    Callers handle an empty set themselves (it reads nothing), since Chroma has no false filter.
    """
    if groups is None:
        return None
    flags: list[dict[str, Any]] = [{f"{GROUP_FLAG}{g}": True} for g in sorted(groups)]
    return flags[0] if len(flags) == 1 else {"$or": flags}


@dataclass(frozen=True)
class SearchFilter:
    """What one search may read: chunks readable by any of ``groups`` (all when None: auth off)
    and, when ``documents`` is given, of those documents only (a reader's own choice, which
    narrows what the groups allow and never widens it)."""

    groups: frozenset[str] | None = None
    documents: frozenset[str] | None = None

    @property
    def empty(self) -> bool:
        """True when nothing can be read (no group, or no document chosen)."""
        return (self.groups is not None and not self.groups) or self.documents == frozenset()

    def where(self) -> dict[str, Any] | None:
        """The Chroma ``where``; None reads everything. Callers check ``empty`` first."""
        readable = group_filter(self.groups)
        if self.documents is None:
            return readable
        chosen = {"document_id": {"$in": sorted(self.documents)}}
        return chosen if readable is None else {"$and": [readable, chosen]}


EVERYTHING = SearchFilter()
