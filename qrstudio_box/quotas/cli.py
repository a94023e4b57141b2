"""`qrstudio-box credits grant|show`: credit packs from the operator's shell."""

from __future__ import annotations

import argparse
from functools import partial

from ..cli_support import CliError, add_command, find_user, open_database
from ..clock import SystemClock
from ..config import Settings
from ..db import write_sync
from ..workspaces.schemas import Caller
from ..workspaces.service import personal_workspace_as_caller
from . import service
from .service import ScanCounter


def personal_workspace(conn, email: str) -> tuple[str, Caller]:
    """The user's email as stored, and their personal workspace, which `credits` acts on (as
    the admin users API does)."""
    user = find_user(conn, email)
    workspace = personal_workspace_as_caller(conn, user["id"])
    if workspace is None:
        raise CliError(f"{email} has no personal workspace (they joined through an invitation)")
    return user["email"], workspace


def cmd_credits_grant(
    args: argparse.Namespace, settings: Settings, *, count_scans: ScanCounter
) -> int:
    if args.amount < 1:
        raise CliError("--amount: must be a positive number of generations")
    if len(args.note) > 500:
        raise CliError("--note: at most 500 characters")
    conn = open_database(settings)
    email, workspace = personal_workspace(conn, args.email)
    now = SystemClock().now()
    grant_id, period, credits = write_sync(
        conn, service.grant_credits, workspace.owner_id, args.amount, args.note, None, now
    )
    usage = service.read_usage(conn, workspace, settings, now, count_scans)
    print(
        f"granted {args.amount} generations to {email} for {period} (grant {grant_id}); "
        f"credits this month: {credits}; used {usage.used} of {usage.limit}"
    )
    return 0


def cmd_credits_show(
    args: argparse.Namespace, settings: Settings, *, count_scans: ScanCounter
) -> int:
    conn = open_database(settings)
    email, workspace = personal_workspace(conn, args.email)
    usage = service.read_usage(conn, workspace, settings, SystemClock().now(), count_scans)
    print(
        f"{email} ({usage.plan}) {usage.period}: used {usage.used} of {usage.limit} "
        f"(quota {usage.monthly_quota} + credits {usage.credits}), {usage.percent}%, "
        f"thresholds fired {usage.thresholds_fired or 'none'}, scans {usage.scans_this_month}"
    )
    return 0


def register(commands: argparse._SubParsersAction, *, count_scans: ScanCounter) -> None:
    """The `credits` commands; `count_scans` is the links domain's monthly scan count."""
    credits = commands.add_parser("credits", help="credit packs (extra generations this month)")
    actions = credits.add_subparsers(dest="credits_command", required=True, metavar="ACTION")
    grant = add_command(
        actions,
        "grant",
        "add generations to a user's current month (UTC)",
        partial(cmd_credits_grant, count_scans=count_scans),
    )
    grant.add_argument("--email", required=True)
    grant.add_argument("--amount", type=int, required=True, help="generations to add")
    grant.add_argument("--note", default="", help="why (kept with the grant)")
    show = add_command(
        actions,
        "show",
        "a user's usage and credits this month",
        partial(cmd_credits_show, count_scans=count_scans),
    )
    show.add_argument("--email", required=True)
