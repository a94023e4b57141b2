"""Reading HTML forms into the domains' input shapes. Pure functions, table-tested.

Only the *shape* is handled here (which rows, which numbers); every rule about the values
(URL allowed, labels unique, weight range) belongs to the domain service, whose errors the
page shows next to the field.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def parse_variants(
    labels: Sequence[str], urls: Sequence[str], weights: Sequence[str]
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Parallel form lists -> [{label, destination_url, weight}], plus shape errors.

    Rows left completely empty are skipped (the form always offers a spare row). A weight
    left empty means 1. A weight that is not a whole number is an error on `variants`.
    """
    rows: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    count = max(len(labels), len(urls), len(weights))
    for i in range(count):
        label = (labels[i] if i < len(labels) else "").strip()
        url = (urls[i] if i < len(urls) else "").strip()
        raw_weight = (weights[i] if i < len(weights) else "").strip()
        if not label and not url:
            continue
        weight: Any = 1
        if raw_weight:
            if raw_weight.lstrip("-").isdigit():
                weight = int(raw_weight)
            else:
                errors.setdefault(
                    "variants", f"Variant {len(rows) + 1}: the weight must be a whole number."
                )
                weight = raw_weight
        rows.append({"label": label, "destination_url": url, "weight": weight})
    return rows, errors


def checkbox(value: str | None) -> bool:
    return value in ("on", "yes", "true", "1")


def field_group(field: str | None) -> str:
    """Map a domain error field to the form field it is shown under:
    'variants[1].weight' and 'variants' -> 'variants'; others unchanged; None -> 'form'."""
    if not field:
        return "form"
    for group in ("variants", "events"):
        if field == group or field.startswith(group + "[") or field.startswith(group + "."):
            return group
    return field
