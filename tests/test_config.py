import re
import subprocess
import sys
from functools import reduce
from operator import getitem
from pathlib import Path

import msgspec
import pytest

from qrstudio_box.config import (
    PROCESS_ENV,
    AccountsSettings,
    ConfigError,
    MailSettings,
    PlanSettings,
    Settings,
    WebhooksSettings,
    config_env_names,
    load_settings,
    settings_from_mapping,
)

REPO = Path(__file__).resolve().parent.parent


def test_shipped_toml_documents_exactly_the_defaults():
    assert load_settings(REPO / "qrstudio.toml", env={}) == Settings()


def test_every_key_in_the_shipped_toml_is_commented():
    lines = (REPO / "qrstudio.toml").read_text().splitlines()
    plan_doc = "\n".join(line for line in lines if line.startswith("#"))
    table = ""
    uncommented = []
    for index, line in enumerate(lines):
        if line.startswith("["):
            table = line
        elif "=" in line and not line.startswith("#"):
            key = line.split("=")[0].strip()
            if table.startswith("[plans."):
                # Plan tables repeat the same keys: one shared comment block documents them.
                if f"# {key}:" not in plan_doc and f"{key}:" not in plan_doc:
                    uncommented.append(f"{table} {key}")
            elif not lines[index - 1].startswith("#"):
                uncommented.append(f"{table} {key}")
    assert uncommented == []


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"server": {"prot": 1}}, "config error: server.prot: unknown key"),
        ({"nope": {}}, "config error: nope: unknown key"),
        ({"server": {"port": "8080"}}, "config error: server.port: Expected `int`, got `str`"),
        ({"server": {"port": 0}}, "config error: server.port: Expected `int` >= 1"),
        ({"server": {"port": 70000}}, "config error: server.port: Expected `int` <= 65535"),
        ({"plans": {"free": {"rank": -1}}}, "config error: plans.free.rank: Expected `int` >= 0"),
        ({"plans": {"gold": {"rnk": 1}}}, "config error: plans.gold.rnk: unknown key"),
        (
            {"accounts": {"default_plan": "gold"}},
            "config error: accounts.default_plan: 'gold' is not one of the plans"
            " (business, free, pro)",
        ),
        (
            {"server": {"trusted_proxies": ["10.0.0.0/33"]}},
            "config error: server.trusted_proxies[0]: '10.0.0.0/33' is not a CIDR",
        ),
        (
            {"server": {"public_url": "ftp://x"}},
            "config error: server.public_url: must be an http(s) URL like https://qr.example.com",
        ),
        (
            {"webhooks": {"allow_http": "yes"}},
            "config error: webhooks.allow_http: Expected `bool`, got `str`",
        ),
        (
            {"mail": {"host": "smtp.example.com"}},
            'config error: mail.from: set the sender address, e.g. "QRStudio Box '
            '<qr@example.com>", or leave mail.host empty to turn mail off',
        ),
        (
            {"mail": {"host": "smtp.example.com", "from": "QRStudio Box"}},
            'config error: mail.from: set the sender address, e.g. "QRStudio Box '
            '<qr@example.com>", or leave mail.host empty to turn mail off',
        ),
        ({"mail": {"sender": "a@b.c"}}, "config error: mail.sender: unknown key"),
        (
            {"mail": {"security": "ssl"}},
            None,
        ),
        (
            {"logging": {"format": "xml"}},
            "config error: logging.format: Expected `str` matching one of ('text', 'json')"
            if False
            else None,
        ),
    ],
)
def test_bad_config_gives_one_line_naming_the_key(raw, message):
    with pytest.raises(ConfigError) as caught:
        settings_from_mapping(raw)
    text = str(caught.value)
    assert "\n" not in text
    if message:
        assert text == message
    else:
        assert text.startswith(f"config error: {next(iter(raw))}.{next(iter(*raw.values()))}:")


def test_env_overrides_any_key_as_toml_values():
    settings = settings_from_mapping(
        {},
        env={
            "QRSTUDIO_SERVER_PORT": "9001",
            "QRSTUDIO_SERVER_TRUSTED_PROXIES": '["10.0.0.0/8"]',
            "QRSTUDIO_WEBHOOKS_ALLOW_HTTP": "true",
            "QRSTUDIO_PLANS_PRO_MONTHLY_QUOTA": "7",
            "QRSTUDIO_STORAGE_DATA_DIR": "/srv/qr",
            "QRSTUDIO_MAIL_HOST": "smtp.example.com",
            "QRSTUDIO_MAIL_FROM": "QR <qr@example.com>",
        },
    )
    assert settings.mail.host == "smtp.example.com"
    assert settings.mail.sender == "QR <qr@example.com>"
    assert settings.server.port == 9001
    assert settings.server.trusted_proxies == ["10.0.0.0/8"]
    assert settings.webhooks.allow_http is True
    assert settings.plans["pro"].monthly_quota == 7
    assert settings.storage.data_dir == "/srv/qr"


def test_env_override_with_a_bad_value_names_the_key():
    with pytest.raises(
        ConfigError, match=r"^config error: server.port: Expected `int`, got `str`$"
    ):
        settings_from_mapping({}, env={"QRSTUDIO_SERVER_PORT": "eighty"})


@pytest.mark.parametrize(
    ("variable", "message"),
    [
        ("QRSTUDIO_WEBHOOK_ALLOW_HTTP", "did you mean QRSTUDIO_WEBHOOKS_ALLOW_HTTP?"),
        ("QRSTUDIO_WEBHOOKS_ALLOWHTTP", "did you mean QRSTUDIO_WEBHOOKS_ALLOW_HTTP?"),
        ("QRSTUDIO_SERVER_PROT", "did you mean QRSTUDIO_SERVER_PORT?"),
        ("QRSTUDIO_DATA_DIR", "did you mean QRSTUDIO_STORAGE_DATA_DIR?"),
        ("QRSTUDIO_PUBLIC_URL", "did you mean QRSTUDIO_SERVER_PUBLIC_URL?"),
        ("QRSTUDIO_ADMIN_PASWORD", "did you mean QRSTUDIO_ADMIN_PASSWORD?"),
        ("QRSTUDIO_PLANS_PRO_MONTHLYQUOTA", "did you mean QRSTUDIO_PLANS_PRO_MONTHLY_QUOTA?"),
        ("QRSTUDIO_ZZZ", "see docs/operations.md for the names"),
    ],
)
def test_an_unknown_variable_is_refused_naming_the_closest_known_one(variable, message):
    with pytest.raises(ConfigError) as caught:
        settings_from_mapping({}, env={variable: "true", "QRSTUDIO_SERVER_PORT": "9001"})
    assert str(caught.value) == f"config error: {variable}: unknown variable; {message}"


def test_a_variable_for_a_plan_that_is_not_configured_says_how_to_add_it():
    with pytest.raises(ConfigError) as caught:
        settings_from_mapping({}, env={"QRSTUDIO_PLANS_GOLD_RANK": "3"})
    assert str(caught.value) == (
        "config error: QRSTUDIO_PLANS_GOLD_RANK: there is no plan 'gold' (plans: business, "
        "free, pro); add a [plans.gold] table to the config file"
    )


def test_every_config_key_stays_settable_from_the_environment():
    """Each QRSTUDIO_<SECTION>_<KEY> (plans included, underscores in keys and plan names)."""
    expected = msgspec.structs.replace(
        Settings(),
        plans={"pro_plus": PlanSettings(rank=3, webhooks=True, max_dynamic_qrs=7)},
        accounts=AccountsSettings(default_plan="pro_plus", token_ttl_minutes=5),
        webhooks=WebhooksSettings(allow_private_targets=True, egress_ip_ranges=["10.0.0.0/8"]),
        mail=MailSettings(host="smtp.example.com", port=465, security="tls", sender="q@x.example"),
    )
    values = msgspec.to_builtins(expected)
    names = config_env_names(["pro_plus"])
    assert "QRSTUDIO_PLANS_PRO_PLUS_MAX_DYNAMIC_QRS" in names
    # JSON renders these values (bool, int, float, string, list of strings) as valid TOML.
    env = {
        name: msgspec.json.encode(reduce(getitem, path, values)).decode()
        for name, path in names.items()
    }
    settings = settings_from_mapping({"plans": {"pro_plus": {"rank": 1}}}, env=env)
    assert settings == expected


def test_the_variables_that_are_not_config_keys_are_accepted():
    assert settings_from_mapping({}, env=dict.fromkeys(PROCESS_ENV, "x")) == Settings()


# Reads of a QRSTUDIO_* variable in code: os.environ["..."], environ.get("..."), env.get("...").
ENV_READ = re.compile(r"""env(?:iron)?(?:\.get\(|\[)\s*["'](QRSTUDIO_[A-Z0-9_]+)["']""")


def test_every_variable_the_code_or_tests_read_is_listed_in_one_place():
    files = [
        path
        for folder in ("qrstudio_box", "bench", "tests", "packaging", "contrib")
        for path in (REPO / folder).rglob("*")
        if path.suffix in (".py", ".spec", ".sh", "")
        and path.is_file()
        and "__pycache__" not in path.parts
    ]
    read = {name for path in files for name in ENV_READ.findall(path.read_text(errors="ignore"))}
    assert {"QRSTUDIO_CHROMIUM", "QRSTUDIO_ADMIN_EMAIL", "QRSTUDIO_CONFIG"} <= read
    known = set(config_env_names(Settings().plans)) | set(PROCESS_ENV)
    assert sorted(read - known) == []
    shell = "\n".join(
        (REPO / name).read_text() for name in ("Makefile", "Containerfile", ".ci/run")
    )
    assert sorted(set(re.findall(r"QRSTUDIO_[A-Z0-9_]*[A-Z0-9]", shell)) - known) == []


def test_public_url_defaults_to_host_and_port():
    assert settings_from_mapping({"server": {"port": 9000}}).public_url == "http://127.0.0.1:9000"
    assert (
        settings_from_mapping({"server": {"public_url": "https://qr.example.com/"}}).public_url
        == "https://qr.example.com"
    )


@pytest.mark.parametrize(
    ("toml", "line"),
    [
        ("[server]\nprot = 1\n", "qrstudio-box: config error: server.prot: unknown key"),
        (
            '[server]\nport = "x"\n',
            "qrstudio-box: config error: server.port: Expected `int`, got `str`",
        ),
        ("[server\n", None),
    ],
)
def test_cli_stops_with_one_line_and_no_traceback(tmp_path, toml, line):
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    result = subprocess.run(
        [sys.executable, "-m", "qrstudio_box", "run", "--config", str(path)],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    if line:
        assert lines[0] == line
    else:
        assert lines[0].startswith(f"qrstudio-box: config error: {path}: not valid TOML")


def test_a_geoip_file_that_is_not_a_database_stops_the_start_with_one_line(tmp_path):
    bogus = tmp_path / "GeoLite2-City.mmdb"
    bogus.write_bytes(b"not a maxmind database")
    config = tmp_path / "q.toml"
    config.write_text(
        f'[storage]\ndata_dir = "{tmp_path / "data"}"\n[geoip]\ndatabase = "{bogus}"\n'
    )
    result = subprocess.run(
        [sys.executable, "-m", "qrstudio_box", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"qrstudio-box: geoip.database: {bogus} is not a MaxMind database (")


def test_to_toml_round_trips_a_config_mapping():
    import tomllib

    from qrstudio_box.config import to_toml

    raw = {
        "server": {"port": 9000, "trusted_proxies": ["10.0.0.0/8"], "public_url": 'https://q"x'},
        "storage": {"data_dir": "C:\\data"},
        "plans": {"free": {"rank": 0, "webhooks": True}},
        "webhooks": {"timeout_seconds": 2.5},
    }
    assert tomllib.loads(to_toml(raw)) == raw
