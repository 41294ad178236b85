"""Which Cited groups a person of the identity provider reads, from the groups the provider lists.

Without a mapping file, a provider group whose name is a valid Cited group name
(``cited/access/groups.py``) is taken as it is, and others are ignored. With one
(``CITED_OIDC_GROUP_MAP_FILE``), only the provider groups it names count::

    # provider group: [Cited groups]
    "Finance Team": [finance]
    board-members: [board, finance]
    4f1c0c5e-93c2-4e5e-9d1b-0c0c0b7f2b11: [staff]   # Entra ID lists group object ids
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml

from cited.access.groups import GROUP_NAME, InvalidGroupsError, validate_groups


def claimed_groups(claims: dict[str, object], claim: str) -> list[str]:
    """The provider's groups in a token's ``claims``: a list, or one name (some providers send a
    string when there is one group); anything else lists none."""
    raw = claims.get(claim, [])
    if isinstance(raw, str):
        return [raw]
    return [str(group) for group in raw] if isinstance(raw, list) else []


class GroupMapping:
    def __init__(self, mapping: dict[str, tuple[str, ...]] | None = None) -> None:
        self.mapping = mapping  # None: provider group names are used as they are

    @classmethod
    def load(cls, path: Path | None) -> GroupMapping:
        """The mapping in ``path``; raises :class:`InvalidGroupsError` naming the file and the entry."""
        if path is None:
            return cls()
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise InvalidGroupsError(f"{path}: cannot be read as YAML ({exc})") from None
        if not isinstance(raw, dict):
            raise InvalidGroupsError(
                f"{path}: write one line per provider group, e.g. 'Finance Team: [finance]'"
            )
        return cls({str(k): validate_groups(v, f"{path}: {k}") for k, v in raw.items()})

    def groups(self, provider_groups: Iterable[str]) -> tuple[str, ...]:
        """The Cited groups of someone in ``provider_groups``, sorted, without repeats."""
        found: set[str] = set()
        for group in provider_groups:
            if self.mapping is None:
                if GROUP_NAME.match(group):
                    found.add(group)
            else:
                found.update(self.mapping.get(group, ()))
        return tuple(sorted(found))
