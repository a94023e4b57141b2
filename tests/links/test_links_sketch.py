from __future__ import annotations

import random

import pytest

from qrstudio_box.links.sketch import REGISTERS, estimate_unique, register_and_low_bit


def sketch_of(scanners):
    registers: dict[int, int] = {}
    for scanner in scanners:
        register, low_bit = register_and_low_bit(scanner)
        registers[register] = max(registers.get(register, 0), low_bit)
    return registers.items()


def random_scanners(n, seed=3):
    rng = random.Random(seed)
    return [rng.getrandbits(64) - 2**63 for _ in range(n)]


def test_empty_is_zero():
    assert estimate_unique([]) == 0


@pytest.mark.parametrize("n", [1, 2, 3, 10, 20])
def test_small_counts_are_exact(n):
    assert estimate_unique(sketch_of(random_scanners(n))) == n


@pytest.mark.parametrize("n", [50, 1_000, 20_000, 300_000])
def test_large_counts_within_10_percent(n):
    assert abs(estimate_unique(sketch_of(random_scanners(n))) - n) < 0.1 * n


def test_repeats_do_not_count():
    scanners = random_scanners(500)
    assert estimate_unique(sketch_of(scanners * 5)) == estimate_unique(sketch_of(scanners))


def test_registers_cover_the_range():
    seen = {register_and_low_bit(s)[0] for s in random_scanners(20_000)}
    assert seen == set(range(REGISTERS))
