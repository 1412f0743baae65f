"""Seeded, documented generators of synthetic telemetry for examples, tests and benchmarks."""

from .firewall import bulk_asa_lines, scenario_1, write_bulk, write_scenario_1

__all__ = ["bulk_asa_lines", "scenario_1", "write_bulk", "write_scenario_1"]
