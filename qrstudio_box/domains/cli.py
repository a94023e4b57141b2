"""`qrstudio-box domains list|approve`: branded domains from the operator's shell."""

from __future__ import annotations

import argparse

from ..cli_support import CliError, add_command, open_database
from ..config import Settings
from ..db import write_sync
from . import service, store
from .rules import ACTIVE, DELETED, PENDING


def cmd_domains_list(args: argparse.Namespace, settings: Settings) -> int:
    conn = open_database(settings)
    rows = store.list_all_domains(conn, args.status)
    for row in rows:
        print(
            f"{row['id']}\t{row['hostname']}\t{row['status']}\tworkspace {row['workspace_id']}"
            f"\tcreated {row['created_at']}"
        )
    if not rows:
        print("no branded domains" + (f" {args.status}" if args.status else ""))
    return 0


def cmd_domains_approve(args: argparse.Namespace, settings: Settings) -> int:
    conn = open_database(settings)
    row = store.find_live_by_hostname(conn, args.hostname.strip().lower())
    if row is None:
        raise CliError(f"no branded domain {args.hostname} (see `qrstudio-box domains list`)")
    if row["status"] == ACTIVE:
        print(f"{row['hostname']} is already active")
        return 0
    write_sync(conn, service.approve_in, row["id"], settings=settings)
    print(
        f"approved {row['hostname']}: a running appliance serves it within "
        f"{service.DomainMap.REFRESH_SECONDS} seconds"
    )
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    domains = commands.add_parser("domains", help="branded short domains")
    actions = domains.add_subparsers(dest="domains_command", required=True, metavar="ACTION")
    listing = add_command(actions, "list", "every branded domain of the box", cmd_domains_list)
    listing.add_argument("--status", choices=[PENDING, ACTIVE, DELETED], default=None)
    approve = add_command(
        actions,
        "approve",
        "approve a pending domain ([domains] require_approval)",
        cmd_domains_approve,
    )
    approve.add_argument("hostname")
