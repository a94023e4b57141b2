"""QR rendering with segno: options validated into a Struct, images cached by their options.

Pure and synchronous: no settings, no I/O beyond memory. Routes render through the app's
render pool (`ctx.renders`, qr/pool.py), which owns a RenderCache and runs it in its workers.
"""

from __future__ import annotations

import io
import re
import struct
import threading
import zlib
from collections import OrderedDict
from typing import Annotated, Any, Literal

import msgspec
import segno

from ..errors import ApiError, FieldError, plain_words, problems_error

MAX_DATA_CHARS = 4096  # more than any QR holds; segno's overflow error names the real limit
MIN_SIZE_PX, MAX_SIZE_PX = 21, 4096  # bounded so one request cannot ask for a huge image
MEDIA_TYPES = {"png": "image/png", "svg": "image/svg+xml"}
_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


class OptionsError(FieldError):
    """Bad input, with the field at fault (the API turns it into a 400 naming that field);
    `problems` holds every wrong field's (field, detail), the first one included."""

    def __init__(
        self, field: str, detail: str, problems: list[tuple[str, str]] | None = None
    ) -> None:
        super().__init__(field, detail)
        self.problems = problems or [(field, detail)]

    def as_api_error(self) -> ApiError:
        return problems_error(self.problems)


# What the numbers count, for plain-words messages ("size: must be at most 4096 pixels").
UNITS = {"size": " pixels", "scale": " pixels per module", "border": " modules"}


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
    """Turn msgspec's message into (field, 'field: reason in plain words'); the path names
    the field."""
    message = str(error)
    at = re.search(r" - at `\$\.?(.*)`$", message)
    if at:
        field, reason = at.group(1), message[: at.start()]
        return OptionsError(field, f"{field}: {plain_words(reason, UNITS.get(field, ''))}")
    missing = re.match(r"Object missing required field `([^`]+)`", message)
    if missing:
        return OptionsError(missing.group(1), f"{missing.group(1)}: is required")
    unknown = re.match(r"Object contains unknown field `([^`]+)`", message)
    if unknown:
        return OptionsError(unknown.group(1), f"{unknown.group(1)}: is not a known field")
    # Our own __post_init__ messages start with "field: ".
    head, sep, _ = message.partition(":")
    if sep and re.fullmatch(r"[A-Za-z_][\w.\[\]]*", head):
        return OptionsError(head, message)
    return OptionsError("body", message)


def parse_options(values: dict[str, Any], *, from_query: bool = False) -> RenderOptions:
    """Validate a JSON object (or query parameters, whose values are strings) into options.

    Every wrong field is reported, not only the first msgspec meets: each refused field is
    set aside (its default stands in; the required `data`, a placeholder) and the rest is
    checked again; the OptionsError raised names the first and carries them all."""
    remaining, found = dict(values), []
    for _ in range(len(values) + 1):
        try:
            options = msgspec.convert(remaining, RenderOptions, strict=not from_query)
        except msgspec.ValidationError as error:
            problem = error_from_validation(error)
            found.append((problem.field, problem.detail))
            if problem.field == "data" and remaining.get("data") != "x":
                remaining["data"] = "x"
            elif problem.field in remaining and problem.field != "data":
                del remaining[problem.field]
            else:
                break
            continue
        if not found:
            break
    if found:
        # In the options' own order, whatever order the caller's dict had.
        order = RenderOptions.__struct_fields__
        found.sort(key=lambda item: order.index(item[0]) if item[0] in order else len(order))
        raise OptionsError(found[0][0], found[0][1], found)
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


def exact_layout(size: int, modules: int) -> tuple[int, int, int]:
    """(pixels per module, light pixels before, light pixels after) for an image exactly
    `size` pixels wide holding `modules` modules (quiet zone included).

    Whole pixels per module keep the code crisp; what whole modules cannot fill (at most
    modules - 1 pixels) widens the quiet zone, half on each side. A `size` smaller than the
    code gets one pixel per module and no padding: the smallest image that still scans.
    """
    scale = max(1, size // modules)
    spare = max(0, size - modules * scale)
    return scale, spare // 2, spare - spare // 2


def _rgb(colour: str) -> bytes:
    return bytes.fromhex(colour[1:])


def _png_exact(code: segno.QRCode, options: RenderOptions, size: int) -> tuple[bytes, int]:
    """The PNG at exactly `size` pixels (see exact_layout), as an 8-bit palette image.

    segno's PNG writer scales and pads in whole modules only (a 512 px request came out
    481 px), and Pillow is only a test dependency; so the scanlines are built here from
    segno's module matrix, each distinct row once, and deflated by zlib.
    """
    rows = list(code.matrix_iter(scale=1, border=options.border))
    modules = len(rows)
    scale, before, after = exact_layout(size, modules)
    width = modules * scale + before + after
    light, dark = b"\x00", b"\x01"
    blank = b"\x00" + light * width  # filter type 0, then palette indexes
    lines = [blank] * before
    for row in rows:
        pixels = b"".join(dark * scale if module else light * scale for module in row)
        lines += [b"\x00" + light * before + pixels + light * after] * scale
    lines += [blank] * after
    transparent = options.light == "transparent"
    palette = (b"\xff\xff\xff" if transparent else _rgb(options.light)) + _rgb(options.dark)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    # IHDR: width, height, bit depth 8, colour type 3 (palette), deflate, filter 0, no interlace
    header = struct.pack(">2I5B", width, width, 8, 3, 0, 0, 0)
    content = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"PLTE", palette)
        + (chunk(b"tRNS", b"\x00") if transparent else b"")
        + chunk(b"IDAT", zlib.compress(b"".join(lines), 6))
        + chunk(b"IEND", b"")
    )
    return content, width


_SVG_SIZE = re.compile(rb'<svg([^>]*?) width="(\d+)" height="(\d+)"')


def _svg_exact(code: segno.QRCode, options: RenderOptions, size: int) -> tuple[bytes, int]:
    """The SVG `size` units wide: drawn at one unit per module, then a viewBox scales the
    whole symbol (quiet zone included) to exactly `size` (segno writes its width in whole
    modules times the scale, 492 for a 512 request)."""
    out = io.BytesIO()
    code.save(
        out,
        kind="svg",
        scale=1,
        border=options.border,
        dark=options.dark,
        light=None if options.light == "transparent" else options.light,
    )
    modules, _ = code.symbol_size(scale=1, border=options.border)
    width = max(size, modules)
    content, found = _SVG_SIZE.subn(
        rb'<svg\1 width="%d" height="%d" viewBox="0 0 %d %d"' % (width, width, modules, modules),
        out.getvalue(),
        count=1,
    )
    assert found == 1, "segno's SVG header changed"
    return content, width


def _render_uncached(options: RenderOptions) -> Rendered:
    try:
        # make_qr, never make(): a Micro QR is refused by many phone scanners.
        code = segno.make_qr(options.data, error=options.error_correction)
    except segno.DataOverflowError:
        raise OptionsError("data", "data: too long to fit in a QR code") from None
    if options.size is not None:
        draw = _png_exact if options.format == "png" else _svg_exact
        content, width = draw(code, options, options.size)
    else:
        modules, _ = code.symbol_size(scale=1, border=options.border)
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
        content, width = out.getvalue(), modules * scale
    return Rendered(
        content=content,
        media_type=MEDIA_TYPES[options.format],
        width=width,
        height=width,
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
