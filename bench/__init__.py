"""Benchmarks of the availability calendar: `make bench` (python -m bench.run).

Every figure in bench/results.md comes from bench/results.json, written by one run.
Nothing here is imported by the app or by the tests.
"""
