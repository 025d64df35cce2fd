"""Benchmarks: ``make bench`` (``python -m bench [NAME ...] [--quick]``).

Each ``bench/bench_<name>.py`` exposes ``main(quick: bool) -> None`` and prints its figures,
including a ratio against a baseline it measures in the same run (never absolute targets in tests).
"""
