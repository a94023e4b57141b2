from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from qrstudio_box.links.variants import (
    DRAW_RANGE,
    StickyVariants,
    Variant,
    pick_variant,
    scanner_hash,
)

SALT = b"s" * 32
A = Variant("A", "https://a.test/", 70)
B = Variant("B", "https://b.test/", 20)
C = Variant("C", "https://c.test/", 10)
DAY = 24 * 60 * 60


def scanners(n: int, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    return [
        scanner_hash(
            SALT, f"198.51.{rng.randrange(256)}.{rng.randrange(256)}", f"UA {rng.random()}"
        )
        for _ in range(n)
    ]


@pytest.mark.parametrize(
    ("draw", "label"),
    [
        (0, "A"),
        (DRAW_RANGE * 69 // 100, "A"),
        (DRAW_RANGE * 71 // 100, "B"),
        (DRAW_RANGE * 89 // 100, "B"),
        (DRAW_RANGE * 91 // 100, "C"),
        (DRAW_RANGE - 1, "C"),
    ],
)
def test_pick_maps_the_draw_onto_weight_intervals(draw, label):
    assert pick_variant([A, B, C], draw).label == label


def test_weights_hold_over_many_scanners():
    sticky = StickyVariants()
    n = 20_000
    counts = Counter(
        sticky.choose(1, "aBc12dEf", [A, B, C], scanner, now=1_000.0).label
        for scanner in scanners(n)
    )
    for variant in (A, B, C):
        p = variant.weight / 100
        # Within 5 standard deviations of the binomial mean: fails only if weights are ignored.
        assert abs(counts[variant.label] - n * p) < 5 * math.sqrt(n * p * (1 - p)), counts


def test_a_scanner_keeps_its_variant():
    sticky = StickyVariants()
    for scanner in scanners(200):
        first = sticky.choose(1, "aBc12dEf", [A, B, C], scanner, now=0.0)
        for hour in range(1, 24):
            assert sticky.choose(1, "aBc12dEf", [A, B, C], scanner, now=hour * 3600.0) == first


def test_the_variant_survives_a_weight_change_for_24_hours():
    sticky = StickyVariants()
    crowd = scanners(300)
    before = {s: sticky.choose(1, "aBc12dEf", [A, B], s, now=0.0).label for s in crowd}
    flipped = [Variant("A", A.destination_url, 1), Variant("B", B.destination_url, 99)]
    during = {s: sticky.choose(1, "aBc12dEf", flipped, s, now=DAY - 1.0).label for s in crowd}
    assert during == before
    # After 24 h the new weights decide: almost everybody is now on B.
    after = Counter(sticky.choose(1, "aBc12dEf", flipped, s, now=DAY + 1.0).label for s in crowd)
    assert after["B"] > 280


def test_without_memory_the_same_scanner_still_gets_the_same_variant():
    # What a restart looks like: a fresh map. The draw is derived from the scanner.
    crowd = scanners(300)
    first = [StickyVariants().choose(1, "aBc12dEf", [A, B, C], s, now=0.0) for s in crowd]
    again = [StickyVariants().choose(1, "aBc12dEf", [A, B, C], s, now=5.0) for s in crowd]
    assert first == again


def test_a_removed_variant_is_replaced():
    sticky = StickyVariants()
    crowd = scanners(300)
    on_c = [s for s in crowd if sticky.choose(1, "aBc12dEf", [A, B, C], s, now=0.0) is C]
    assert on_c
    for scanner in on_c:
        assert sticky.choose(1, "aBc12dEf", [A, B], scanner, now=10.0).label in {"A", "B"}


def test_different_qrs_draw_independently():
    sticky = StickyVariants()
    crowd = scanners(2000)
    half = [Variant("A", "https://a.test/", 1), Variant("B", "https://b.test/", 1)]
    same = sum(
        sticky.choose(1, "aaaaaaaa", half, s, now=0.0).label
        == sticky.choose(2, "bbbbbbbb", half, s, now=0.0).label
        for s in crowd
    )
    # Independent 50/50 picks agree about half the time (correlated ones always would).
    assert abs(same - 1000) < 5 * math.sqrt(2000 * 0.25)


def test_single_variant_uses_no_memory():
    sticky = StickyVariants()
    only = Variant("(default)", "https://x.test/", 1)
    assert sticky.choose(1, "aBc12dEf", [only], b"x" * 16, now=0.0) is only
    assert len(sticky) == 0


def test_memory_is_bounded_and_expires():
    sticky = StickyVariants(max_entries=100)
    for i, scanner in enumerate(scanners(500)):
        sticky.choose(1, "aBc12dEf", [A, B], scanner, now=float(i))
    assert len(sticky) == 100
    sticky.choose(1, "aBc12dEf", [A, B], b"z" * 16, now=10 * DAY)
    assert len(sticky) == 1  # everything older than 24 h went on the next insert


def test_scanner_hash_depends_on_salt_ip_and_agent():
    base = scanner_hash(SALT, "203.0.113.7", "UA")
    assert len(base) == 16
    assert scanner_hash(SALT, "203.0.113.7", "UA") == base
    assert scanner_hash(b"t" * 32, "203.0.113.7", "UA") != base
    assert scanner_hash(SALT, "203.0.113.8", "UA") != base
    assert scanner_hash(SALT, "203.0.113.7", "UA2") != base


def test_peek_answers_like_choose_and_remembers_nothing():
    sticky = StickyVariants()
    for scanner in scanners(100):
        peeked = sticky.peek(1, "aBc12dEf", [A, B, C], scanner, now=0.0)
        assert len(sticky) == 0 or sticky.peek(1, "aBc12dEf", [A, B, C], scanner, now=0.0) == peeked
        assert sticky.choose(1, "aBc12dEf", [A, B, C], scanner, now=0.0) == peeked
    assert len(sticky) == 100
    size = len(sticky)
    sticky.peek(1, "aBc12dEf", [A, B, C], b"q" * 16, now=0.0)
    assert len(sticky) == size
