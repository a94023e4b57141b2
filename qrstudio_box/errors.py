"""The one JSON error shape every API answer uses.

`{"status_code": 400, "error": "bad_request", "detail": "...", "field": "name"}`; `field`
appears only when a single field is at fault, so clients can put the message next to it.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from litestar.exceptions import HTTPException


def error_code(status: int) -> str:
    """`bad_request`, `not_found`, `too_many_requests`... from the HTTP status phrase."""
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


class ApiError(HTTPException):
    """Raise to answer with the JSON error shape; nothing in the current transaction is kept."""

    def __init__(
        self,
        status_code: int,
        detail: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        error: str | None = None,
    ) -> None:
        super().__init__(detail=detail, status_code=status_code, headers=headers)
        self.field = field
        self.error = error or error_code(status_code)

    def body(self) -> dict[str, Any]:
        return error_body(self.status_code, self.detail, field=self.field, error=self.error)


def error_body(
    status: int, detail: str, *, field: str | None = None, error: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status_code": status,
        "error": error or error_code(status),
        "detail": detail,
    }
    if field:
        body["field"] = field
    return body


def bad_request(field: str, message: str) -> ApiError:
    """400 naming the field: `destination_url: must be an http(s) URL`."""
    return ApiError(400, f"{field}: {message}", field=field)


def not_found(what: str = "Not found") -> ApiError:
    return ApiError(404, what)
