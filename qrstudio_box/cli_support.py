"""What every CLI module shares: the operator's error, the subcommand builder, the database.

`cli.py` and each domain's `cli.py` import this module; it imports none of them, so the CLI
has no import cycle and no deferred import to hide one.
"""

from __future__ import annotations

import argparse
import sqlite3
from collections.abc import Callable

from .accounts import store as accounts_store
from .config import Settings
from .db import connect_sync, migrate

Command = Callable[[argparse.Namespace, Settings], int]


class CliError(Exception):
    """A one-line message for the operator; exit status 1."""


def add_command(
    parent: argparse._SubParsersAction, name: str, help: str, func: Command | None = None
) -> argparse.ArgumentParser:
    """A subcommand that also takes --config (so `qrstudio-box run --config PATH` works)."""
    parser = parent.add_parser(name, help=help)
    parser.add_argument("--config", dest="config_sub", help="path to qrstudio.toml")
    if func is not None:
        parser.set_defaults(func=func)
    return parser


class NoDatabase(CliError):
    """No database where the config points; exit status 2 like a config error."""


def require_database(settings: Settings) -> None:
    """Refuse to go on without the appliance's database: a command run from the wrong folder
    or with the wrong config would otherwise create an empty one and report nothing."""
    path = settings.database_path.absolute()
    if not path.is_file():
        raise NoDatabase(
            f"no database at {path}: point at the appliance's with --config PATH or "
            "QRSTUDIO_CONFIG (or set QRSTUDIO_STORAGE_DATA_DIR); `qrstudio-box migrate` "
            "creates a new one"
        )


def open_database(settings: Settings) -> sqlite3.Connection:
    """A sqlite3 connection to the appliance's existing database, migrated to this version
    (only `run` and `migrate` create one)."""
    require_database(settings)
    conn = connect_sync(settings.database_path)
    migrate(conn)
    return conn


def find_user(conn: sqlite3.Connection, email: str) -> sqlite3.Row:
    """The user row for `email` (any case), or CliError naming it."""
    row = accounts_store.get_user_by_email(conn, email.strip().lower())
    if row is None:
        raise CliError(f"no user with email {email}")
    return row
