"""Browser harness for the admin UI tests: Debian's chromium driven by Playwright (sync API).

The browser is the one installed from Debian's packages (/usr/bin/chromium); we never run
`playwright install`. Screenshots of the main pages go to test-artifacts/screenshots/ on every
run, for a desktop and a phone viewport.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = REPO_ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("QRSTUDIO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
}


# Package scope, not session: Playwright's sync API keeps an event loop running in this thread
# while it is open, and tests outside tests/admin call asyncio.run().
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"chromium not found at {CHROMIUM}: install Debian's chromium package "
            "(make test does: .ci/system-packages chromium) or set QRSTUDIO_CHROMIUM"
        )
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _new_context(browser: Browser, kind: str, base_url: str | None) -> BrowserContext:
    ctx = browser.new_context(base_url=base_url, accept_downloads=True, **VIEWPORTS[kind])
    ctx.set_default_timeout(15_000)
    return ctx


@pytest.fixture
def new_context(browser: Browser):
    """Factory: new_context(kind="desktop"|"phone", base_url=...) -> a fresh BrowserContext."""
    made: list[BrowserContext] = []

    def make(kind: str = "desktop", base_url: str | None = None) -> BrowserContext:
        ctx = _new_context(browser, kind, base_url)
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.close()


@pytest.fixture
def snap():
    """snap(page, name): save a full-page screenshot as test-artifacts/screenshots/<name>.png."""

    def take(page: Page, name: str, full_page: bool = True) -> Path:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOT_DIR / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


@pytest.fixture
def console_errors():
    """console_errors(page) -> a list that fills with console errors (CSP violations included)."""

    def watch(page: Page) -> list[str]:
        errors: list[str] = []
        # HTTP statuses are asserted by the tests themselves; a 4xx document is not a page error.
        page.on(
            "console",
            lambda msg: (
                errors.append(msg.text)
                if msg.type == "error" and not msg.text.startswith("Failed to load resource")
                else None
            ),
        )
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return errors

    return watch
