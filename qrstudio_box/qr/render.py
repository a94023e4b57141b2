"""QR rendering with segno: options validated into a Struct, images cached by their options.

Pure and synchronous: no settings, no I/O beyond memory. Routes render through the app's
render pool (`ctx.renders`, qr/pool.py), which owns a RenderCache and runs it in its workers.
"""

from __future__ import annotations

import io
import re
import threading
from collections import OrderedDict
from typing import Annotated, Any, Literal

import msgspec
import segno

MAX_DATA_CHARS = 4096  # more than any QR holds; segno's overflow error names the real limit
MIN_SIZE_PX, MAX_SIZE_PX = 21, 4096  # bounded so one request cannot ask for a huge image
MEDIA_TYPES = {"png": "image/png", "svg": "image/svg+xml"}
_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


class OptionsError(ValueError):
    """Bad input, with the field at fault (the API turns it into a 400 naming that field)."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field
        self.detail = detail


class RenderOptions(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Everything that decides the image bytes; frozen, so it is the cache key itself."""

    data: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_DATA_CHARS)]
    format: Literal["png", "svg"] = "png"
    scale: Annotated[int, msgspec.Meta(ge=1, le=50)] | None = None
    size: Annotated[int, msgspec.Meta(ge=MIN_SIZE_PX, le=MAX_SIZE_PX)] | None = None
    border: Annotated[int, msgspec.Meta(ge=0, le=20)] = 4
    error_correction: Literal["L", "M", "Q", "H"] = "M"
    dark: str = "#000000"
    light: str = "#ffffff"

    def __post_init__(self) -> None:
        if self.scale is not None and self.size is not None:
            raise ValueError("size: give either scale or size, not both")
        if not _COLOUR.match(self.dark):
            raise ValueError("dark: must be a colour like #rgb or #rrggbb")
        if self.light != "transparent" and not _COLOUR.match(self.light):
            raise ValueError('light: must be a colour like #rgb or #rrggbb, or "transparent"')


RENDER_FIELDS = frozenset(RenderOptions.__struct_fields__)


def normalise_colour(colour: str) -> str:
    colour = colour.lower()
    if len(colour) == 4:
        colour = "#" + "".join(ch * 2 for ch in colour[1:])
    return colour


def error_from_validation(error: msgspec.ValidationError) -> OptionsError:
    """Turn msgspec's message into (field, 'field: reason'); the path names the field."""
    message = str(error)
    at = re.search(r" - at `\$\.?(.*)`$", message)
    if at:
        field, reason = at.group(1), message[: at.start()]
        return OptionsError(field, f"{field}: {reason}")
    missing = re.match(r"Object missing required field `([^`]+)`", message)
    if missing:
        return OptionsError(missing.group(1), f"{missing.group(1)}: is required")
    unknown = re.match(r"Object contains unknown field `([^`]+)`", message)
    if unknown:
        return OptionsError(unknown.group(1), f"{unknown.group(1)}: unknown field")
    # Our own __post_init__ messages start with "field: ".
    head, sep, _ = message.partition(":")
    if sep and re.fullmatch(r"[A-Za-z_][\w.\[\]]*", head):
        return OptionsError(head, message)
    return OptionsError("body", message)


def parse_options(values: dict[str, Any], *, from_query: bool = False) -> RenderOptions:
    """Validate a JSON object (or query parameters, whose values are strings) into options."""
    try:
        options = msgspec.convert(values, RenderOptions, strict=not from_query)
    except msgspec.ValidationError as error:
        raise error_from_validation(error) from None
    # One spelling per colour, so "#FFF" and "#ffffff" share a cache entry.
    light = options.light if options.light == "transparent" else normalise_colour(options.light)
    return msgspec.structs.replace(options, dark=normalise_colour(options.dark), light=light)


class Rendered(msgspec.Struct, frozen=True):
    content: bytes
    media_type: str
    width: int  # pixels (svg: user units, the same number)
    height: int
    version: int  # QR version 1-40
    error_correction: str  # what segno used: it may boost the level at no size cost


def _render_uncached(options: RenderOptions) -> Rendered:
    try:
        # make_qr, never make(): a Micro QR is refused by many phone scanners.
        code = segno.make_qr(options.data, error=options.error_correction)
    except segno.DataOverflowError:
        raise OptionsError("data", "data: too long to fit in a QR code") from None
    modules, _ = code.symbol_size(scale=1, border=options.border)
    if options.size is not None:
        # Whole pixels per module keep the image crisp; the image is at most `size`
        # pixels wide, or one pixel per module when `size` is smaller than the code.
        scale = max(1, options.size // modules)
    else:
        scale = options.scale or 10
    out = io.BytesIO()
    code.save(
        out,
        kind=options.format,
        scale=scale,
        border=options.border,
        dark=options.dark,
        light=None if options.light == "transparent" else options.light,
    )
    return Rendered(
        content=out.getvalue(),
        media_type=MEDIA_TYPES[options.format],
        width=modules * scale,
        height=modules * scale,
        version=code.version,
        error_correction=code.error,
    )


class RenderCache:
    """A bounded LRU of rendered images keyed by the full option set.

    Bounded by entries and by bytes, so large images cannot grow the process. Thread-safe,
    since renders run in worker threads. `renders` counts real segno renders, so tests (and
    the bench) can see that a cached request rendered nothing.
    """

    def __init__(self, max_entries: int = 512, max_bytes: int = 32 * 1024 * 1024) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.renders = 0
        self._bytes = 0
        self._entries: OrderedDict[RenderOptions, Rendered] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, options: RenderOptions) -> Rendered | None:
        """The cached image, or None (then `render` would render it)."""
        with self._lock:
            hit = self._entries.get(options)
            if hit is not None:
                self._entries.move_to_end(options)
            return hit

    def render(self, options: RenderOptions) -> Rendered:
        hit = self.get(options)
        if hit is not None:
            return hit
        rendered = _render_uncached(options)
        with self._lock:
            self.renders += 1
            if options not in self._entries:
                self._entries[options] = rendered
                self._bytes += len(rendered.content)
            while self._entries and (
                len(self._entries) > self.max_entries or self._bytes > self.max_bytes
            ):
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= len(evicted.content)
        return rendered

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
