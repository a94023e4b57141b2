"""Admin pages: users (create, plan, active, reset password), credit packs, each user's usage."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException

from ..accounts import service as accounts
from ..accounts import store as accounts_store
from ..accounts.passwords import generate_password
from ..accounts.schemas import UserPatch, user_from_row
from ..errors import ApiError
from ..pagination import decode_cursor, encode_cursor
from ..workspaces import store as workspaces_store
from . import session, sources
from .ui import app_ctx, errors_of, flash, go, page

PAGE_SIZE = 25


async def update_as(request: Request, user_id: int, patch: UserPatch):
    """The signed-in admin changes a user: the same service (and rules) as the API's PATCH."""
    ctx = app_ctx(request)
    return await accounts.update_user(
        ctx.db,
        ctx.settings,
        user_id,
        patch,
        actor_id=request.state.ui_user.id,
        tokens=ctx.tokens,
    )


def form_errors(error: ApiError) -> dict[str, str]:
    # The active flag's form field is "active" (the API's is "is_active").
    return {"active" if k == "is_active" else k: v for k, v in errors_of(error).items()}


class UsersPages(Controller):
    path = "/users"
    opt = {"admin_only": True}

    @get("/")
    async def list_users(
        self, request: Request, q: str | None = None, cursor: str | None = None
    ) -> object:
        ctx = app_ctx(request)
        try:
            key = decode_cursor(cursor)
        except ApiError:
            key = None
        before = int(key[0]) if key else None
        rows = await ctx.db.read(
            accounts_store.list_users, PAGE_SIZE + 1, before, (q or "").strip() or None
        )
        users = [user_from_row(r) for r in rows[:PAGE_SIZE]]
        usages = await asyncio.gather(*(sources.personal_usage(ctx, u.id) for u in users))
        next_href = None
        search = f"&{urlencode({'q': q})}" if q else ""
        if len(rows) > PAGE_SIZE:
            next_href = f"/admin/users/?cursor={encode_cursor(users[-1].id)}{search}"
        return page(
            request,
            "users/list.html",
            nav="users",
            users=users,
            q=q or "",
            next_href=next_href,
            usages={u.id: usage for u, usage in zip(users, usages, strict=True)},
            prev_href="/admin/users/" + (f"?{search[1:]}" if search else "") if cursor else None,
            plans=sorted(ctx.settings.plans),
        )

    @get("/new")
    async def new_user(self, request: Request) -> object:
        ctx = app_ctx(request)
        return page(
            request,
            "users/new.html",
            nav="users",
            errors={},
            values={"role": "member", "plan": ctx.settings.accounts.default_plan},
            plans=sorted(ctx.settings.plans),
        )

    @post("/", status_code=200)
    async def create_user(self, request: Request) -> object:
        ctx = app_ctx(request)
        form = await request.form()
        values = {k: (form.get(k) or "").strip() for k in ("email", "role", "plan")}
        password = form.get("password") or None
        try:
            user, generated = await accounts.create_user(
                ctx.db,
                ctx.settings,
                values["email"],
                password,
                values["role"] or "member",
                values["plan"] or None,
            )
        except ApiError as error:
            return page(
                request,
                "users/new.html",
                nav="users",
                status=400,
                errors=errors_of(error),
                values=values,
                plans=sorted(ctx.settings.plans),
            )
        if generated:
            # The generated password is shown on this response only, never stored in clear.
            return page(
                request,
                "users/created.html",
                nav="users",
                user=user,
                password=generated,
                flash=[flash("success", f"User {user.email} created.")],
            )
        return go(request, f"/admin/users/{user.id}", ("success", f"User {user.email} created."))

    @get("/{user_id:int}")
    async def detail(self, request: Request, user_id: int) -> object:
        return await self._detail(request, user_id)

    async def _detail(
        self,
        request: Request,
        user_id: int,
        *,
        errors: dict | None = None,
        status: int = 200,
        extra: list | None = None,
    ) -> object:
        ctx = app_ctx(request)
        user = await ctx.db.read(accounts.get_user, user_id)
        if user is None:
            raise NotFoundException("No user with that id")
        usage = await sources.personal_usage(ctx, user.id)
        return page(
            request,
            "users/detail.html",
            nav="users",
            user=user,
            usage=usage,
            errors=errors or {},
            plans=sorted(ctx.settings.plans),
            status=status,
            flash=extra or [],
        )

    async def _patch(self, request: Request, user_id: int, patch: UserPatch, done: str) -> object:
        try:
            user = await update_as(request, user_id, patch)
        except ApiError as error:
            if error.status_code == 404:
                raise
            return await self._detail(request, user_id, errors=form_errors(error), status=400)
        return go(request, f"/admin/users/{user.id}", ("success", done.format(email=user.email)))

    @post("/{user_id:int}/plan", status_code=303)
    async def set_plan(self, request: Request, user_id: int) -> object:
        plan = ((await request.form()).get("plan") or "").strip()
        return await self._patch(request, user_id, UserPatch(plan=plan), f"Plan changed to {plan}.")

    @post("/{user_id:int}/role", status_code=303)
    async def set_role(self, request: Request, user_id: int) -> object:
        role = ((await request.form()).get("role") or "").strip()
        if role not in ("admin", "member"):
            return await self._detail(
                request, user_id, status=400, errors={"role": "Choose admin or member."}
            )
        return await self._patch(request, user_id, UserPatch(role=role), f"Role changed to {role}.")

    @post("/{user_id:int}/active", status_code=303)
    async def set_active(self, request: Request, user_id: int) -> object:
        active = (await request.form()).get("active") == "yes"
        return await self._patch(
            request,
            user_id,
            UserPatch(is_active=active),
            "{email} can sign in again." if active else "{email} is deactivated.",
        )

    @post("/{user_id:int}/password", status_code=200)
    async def reset_password(self, request: Request, user_id: int) -> object:
        form = await request.form()
        password = form.get("password") or ""
        generated = None
        if not password:
            password = generated = generate_password()
        try:
            user = await update_as(request, user_id, UserPatch(password=password))
        except ApiError as error:
            if error.status_code == 404:
                raise
            return await self._detail(request, user_id, errors=errors_of(error), status=400)
        # A new password ends the user's sessions; an admin resetting their own keeps this one
        # (a fresh cookie at the new epoch), as on the account page.
        ctx = app_ctx(request)
        own = user.id == request.state.ui_user.id
        cookies = session.session_cookies(request, ctx, user) if own else []
        if generated:
            return page(
                request,
                "users/created.html",
                nav="users",
                user=user,
                password=generated,
                reset=True,
                cookies=cookies,
                flash=[flash("success", f"Password of {user.email} reset.")],
            )
        return go(
            request,
            f"/admin/users/{user.id}",
            ("success", f"Password of {user.email} changed."),
            cookies=cookies,
        )

    @post("/{user_id:int}/sign-out-everywhere", status_code=303)
    async def sign_out_everywhere(self, request: Request, user_id: int) -> object:
        ctx = app_ctx(request)
        await accounts.sign_out_everywhere(ctx.db, user_id, ctx.tokens)
        if user_id == request.state.ui_user.id:
            return go(
                request,
                "/admin/login",
                ("success", "You are signed out everywhere."),
                cookies=session.signed_out_cookies(request, ctx),
            )
        return go(
            request,
            f"/admin/users/{user_id}",
            ("success", "Every session and API token of this user has ended."),
        )

    @post("/{user_id:int}/credits", status_code=303)
    async def grant_credits(self, request: Request, user_id: int) -> object:
        ctx = app_ctx(request)
        form = await request.form()
        raw = (form.get("amount") or "").strip()
        note = (form.get("note") or "").strip()
        if not raw.isdigit() or int(raw) < 1:
            return await self._detail(
                request,
                user_id,
                status=400,
                errors={"amount": "Enter a whole number of generations, 1 or more."},
            )
        try:
            personal = await ctx.db.read(workspaces_store.personal_workspace, user_id)
            if personal is None:
                known = await ctx.db.read(accounts.get_user, user_id) is not None
                raise NotFoundException(
                    "This user has no personal workspace" if known else "No user with that id"
                )
            await sources.grant_credits(ctx, personal["id"], int(raw), note, request.state.ui_user)
        except ApiError as error:
            if error.status_code == 404:
                raise
            return await self._detail(request, user_id, errors=errors_of(error), status=400)
        return go(
            request,
            f"/admin/users/{user_id}",
            ("success", f"Granted {int(raw):,} generations for this month."),
        )


ROUTES = [UsersPages]
