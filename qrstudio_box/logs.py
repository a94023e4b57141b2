"""Process logging ([logging] format, level): see qrstudio_box/ops/logs.py."""

from .ops.logs import JsonLogFormatter, configure_logging

__all__ = ["JsonLogFormatter", "configure_logging"]
