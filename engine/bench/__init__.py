"""Benchmarks. `engine.bench.cli.bench` is the `dialer bench` group; other benchmarks may add
subcommands to it. `dialer bench pacing` simulates predictive pacing (see docs/pacing.md)."""
