"""Templates rendered on their own (no server) and looked at in the real browser.

Serves the rendered HTML plus static/ from a throwaway HTTP server on 127.0.0.1, so the CSS
and JS load exactly as in the app, and screenshots the error pages on desktop and phone.
"""

from __future__ import annotations

import shutil
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jinja2
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = REPO_ROOT / "qrstudio_box" / "admin" / "templates"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root: Path = tmp_path_factory.mktemp("site")
    shutil.copytree(REPO_ROOT / "static", root / "static")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    pages = {
        "404.html": dict(
            status=404,
            title="Page not found",
            message="This code or page does not exist. Check the link and try again.",
        ),
        "410.html": dict(
            status=410,
            title="This QR code is no longer active",
            message="The link you scanned has been switched off by its owner.",
        ),
        "500.html": dict(
            status=500,
            title="Something went wrong",
            message="An unexpected error happened on our side. Please try again in a moment.",
        ),
    }
    back = dict(back_href="/", back_label="Go back", back_in_history=True)
    for name, ctx in pages.items():
        (root / name).write_text(env.get_template("errors/error.html").render(**ctx, **back))
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize("status", [404, 410, 500])
@pytest.mark.parametrize("kind", ["desktop", "phone"])
def test_error_page_renders_styled(site, new_context, snap, console_errors, status, kind):
    page = new_context(kind, site).new_page()
    errors = console_errors(page)
    page.goto(f"/{status}.html")
    assert page.locator(".error-code").inner_text() == str(status)
    # the stylesheet applied: the code is drawn large, not as default body text
    size = page.locator(".error-code").evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
    assert size >= 70
    assert errors == []
    snap(page, f"error-{status}-{kind}")
