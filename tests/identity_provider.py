"""A real OpenID provider for the sign-in tests: oidc-provider-mock (PyPI), started as its own process.

It serves discovery, JWKS, the authorization code flow with nonces, ID tokens signed with RS256,
and a form where a test picks the person who signs in. Its users and their groups are set over
its own HTTP API (``PUT /users/<sub>``), as an administrator changes them in a real provider.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from evals.live_server import free_port
from evals.local_services import wait_until_up


class Provider:
    def __init__(self, url: str) -> None:
        self.url = url

    def set_user(self, sub: str, email: str, groups: list[str]) -> None:
        done = httpx.put(f"{self.url}/users/{sub}", json={"email": email, "groups": groups}, timeout=10)
        done.raise_for_status()

    def approve(self, authorize_url: str, sub: str) -> str:
        """Sign ``sub`` in at the provider's form; the callback URL it sends the browser to."""
        answer = httpx.post(authorize_url, data={"sub": sub}, timeout=10)
        assert answer.status_code == 302, answer.text
        return answer.headers["location"]

    def id_token(self, client_id: str, sub: str, redirect_uri: str = "http://127.0.0.1/cb") -> str:
        """An ID token for ``sub``, through the code flow as a client of its own would get it."""
        query = {
            "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
            "scope": "openid email", "state": "s", "nonce": "n",
        }  # fmt: skip
        authorize = httpx.Request("GET", f"{self.url}/oauth2/authorize", params=query).url
        code = parse_qs(urlsplit(self.approve(str(authorize), sub)).query)["code"][0]
        token = httpx.post(
            f"{self.url}/oauth2/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
            auth=(client_id, "any-secret"),
            timeout=10,
        )
        token.raise_for_status()
        return str(token.json()["id_token"])


@contextmanager
def running_provider(log: Path, users: list[dict[str, object]]) -> Iterator[Provider]:
    port = free_port()
    claims = [arg for user in users for arg in ("--user-claims", json.dumps(user))]
    command = [sys.executable, "-m", "oidc_provider_mock", "--port", str(port), "--require-nonce", *claims]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/.well-known/openid-configuration", process, time.monotonic() + 30, log)
        yield Provider(url)
    finally:
        process.terminate()
        process.wait(timeout=10)
