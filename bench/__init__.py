"""Benchmark: a synthetic county-scale pool and the timing of every stage against bare bean-check."""
