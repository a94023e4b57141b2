"""Settings: built-in defaults, then qrstudio.toml, then QRSTUDIO_<SECTION>_<KEY> env overrides.

Everything is checked at start; a bad key or value stops the start with ONE line naming the
key (`ConfigError`), never a traceback. `qrstudio.toml` at the repo root documents every key;
a test keeps it equal to the defaults below.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import msgspec
from msgspec import Meta, Struct

Port = Annotated[int, Meta(ge=1, le=65535)]
PositiveInt = Annotated[int, Meta(ge=1)]
NonNegativeInt = Annotated[int, Meta(ge=0)]


class ConfigError(Exception):
    """One line, naming the key at fault."""


class _Section(Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: Port = 8080
    # Base of short links (`{public_url}/r/{short_id}`); empty means http://host:port.
    public_url: str = ""
    # CIDRs whose X-Forwarded-For we believe (a reverse proxy in front of us).
    trusted_proxies: list[str] = []
    # Request bodies larger than this are refused with 413.
    max_body_bytes: Annotated[int, Meta(ge=1024)] = 65536


class StorageSettings(_Section):
    data_dir: str = "./data"


class AccountsSettings(_Section):
    default_plan: str = "free"
    # Lifetime of API bearer tokens and UI session cookies.
    token_ttl_minutes: PositiveInt = 720


class PlanSettings(_Section):
    rank: NonNegativeInt = 0
    monthly_quota: NonNegativeInt = 100
    webhooks: bool = False
    max_webhooks: NonNegativeInt = 0
    max_dynamic_qrs: NonNegativeInt = 10
    api_rate_limit: PositiveInt = 60
    # Branded short domains a workspace may have (pending or active; issue 17).
    custom_domains: NonNegativeInt = 0


def _default_plans() -> dict[str, PlanSettings]:
    return {
        "free": PlanSettings(
            rank=0,
            monthly_quota=100,
            webhooks=False,
            max_webhooks=0,
            max_dynamic_qrs=10,
            api_rate_limit=60,
            custom_domains=0,
        ),
        "pro": PlanSettings(
            rank=10,
            monthly_quota=5000,
            webhooks=True,
            max_webhooks=5,
            max_dynamic_qrs=500,
            api_rate_limit=600,
            custom_domains=1,
        ),
        "business": PlanSettings(
            rank=20,
            monthly_quota=50000,
            webhooks=True,
            max_webhooks=25,
            max_dynamic_qrs=5000,
            api_rate_limit=3000,
            custom_domains=10,
        ),
    }


class WebhooksSettings(_Section):
    timeout_seconds: Annotated[float, Meta(gt=0, le=30)] = 5.0
    max_concurrency: PositiveInt = 32
    max_per_endpoint: PositiveInt = 4
    slow_send_seconds: Annotated[float, Meta(gt=0, le=30)] = 0.25
    ca_bundle: str = ""
    allow_http: bool = False
    allow_private_targets: bool = False
    egress_ip_ranges: list[str] = []


class GeoipSettings(_Section):
    database: str = ""


class LoggingSettings(_Section):
    format: Literal["text", "json"] = "text"
    level: Literal["debug", "info", "warning", "error"] = "info"
    access_log: bool = False


class RetentionSettings(_Section):
    # 0 keeps forever.
    scans_days: NonNegativeInt = 0
    deliveries_days: NonNegativeInt = 30
    events_days: NonNegativeInt = 30
    # How often the pruning job runs.
    prune_interval_minutes: PositiveInt = 60


class RateLimitSettings(_Section):
    # Failed logins allowed within login_window_seconds, per (email, client IP) (the strict
    # limit), per email from any address (the much looser backstop) and per client IP over
    # any emails; past one, every login form answers 429 with Retry-After. (API limits are
    # per plan.)
    login_failures_per_email_and_ip: PositiveInt = 5
    login_failures_per_email: PositiveInt = 50
    login_failures_per_ip: PositiveInt = 30
    login_window_seconds: PositiveInt = 900


class MetricsSettings(_Section):
    token: str = ""


class QrSettings(_Section):
    # Images rendered at once (each a worker thread); one more uncached render is refused with
    # 503 + Retry-After instead of waiting. Rendering is CPU-bound Python: more threads than
    # cores only add redirect latency.
    render_concurrency: Annotated[int, Meta(ge=1, le=64)] = 2


class MailSettings(_Section):
    # The SMTP relay that sends invitations and password-reset links. Empty host: mail is off
    # (the API and the UI show those links instead, for the operator to pass on).
    host: str = ""
    port: Port = 587
    # "starttls" (port 587), "tls" (implicit TLS, port 465) or "none" (a relay on localhost).
    security: Literal["starttls", "tls", "none"] = "starttls"
    # Empty user: no AUTH.
    user: str = ""
    password: str = ""
    # The sender address, e.g. "QRStudio Box <qr@example.com>" (`from` in the file).
    sender: str = msgspec.field(default="", name="from")


class DomainsSettings(_Section):
    # A new branded domain waits ('pending', serving nothing, no certificate) until an instance
    # admin approves it; false: active at once.
    require_approval: bool = False
    # The scheme of a branded domain's short links (https://{domain}/{short_id}); http only for
    # tests and labs without certificates.
    scheme: Literal["https", "http"] = "https"


class Settings(_Section):
    server: ServerSettings = msgspec.field(default_factory=ServerSettings)
    storage: StorageSettings = msgspec.field(default_factory=StorageSettings)
    accounts: AccountsSettings = msgspec.field(default_factory=AccountsSettings)
    plans: dict[str, PlanSettings] = msgspec.field(default_factory=_default_plans)
    webhooks: WebhooksSettings = msgspec.field(default_factory=WebhooksSettings)
    geoip: GeoipSettings = msgspec.field(default_factory=GeoipSettings)
    logging: LoggingSettings = msgspec.field(default_factory=LoggingSettings)
    retention: RetentionSettings = msgspec.field(default_factory=RetentionSettings)
    metrics: MetricsSettings = msgspec.field(default_factory=MetricsSettings)
    ratelimit: RateLimitSettings = msgspec.field(default_factory=RateLimitSettings)
    qr: QrSettings = msgspec.field(default_factory=QrSettings)
    mail: MailSettings = msgspec.field(default_factory=MailSettings)
    domains: DomainsSettings = msgspec.field(default_factory=DomainsSettings)

    @property
    def data_dir(self) -> Path:
        return Path(self.storage.data_dir)

    @property
    def database_path(self) -> Path:
        return self.data_dir / "qrstudio.db"

    @property
    def public_url(self) -> str:
        return (self.server.public_url or f"http://{self.server.host}:{self.server.port}").rstrip(
            "/"
        )

    def plan(self, name: str) -> PlanSettings:
        """The plan of that name; a user whose plan left the config falls back to the default."""
        return self.plans.get(name) or self.plans[self.accounts.default_plan]


_AT_PATH = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)


def _message_from(error: msgspec.ValidationError) -> str:
    match = _AT_PATH.match(str(error))
    assert match is not None
    msg, path = match["msg"], (match["path"] or "").lstrip(".")
    path = re.sub(r"\[(?:'|\")?([^\]'\"]+)(?:'|\")?\]", r".\1", path).lstrip(".")
    unknown = re.match(r"Object contains unknown field `([^`]+)`", msg)
    if unknown:
        key = f"{path}.{unknown[1]}" if path else unknown[1]
        return f"config error: {key}: unknown key"
    return f"config error: {path}: {msg}" if path else f"config error: {msg}"


def _env_value(raw: str) -> Any:
    """Env values are TOML values (`8080`, `true`, `["10.0.0.0/8"]`); anything else is a string."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


# Every QRSTUDIO_* variable that is not a config key, with what reads it. Any other
# QRSTUDIO_* name must be a config key (QRSTUDIO_<SECTION>_<KEY>) or the start stops: a
# misspelt override would otherwise be ignored without a word. docs/operations.md lists these.
PROCESS_ENV: dict[str, str] = {
    "QRSTUDIO_CONFIG": "path to qrstudio.toml when --config is not given",
    "QRSTUDIO_ADMIN_EMAIL": "email of the admin created on the first start (empty database)",
    "QRSTUDIO_ADMIN_PASSWORD": "password of that admin (else one is generated and printed once)",
    "QRSTUDIO_WEBHOOK_SECRET": "not read by the appliance: the name the webhooks guide gives "
    "a receiver's secret (allowed so a receiver on the same host does not stop the start)",
    "QRSTUDIO_CHROMIUM": "tests: the Chromium the admin UI tests drive (default /usr/bin/chromium)",
    "QRSTUDIO_SKIP_BINARY_TEST": "tests: 1 skips building and testing the one-file binary",
    "QRSTUDIO_FUZZ_EXAMPLES": "tests: examples per operation in the API fuzz test (default 25)",
}


def config_env_names(plan_names: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Every QRSTUDIO_<SECTION>_<KEY> name -> its path in the config, for these plans."""
    names: dict[str, tuple[str, ...]] = {}
    defaults = Settings()
    for section in Settings.__struct_fields__:
        if section == "plans":
            for plan_name in plan_names:
                for key in PlanSettings.__struct_fields__:
                    names[f"QRSTUDIO_PLANS_{plan_name}_{key}".upper()] = ("plans", plan_name, key)
            continue
        # The names in the file (`from`, not the attribute `sender`).
        for key in type(getattr(defaults, section)).__struct_encode_fields__:
            names[f"QRSTUDIO_{section}_{key}".upper()] = (section, key)
    return names


def _unknown_variable(name: str, known: Iterable[str], plan_names: Iterable[str]) -> ConfigError:
    for key in PlanSettings.__struct_fields__:
        suffix = f"_{key}".upper()
        if name.startswith("QRSTUDIO_PLANS_") and name.endswith(suffix):
            plan = name.removeprefix("QRSTUDIO_PLANS_").removesuffix(suffix).lower()
            return ConfigError(
                f"config error: {name}: there is no plan {plan!r} (plans: "
                f"{', '.join(sorted(plan_names))}); add a [plans.{plan}] table to the config file"
            )
    # Compared without the common prefix, which would make every name look alike.
    tails = {candidate.removeprefix("QRSTUDIO_"): candidate for candidate in known}
    close = difflib.get_close_matches(name.removeprefix("QRSTUDIO_"), list(tails), n=1)
    hint = f"did you mean {tails[close[0]]}?" if close else "see docs/operations.md for the names"
    return ConfigError(f"config error: {name}: unknown variable; {hint}")


def _apply_env(raw: dict[str, Any], env: Mapping[str, str]) -> None:
    plans = raw.get("plans", msgspec.to_builtins(_default_plans()))
    known = config_env_names(plans if isinstance(plans, Mapping) else ())
    for name in sorted(env):
        if not name.startswith("QRSTUDIO_") or name in PROCESS_ENV:
            continue
        path = known.get(name)
        if path is None:
            raise _unknown_variable(name, [*known, *PROCESS_ENV], plans)
        if path[0] == "plans":
            table = raw.setdefault("plans", {k: dict(v) for k, v in plans.items()})
            table[path[1]] = {**table[path[1]], path[2]: _env_value(env[name])}
        else:
            raw.setdefault(path[0], {})[path[1]] = _env_value(env[name])


def _check(settings: Settings) -> None:
    if settings.accounts.default_plan not in settings.plans:
        raise ConfigError(
            f"config error: accounts.default_plan: {settings.accounts.default_plan!r} is not one "
            f"of the plans ({', '.join(sorted(settings.plans))})"
        )
    for index, cidr in enumerate(settings.server.trusted_proxies):
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise ConfigError(
                f"config error: server.trusted_proxies[{index}]: {cidr!r} is not a CIDR"
            ) from None
    for index, cidr in enumerate(settings.webhooks.egress_ip_ranges):
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise ConfigError(
                f"config error: webhooks.egress_ip_ranges[{index}]: {cidr!r} is not a CIDR"
            ) from None
    if settings.server.public_url:
        parts = urlsplit(settings.server.public_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                "config error: server.public_url: must be an http(s) URL like https://qr.example.com"
            )
    if not settings.storage.data_dir.strip():
        raise ConfigError("config error: storage.data_dir: must not be empty")
    if settings.webhooks.ca_bundle and not Path(settings.webhooks.ca_bundle).is_file():
        raise ConfigError(
            f"config error: webhooks.ca_bundle: no file at {settings.webhooks.ca_bundle}"
        )
    mail = settings.mail
    if mail.host and "@" not in parseaddr(mail.sender)[1]:
        raise ConfigError(
            "config error: mail.from: set the sender address, e.g. "
            '"QRStudio Box <qr@example.com>", or leave mail.host empty to turn mail off'
        )
    if settings.geoip.database and not Path(settings.geoip.database).is_file():
        raise ConfigError(f"config error: geoip.database: no file at {settings.geoip.database}")


def settings_from_mapping(raw: Mapping[str, Any], env: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from a dict shaped like qrstudio.toml, then apply env overrides."""
    data = {
        key: (dict(value) if isinstance(value, Mapping) else value) for key, value in raw.items()
    }
    _apply_env(data, env or {})
    plans = data.get("plans")
    if isinstance(plans, Mapping):
        # msgspec names a dict key `[...]`, so each plan is checked alone to name it.
        for name, plan in plans.items():
            try:
                msgspec.convert(plan, PlanSettings, strict=True)
            except msgspec.ValidationError as error:
                raise ConfigError(
                    _message_from(error).replace(
                        "config error: ", f"config error: plans.{name}.", 1
                    )
                ) from None
    try:
        settings = msgspec.convert(data, Settings, strict=True)
    except msgspec.ValidationError as error:
        raise ConfigError(_message_from(error)) from None
    _check(settings)
    return settings


def load_settings(
    path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Settings from `path` (or $QRSTUDIO_CONFIG; none: built-in defaults) plus env overrides."""
    env = os.environ if env is None else env
    path = path or env.get("QRSTUDIO_CONFIG") or None
    raw: dict[str, Any] = {}
    if path:
        try:
            with open(path, "rb") as handle:
                raw = tomllib.load(handle)
        except FileNotFoundError:
            raise ConfigError(f"config error: no config file at {path}") from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"config error: {path}: not valid TOML ({error})") from None
    return settings_from_mapping(raw, env)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_toml(raw: Mapping[str, Any]) -> str:
    """A mapping shaped like qrstudio.toml, written as TOML (tests, benchmarks, deploy scripts)."""
    lines = []
    for section, values in raw.items():
        tables = values.items() if section == "plans" else [(None, values)]
        for plan, keys in tables:
            lines.append(f"[plans.{plan}]" if plan else f"[{section}]")
            lines += [f"{key} = {_toml_value(value)}" for key, value in keys.items()]
    return "\n".join(lines) + "\n"
