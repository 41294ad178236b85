"""Headless Chromium for the page: Debian's package driven by Playwright (``playwright install``
cannot download its own browser here). Shared by the page tests and ``cited bench page``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}


class ChromiumMissingError(RuntimeError):
    def __init__(self) -> None:
        super().__init__(f"{CHROMIUM} is missing: install Debian's chromium package (apt install chromium)")


def require_chromium() -> None:
    if not CHROMIUM.exists():
        raise ChromiumMissingError()


def launch(playwright: Playwright) -> Browser:
    require_chromium()
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
