"""Benchmarks of Evently (issues 11 and 19): the sale, its scaling, live seat-map viewers, layout, check-in.

Run them through `make bench*` (see docs/performance.md, "How to benchmark"). Everything here measures;
nothing here is imported by the app. `bench.inventory` is a bench-only tool that creates and deletes
benchmark events.
"""
