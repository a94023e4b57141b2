"""The one JSON error shape every API answer uses.

`{"status_code": 400, "error": "bad_request", "detail": "...", "field": "name"}`; `field`
names the field at fault (the first one when several are), so clients can put the message
next to it. When several fields are wrong, `detail` joins every message with "; " and
`errors` lists them: `[{"field": "size", "detail": "size: must be at most 4096 pixels"}, ...]`.
Messages are plain words (`plain_words` turns a validator's text into them).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any, TypeVar

from litestar.exceptions import HTTPException

T = TypeVar("T")


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
        problems: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(detail=detail, status_code=status_code, headers=headers)
        self.field = field
        self.error = error or error_code(status_code)
        # Every (field, detail) at fault; one item for a single-field error.
        self.problems = problems or ([(field, detail)] if field else [])

    def body(self) -> dict[str, Any]:
        return error_body(
            self.status_code,
            self.detail,
            field=self.field,
            error=self.error,
            problems=self.problems,
        )


def error_body(
    status: int,
    detail: str,
    *,
    field: str | None = None,
    error: str | None = None,
    problems: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status_code": status,
        "error": error or error_code(status),
        "detail": detail,
    }
    if field:
        body["field"] = field
    if problems and len(problems) > 1:
        body["errors"] = [{"field": name, "detail": text} for name, text in problems]
    return body


class FieldError(ValueError):
    """A bad value in one field: `detail` is "field: message", in plain words."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field
        self.detail = detail


class FieldProblems:
    """Runs a form's or body's checks and keeps every field error, so one answer names every
    wrong field instead of the first: `value = problems.check(rule, *args)` (None when the
    rule refused), then `problems.raise_if_any()`."""

    def __init__(self) -> None:
        self.found: list[tuple[str, str]] = []

    def add(self, field: str, detail: str) -> None:
        self.found.append((field, detail))

    def _keep(self, error: Exception) -> None:
        field = getattr(error, "field", None)
        if field is None or getattr(error, "status_code", 400) != 400:
            raise error  # not a field's fault (a plan limit, a 404): that answer alone
        self.found += getattr(error, "problems", None) or [(field, str(error.detail))]

    def check(self, rule: Callable[..., T], *args: Any) -> T | None:
        try:
            return rule(*args)
        except (FieldError, ApiError) as error:
            self._keep(error)
            return None

    async def check_async(self, rule: Callable[..., Awaitable[T]], *args: Any) -> T | None:
        try:
            return await rule(*args)
        except (FieldError, ApiError) as error:
            self._keep(error)
            return None

    def __bool__(self) -> bool:
        return bool(self.found)

    def raise_if_any(self) -> None:
        if self.found:
            raise problems_error(self.found)


def problems_error(found: list[tuple[str, str]]) -> ApiError:
    """400 naming the first field, every message in `detail`, each in `errors`."""
    return ApiError(
        400, "; ".join(text for _, text in found), field=found[0][0], problems=list(found)
    )


# A validator's (msgspec's) wording -> plain words. Units ("pixels") come from the caller.
_PLAIN = [
    (re.compile(r"Expected `(?:int|float)[^`]*` >= (-?[\d.]+)"), "must be at least {0}{unit}"),
    (re.compile(r"Expected `(?:int|float)[^`]*` > (-?[\d.]+)"), "must be more than {0}{unit}"),
    (re.compile(r"Expected `(?:int|float)[^`]*` <= (-?[\d.]+)"), "must be at most {0}{unit}"),
    (re.compile(r"Expected `(?:int|float)[^`]*` < (-?[\d.]+)"), "must be less than {0}{unit}"),
    (re.compile(r"Expected `str[^`]*` of length >= 1\b"), "is required"),
    (re.compile(r"Expected `str[^`]*` of length >= (\d+)"), "must be at least {0} characters"),
    (re.compile(r"Expected `str[^`]*` of length <= (\d+)"), "must be at most {0} characters"),
    (re.compile(r"Expected `array[^`]*` of length <= (\d+)"), "may hold at most {0} items"),
    (re.compile(r"Expected `array[^`]*` of length >= (\d+)"), "must hold at least {0} items"),
    (re.compile(r"Expected `bool[^`]*`, got"), "use true or false"),
    (re.compile(r"Expected `int[^`]*`, got"), "must be a whole number"),
    (re.compile(r"Expected `(?:float|number)[^`]*`, got"), "must be a number"),
    (re.compile(r"Expected `str[^`]*`, got"), "must be text"),
    (re.compile(r"Expected `array[^`]*`, got"), "must be a list"),
    (re.compile(r"Expected `object[^`]*`, got"), "must be an object"),
    (re.compile(r"Expected `str` matching regex"), "is not in the expected format"),
    (re.compile(r"Invalid enum value (.+)$"), "{0} is not one of the allowed values"),
    (re.compile(r"Object missing required field"), "is required"),
    (re.compile(r"Object contains unknown field"), "is not a known field"),
]


def plain_words(message: str, unit: str = "") -> str:
    """msgspec's "Expected `int` <= 4096" -> "must be at most 4096 pixels" (unit " pixels");
    a message that is already ours comes back unchanged."""
    message = re.sub(r" - at `\$[^`]*`$", "", message)
    for pattern, words in _PLAIN:
        found = pattern.search(message)
        if found:
            return words.format(*found.groups(), unit=unit)
    return message


def bad_request(field: str, message: str) -> ApiError:
    """400 naming the field: `destination_url: must be an http(s) URL`."""
    return ApiError(400, f"{field}: {message}", field=field)


def not_found(what: str = "Not found") -> ApiError:
    return ApiError(404, what)
