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

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cited.access.groups import InvalidGroupsError
from cited.access.groups import validate_groups as check_groups

ACCESS_FILE = "access.yaml"


class AccessPolicyError(Exception):
    """The access declaration cannot be used; the message names the file, the entry and the fix."""


@dataclass(frozen=True)
class AccessPolicy:
    default: tuple[str, ...]
    rules: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    def groups_for(self, source: str) -> tuple[str, ...]:
        return next((groups for pattern, groups in self.rules if fnmatchcase(source, pattern)), self.default)


class AccessDeclaration(BaseModel):
    """What ``access.yaml`` may say; anything else is refused, naming the entry at fault."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default: tuple[str, ...] | None = None
    paths: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @field_validator("default", mode="before")
    @classmethod
    def _default_groups(cls, value: object) -> object:
        return None if value is None else check_groups(value, "default")

    @field_validator("paths", mode="before")
    @classmethod
    def _path_groups(cls, value: object) -> object:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ValueError("'paths' must map path patterns to lists of groups")
        return {
            str(pattern): check_groups(groups, f"paths: {pattern!r}") for pattern, groups in value.items()
        }


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
    try:
        declared = AccessDeclaration.model_validate(raw)
    except ValidationError as exc:
        problem = exc.errors()[0]
        if problem["type"] in ("extra_forbidden", "model_type"):
            message = "expected only the keys 'default' and 'paths'"
        else:
            message = str(problem["msg"]).removeprefix("Value error, ")
        raise AccessPolicyError(f"{path}: {message}; nothing was changed") from None
    return AccessPolicy(declared.default or default, list(declared.paths.items()))
