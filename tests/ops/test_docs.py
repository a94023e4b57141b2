"""docs/operations.md and contrib/ stay true: commands, env vars, config snippets, files."""

from __future__ import annotations

import argparse
import configparser
import ipaddress
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from qrstudio_box.cli import build_parser
from qrstudio_box.config import PROCESS_ENV, Settings, config_env_names, settings_from_mapping

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "operations.md"
CONTRIB = ROOT / "contrib"
OPS_TEXTS = [
    DOC,
    *sorted(CONTRIB.iterdir()),
    ROOT / "Containerfile",
    ROOT / "README.md",
    ROOT / "docs" / "quotas.md",
]


def _code_of(path: Path) -> str:
    """What an operator would run: code in Markdown, non-comment lines elsewhere."""
    text = path.read_text()
    if path.suffix == ".md":
        return "\n".join(re.findall(r"```.*?```", text, re.S) + re.findall(r"`[^`\n]+`", text))
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


@pytest.mark.parametrize("path", OPS_TEXTS, ids=lambda p: p.name)
def test_every_environment_variable_named_exists(path):
    known = set(config_env_names(Settings().plans)) | set(PROCESS_ENV)
    # The example of the unknown-variable message names a misspelt one on purpose.
    text = "\n".join(
        line for line in path.read_text().splitlines() if "unknown variable" not in line
    )
    named = set(re.findall(r"QRSTUDIO_[A-Z_]+[A-Z]", text))
    assert named <= known, f"{path.name} names unknown variables: {sorted(named - known)}"


def test_every_variable_that_is_not_a_config_key_is_documented():
    """config.PROCESS_ENV is the one list; docs/operations.md has a row for each (issue 15.2)."""
    rows = dict(re.findall(r"^\| `(QRSTUDIO_[A-Z_]+)` +\| (.+?) +\|$", DOC.read_text(), re.M))
    assert sorted(rows) == sorted(PROCESS_ENV)
    readme = (ROOT / "README.md").read_text()
    assert "unknown `QRSTUDIO_*` variable" in readme


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return actions[0].choices if actions else {}


@pytest.mark.parametrize("path", OPS_TEXTS, ids=lambda p: p.name)
def test_every_command_named_exists(path):
    """Each `qrstudio-box COMMAND [SUBCOMMAND] [--option ...]` written down is one we have."""
    commands = _subcommands(build_parser())
    named = re.findall(r"qrstudio-box (?!-)([a-z][a-z-]*)((?: +[^\s`|;&#]+)*)", _code_of(path))
    assert named or path.suffix != ".md", f"{path.name} names no command"
    for command, rest in named:
        words = rest.split()
        assert command in commands, f"{path.name}: `qrstudio-box {command}` is not a command"
        parser = commands[command]
        subcommands = _subcommands(parser)
        if subcommands:
            assert words and words[0] in subcommands, (
                f"{path.name}: `qrstudio-box {command} {' '.join(words[:1])}`: "
                f"the subcommands are {', '.join(subcommands)}"
            )
            parser = subcommands[words[0]]
        options = {option for action in parser._actions for option in action.option_strings}
        for option in re.findall(r"--[a-z][a-z-]*", rest):
            assert option in options, f"{path.name}: `qrstudio-box {command}` has no {option}"


def test_toml_snippets_in_the_doc_are_valid_config():
    blocks = re.findall(r"```toml\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) >= 2
    for block in blocks:
        settings_from_mapping(tomllib.loads(block))  # raises ConfigError naming the key


def test_relative_links_in_the_doc_point_at_files():
    for target in re.findall(r"\]\((\.\./[^)#]+)", DOC.read_text()):
        assert (DOC.parent / target).resolve().exists(), target


def _unit(name: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read(CONTRIB / name)
    return unit


def test_systemd_unit_runs_the_appliance_unprivileged_and_stops_with_sigterm():
    service = _unit("qrstudio-box.service")["Service"]
    assert service["ExecStart"].split()[1:] == ["run"]
    assert service["ExecStart"].split()[0].endswith("/qrstudio-box")
    assert service["User"] not in ("root", "0")
    assert service["KillSignal"] == "SIGTERM"
    assert service["NoNewPrivileges"] == "yes"
    # Only the last Environment= survives configparser; check the data dir from the raw text.
    text = (CONTRIB / "qrstudio-box.service").read_text()
    assert f"QRSTUDIO_STORAGE_DATA_DIR=/var/lib/{service['StateDirectory']}" in text
    assert "QRSTUDIO_CONFIG=/etc/qrstudio/qrstudio.toml" in text


def test_backup_unit_backs_up_the_same_data_dir():
    main = _unit("qrstudio-box.service")["Service"]
    backup = _unit("qrstudio-box-backup.service")["Service"]
    assert backup["User"] == main["User"]
    assert main["StateDirectory"] in backup["StateDirectory"].split()
    assert "qrstudio-box backup " in backup["ExecStart"]
    assert _unit("qrstudio-box-backup.timer")["Timer"]["OnCalendar"]


@pytest.mark.parametrize("name", ["Caddyfile", "nginx.conf"])
def test_proxy_examples_match_the_documented_config(name):
    text = (CONTRIB / name).read_text()
    settings = settings_from_mapping(
        tomllib.loads(re.findall(r"```toml\n(.*?)```", DOC.read_text(), re.S)[0])
    )
    assert f"127.0.0.1:{settings.server.port}" in text
    for cidr in re.findall(r'"([0-9a-f:.]+/\d+)"', text):
        ipaddress.ip_network(cidr)
    assert settings.public_url.startswith("https://")
    if name == "nginx.conf":
        assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in text
        assert "client_max_body_size 64k;" in text
        assert settings.server.max_body_bytes == 64 * 1024


def test_litestream_replicates_our_database_file():
    config = yaml.safe_load((CONTRIB / "litestream.yml").read_text())
    (db,) = config["dbs"]
    assert Path(db["path"]).name == Settings().database_path.name
    assert Path(db["path"]).parent == Path("/var/lib/qrstudio")
    assert db["replicas"]
