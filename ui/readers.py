"""Who is on the page, as the service sees them."""

from __future__ import annotations

import gradio as gr

from cited.access.users import UserStore
from service.callers import Caller, local_caller


class Reader:
    """Who is on the page: the caller the service sees (groups, rate-limit key) and what they may do."""

    def __init__(self, users: UserStore | None, request: gr.Request) -> None:
        self.name: str | None = None
        self.can_upload = users is None
        self.valid = True
        address = request.client.host if request.client else "unknown"
        self.caller = local_caller(address)
        if users is not None:
            self.name = request.username or ""
            user = users.get(self.name)
            self.valid = user is not None  # removed since logging in
            self.can_upload = user is not None and user.can_upload
            groups = frozenset(user.groups) if user else frozenset()
            scopes = frozenset({"ask", "ingest"} if self.can_upload else {"ask"})
            self.caller = Caller(self.name, groups, scopes, f"user:{self.name}")

    @property
    def groups(self) -> frozenset[str] | None:
        return self.caller.groups


GONE = "Your account is no longer valid. Please log in again."
