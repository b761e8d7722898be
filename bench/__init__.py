"""Benchmarks (`make bench`): the project measured against what users would use instead.
Not part of `make test`: each run takes minutes and its figures are ratios within one run."""
