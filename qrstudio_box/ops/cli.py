"""`qrstudio-box backup PATH`: a consistent copy of data_dir while the appliance serves."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..cli_support import CliError, add_command
from ..config import Settings
from .backup import BackupError, backup_data_dir


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    try:
        report = backup_data_dir(settings.data_dir, settings.database_path, Path(args.path))
    except BackupError as error:
        raise CliError(f"backup: {error}") from None
    rows = sum(report.row_counts.values())
    print(f"backup of {settings.data_dir.resolve()} written to {report.directory.resolve()}")
    print(
        f"  {report.database.name}: {report.database_bytes} bytes, "
        f"{len(report.row_counts)} tables, "
        f"{rows} rows, integrity_check ok"
    )
    if report.other_files:
        print(f"  also copied: {', '.join(report.other_files)}")
    print(
        f"restore: stop the appliance, then run it with data_dir = {report.directory.resolve()} "
        f"(or copy these files into data_dir)"
    )
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    backup = add_command(
        commands,
        "backup",
        "copy the database (SQLite online backup, safe while serving) and the keys of data_dir "
        "into a new directory that is itself a complete data_dir",
        cmd_backup,
    )
    backup.add_argument("path", help="a new or empty directory")
