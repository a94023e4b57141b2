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


def static_dir() -> Path:
    """Inside the wheel the static files sit in the package; in a checkout, at the top level."""
    packaged = PACKAGE_DIR / "static"
    return packaged if packaged.is_dir() else PACKAGE_DIR.parent / "static"


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(directory=TEMPLATES_DIR, engine=JinjaTemplateEngine)


def static_router():
    return create_static_files_router(path="/static", directories=[static_dir()], name="static")


def error_page(request: Request | None, status: int, title: str, message: str) -> Template:
    """A small HTML page in our style (unknown short link, inactive QR, 500...)."""
    return Template(
        template_name="errors/error.html",
        context={"status": status, "title": title, "message": message},
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )
