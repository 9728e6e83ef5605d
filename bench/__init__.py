"""Benchmarks: `make bench` runs every `bench/*_bench.py`; each prints its figures and the
ratio to a floor measured in the same run, on the same machine."""
