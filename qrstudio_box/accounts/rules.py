"""Account rules without I/O, each one pure function with a table test."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

# Columns whose change ends every token the user holds (issue 14.1).
SESSION_ENDING_COLUMNS = ("role", "is_active")


def ends_sessions(current: Mapping[str, Any], changes: Mapping[str, Any]) -> bool:
    """Whether a user change ends their tokens: a new password, or a role or active flag that
    really changes (setting the plan, or the role it already has, keeps them signed in)."""
    if "password_hash" in changes:
        return True
    return any(
        column in changes and changes[column] != current[column]
        for column in SESSION_ENDING_COLUMNS
    )


def admin_change_problem(
    *,
    actor_id: int | None,
    target_id: int,
    target_role: str,
    target_active: bool,
    new_role: str | None,
    new_active: bool | None,
    active_admins: int,
) -> tuple[str, str] | None:
    """(field, why) when a role or active-flag change would leave the box without a way in.

    The API, the admin UI and the CLI all ask this one rule: an admin does not deactivate or
    demote themself, and the last active admin is neither demoted nor deactivated. `actor_id`
    is None for the operator at the CLI, who may do anything but remove the last admin.
    """
    demoted = target_role == "admin" and new_role is not None and new_role != "admin"
    deactivated = target_active and new_active is False
    if actor_id == target_id and deactivated:
        return "is_active", "you cannot deactivate your own account"
    if actor_id == target_id and demoted:
        return "role", "you cannot remove your own admin role"
    if target_role == "admin" and target_active and active_admins <= 1:
        if demoted:
            return "role", "the last active admin cannot become a member; make another admin first"
        if deactivated:
            return (
                "is_active",
                "the last active admin cannot be deactivated; make another admin first",
            )
    return None


# One-time links (issue 16.5): why one can no longer be used. The same words on the page
# ("This link has expired.") and in the API's error ("token: this link has expired").
LINK_PROBLEMS = {
    "unknown": "is not valid: check that it was copied whole",
    "revoked": "was withdrawn",
    "used": "was already used",
    "expired": "has expired",
}


def link_problem(
    *, found: bool, used: bool, expires_at: datetime | None, now: datetime, revoked: bool = False
) -> str | None:
    """The key of LINK_PROBLEMS that ends a one-time link (reset or invitation), or None."""
    if not found or expires_at is None:
        return "unknown"
    if revoked:
        return "revoked"
    if used:
        return "used"
    if now >= expires_at:
        return "expired"
    return None
