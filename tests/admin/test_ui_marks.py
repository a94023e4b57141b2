"""Every admin UI write declares who may make it (no browser needed): the hook refuses a write
that declares nothing, so a new form cannot be open to every member by omission."""

from __future__ import annotations

MARKS = ("role", "admin_only", "public", "own_account")


def test_every_ui_write_declares_its_access(app):
    unmarked = [
        f"{method} {route.path}"
        for route in app.routes
        if route.path.startswith("/admin")
        for handler in route.route_handlers
        for method in handler.http_methods
        if method not in ("GET", "HEAD", "OPTIONS")
        and not any(handler.opt.get(mark) for mark in MARKS)
    ]
    assert unmarked == []
