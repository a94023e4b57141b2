"""Operations: backups, retention pruning, Prometheus metrics, log setup."""
