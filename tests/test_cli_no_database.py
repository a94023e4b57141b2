"""The CLI does not invent a database (issue 15.4): every command but `run` and `migrate`
refuses a missing one with one line naming the path it looked at and how to point at the right
one, exit code 2, and creates nothing."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qrstudio_box.cli import build_parser, main

REPO = Path(__file__).resolve().parent.parent
CREATE_A_DATABASE = {("run",), ("migrate",)}


def leaf_commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(words, parser) of every command that runs something, e.g. (("users", "list"), ...)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from leaf_commands(sub, (*path, name))
            return
    yield path, parser


def required_arguments(parser: argparse.ArgumentParser, tmp_path: Path) -> list[str]:
    """Plausible values for what the command requires (no database is there to check them)."""
    argv: list[str] = []
    for action in parser._actions:
        if action.option_strings and not action.required:
            continue
        if isinstance(action, argparse._HelpAction):
            continue
        if action.choices:
            value = next(iter(action.choices))
        elif action.type is int:
            value = "5"
        elif action.dest == "email":
            value = "someone@example.com"
        else:
            value = str(tmp_path / "out" / action.dest)
        argv += [action.option_strings[0], value] if action.option_strings else [value]
    return argv


COMMANDS = [words for words, _ in leaf_commands(build_parser()) if words not in CREATE_A_DATABASE]


def test_every_command_is_seen():
    assert {("users", "list"), ("plans", "list"), ("backup",), ("credits", "show")} <= set(COMMANDS)


@pytest.mark.parametrize("words", COMMANDS, ids=" ".join)
def test_a_command_refuses_a_missing_database_and_creates_nothing(
    words, tmp_path, capsys, monkeypatch
):
    for name in [name for name in os.environ if name.startswith("QRSTUDIO_")]:
        monkeypatch.delenv(name)
    data_dir = tmp_path / "not-here" / "data"
    config = tmp_path / "qrstudio.toml"
    config.write_text(f'[storage]\ndata_dir = "{data_dir}"\n')
    parser = dict(leaf_commands(build_parser()))[words]
    argv = [*words, *required_arguments(parser, tmp_path), "--config", str(config)]

    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == (
        f"qrstudio-box: no database at {data_dir / 'qrstudio.db'}: point at the appliance's "
        "with --config PATH or QRSTUDIO_CONFIG (or set QRSTUDIO_STORAGE_DATA_DIR); "
        "`qrstudio-box migrate` creates a new one\n"
    )
    assert not (tmp_path / "not-here").exists()
    assert not (tmp_path / "out").exists()


def test_users_list_from_another_folder_says_where_it_looked(tmp_path):
    """The issue's case: run from another folder without --config, it used to create
    ./data/qrstudio.db and list nobody, exit 0."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("QRSTUDIO_")}
    result = subprocess.run(
        [sys.executable, "-m", "qrstudio_box", "users", "list"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"qrstudio-box: no database at {tmp_path}/data/qrstudio.db: ")
    assert len(result.stderr.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []
