"""Who is on the page, as the service sees them."""

from __future__ import annotations

import gradio as gr

from cited.access.sessions import SessionStore
from cited.access.users import UserStore
from service.callers import Caller, local_caller


class Reader:
    """Who is on the page: the caller the service sees (groups, rate-limit key) and what they may do.

    With single sign-on (``sessions``), Gradio's user name is the session's id
    (``service/app.py``), and the person and their groups are those of the session, while it lasts.
    """

    def __init__(
        self, users: UserStore | None, request: gr.Request, sessions: SessionStore | None = None
    ) -> None:
        self.name: str | None = None
        self.can_upload = users is None and sessions is None
        self.valid = True
        address = request.client.host if request.client else "unknown"
        self.caller = local_caller(address)
        if sessions is not None:
            signed = sessions.get(request.username or "")
            self.valid = signed is not None  # signed out, or expired, since the page loaded
            self.name = signed.user if signed else ""
            self.can_upload = signed is not None and signed.can_upload
            groups = frozenset(signed.groups) if signed else frozenset()
            scopes = frozenset({"ask", "ingest"} if self.can_upload else {"ask"})
            self.caller = Caller(self.name, groups, scopes, f"sso:{self.name}")
        elif users is not None:
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
