"""The access rule and the member rules, as tables."""

from __future__ import annotations

import pytest

from qrstudio_box.errors import ApiError
from qrstudio_box.workspaces.rules import (
    Access,
    access_problem,
    effective_role,
    key_has_scope,
    member_change_problem,
    workspace_name_problem,
)
from qrstudio_box.workspaces.schemas import Caller
from qrstudio_box.workspaces.service import highest_plan, parse_workspace_header


def person(role, *, admin=False, workspace=7):
    return Caller(1, admin, workspace, "w", "pro", role)


def key(*scopes):
    return Caller(None, False, 7, "w", "pro", None, api_key_id=3, scopes=frozenset(scopes))


NO_WORKSPACE = Caller(1, False, None, "", "", None)
VIEWER, EDITOR, OWNER = person("viewer"), person("editor"), person("owner")
ADMIN = person("owner", admin=True)
READ = Access("workspace", "viewer", "read")
WRITE = Access("workspace", "editor", "write")
HOOKS = Access("workspace", "owner", "webhooks")
MEMBERS = Access("workspace", "owner", None)


@pytest.mark.parametrize(
    ("access", "caller", "expected"),
    [
        (None, OWNER, (403, "This route declares no access rule")),
        (Access("public"), None, None),
        (READ, None, (401, "A bearer token is required")),
        (Access("admin"), ADMIN, None),
        (Access("admin"), OWNER, (403, "This needs an admin account")),
        (Access("admin"), key("read", "write", "webhooks"), (403, "This needs an admin account")),
        (Access("signed_in"), NO_WORKSPACE, None),
        (
            Access("signed_in"),
            key("read"),
            (403, "API keys cannot do this; sign in with a user account"),
        ),
        (Access("caller"), key("read"), None),
        (READ, NO_WORKSPACE, (403, "You belong to no workspace; ask an owner of one to add you")),
        (READ, VIEWER, None),
        (WRITE, VIEWER, (403, "This needs the editor role in this workspace")),
        (WRITE, EDITOR, None),
        (HOOKS, EDITOR, (403, "This needs the owner role in this workspace")),
        (HOOKS, OWNER, None),
        (HOOKS, ADMIN, None),
        (MEMBERS, OWNER, None),
        (READ, key("read"), None),
        (READ, key("write"), None),
        (READ, key("webhooks"), None),
        (WRITE, key("read"), (403, "This API key lacks the write scope")),
        (WRITE, key("write"), None),
        (WRITE, key("webhooks"), (403, "This API key lacks the write scope")),
        (HOOKS, key("read", "write"), (403, "This API key lacks the webhooks scope")),
        (HOOKS, key("webhooks"), None),
        (
            MEMBERS,
            key("read", "write", "webhooks"),
            (403, "API keys cannot do this; sign in with a user account"),
        ),
    ],
)
def test_access_problem(access, caller, expected):
    assert access_problem(access, caller) == expected


@pytest.mark.parametrize(
    ("scopes", "needed", "expected"),
    [
        ({"read"}, "read", True),
        ({"write"}, "read", True),
        ({"read"}, "write", False),
        ({"webhooks"}, "write", False),
        (set(), "read", False),
        ({"bogus"}, "read", False),
    ],
)
def test_key_has_scope(scopes, needed, expected):
    assert key_has_scope(frozenset(scopes), needed) is expected


@pytest.mark.parametrize(
    ("member_role", "is_admin", "expected"),
    [
        ("viewer", False, "viewer"),
        (None, False, None),
        (None, True, "owner"),
        ("viewer", True, "owner"),
    ],
)
def test_effective_role(member_role, is_admin, expected):
    assert effective_role(member_role, is_admin) == expected


@pytest.mark.parametrize(
    ("owners_left", "expected"),
    [(0, "a workspace must keep at least one owner"), (1, None), (2, None)],
)
def test_a_workspace_keeps_one_owner(owners_left, expected):
    assert member_change_problem(owners_left) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Bistro", None),
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("x" * 100, None),
        ("x" * 101, "must be at most 100 characters"),
    ],
)
def test_workspace_name(name, expected):
    assert workspace_name_problem(name) == expected


@pytest.mark.parametrize(("raw", "expected"), [(None, None), ("", None), ("7", 7), (" 12 ", 12)])
def test_workspace_header_read(raw, expected):
    assert parse_workspace_header(raw) == expected


@pytest.mark.parametrize("raw", ["abc", "-1", "0", "1.5", "٣", str(2**63)])
def test_workspace_header_refused(raw):
    with pytest.raises(ApiError) as refused:
        parse_workspace_header(raw)
    assert refused.value.status_code == 400
    assert refused.value.field == "X-QRStudio-Workspace"
    assert refused.value.detail == (
        "X-QRStudio-Workspace: must be a workspace id, a positive integer"
    )


def test_highest_plan_is_by_rank(settings):
    assert highest_plan(settings) == "business"
