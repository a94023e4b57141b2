"""qrstudio-box: run, migrate, users, plans (and credits, backup from their domains)."""

from __future__ import annotations

import argparse
import logging
import signal
import sqlite3
import sys
from collections.abc import Sequence

from . import __version__
from .accounts import resets
from .accounts import service as accounts
from .accounts import store as accounts_store
from .accounts.schemas import UserPatch
from .app import create_app
from .cli_support import (
    CliError,
    NoDatabase,
    add_command,
    find_user,
    open_database,
    require_database,
)
from .config import ConfigError, Settings, load_settings
from .db import SchemaTooNew, connect_sync, migrate, write_sync
from .domains import cli as domains_cli
from .errors import ApiError
from .links import store as links_store
from .links.geoip import GeoIP, GeoIPError
from .logs import configure_logging
from .ops import cli as ops_cli
from .preflight import StartupError, listen_socket, prepare_data_dir
from .quotas import cli as quotas_cli
from .workspaces import cli as workspaces_cli


def read_password(from_stdin: bool) -> str | None:
    if not from_stdin:
        return None
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise CliError("--password-stdin: no password on standard input")
    return password


# -- commands -------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    # Deferred for start-up speed only: every other command starts without loading uvicorn.
    import uvicorn

    if args.host:
        settings.server.host = args.host
    if args.port:
        settings.server.port = args.port
    configure_logging(settings)
    # Check what can be checked before serving, so a busy port, an unusable data_dir, a
    # too-new database or a GeoIP file that is not one stops the start with one clear line
    # instead of a traceback from the lifespan. The port is bound first: the lifespan creates
    # the first admin and prints its password, which a failed start must not have done.
    listener = listen_socket(settings.server.host, settings.server.port)
    create_or_migrate(settings)[0].close()
    if settings.geoip.database:
        GeoIP(settings.geoip.database)
    app = create_app(settings, tune_gc=True)
    base = f"http://{settings.server.host}:{settings.server.port}"
    print(
        f"QRStudio Box {__version__} on {base}\n"
        f"  admin UI  {base}/admin/   (sign in with the admin account)\n"
        f"  API       {base}/api/v1/  "
        "(POST /api/v1/auth/token/ for a bearer token; schema at /schema)\n"
        f"  data      {settings.data_dir.resolve()}",
        flush=True,
    )
    config = uvicorn.Config(
        app,
        host=settings.server.host,
        port=settings.server.port,
        # ONE process: a second worker would run a second scheduler and do every job twice.
        workers=None,
        reload=False,
        lifespan="on",
        # We decide which X-Forwarded-For to believe ([server] trusted_proxies), not uvicorn.
        proxy_headers=False,
        server_header=False,
        access_log=settings.logging.access_log,
        log_config=None,
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, restores the handlers it found, then
    # re-raises the signal. Finding quiet ones makes a requested stop exit 0, not -15.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, lambda *_: None)
    server.run(sockets=[listener])
    return 0 if server.started else 1


def create_or_migrate(settings: Settings) -> tuple[sqlite3.Connection, list[str]]:
    """The database, created when missing (only `run` and `migrate` may), then migrated."""
    prepare_data_dir(settings.data_dir)
    conn = connect_sync(settings.database_path)
    return conn, migrate(conn)


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    conn, applied = create_or_migrate(settings)
    conn.close()
    print("applied: " + ", ".join(applied) if applied else "database is up to date")
    return 0


def cmd_users_create(args: argparse.Namespace, settings: Settings) -> int:
    conn = open_database(settings)
    password = read_password(args.password_stdin)
    new = accounts.prepare_new_user(
        settings, args.email, password, "admin" if args.admin else "member", args.plan
    )
    user = write_sync(conn, accounts.insert_new_user, new)
    print(f"created {user.role} {user.email} (id {user.id}, plan {user.plan})")
    if new.generated_password:
        print(f"password: {new.generated_password}")
    return 0


def cmd_users_list(args: argparse.Namespace, settings: Settings) -> int:
    conn = open_database(settings)
    rows = accounts_store.all_users(conn)
    print(f"{'id':>5}  {'email':<32} {'role':<7} {'plan':<10} active  created")
    for row in rows:
        print(
            f"{row['id']:>5}  {row['email']:<32} {row['role']:<7} {row['plan'] or '-':<10} "
            f"{'yes' if row['is_active'] else 'no':<6}  {row['created_at']}"
        )
    return 0


def _patch_user(settings: Settings, email: str, patch: UserPatch) -> None:
    conn = open_database(settings)
    row = find_user(conn, email)
    changes = accounts.prepare_patch(settings, patch)
    write_sync(conn, accounts.apply_patch, row["id"], changes)


def cmd_users_set_plan(args: argparse.Namespace, settings: Settings) -> int:
    _patch_user(settings, args.email, UserPatch(plan=args.plan))
    print(f"{args.email}: plan {args.plan}")
    return 0


def cmd_users_set_password(args: argparse.Namespace, settings: Settings) -> int:
    password = read_password(args.password_stdin)
    generated = None
    if password is None:
        password = generated = accounts.generate_password()
    _patch_user(settings, args.email, UserPatch(password=password))
    print(f"{args.email}: password changed" + (f"; new password: {generated}" if generated else ""))
    return 0


def cmd_users_set_active(args: argparse.Namespace, settings: Settings) -> int:
    _patch_user(settings, args.email, UserPatch(is_active=args.active == "yes"))
    print(f"{args.email}: active {args.active}")
    return 0


def cmd_users_set_role(args: argparse.Namespace, settings: Settings) -> int:
    """Recovery: make someone admin again (the last active admin is never demoted)."""
    _patch_user(settings, args.email, UserPatch(role=args.role))
    print(f"{args.email}: role {args.role}")
    return 0


def cmd_users_reset_link(args: argparse.Namespace, settings: Settings) -> int:
    """A password-reset link to pass on by hand (with [mail] off, the way to one)."""
    conn = open_database(settings)
    row = find_user(conn, args.email)
    if not row["is_active"]:
        raise CliError(
            f"{row['email']} is deactivated; activate it first: "
            f"qrstudio-box users set-active --email {row['email']} yes"
        )
    token = write_sync(conn, resets.create_link, row["id"])
    minutes = int(resets.RESET_LINK_TTL.total_seconds() // 60)
    print(f"{row['email']}: password-reset link (works once, for {minutes} minutes):")
    print(resets.reset_link(settings.public_url, token))
    return 0


def cmd_plans_list(args: argparse.Namespace, settings: Settings) -> int:
    print(
        f"{'plan':<12} {'rank':>4} {'quota/month':>12} {'webhooks':>9} "
        f"{'max hooks':>9} {'max QRs':>8} {'req/min':>8}"
    )
    for name, plan in sorted(settings.plans.items(), key=lambda item: item[1].rank):
        default = "  (default)" if name == settings.accounts.default_plan else ""
        print(
            f"{name:<12} {plan.rank:>4} {plan.monthly_quota:>12} "
            f"{'yes' if plan.webhooks else 'no':>9} "
            f"{plan.max_webhooks:>9} {plan.max_dynamic_qrs:>8} {plan.api_rate_limit:>8}{default}"
        )
    return 0


# -- parser ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qrstudio-box", description="QRStudio Box appliance")
    parser.add_argument("--version", action="version", version=f"qrstudio-box {__version__}")
    parser.add_argument(
        "--config", help="path to qrstudio.toml (default: $QRSTUDIO_CONFIG, else built-in defaults)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = add_command(commands, "run", "serve the appliance (one process)", cmd_run)
    run.add_argument("--host", help="override [server] host")
    run.add_argument("--port", type=int, help="override [server] port")
    add_command(commands, "migrate", "apply database migrations without serving", cmd_migrate)

    users = commands.add_parser("users", help="manage users").add_subparsers(
        dest="users_command", required=True, metavar="ACTION"
    )
    create = add_command(
        users,
        "create",
        "create a user (prints a generated password unless --password-stdin)",
        cmd_users_create,
    )
    create.add_argument("--email", required=True)
    create.add_argument("--admin", action="store_true", help="make an admin (default: member)")
    create.add_argument("--plan", help="plan name (default: [accounts] default_plan)")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    add_command(users, "list", "list users", cmd_users_list)
    set_plan = add_command(users, "set-plan", "change a user's plan", cmd_users_set_plan)
    set_plan.add_argument("--email", required=True)
    set_plan.add_argument("--plan", required=True)
    set_password = add_command(
        users,
        "set-password",
        "set a user's password (generated unless --password-stdin)",
        cmd_users_set_password,
    )
    set_password.add_argument("--email", required=True)
    set_password.add_argument("--password-stdin", action="store_true")
    set_active = add_command(
        users, "set-active", "activate or deactivate a user", cmd_users_set_active
    )
    set_active.add_argument("--email", required=True)
    set_active.add_argument("active", choices=["yes", "no"])
    set_role = add_command(
        users, "set-role", "make a user admin or member (recovery)", cmd_users_set_role
    )
    set_role.add_argument("--email", required=True)
    set_role.add_argument("role", choices=["admin", "member"])
    reset_link = add_command(
        users,
        "reset-link",
        "print a one-time password-reset link for a user (to pass on when mail is off)",
        cmd_users_reset_link,
    )
    reset_link.add_argument("--email", required=True)

    plans = commands.add_parser("plans", help="show plans").add_subparsers(
        dest="plans_command", required=True, metavar="ACTION"
    )
    add_command(plans, "list", "list the configured plans", cmd_plans_list)

    # The domains' own commands, built with cli_support.add_command like the ones above.
    quotas_cli.register(commands, count_scans=links_store.scans_in_period)  # credits grant|show
    ops_cli.register(commands)  # backup
    domains_cli.register(commands)  # domains list|approve
    workspaces_cli.register(commands)  # api-keys create|list|revoke
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(getattr(args, "config_sub", None) or args.config)
        if args.func not in (cmd_run, cmd_migrate):
            # Every other command works on an existing database, even one that never opens it
            # (`plans list` from the wrong folder would show plans that are not the server's).
            require_database(settings)
        return args.func(args, settings)
    except (ConfigError, StartupError, SchemaTooNew, CliError, GeoIPError) as error:
        print(f"qrstudio-box: {error}", file=sys.stderr)
        return 2 if isinstance(error, (ConfigError, StartupError, NoDatabase)) else 1
    except ApiError as error:
        print(f"qrstudio-box: {error.detail}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    logging.basicConfig()
    sys.exit(main())
