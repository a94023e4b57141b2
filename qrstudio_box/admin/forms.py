"""Reading HTML forms into the domains' input shapes. Pure functions, table-tested.

Only the *shape* is handled here (which rows, which numbers); every rule about the values
(URL allowed, labels unique, weight range) belongs to the domain service, whose errors the
page shows next to the field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
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
    for group in ("variants", "events", "rules", "utm"):
        if field == group or field.startswith(group + "[") or field.startswith(group + "."):
            return group
    return field


RULE_LISTS = (
    "rule_key",
    "rule_position",
    "rule_label",
    "rule_url",
    "rule_country",
    "rule_device",
    "rule_os",
    "rule_browser",
    "rule_language",
    "rule_hours_from",
    "rule_hours_to",
    "rule_tz",
    "rule_between_from",
    "rule_between_to",
    "rule_bots",
)


def split_values(text: str) -> list[str]:
    """ "iOS, Android" -> ["iOS", "Android"]; blanks dropped."""
    return [part.strip() for part in text.split(",") if part.strip()]


def as_instant(text: str) -> str:
    """A datetime-local value ("2026-06-01T09:00") is UTC; a value with an offset is kept."""
    text = text.strip()
    if not text or text.endswith("Z") or "+" in text[10:] or "-" in text[10:]:
        return text
    return f"{text}:00Z" if len(text) == 16 else f"{text}Z"


def parse_rules(form: Callable[[str], Sequence[str]]) -> list[dict[str, Any]]:
    """The rule editor's rows -> [{label, destination_url, when}], in position order.

    `form(name)` gives every value of a field. Each row has the parallel text fields of
    RULE_LISTS (always sent) and, named by the row's key, weekday checkboxes
    (`rule_weekdays_<key>`) and a remove box (`rule_remove_<key>`, for browsers without JS).
    A row with neither label nor URL is the spare row: skipped. Values are not judged here.
    """
    columns = {name: list(form(name)) for name in RULE_LISTS}
    rows = []
    for i, key in enumerate(columns["rule_key"]):

        def value(name: str, i: int = i) -> str:
            values = columns[name]
            return values[i].strip() if i < len(values) else ""

        if form(f"rule_remove_{key}"):
            continue
        label, url = value("rule_label"), value("rule_url")
        if not label and not url:
            continue
        when: dict[str, Any] = {}
        for name, key_in_when in (
            ("rule_country", "country"),
            ("rule_device", "device"),
            ("rule_os", "os"),
            ("rule_browser", "browser"),
            ("rule_language", "language"),
        ):
            if value(name):
                when[key_in_when] = split_values(value(name))
        weekdays = list(form(f"rule_weekdays_{key}"))
        if weekdays:
            when["weekdays"] = weekdays
        if value("rule_hours_from") or value("rule_hours_to"):
            when["hours"] = {
                "from": value("rule_hours_from"),
                "to": value("rule_hours_to"),
                "tz": value("rule_tz") or "UTC",
            }
        between = {
            side: as_instant(value(f"rule_between_{side}"))
            for side in ("from", "to")
            if value(f"rule_between_{side}")
        }
        if between:
            when["between"] = between
        if value("rule_bots") in ("yes", "no"):
            when["bots"] = value("rule_bots") == "yes"
        position = value("rule_position")
        order = int(position) if position.isdigit() else len(rows) + 1
        rows.append((order, len(rows), {"label": label, "destination_url": url, "when": when}))
    rows.sort(key=lambda row: (row[0], row[1]))
    return [rule for _, _, rule in rows]


def rule_rows(rules: Sequence[Any]) -> list[dict[str, Any]]:
    """Rules (RuleOut) -> the editor's row values (the inverse of parse_rules)."""
    rows = []
    for rule in rules:
        when = rule.when
        rows.append(
            {
                "label": rule.label,
                "destination_url": rule.destination_url,
                "country": ", ".join(when.country or []),
                "device": ", ".join(when.device or []),
                "os": ", ".join(when.os or []),
                "browser": ", ".join(when.browser or []),
                "language": ", ".join(when.language or []),
                "weekdays": list(when.weekdays or []),
                "hours_from": when.hours.from_ if when.hours else "",
                "hours_to": when.hours.to if when.hours else "",
                "tz": when.hours.tz if when.hours else "",
                "between_from": (when.between.from_ or "")[:16] if when.between else "",
                "between_to": (when.between.to or "")[:16] if when.between else "",
                "bots": "" if when.bots is None else ("yes" if when.bots else "no"),
            }
        )
    return rows


# The words a form shows for a domain's field names (never the code name itself).
FIELD_LABELS = {
    "name": "Name",
    "destination_url": "Destination URL",
    "url": "Endpoint URL",
    "description": "Description",
    "events": "Events",
    "status": "Status",
    "data": "Text or URL",
    "size": "Size",
    "scale": "Scale",
    "border": "Quiet zone",
    "dark": "Foreground colour",
    "light": "Background colour",
    "format": "Format",
    "error_correction": "Error correction",
    "email": "Email",
    "password": "Password",
    "plan": "Plan",
    "role": "Role",
    "amount": "Amount",
    "note": "Note",
    "is_active": "Active",
    "fallback_url": "Fallback URL",
    "expired_url": "Expired URL",
    "hostname": "Host name",
    "short_id": "Short id",
}
# ... and inside a list's item ("Variant 2's destination URL").
ITEM_LABELS = {"destination_url": "destination URL", "label": "label", "weight": "weight"}
_ITEM = re.compile(r"(\w+?)s?\[(\d+)\](?:\.(\w+))?")
# Messages that read as the end of a sentence whose subject is the field ("must be ...",
# "is required"); others stand on their own ("Use true or false", "Choose at least one event").
_STARTS_WITH_VERB = re.compile(r"(must|may|cannot|needs?|is required|is not a known)\b")


def field_label(field: str) -> str:
    """'size' -> 'Size'; 'variants[1].destination_url' -> "Variant 2's destination URL";
    'events[0]' -> 'Event 1' (people count from one)."""
    item = _ITEM.fullmatch(field)
    if item:
        name, index, sub = item.groups()
        base = f"{name.capitalize()} {int(index) + 1}"
        return f"{base}'s {ITEM_LABELS.get(sub, sub.replace('_', ' '))}" if sub else base
    return FIELD_LABELS.get(field, field.replace("_", " ").capitalize())


def sentence(field: str, detail: str) -> str:
    """A domain's "size: must be at most 4096 pixels" as the form says it, next to the field:
    "Size must be at most 4096 pixels"; "is_active: use true or false" -> "Use true or false";
    "variants[0].weight: must be ..." -> "Variant 1's weight must be ..."."""
    message = detail[len(field) + 2 :] if detail.startswith(f"{field}: ") else detail
    if _STARTS_WITH_VERB.match(message):
        return f"{field_label(field)} {message}"
    if field_group(field) != field:  # an item of a list: say which one
        return f"{field_label(field)}: {message}"
    return message[:1].upper() + message[1:]
