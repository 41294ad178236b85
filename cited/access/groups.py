"""Access group names, shared by the access declaration (ingest) and API keys (service)."""

from __future__ import annotations

import re

GROUP_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class InvalidGroupsError(ValueError):
    """A list of groups that cannot be used; the message says where and why."""


def validate_groups(groups: object, where: str) -> tuple[str, ...]:
    """The groups sorted and without repeats; raises :class:`InvalidGroupsError` naming ``where``."""
    if isinstance(groups, str) or not isinstance(groups, list | tuple) or not groups:
        raise InvalidGroupsError(f"{where}: give a non-empty list of group names, e.g. [staff, board]")
    for name in groups:
        if not isinstance(name, str) or not GROUP_NAME.match(name):
            raise InvalidGroupsError(
                f"{where}: {name!r} is not a group name (lower-case letters, digits, '-' and '_', "
                "starting with a letter or digit, at most 64 characters)"
            )
    return tuple(sorted(set(groups)))
