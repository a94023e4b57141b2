"""QR codes: rendering and POST /api/v1/generate/."""

from __future__ import annotations

from .api import generate

ROUTES = [generate]
