"""Test helpers: decode our PNGs and SVGs with a real decoder (zxing-cpp)."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import zxingcpp
from PIL import Image, ImageDraw

SVG_NS = "{http://www.w3.org/2000/svg}"


def decode_image(image: Image.Image) -> str:
    image = image.convert("RGBA")
    # Transparent backgrounds decode only once laid on white, as on a printed page.
    flat = Image.new("RGBA", image.size, "white")
    flat.alpha_composite(image)
    results = zxingcpp.read_barcodes(flat.convert("L"))
    assert len(results) == 1, f"expected one QR code, got {len(results)}"
    assert results[0].format == zxingcpp.BarcodeFormat.QRCode
    return results[0].text


def decode_png(content: bytes) -> str:
    assert content.startswith(b"\x89PNG\r\n\x1a\n")
    return decode_image(Image.open(io.BytesIO(content)))


def rasterize_svg(content: bytes) -> Image.Image:
    """Draw segno's SVG (one path of 1-unit strokes: M, m, h, v commands) at 8 px per unit."""
    root = ET.fromstring(content)
    assert root.tag == f"{SVG_NS}svg"
    path = next(p for p in root.iter(f"{SVG_NS}path") if p.get("class") == "qrline")
    if root.get("viewBox"):  # a size-exact image: width in px, the drawing in module units
        width = int(root.get("viewBox").split()[2])
    else:
        scale = float(re.search(r"scale\(([\d.]+)\)", content.decode()).group(1))
        width = round(float(root.get("width")) / scale)
    px = 8
    image = Image.new("L", (width * px, width * px), 255)
    draw = ImageDraw.Draw(image)
    x = y = 0.0
    for command, numbers in re.findall(r"([MmHhVv])([-\d.\s]+)", path.get("d")):
        values = [float(n) for n in numbers.split()]
        if command == "M":
            x, y = values
        elif command == "m":
            x, y = x + values[0], y + values[1]
        elif command == "h":
            end = x + values[0]
            top = y - 0.5
            draw.rectangle(
                [min(x, end) * px, top * px, max(x, end) * px - 1, (top + 1) * px - 1], fill=0
            )
            x = end
        else:
            raise AssertionError(f"unexpected path command {command}")
    return image


def decode_svg(content: bytes) -> str:
    return decode_image(rasterize_svg(content))
