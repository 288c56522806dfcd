"""Benchmarks: speed and memory targets, measured outside the unit tests.

`python -m bench [NAME...]` runs them and rewrites their sections of `bench/RESULTS.md`.
"""
