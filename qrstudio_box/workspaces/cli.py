"""`qrstudio-box api-keys create|list|revoke`: a workspace's API keys from the server's shell,
e.g. for a CI job: `KEY=$(qrstudio-box api-keys create --workspace 7 --name CI --scopes read)`.
The same checks and writes as the API (workspaces.service)."""

from __future__ import annotations

import argparse
import sys

from ..cli_support import CliError, add_command, open_database
from ..clock import SystemClock, iso_ms
from ..config import Settings
from ..db import write_sync
from ..errors import ApiError
from . import rules, service, store
from .schemas import ApiKeyCreate


def _check_workspace(conn, workspace_id: int) -> None:
    if store.get_workspace(conn, workspace_id, None) is None:
        raise CliError(f"--workspace: no workspace has id {workspace_id}")


def cmd_create(args: argparse.Namespace, settings: Settings) -> int:
    conn = open_database(settings)
    _check_workspace(conn, args.workspace)
    data = ApiKeyCreate(
        name=args.name,
        scopes=[scope.strip() for scope in args.scopes.split(",") if scope.strip()],
        expires_at=args.expires_at,
    )
    try:
        name, scopes, expires = service.check_api_key_create(data, SystemClock().now())
    except ApiError as error:
        raise CliError(str(error.detail)) from None
    created = write_sync(conn, service.add_api_key, args.workspace, name, scopes, expires, None)
    # The key alone on stdout, for $(...); what it is on stderr.
    print(created.key)
    print(
        f"created API key {created.id} ({created.name}: {', '.join(created.scopes)}) for "
        f"workspace {args.workspace}; the key is shown only now",
        file=sys.stderr,
    )
    return 0


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    conn = open_database(settings)
    _check_workspace(conn, args.workspace)
    now = iso_ms(SystemClock().now())
    for row in store.list_api_keys(conn, args.workspace):
        key = service.api_key_from_row(row)
        expires = key.expires_at or "never"
        if key.expires_at and key.expires_at <= now:
            expires = f"expired {key.expires_at}"
        print(
            f"{key.id}\t{key.prefix}…\t{key.name}\t{','.join(key.scopes)}\t"
            f"expires {expires}\tlast used {key.last_used_at or 'never'}"
        )
    return 0


def cmd_revoke(args: argparse.Namespace, settings: Settings) -> int:
    conn = open_database(settings)
    _check_workspace(conn, args.workspace)
    now = iso_ms(SystemClock().now())
    if not write_sync(conn, store.revoke_api_key, args.workspace, args.id, now):
        raise CliError(f"--id: workspace {args.workspace} has no API key {args.id} in use")
    # The server reads the key's row on every call: the next one with this key gets 401.
    print(f"revoked API key {args.id} of workspace {args.workspace}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    keys = commands.add_parser("api-keys", help="a workspace's API keys (qsb_...)")
    actions = keys.add_subparsers(dest="api_keys_command", required=True, metavar="ACTION")
    create = add_command(actions, "create", "create a key: prints it (shown only now)", cmd_create)
    create.add_argument("--workspace", type=int, required=True, help="workspace id")
    create.add_argument("--name", required=True, help="who uses it, e.g. CI")
    create.add_argument(
        "--scopes", required=True, help=f"comma-separated: {', '.join(rules.SCOPES)}"
    )
    create.add_argument("--expires-at", help="ISO 8601 time (UTC unless it says otherwise)")
    listing = add_command(actions, "list", "the workspace's keys (never their secret)", cmd_list)
    listing.add_argument("--workspace", type=int, required=True)
    revoke = add_command(actions, "revoke", "revoke a key at once", cmd_revoke)
    revoke.add_argument("--workspace", type=int, required=True)
    revoke.add_argument("--id", type=int, required=True, help="the key's id (see list)")
