"""Benchmarks run by ``make bench``; each ``bench_<name>.py`` prints one ``BENCH <name>`` line."""
