"""Benchmarks of QRStudio Box: `make bench` runs them all (bench/run_all.py)."""
