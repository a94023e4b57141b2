"""qr/render.py: options validation, the images themselves (decoded with zxing-cpp), caching."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from qrstudio_box.qr.render import (
    OptionsError,
    RenderCache,
    RenderOptions,
    exact_layout,
    parse_options,
)
from tests.qr.qr_images import decode_png, decode_svg


@pytest.mark.parametrize(
    "data",
    ["hello", "https://example.com/menus/spring-2026?utm=qr", "Grüße, 東京 🍣", "x" * 1000],
)
def test_png_decodes_to_the_data(data):
    rendered = RenderCache().render(parse_options({"data": data}))
    assert rendered.media_type == "image/png"
    assert rendered.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert decode_png(rendered.content) == data


@pytest.mark.parametrize(
    "options",
    [
        {"scale": 3, "border": 0, "error_correction": "L"},
        {"scale": 7, "border": 20, "error_correction": "H", "dark": "#123", "light": "#ffeedd"},
        {"size": 300, "light": "transparent", "dark": "#0A3D62"},
    ],
)
def test_png_options_still_decode(options):
    rendered = RenderCache().render(parse_options({"data": "https://qr.test/a", **options}))
    assert decode_png(rendered.content) == "https://qr.test/a"
    image = Image.open(io.BytesIO(rendered.content))
    assert image.size == (rendered.width, rendered.height)


@pytest.mark.parametrize(
    "size, modules, layout",
    [
        (512, 37, (13, 15, 16)),  # 37 * 13 = 481: 31 px of extra quiet zone, 15 + 16
        (200, 29, (6, 13, 13)),
        (256, 25, (10, 3, 3)),
        (145, 29, (5, 0, 0)),  # a whole multiple: no padding
        (30, 29, (1, 0, 1)),  # an odd spare pixel goes after
        (21, 29, (1, 0, 0)),  # smaller than the code: one pixel per module, no padding
    ],
)
def test_exact_layout(size, modules, layout):
    scale, before, after = exact_layout(size, modules)
    assert (scale, before, after) == layout
    if size >= modules:
        assert modules * scale + before + after == size


@pytest.mark.parametrize("size", [256, 512, 1000, 1024, 2048])
@pytest.mark.parametrize("light", ["#ffffff", "transparent", "#ffeedd"])
def test_size_is_exact_in_png_and_still_decodes(size, light):
    """Issue 15.7: a 512 px download was 481 px (segno scales in whole modules)."""
    data = "https://qr.example.com/r/abcdefgh"
    options = {"data": data, "size": size, "light": light, "dark": "#0a3d62"}
    rendered = RenderCache().render(parse_options(options))
    image = Image.open(io.BytesIO(rendered.content))
    assert image.size == (size, size) == (rendered.width, rendered.height)
    assert decode_png(rendered.content) == data
    # the padding is light: every corner pixel is the background (or transparent)
    corners = {image.convert("RGBA").getpixel(xy) for xy in [(0, 0), (size - 1, size - 1)]}
    if light == "transparent":
        assert {alpha for *_, alpha in corners} == {0}
    else:
        assert corners == {(*bytes.fromhex(light[1:]), 255)}


@pytest.mark.parametrize("size", [256, 512, 1024])
def test_size_is_exact_in_svg_and_still_decodes(size):
    """Issue 15.7: a 512 px SVG said width="492"."""
    data = "https://qr.example.com/r/abcdefgh"
    rendered = RenderCache().render(parse_options({"data": data, "size": size, "format": "svg"}))
    root = ET.fromstring(rendered.content)
    assert (root.get("width"), root.get("height")) == (str(size), str(size))
    modules = int(root.get("viewBox").split()[2])
    assert root.get("viewBox") == f"0 0 {modules} {modules}"
    assert rendered.width == size
    assert decode_svg(rendered.content) == data


def test_svg_is_valid_xml_with_the_colours_and_size():
    rendered = RenderCache().render(
        parse_options({"data": "hello", "format": "svg", "scale": 5, "dark": "#F00"})
    )
    assert rendered.media_type == "image/svg+xml"
    root = ET.fromstring(rendered.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("width") == str(rendered.width) == "145"  # (21 + 8) * 5
    path = next(p for p in root.iter("{http://www.w3.org/2000/svg}path") if p.get("stroke"))
    assert path.get("stroke") in {"red", "#f00", "#ff0000"}  # segno writes the shortest
    assert decode_svg(rendered.content) == "hello"


@pytest.mark.parametrize("data", ["hello", "https://example.com/x?y=1", "Grüße 東京"])
def test_svg_decodes_to_the_data(data):
    rendered = RenderCache().render(parse_options({"data": data, "format": "svg"}))
    assert decode_svg(rendered.content) == data


def test_transparent_light_leaves_the_background_out():
    rendered = RenderCache().render(parse_options({"data": "hi", "light": "transparent"}))
    image = Image.open(io.BytesIO(rendered.content)).convert("RGBA")
    assert image.getpixel((0, 0))[3] == 0


def test_never_micro_qr():
    # segno.make() would choose a Micro QR (M2) for this short numeric string.
    rendered = RenderCache().render(parse_options({"data": "12345"}))
    assert rendered.version == 1
    assert decode_png(rendered.content) == "12345"


def test_same_options_are_rendered_once():
    cache = RenderCache()
    first = cache.render(parse_options({"data": "cached", "dark": "#FFF", "light": "#000"}))
    # The same colours spelled differently are the same parameters.
    second = cache.render(parse_options({"data": "cached", "dark": "#ffffff", "light": "#000000"}))
    assert second is first
    assert cache.renders == 1
    cache.render(parse_options({"data": "cached", "format": "svg"}))
    assert cache.renders == 2


def test_cache_is_bounded_least_recently_used_first():
    cache = RenderCache(max_entries=2)
    a, b, c = (parse_options({"data": text}) for text in "abc")
    cache.render(a)
    cache.render(b)
    cache.render(a)  # a is now the most recent
    cache.render(c)  # evicts b
    assert len(cache) == 2 and cache.renders == 3
    cache.render(a)
    assert cache.renders == 3
    cache.render(b)
    assert cache.renders == 4


def test_query_values_are_converted_from_text():
    options = parse_options({"data": "q", "scale": "5", "border": "0"}, from_query=True)
    assert options == RenderOptions(data="q", scale=5, border=0)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({}, "data"),
        ({"data": ""}, "data"),
        ({"data": 5}, "data"),
        ({"data": "x" * 5000}, "data"),
        ({"data": "x", "format": "gif"}, "format"),
        ({"data": "x", "scale": 0}, "scale"),
        ({"data": "x", "scale": 51}, "scale"),
        ({"data": "x", "scale": "5"}, "scale"),
        ({"data": "x", "scale": 2.5}, "scale"),
        ({"data": "x", "size": 10}, "size"),
        ({"data": "x", "size": 100_000}, "size"),
        ({"data": "x", "scale": 5, "size": 200}, "size"),
        ({"data": "x", "border": -1}, "border"),
        ({"data": "x", "border": 21}, "border"),
        ({"data": "x", "error_correction": "X"}, "error_correction"),
        ({"data": "x", "error_correction": "m"}, "error_correction"),
        ({"data": "x", "dark": "black"}, "dark"),
        ({"data": "x", "dark": "#12"}, "dark"),
        ({"data": "x", "dark": "transparent"}, "dark"),
        ({"data": "x", "light": "#ggg"}, "light"),
        ({"data": "x", "light": "#1234567"}, "light"),
        ({"data": "x", "colour": "#000"}, "colour"),
    ],
)
def test_bad_options_name_the_field(values, field):
    with pytest.raises(OptionsError) as raised:
        parse_options(values)
    assert raised.value.field == field
    assert raised.value.detail.startswith(f"{field}: ")


def test_data_too_long_for_any_qr_names_data():
    # 4000 bytes in byte mode: more than version 40-L holds (2953).
    with pytest.raises(OptionsError) as raised:
        RenderCache().render(parse_options({"data": "x" * 4000}))
    assert raised.value.field == "data"


def test_cache_is_bounded_in_bytes_too():
    probe = RenderCache().render(parse_options({"data": "a", "scale": 20}))
    cache = RenderCache(max_entries=100, max_bytes=len(probe.content) * 3 + 10)
    for text in "abcdef":
        cache.render(parse_options({"data": text, "scale": 20}))
    assert len(cache) <= 3
    assert cache.size_bytes <= cache.max_bytes
    assert cache.size_bytes == sum(
        len(cache.render(parse_options({"data": t, "scale": 20})).content) for t in "def"
    )
