"""Pure rules about an image before it is rendered: its QR version and its width in pixels.

Building the symbol is most of a render's cost (segno's mask evaluation: ~0.2 s at version
40), so a request for an image too large is refused from the version alone, which segno's
encoder finds from the data's bit length in a few milliseconds at most.
"""

from __future__ import annotations

import segno
from segno import encoder

from .render import MAX_SIZE_PX

# The widest image we render, whatever the scale and the data: the largest `size` too.
MAX_IMAGE_PX = MAX_SIZE_PX
LARGEST_VERSION = 40


def modules_per_side(version: int, border: int) -> int:
    """Modules across a QR code of `version` (1-40) with a quiet zone of `border` modules."""
    return version * 4 + 17 + 2 * border


def planned_version(data: str, error_correction: str) -> int | None:
    """The version `segno.make_qr(data, error=error_correction)` picks, without building the
    symbol; None when the data fits in no QR code."""
    segments = encoder.prepare_data(data, None, None)
    level = encoder.normalize_errorlevel(error_correction)
    try:
        return encoder.find_version(segments, level, eci=False, micro=False)
    except segno.DataOverflowError:
        return None


def may_exceed_cap(scale: int, border: int) -> bool:
    """Could a code drawn at `scale` be wider than MAX_IMAGE_PX for some data? When not, the
    version need not be computed at all. (Without a scale nothing can: a `size` is itself at
    most MAX_IMAGE_PX, and the default scale, 10, fits any version.)"""
    return modules_per_side(LARGEST_VERSION, border) * scale > MAX_IMAGE_PX


def too_wide(version: int, border: int, scale: int) -> str | None:
    """The complaint when a code of `version` at `scale` pixels per module would be wider than
    MAX_IMAGE_PX, else None."""
    width = modules_per_side(version, border) * scale
    if width <= MAX_IMAGE_PX:
        return None
    return f"scale: the image would be {width} pixels wide; at most {MAX_IMAGE_PX}"
