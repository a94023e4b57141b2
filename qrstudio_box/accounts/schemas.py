"""Account shapes at the API's edge. A password hash never leaves the store."""

from __future__ import annotations

from typing import Literal

import msgspec
from msgspec import UNSET, Struct, UnsetType

Role = Literal["admin", "member"]


class User(Struct, frozen=True):
    """The authenticated caller (`request.user`) and the public view of a user."""

    id: int
    email: str
    role: Role
    # The plan of the user's personal workspace (None: they have none, e.g. they signed up
    # through an invitation); each workspace has its own plan.
    plan: str | None
    is_active: bool
    created_at: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class TokenRequest(Struct, forbid_unknown_fields=True):
    email: str
    password: str


class TokenResponse(Struct):
    access_token: str
    token_type: str
    expires_in: int


class UserCreate(Struct, forbid_unknown_fields=True):
    email: str
    password: str | None = None
    role: Role = "member"
    plan: str | None = None


class UserCreated(Struct):
    user: User
    # Only when the server generated the password: shown once.
    password: str | None = None


class UserPatch(Struct, forbid_unknown_fields=True):
    plan: str | UnsetType = UNSET
    role: Role | UnsetType = UNSET
    is_active: bool | UnsetType = UNSET
    password: str | UnsetType = UNSET


class PasswordChange(Struct, forbid_unknown_fields=True):
    current_password: str
    new_password: str


class PasswordResetRequest(Struct, forbid_unknown_fields=True):
    email: str


class PasswordResetRequested(Struct):
    # The same answer whether an account has the email or not.
    detail: str
    mail_enabled: bool


class PasswordResetConfirm(Struct, forbid_unknown_fields=True):
    token: str
    new_password: str


class InvitationAccept(Struct, forbid_unknown_fields=True):
    token: str
    # A new account's password, or (when an account has the invited email) its password.
    password: str


class InvitationAccepted(Struct):
    user_id: int
    new_account: bool
    workspace_id: int
    workspace_name: str
    role: str  # the role the user has in that workspace now
    # A bearer token for the user (as POST /api/v1/auth/token/ answers).
    access_token: str
    token_type: str
    expires_in: int


class UserPage(Struct):
    results: list[User]
    next: str | None


def user_from_row(row) -> User:
    return User(
        id=row["id"],
        email=row["email"],
        role=row["role"],
        plan=row["plan"],
        is_active=bool(row["is_active"]),
        created_at=row["created_at"],
    )


__all__ = [
    "User",
    "TokenRequest",
    "TokenResponse",
    "UserCreate",
    "UserCreated",
    "UserPatch",
    "UserPage",
    "PasswordChange",
    "user_from_row",
    "msgspec",
]
