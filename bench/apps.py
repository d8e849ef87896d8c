from django.apps import AppConfig


class BenchConfig(AppConfig):
    """The `bench` and `seed_scale` commands; installed by bench.settings only."""

    name = "bench"
    verbose_name = "Benchmark (development only)"
