"""Benchmarks of this provider against what a user would write without it (`make bench`)."""
