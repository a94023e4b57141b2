"""Server-rendered HTML: the template engine, /static, and the public error pages."""

from __future__ import annotations

from pathlib import Path

from litestar import Request
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "admin" / "templates"

# On every HTML answer (edge.py adds them to pages that lack them; the admin router sets them on
# all of its answers). No `unsafe-inline`: pages hold no inline <script> and no style="".
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def static_dir() -> Path:
    """Inside the wheel the static files sit in the package; in a checkout, at the top level."""
    packaged = PACKAGE_DIR / "static"
    return packaged if packaged.is_dir() else PACKAGE_DIR.parent / "static"


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(directory=TEMPLATES_DIR, engine=JinjaTemplateEngine)


def static_router():
    return create_static_files_router(path="/static", directories=[static_dir()], name="static")


def error_page(request: Request | None, status: int, title: str, message: str) -> Template:
    """A small HTML page in our style (unknown short link, inactive QR, 500...), with a way back:
    the dashboard from the admin UI; elsewhere (a scanner's phone) the previous page, or the
    start page without JavaScript or history."""
    in_admin = request is not None and request.url.path.startswith("/admin")
    back = ("/admin/", "Back to the dashboard", False) if in_admin else ("/", "Go back", True)
    return Template(
        template_name="errors/error.html",
        context={
            "status": status,
            "title": title,
            "message": message,
            "back_href": back[0],
            "back_label": back[1],
            "back_in_history": back[2],
        },
        status_code=status,
        headers={"Cache-Control": "no-store"},  # edge.py adds the security headers
    )
