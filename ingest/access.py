"""Who may read which document: the access declaration beside the documents.

A file named ``access.yaml`` in the corpus root maps path patterns to groups::

    default: [staff]            # documents no pattern matches (else CITED_DEFAULT_GROUPS)
    paths:
      "board/*": [board]        # fnmatch patterns on the path relative to the corpus root;
      "hr/*.md": [hr, board]    # the first pattern that matches decides

Groups are stored with every chunk at ingest and filtered inside retrieval, so changing this file
and running ``cited ingest`` again re-labels the documents without re-embedding them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from cited.groups import InvalidGroupsError
from cited.groups import validate_groups as check_groups

ACCESS_FILE = "access.yaml"


class AccessPolicyError(Exception):
    """The access declaration cannot be used; the message names the file, the entry and the fix."""


@dataclass(frozen=True)
class AccessPolicy:
    default: tuple[str, ...]
    rules: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    def groups_for(self, source: str) -> tuple[str, ...]:
        return next((groups for pattern, groups in self.rules if fnmatchcase(source, pattern)), self.default)


def validate_groups(groups: object, where: str) -> tuple[str, ...]:
    try:
        return check_groups(groups, where)
    except InvalidGroupsError as exc:
        raise AccessPolicyError(str(exc)) from None


def default_policy(default_groups: list[str]) -> AccessPolicy:
    """Every document gets the settings' default groups."""
    return AccessPolicy(validate_groups(list(default_groups), "CITED_DEFAULT_GROUPS"))


def load_policy(root: Path, default_groups: list[str]) -> AccessPolicy:
    """The policy of a corpus folder; without ``access.yaml`` every document gets the default."""
    import yaml

    path = root / ACCESS_FILE
    default = default_policy(default_groups).default
    if not path.is_file():
        return AccessPolicy(default)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise AccessPolicyError(f"{path}: not valid YAML ({exc}); nothing was changed") from None
    if not isinstance(raw, dict) or set(raw) - {"default", "paths"}:
        raise AccessPolicyError(f"{path}: expected only the keys 'default' and 'paths'; nothing was changed")
    if "default" in raw:
        default = validate_groups(raw["default"], f"{path}: default")
    paths = raw.get("paths") or {}
    if not isinstance(paths, dict):
        raise AccessPolicyError(f"{path}: 'paths' must map path patterns to lists of groups")
    rules = [
        (str(pattern), validate_groups(groups, f"{path}: paths: {pattern!r}"))
        for pattern, groups in paths.items()
    ]
    return AccessPolicy(default, rules)
