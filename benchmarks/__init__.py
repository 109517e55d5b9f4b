"""Benchmarks: what is measured, and how (see README.md). Never run as part of the tests."""
