"""Log setup: `[logging] level` and `format = "text" | "json"`.

`configure_logging(settings)` applies `logging_config(level, format)`, a dictConfig that
puts ONE handler on the root logger; uvicorn (started with `log_config=None`), its access
log (`[logging] access_log`), APScheduler and our loggers all propagate to it, so everything
comes out in the same format. JSON is one object per line, which journald, Loki or any log
shipper takes without a parser of its own; `extra=` fields and the parts of an access-log
line become fields of their own.
"""

from __future__ import annotations

import logging
import logging.config
from datetime import UTC, datetime
from typing import Any

import msgspec

from .config import Settings

LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")

# Attributes every LogRecord has; anything else on a record came from `extra=` and is
# worth keeping as a field of its own.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
) | {"message", "asctime", "color_message", "taskName"}

_ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")


class JsonLogFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ms), level, logger, message, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _iso_ms(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        # uvicorn's access records carry their parts as args: make them queryable fields.
        if (
            record.name == "uvicorn.access"
            and isinstance(record.args, tuple)
            and len(record.args) == 5
        ):
            entry.update(zip(_ACCESS_FIELDS, record.args, strict=True))
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return msgspec.json.encode(entry, enc_hook=repr).decode()


def _iso_ms(created: float) -> str:
    moment = datetime.fromtimestamp(created, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def logging_config(level: str = "info", fmt: str = "text") -> dict[str, Any]:
    """A dictConfig for the whole process."""
    if fmt not in LOG_FORMATS:
        raise ValueError(f"logging.format: must be one of {', '.join(LOG_FORMATS)}")
    if level.lower() not in LOG_LEVELS:
        raise ValueError(f"logging.level: must be one of {', '.join(LOG_LEVELS)}")
    formatter = (
        {"()": f"{__name__}.JsonLogFormatter"}
        if fmt == "json"
        else {"format": "%(asctime)s %(levelname)-7s %(name)s: %(message)s"}
    )
    level_name = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["default"], "level": level_name},
        "loggers": {
            # uvicorn installs handlers of its own unless told otherwise: route them to root.
            "uvicorn": {"handlers": [], "level": level_name, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level_name, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": level_name, "propagate": True},
            # APScheduler logs every run of every job at INFO: once a second is noise;
            # httpx logs every webhook request at INFO: the delivery log has them already.
            "apscheduler": {
                "handlers": [],
                "level": _at_least_warning(level_name),
                "propagate": True,
            },
            "httpx": {"handlers": [], "level": _at_least_warning(level_name), "propagate": True},
        },
    }


def _at_least_warning(level_name: str) -> str:
    """Chatty libraries speak at WARNING and above, unless the operator asked for debug."""
    level = logging.getLevelName(level_name)
    return level_name if level == logging.DEBUG or level > logging.WARNING else "WARNING"


def configure_logging(settings: Settings) -> None:
    """Apply `[logging] level` and `format` to this process."""
    logging.config.dictConfig(logging_config(settings.logging.level, settings.logging.format))
