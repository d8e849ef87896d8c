"""Development tools, not the product: the benchmark, the scale data set and the load test.

An app of its own (``bench.apps.BenchConfig``) that only ``bench.settings`` installs, for
``make bench`` and ``make loadtest``; production's settings (crm.settings) never do, so none
of this code is importable through the apps that production installs.
"""
